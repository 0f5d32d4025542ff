"""Studying extra decks: ``--deck`` with its subdecks, each top-level deck's own daily
allowance of new cards interleaved with the roadmap's, and ``config --deck``."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session, sessionmaker

from conftest import LEARNER, NOW, engine_of
from trainer.cli.decks_view import decks_lines
from trainer.cli.main import cli
from trainer.content.builtin_sync import upsert_cards, upsert_roadmap
from trainer.content.parser import CardSpec, SectionSpec, TopicSpec
from trainer.scheduling.days import DayClock
from trainer.store.deck_tree import deck_for_path
from trainer.store.models import Card, CardMemory, CardState, Deck, LearnerDeck, Rating
from trainer.store.settings import Settings
from trainer.study.deck_list import FIGURES, DeckCounts
from trainer.study.queue import Focus
from trainer.study.session import ReviewSession


@pytest.fixture
def decks(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """Topic a (6 cards) on the roadmap; Rocks::Igneous (2), Rocks::Sedimentary (2) and
    Spanish (3) imported."""
    with factory.begin() as db:
        topics = upsert_roadmap(db, (SectionSpec("one", "One", (TopicSpec("a", "A", (), 1),)),))
        deck = Deck(name="A", slug="a", source="builtin", topic_id=topics["a"].id)
        db.add(deck)
        db.flush()
        upsert_cards(db, deck, [CardSpec(f"a{i}", "basic", "Q", "A") for i in range(6)])
        for name, size in (("Rocks::Igneous", 2), ("Rocks::Sedimentary", 2), ("Spanish", 3)):
            keys = [f"{name[:2].lower()}{name[-1]}{i}" for i in range(size)]
            upsert_cards(
                db, deck_for_path(db, name), [CardSpec(k, "basic", "Q", "A") for k in keys]
            )
    return factory


def _session(
    factory: sessionmaker[Session],
    clock: DayClock,
    focus: Focus | None = None,
    new_cards: int | None = None,
    *,
    new_cards_per_day: int = 20,
    deck_new_cards_per_day: int = 10,
) -> ReviewSession:
    settings = Settings(
        new_cards_per_day=new_cards_per_day, deck_new_cards_per_day=deck_new_cards_per_day
    )
    return ReviewSession(
        engine_of(factory), LEARNER, settings, clock, focus or Focus(), NOW, new_cards=new_cards
    )


def _shown_decks(factory: sessionmaker[Session], session: ReviewSession) -> list[str]:
    """The deck of each new card the session shows, rating each Easy."""
    shown_ids = []
    while (shown := session.next_card(NOW)) is not None and shown.lane == "new":
        shown_ids.append(shown.card_id)
        session.rate(shown, Rating.EASY, NOW, 1000)
    with factory() as db:
        return [db.get_one(Card, card_id).deck.name for card_id in shown_ids]


def test_extra_decks_are_interleaved_each_within_its_own_allowance(
    decks: sessionmaker[Session], clock: DayClock
) -> None:
    session = _session(decks, clock, new_cards_per_day=4, deck_new_cards_per_day=2)
    assert session.counts() == {"new": 8, "learning": 0, "review": 0}
    assert _shown_decks(decks, session) == [
        "A",
        "Rocks::Igneous",
        "Spanish",
        "A",
        "A",
        "Rocks::Igneous",
        "Spanish",
        "A",
    ]
    # the allowances are used up for the learner day, across sessions
    again = _session(decks, clock, new_cards_per_day=4, deck_new_cards_per_day=2)
    assert again.counts()["new"] == 0
    assert again.queue.held_back()["new"] == 2 + 2 + 1
    # a larger allowance for Spanish only, set in the database
    with decks.begin() as db:
        spanish = db.query(Deck).filter_by(name="Spanish").one()
        db.add(LearnerDeck(learner_id=LEARNER, deck_id=spanish.id, new_cards_per_day=3))
    third = _session(decks, clock, new_cards_per_day=4, deck_new_cards_per_day=2)
    assert _shown_decks(decks, third) == ["Spanish"]


def test_a_deck_focus_covers_its_subdecks_within_its_allowance(
    decks: sessionmaker[Session], clock: DayClock
) -> None:
    rocks = _session(decks, clock, Focus(deck="rocks"), deck_new_cards_per_day=3)
    assert rocks.counts()["new"] == 3
    assert _shown_decks(decks, rocks) == ["Rocks::Igneous", "Rocks::Igneous", "Rocks::Sedimentary"]
    sub = _session(decks, clock, Focus(deck="Rocks::Sedimentary"), new_cards=5)
    assert _shown_decks(decks, sub) == ["Rocks::Sedimentary"]  # --new-cards: 1 card was left


def test_review_cards_of_every_deck_are_due_whatever_its_allowance(
    decks: sessionmaker[Session], clock: DayClock
) -> None:
    today = clock.day_of(NOW)
    with decks.begin() as db:
        for card in db.query(Card).join(Deck).filter(Deck.name == "Spanish"):
            db.add(
                CardMemory(
                    learner_id=LEARNER,
                    card_id=card.id,
                    state=CardState.REVIEW,
                    stability_days=5.0,
                    difficulty=5.0,
                    last_review_day=today - timedelta(days=5),
                    due_day=today,
                )
            )
    session = _session(decks, clock, deck_new_cards_per_day=0, new_cards_per_day=0)
    assert session.counts() == {"new": 0, "learning": 0, "review": 3}


def test_bury_and_undo_give_back_and_take_the_deck_allowance(
    decks: sessionmaker[Session], clock: DayClock
) -> None:
    session = _session(decks, clock, Focus(deck="Spanish"), deck_new_cards_per_day=2)
    shown = session.next_card(NOW)
    assert shown is not None
    session.bury(shown, NOW)
    assert session.counts()["new"] == 2  # the buried card used no allowance
    assert session.undo()
    assert session.counts()["new"] == 2  # shown again next: one on screen, one left
    again = session.next_card(NOW)
    assert again is not None and again.card_id == shown.card_id
    assert session.counts()["new"] == 1


def run(*args: str, keys: str = "q", now: str = "2026-11-29T10:00:00+00:00") -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), input=keys, env={"TRAINER_NOW": now})
    return result.exit_code, result.output


def test_a_plain_review_the_day_after_an_import_shows_the_new_deck(tmp_path: Path) -> None:
    rocks = tmp_path / "rocks.csv"
    rocks.write_text("".join(f"Rock {i}?,Answer {i}\n" for i in range(30)), encoding="utf-8")
    assert run("import", str(rocks), "--deck", "Geology::Rocks")[0] == 0
    code, output = run("review", "--deck", "geology")
    assert code == 0 and "New 10" in output and "Geology::Rocks" in output
    assert run("config", "--deck", "Geology", "new_cards_per_day", "4") == (
        0,
        "new_cards_per_day = 4\n",
    )
    code, output = run("review", keys=" 4q", now="2026-11-30T10:00:00+00:00")
    headers = [line.split("  ")[0] for line in output.splitlines() if "New " in line]
    assert headers == ["Basic Computer Science Concepts › Data Structures", "Geology::Rocks"]
    assert "New 24" in output  # 20 roadmap cards and 4 of Geology, interleaved


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--deck", "Geology::Rocks", "new_cards_per_day", "3"],
            "Error: --deck Geology::Rocks: new cards are allowed per top-level deck, for it and"
            " its subdecks; set it on --deck Geology\n",
        ),
        (
            ["--deck", "Geology", "reviews_per_day", "3"],
            "Error: --deck: a deck has only new_cards_per_day of its own\n",
        ),
        (
            ["--deck", "Geology", "new_cards_per_day", "-3"],
            "Error: setting new_cards_per_day='-3': must be a whole number from 0 to 9999\n",
        ),
        (
            ["--deck", "Geolgy"],
            "Error: --deck Geolgy: no such deck (did you mean 'Geology'?)\n",
        ),
    ],
)
def test_config_deck_refuses_what_it_cannot_set(
    tmp_path: Path, args: list[str], message: str
) -> None:
    rocks = tmp_path / "rocks.csv"
    rocks.write_text("Rock?,Answer\n", encoding="utf-8")
    assert run("import", str(rocks), "--deck", "Geology::Rocks")[0] == 0
    assert run("config", *args) == (2, message)
    assert run("config", "--deck", "geology") == (0, "new_cards_per_day = 10 (default)\n")


def test_config_shows_the_allowance_in_effect_and_where_it_comes_from(tmp_path: Path) -> None:
    rocks = tmp_path / "rocks.csv"
    rocks.write_text("Rock?,Answer\n", encoding="utf-8")
    assert run("import", str(rocks), "--deck", "Geology::Rocks::Basalt")[0] == 0
    assert run("config", "--deck", "Geology::Rocks") == (0, "new_cards_per_day = 10 (default)\n")
    assert "Decks with their own settings" not in run("config")[1]
    assert run("config", "--deck", "Geology", "new_cards_per_day", "5")[0] == 0
    for deck in ("Geology::Rocks", "geology-rocks-basalt"):
        assert run("config", "--deck", deck) == (0, "new_cards_per_day = 5 (from Geology)\n")
    assert run("config", "--deck", "geology") == (0, "new_cards_per_day = 5\n")
    code, output = run("config")
    assert code == 0 and output.endswith(
        "\n\nDecks with their own settings (trainer config --deck NAME KEY VALUE):\n"
        "Geology: new_cards_per_day = 5\n"
    )


def _import_geology(tmp_path: Path) -> None:
    for name, size in (("Geology::Rocks", 3), ("Geology::Rocks::Basalt", 1), ("Spanish", 2)):
        path = tmp_path / f"{name.replace('::', '-')}.csv"
        path.write_text("".join(f"{name} {i}?,A {i}\n" for i in range(size)), encoding="utf-8")
        assert run("import", str(path), "--deck", name)[0] == 0


def test_status_draws_the_extra_decks_as_a_tree(tmp_path: Path) -> None:
    _import_geology(tmp_path)
    code, output = run("status")
    assert code == 0
    lines = output.splitlines()
    start = lines.index("Extra decks")
    labels = [line[3:].split("  ░")[0].rstrip() for line in lines[start + 1 : start + 5]]
    assert labels == ["Geology", "  Rocks", "    Basalt", "Spanish"]
    assert [line.split()[-1] for line in lines[start + 1 : start + 5]] == [
        "0/4",
        "0/4",
        "0/1",
        "0/2",
    ]
    code, output = run("status", "--deck", "geology", "--json")
    assert code == 0
    document = json.loads(output)
    assert document["sections"] == [] and document["next_topic"] is None
    assert [d["slug"] for d in document["extra_decks"]] == [
        "geology",
        "geology-rocks",
        "geology-rocks-basalt",
    ]
    assert "Every topic is done." not in run("status", "--deck", "geology")[1]


def test_report_and_stats_narrow_to_a_deck_and_its_subdecks(tmp_path: Path) -> None:
    _import_geology(tmp_path)
    code, output = run("report", "--format", "json", "--deck", "Geology::Rocks")
    document = json.loads(output)
    assert code == 0 and document["sections"] == []
    assert [(d["slug"], d["figures"]["cards"]) for d in document["extra_decks"]] == [
        ("geology-rocks", 4),
        ("geology-rocks-basalt", 1),
    ]
    assert document["roadmap"]["figures"]["cards"] == 4
    assert document["scope"] == {"section": None, "topic": None, "deck": "Geology::Rocks"}
    code, output = run("stats", "--deck", "spanish")
    assert code == 0 and output.startswith("Mastery (deck spanish)")
    assert "Cards        2 new, 0 learning, 0 review, 0 mastered (0%)" in output


@pytest.mark.parametrize("command", [["review"], ["status"], ["stats"], ["report"]])
def test_an_unknown_deck_reads_the_same_in_every_command(
    tmp_path: Path, command: list[str]
) -> None:
    _import_geology(tmp_path)
    assert run(*command, "--deck", "Geolgy::Rocks") == (
        2,
        "Error: --deck Geolgy::Rocks: no such deck (did you mean 'Geology::Rocks'?)\n",
    )
    assert run(*command, "--deck", "nothing like it") == (
        2,
        "Error: --deck nothing like it: no such deck (names are in 'trainer decks')\n",
    )
    assert run(*command, "--deck", "Data Structures") == (
        2,
        "Error: --deck Data Structures: no such deck ('Data Structures' is a topic:"
        " --topic Data Structures)\n",
    )


def test_an_anki_package_keeps_its_subdecks_as_decks() -> None:
    package = Path(__file__).parent / "fixtures" / "anki" / "presets.apkg"
    assert run("import", str(package))[0] == 0
    listed = json.loads(run("decks", "--json")[1])
    extra = [(d["name"], d["parent"], d["total"]) for d in listed if d["topic"] is None]
    assert extra == [
        ("Default", None, 10),
        ("Presets", None, 30),
        ("Presets::Five", "presets", 10),
        ("Presets::Four", "presets", 10),
        ("Presets::Six", "presets", 10),
    ]
    code, output = run("review", "--deck", "Presets", keys="q")
    assert code == 0 and "New 10" in output  # one allowance for the deck and its subdecks


def test_the_deck_list_aligns_names_of_wide_characters_by_terminal_cells() -> None:
    counts = DeckCounts("liu", "流媒体", None, None, 0, 2, 0, 0, 0, 2, 0)
    other = DeckCounts("spanish", "Spanish", None, None, 0, 3, 0, 0, 0, 3, 0)
    lines = decks_lines([counts, other])
    assert lines == [
        "deck   " + "".join(name.rjust(9) for name in FIGURES),
        "Extra decks",
        "流媒体 " + "        2        0        0        0        2        0",
        "Spanish" + "        3        0        0        0        3        0",
    ]
