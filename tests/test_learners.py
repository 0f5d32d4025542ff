"""Many learners on one database: each keeps their own schedule, limits, settings, buries and
review log; --learner picks one, read-only commands never make one, `trainer learners` lists
them."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from test_cli import run

from conftest import LEARNER, NOW, database_exists, database_state, engine_of, sql, stored
from trainer.content.builtin_sync import upsert_cards, upsert_roadmap
from trainer.content.parser import CardSpec, SectionSpec, TopicSpec
from trainer.reports.cohort import streak
from trainer.reports.figures import DayActivity
from trainer.scheduling.days import DayClock
from trainer.store.db import open_database
from trainer.store.learners import learner_for_write
from trainer.store.models import Deck, Rating
from trainer.store.settings import Settings, load_settings, store_setting
from trainer.study.queue import Focus
from trainer.study.session import ReviewSession


def _rows(path: Path, statement: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(statement).fetchall()


# The command line -------------------------------------------------------------------------------


def test_learners_lists_each_with_what_they_studied() -> None:
    assert run("learners") == (
        0,
        "No learners yet: the first review or setting makes one (tester).\n",
    )
    assert run("--learner", "ann", "review", input=" 3 3 1 4q")[0] == 0
    assert run("--learner", "bob", "review", input=" 3q", now="2026-11-30T10:00:00+00:00")[0] == 0
    assert run("--learner", "ann", "learners") == (
        0,
        "  learner      studied      reviews  last review\n"
        "* ann                4            4   2026-11-29\n"
        "  bob                1            1   2026-11-30\n",
    )
    code, output = run("learners", "--json")
    assert code == 0
    assert json.loads(output) == [
        {"name": "ann", "cards_studied": 4, "reviews": 4, "last_review_day": "2026-11-29"},
        {"name": "bob", "cards_studied": 1, "reviews": 1, "last_review_day": "2026-11-30"},
    ]


def test_a_read_only_command_shows_an_unknown_learner_empty_and_makes_none(
    database: str,
) -> None:
    assert run("--learner", "ann", "review", input=" 4 4q")[0] == 0
    before = database_state(database)
    code, output = run("--learner", "carl", "status", "--json")
    assert code == 0
    assert json.loads(output)["today"] == {"reviewed": 0, "new_seen": 0, "due": 0}
    for command in (["report", "--format", "json"], ["decks", "--json"], ["config"], ["cards"]):
        assert run("--learner", "carl", *command)[0] == 0, command
    assert sql(database, "SELECT name FROM learner") == [("ann",)]
    assert database_state(database) == before
    code, output = run("--learner", "ann", "status", "--json")
    assert json.loads(output)["today"]["new_seen"] == 2


def test_the_learner_defaults_to_the_operating_system_user(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRAINER_LEARNER")
    monkeypatch.setenv("LOGNAME", "dora")  # the first place getpass.getuser() looks
    assert run("config", "new_cards_per_day", "5") == (0, "new_cards_per_day = 5\n")
    assert sql(database, "SELECT name FROM learner") == [("dora",)]
    assert sql(database, "SELECT key, value FROM learner_setting") == [("new_cards_per_day", '"5"')]
    monkeypatch.setenv("TRAINER_LEARNER", "eve")
    assert run("config", "new_cards_per_day") == (0, "new_cards_per_day = 20\n")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "a learner name cannot be empty"),
        ("   ", "a learner name cannot be empty"),
        ("ann\tlee", "a learner name must be printable (no control characters)"),
        ("ann\x1b[31m", "a learner name must be printable (no control characters)"),
        ("x" * 101, "a learner name has at most 100 characters"),
    ],
)
def test_a_bad_learner_name_is_one_line_naming_the_option(
    database: str, name: str, message: str
) -> None:
    assert run("--learner", name, "status") == (2, f"Error: --learner: {message}\n")
    assert not database_exists(database)  # refused before the database is opened


def test_a_learner_name_of_100_characters_in_any_script_is_taken(database: str) -> None:
    name = "Zoë " + "学" * 96
    assert run("--learner", name, "config", "fuzz", "false")[0] == 0
    assert sql(database, "SELECT name FROM learner") == [(name,)]


# Two learners, one database ---------------------------------------------------------------------


@pytest.fixture
def shared(factory: sessionmaker[Session]) -> tuple[sessionmaker[Session], int]:
    """Topics a (3 cards) and b (2 cards), and a stand-alone deck "X" (3 cards); the learner
    ``tester`` and a second learner, whose id is returned."""
    roadmap = (SectionSpec("one", "One", (TopicSpec("a", "A", (), 1), TopicSpec("b", "B", (), 2))),)
    with factory.begin() as db:
        topics = upsert_roadmap(db, roadmap)
        for name, slug, topic, size in (
            ("A", "a", "a", 3),
            ("B", "b", "b", 2),
            ("X", "x", None, 3),
        ):
            topic_id = topics[topic].id if topic else None
            deck = Deck(name=name, slug=slug, source="builtin" if topic else "import")
            deck.topic_id = topic_id
            db.add(deck)
            db.flush()
            upsert_cards(db, deck, [CardSpec(f"{slug}{i}", "basic", "Q", "A") for i in range(size)])
        other = learner_for_write(db.connection(), "other", NOW)
    return factory, other


def _session(engine: Engine, learner: int, clock: DayClock, **changes: Any) -> ReviewSession:
    return ReviewSession(engine, learner, Settings(**changes), clock, Focus(), NOW)


def test_two_learners_keep_separate_schedules_limits_and_buries(
    shared: tuple[sessionmaker[Session], int], clock: DayClock
) -> None:
    factory, other = shared
    engine = engine_of(factory)
    mine = _session(engine, LEARNER, clock, new_cards_per_day=2, deck_new_cards_per_day=1)
    assert mine.counts() == {"new": 3, "learning": 0, "review": 0}
    first = mine.next_card(NOW)
    assert first is not None
    assert mine.rate(first, Rating.EASY, NOW, 1000) is not None
    second = mine.next_card(NOW)
    assert second is not None
    mine.bury(second, NOW)
    mine.close()
    # the other learner sees every card new and unburied, with their whole day's allowance
    theirs = _session(engine, other, clock, new_cards_per_day=2, deck_new_cards_per_day=1)
    assert theirs.counts() == {"new": 3, "learning": 0, "review": 0}
    shown = theirs.next_card(NOW)
    assert shown is not None and shown.card_id == first.card_id
    assert shown.memory.state == 0 and shown.memory.reps == 0
    theirs.close()
    assert stored(factory, first.card_id).memory.reps == 1
    assert stored(factory, first.card_id, other).exists is False
    assert stored(factory, second.card_id).buried_until_day == clock.day_of(NOW) + timedelta(1)
    assert stored(factory, second.card_id, other).buried_until_day is None
    # my limits are used up by my ratings only (one rating, one bury given back)
    again = _session(engine, LEARNER, clock, new_cards_per_day=2, deck_new_cards_per_day=1)
    assert again.counts()["new"] == 2


def test_two_learners_keep_separate_settings(
    shared: tuple[sessionmaker[Session], int],
) -> None:
    factory, other = shared
    with factory.begin() as db:
        store_setting(db, LEARNER, "desired_retention", "0.8")
        store_setting(db, other, "new_cards_per_day", "3")
    with factory() as db:
        mine, theirs = load_settings(db, LEARNER), load_settings(db, other)
    assert (mine.desired_retention, mine.new_cards_per_day) == (0.8, 20)
    assert (theirs.desired_retention, theirs.new_cards_per_day) == (0.9, 3)


# A learner's ratings never touch another's rows -------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A database with six cards in two topics and two learners, the second (id 2) with a
    history: three cards rated, one buried, a setting."""
    path = tmp_path_factory.mktemp("learners") / "trainer.db"
    engine = open_database(str(path))
    roadmap = (SectionSpec("one", "One", (TopicSpec("a", "A", (), 1), TopicSpec("b", "B", (), 2))),)
    clock = DayClock(rollover_hour=4)
    with Session(engine) as db, db.begin():
        topics = upsert_roadmap(db, roadmap)
        for slug in ("a", "b"):
            deck = Deck(name=slug.upper(), slug=slug, source="builtin", topic_id=topics[slug].id)
            db.add(deck)
            db.flush()
            upsert_cards(db, deck, [CardSpec(f"{slug}{i}", "basic", "Q", "A") for i in range(3)])
        assert learner_for_write(db.connection(), "a", NOW) == 1
        assert learner_for_write(db.connection(), "b", NOW) == 2
        store_setting(db, 2, "new_cards_per_day", "4")
    with ReviewSession(engine, 2, Settings(), clock, Focus(), NOW) as session:
        for rating in (Rating.GOOD, Rating.AGAIN, Rating.EASY):
            shown = session.next_card(NOW)
            assert shown is not None
            session.rate(shown, rating, NOW, 900)
        shown = session.next_card(NOW)
        assert shown is not None
        session.bury(shown, NOW)
    engine.dispose()
    yield path


def _of_learner(path: Path, learner: int) -> dict[str, list[tuple[Any, ...]]]:
    tables = {
        "card_memory": "card_id",
        "review_log": "id",
        "learner_setting": "key",
        "learner_deck": "deck_id",
    }
    return {
        table: _rows(path, f"SELECT * FROM {table} WHERE learner_id = {learner} ORDER BY {key}")
        for table, key in tables.items()
    }


ACTIONS = st.lists(
    st.one_of(st.sampled_from(["bury", "undo"]), st.sampled_from(list(Rating))),
    max_size=25,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions=ACTIONS, minutes=st.lists(st.integers(0, 3 * 24 * 60), min_size=1, max_size=3))
def test_ratings_by_one_learner_never_change_another_s_rows(
    template: Path,
    tmp_path_factory: pytest.TempPathFactory,
    actions: list[Rating | str],
    minutes: list[int],
) -> None:
    path = tmp_path_factory.mktemp("example") / "trainer.db"
    shutil.copyfile(template, path)
    before = _of_learner(path, 2)
    engine = open_database(str(path))
    clock = DayClock(rollover_hour=4)
    with Session(engine) as db, db.begin():
        store_setting(db, 1, "new_cards_per_day", "6")
    for offset in sorted(minutes):  # sessions on the days to come, each going through actions
        now = NOW + timedelta(minutes=offset)
        with ReviewSession(engine, 1, Settings(new_cards_per_day=6), clock, Focus(), now) as s:
            for action in actions:
                if action == "undo":
                    s.undo()
                    continue
                shown = s.next_card(now)
                if shown is None:
                    break
                if isinstance(action, Rating):
                    s.rate(shown, action, now, 1000)
                else:
                    s.bury(shown, now)
    engine.dispose()
    assert _of_learner(path, 2) == before
    assert _rows(path, "SELECT id, name FROM learner ORDER BY id") == [(1, "a"), (2, "b")]


# The cohort report ------------------------------------------------------------------------------


def test_streak_counts_days_in_a_row_up_to_today_or_yesterday() -> None:
    today = NOW.date()

    def history(*reviews: int) -> list[DayActivity]:
        start = today - timedelta(days=len(reviews) - 1)
        return [DayActivity(start + timedelta(days=n), r) for n, r in enumerate(reviews)]

    assert streak(history(1, 0, 2, 3, 1), today) == 3
    assert streak(history(1, 1, 1, 0), today) == 3  # today not studied yet: the streak holds
    assert streak(history(1, 0, 0), today) == 0
    assert streak(history(), today) == 0
    assert streak(history(5, 5, 5), today - timedelta(days=1)) == 2  # a day west of the log


def test_the_cohort_shows_each_learner_side_by_side_and_writes_nothing(database: str) -> None:
    assert run("--learner", "ann", "review", input=" 4 4 4 1q")[0] == 0
    day_two = "2026-11-30T10:00:00+00:00"
    assert run("--learner", "=bob", "review", input=" 3q", now=day_two)[0] == 0
    before = database_state(database)
    code, output = run("report", "--cohort", "--format", "json", now=day_two)
    assert code == 0, output
    document = json.loads(output)
    learners = {learner["name"]: learner for learner in document["learners"]}
    assert [
        (n, v["streak_days"], v["reviews_30_days"], v["topics_done"]) for n, v in learners.items()
    ] == [
        ("=bob", 1, 1, 0),
        ("ann", 1, 4, 0),  # studied yesterday: the streak holds today
    ]
    ann = {topic["topic_slug"]: topic for topic in learners["ann"]["topics"]}
    bob = {topic["topic_slug"]: topic for topic in learners["=bob"]["topics"]}
    assert ann["data-structures"]["reviews_30_days"] == 4
    assert bob["data-structures"]["reviews_30_days"] == 1
    assert ann["data-structures"]["cards"] == bob["data-structures"]["cards"] > 0
    assert len(ann) == len(bob) == 57
    code, output = run("report", "--cohort", "--format", "csv", now=day_two)
    assert output.splitlines()[1].startswith(
        "'=bob,basic-computer-science-concepts,data-structures,"
    )
    code, output = run("--learner", "ann", "report", "--format", "json", now=day_two)
    own = json.loads(output)["roadmap"]["figures"]  # the same engine as ann's own report
    assert learners["ann"]["retained_now"] == own["retained_now"]
    assert ann["data-structures"]["mastered_share"] == own["mastered_share"] == 0.0
    code, output = run("report", "--cohort", now=day_two)
    assert f"| ann | 0 of 57 | 4 | 1 | {own['retained_now']:.0%} |" in output
    assert "| Topic | =bob | ann |" in output
    assert database_state(database) == before


def test_the_cohort_page_escapes_learner_names(tmp_path: Path) -> None:
    name = "<script>alert('x')</script>"
    assert run("--learner", name, "review", input=" 3q")[0] == 0
    page = tmp_path / "cohort.html"
    assert run("report", "--cohort", "-o", str(page)) == (0, "")
    text = page.read_text()
    assert "<script>" not in text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in text
    assert text.count('<td class="cell') == 57


def test_the_cohort_is_the_whole_roadmap() -> None:
    assert run("report", "--cohort", "--topic", "sql") == (
        2,
        "Error: --cohort reports the whole roadmap: leave out --section, --topic, --deck\n",
    )
