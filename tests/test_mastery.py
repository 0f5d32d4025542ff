"""One mastery engine: ``trainer status --json`` and ``trainer report --format json`` count the
same cards, the same mastered cards and the same done topics and sections (and ``trainer decks``
the same cards and mastered cards per topic), whatever the cards' states and stabilities."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import ColumnElement, Connection, delete, insert, literal, select, update
from sqlalchemy.orm import Session

from conftest import LEARNER_NAME, NOW
from trainer.cli.main import cli
from trainer.content.builtin_sync import sync_builtin
from trainer.store.db import open_database
from trainer.store.learners import learner_for_write
from trainer.store.models import Card, CardMemory, CardState, Deck, Topic

#: Cards of the template database that the examples change (the first ones by id).
CARDS = 400
STABILITIES = st.one_of(
    st.none(),
    st.sampled_from([0.0, -1.0, 20.999, 21.0, 21.001, 1.0, 5.0, 99.0, 100.0]),
    st.floats(min_value=-10, max_value=400, allow_nan=False),
)
CARD = st.tuples(
    st.integers(0, CARDS - 1),
    st.sampled_from(list(CardState)),
    STABILITIES,
    st.booleans(),  # active
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A database with the built-in decks, one stand-alone deck and one imported deck linked
    to a topic, each holding some of the built-in cards; every example works on a copy."""
    path = tmp_path_factory.mktemp("template") / "trainer.db"
    engine = open_database(str(path))
    with Session(engine) as db, db.begin():
        sync_builtin(db)
        first_topic = db.scalars(select(Topic.id).order_by(Topic.id)).first()
        ids = db.scalars(select(Card.id).order_by(Card.id).limit(CARDS)).all()
        for name, slug, topic_id, moved in (
            ("Spanish", "spanish", None, ids[:20]),
            ("Imported: extra", "imported-extra", first_topic, ids[20:40]),
        ):
            deck_id = db.scalar(
                insert(Deck)
                .values(name=name, slug=slug, source="import", topic_id=topic_id)
                .returning(Deck.id)
            )
            db.execute(update(Card).where(Card.id.in_(moved)).values(deck_id=deck_id))
    engine.dispose()
    yield path


def _json(db: Path, *args: str) -> Any:
    result = CliRunner().invoke(cli, ["--db", str(db), *args], env={"TRAINER_NOW": NOW.isoformat()})
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _topics(sections: list[dict[str, Any]], extra: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [t for s in sections for t in s["topics"]] + extra


def _set_memory(
    conn: Connection,
    learner: int,
    cards: ColumnElement[bool],
    state: CardState,
    stability: float | None,
) -> None:
    """Give the learner's memory rows of the cards chosen by ``cards`` the state and stability."""
    chosen = select(Card.id).where(cards)
    mine = CardMemory.learner_id == learner
    conn.execute(delete(CardMemory).where(mine, CardMemory.card_id.in_(chosen.scalar_subquery())))
    values = select(
        literal(learner), Card.id, literal(int(state)), literal(stability), literal(0), literal(0)
    ).where(cards)
    columns = ["learner_id", "card_id", "state", "stability_days", "reps", "lapses"]
    conn.execute(insert(CardMemory).from_select(columns, values))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cards=st.lists(CARD, max_size=80),
    every_card=st.none() | STABILITIES,
    whole_decks=st.lists(
        st.tuples(st.integers(0, 10**6), STABILITIES, st.integers(0, 4)), max_size=30
    ),
    mastery_days=st.sampled_from(["1", "21", "100"]),
    done_share=st.sampled_from(["0.5", "0.9", "1"]),
)
# every card mastered, but one topic's cards all moved to other decks: it has no cards, so it is
# not done, and it is the next topic (status once named none while the roadmap was not done)
@example(cards=[], every_card=20.999, whole_decks=[], mastery_days="1", done_share="0.5")
def test_status_and_report_agree_on_every_topic(
    template: Path,
    tmp_path_factory: pytest.TempPathFactory,
    cards: list[tuple[int, CardState, float | None, bool]],
    every_card: float | None,
    whole_decks: list[tuple[int, float | None, int]],
    mastery_days: str,
    done_share: str,
) -> None:
    db = tmp_path_factory.mktemp("example") / "trainer.db"
    shutil.copyfile(template, db)
    engine = open_database(str(db))
    with engine.begin() as conn:
        learner = learner_for_write(conn, LEARNER_NAME, NOW)
        card_ids = conn.scalars(select(Card.id).order_by(Card.id).limit(CARDS)).all()
        deck_ids = conn.scalars(select(Card.deck_id).distinct().order_by(Card.deck_id)).all()
        if every_card is not None:
            _set_memory(conn, learner, Card.id.is_not(None), CardState.REVIEW, every_card)
        for deck_index, stability, left_new in whole_decks:  # a deck at once, but a few
            deck = Card.deck_id == deck_ids[deck_index % len(deck_ids)]
            _set_memory(conn, learner, deck, CardState.REVIEW, stability)
            last = select(Card.id).where(deck).order_by(Card.id.desc()).limit(left_new)
            _set_memory(conn, learner, Card.id.in_(last.scalar_subquery()), CardState.NEW, None)
        for index, state, stability, active in cards:
            _set_memory(conn, learner, Card.id == card_ids[index], state, stability)
            conn.execute(update(Card).where(Card.id == card_ids[index]).values(active=active))
    engine.dispose()
    for key, value in (("mastery_stability_days", mastery_days), ("topic_done_share", done_share)):
        result = CliRunner().invoke(cli, ["--db", str(db), "config", key, value])
        assert result.exit_code == 0, result.output

    status = _json(db, "status", "--json")
    report = _json(db, "report", "--format", "json")

    shown = {
        t["slug"]: (t["cards"], t["mastered"], t["done"])
        for t in _topics(status["sections"], status["extra_decks"])
    }
    reported = {
        t["slug"]: (t["figures"]["cards"], t["figures"]["mastered"], t["done"])
        for t in _topics(report["sections"], report["extra_decks"])
    }
    assert shown == reported
    listed: dict[str, list[int]] = {}  # trainer decks: a topic's decks add up to the topic
    for deck in _json(db, "decks", "--json"):
        if deck["topic"] is not None:
            totals = listed.setdefault(deck["topic"], [0, 0])
            totals[0] += deck["total"]
            totals[1] += deck["mastered"]
    topics = _topics(status["sections"], [])
    assert listed == {t["slug"]: [t["cards"], t["mastered"]] for t in topics if t["slug"] in listed}
    assert all(t["cards"] == 0 for t in topics if t["slug"] not in listed)
    assert [(s["slug"], s["done"]) for s in status["sections"]] == [
        (s["slug"], s["done"]) for s in report["sections"]
    ]
    assert report["roadmap"]["topics_done"] == sum(done for _, _, done in shown.values()) - sum(
        t["done"] for t in status["extra_decks"]
    )
    assert (status["next_topic"] is None) == report["roadmap"]["done"]


def _studied(conn: Connection, learner: int, cards: list[int]) -> None:
    """Give ``learner`` a review card's memory of each of ``cards``: rated once today, far
    from mastered, due next year."""
    due = NOW.date().replace(year=2027)
    conn.execute(
        insert(CardMemory),
        [
            {"learner_id": learner, "card_id": card, "state": CardState.REVIEW, "step": None,
             "stability_days": 1.0, "difficulty": 5.0, "due_day": due,
             "last_review_day": NOW.date(), "reps": 1, "lapses": 0}
            for card in cards
        ],
    )  # fmt: skip


def _status(database: str) -> dict[str, Any]:
    result = CliRunner().invoke(
        cli, ["--db", database, "status", "--json"], env={"TRAINER_NOW": NOW.isoformat()}
    )
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.output)
    return document


def test_next_topic_is_where_the_next_new_card_comes_from(tmp_path: Path) -> None:
    database = str(tmp_path / "next.db")
    engine = open_database(database)
    with Session(engine) as db, db.begin():
        sync_builtin(db)
        learner = learner_for_write(db.connection(), LEARNER_NAME, NOW)
    topics = [t["slug"] for s in _status(database)["sections"] for t in s["topics"]]
    first = select(Card.id).join(Deck).join(Topic).where(Topic.slug == topics[0])
    with engine.begin() as conn:
        ids = list(conn.scalars(first))
        # every card of the first topic studied but far from mastered: not done, and no new
        # card of it is left, so the next new card comes from the second topic
        _studied(conn, learner, ids)
    status = _status(database)
    assert not status["sections"][0]["topics"][0]["done"]
    assert status["next_topic"] == topics[1]
    # once no new roadmap card is left, the first topic not done
    with engine.begin() as conn:
        rest = list(conn.scalars(select(Card.id).where(Card.id.not_in(ids))))
        _studied(conn, learner, rest)
    assert _status(database)["next_topic"] == topics[0]
    engine.dispose()


def test_next_topic_asks_the_queue_for_no_new_card_when_none_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = str(tmp_path / "studied.db")
    engine = open_database(database)
    with Session(engine) as db, db.begin():
        sync_builtin(db)
        learner = learner_for_write(db.connection(), LEARNER_NAME, NOW)
    with engine.begin() as conn:
        _studied(conn, learner, list(conn.scalars(select(Card.id))))
    engine.dispose()

    def no_queue(*_args: object) -> Any:
        raise AssertionError("the queue was asked for a new card")

    monkeypatch.setattr("trainer.study.mastery.new_page_loader", no_queue)
    status = _status(database)
    assert status["next_topic"] == status["sections"][0]["topics"][0]["slug"]
