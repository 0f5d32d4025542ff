"""The review session: queue order and limits, commits per rating, undo, bury, two sessions."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from conftest import LEARNER, NOW, engine_of, memory_row, sqlite_only, stored
from trainer.content.builtin_sync import upsert_cards, upsert_roadmap
from trainer.content.parser import CardSpec, SectionSpec, TopicSpec
from trainer.errors import UsageError
from trainer.scheduling.adapter import Scheduler
from trainer.scheduling.days import DayClock
from trainer.store.db import reader
from trainer.store.memory import suspend_cards
from trainer.store.models import (
    Card,
    CardMemory,
    CardState,
    Deck,
    Rating,
    ReviewLog,
    Topic,
    TopicDone,
)
from trainer.store.settings import Settings
from trainer.study.mastery import count_mastery, load_roadmap
from trainer.study.queue import Focus, last_review_time
from trainer.study.session import ReviewSession, ShownCard


@pytest.fixture
def small(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """Two sections; topics a (3 cards), b (2 cards) in the first, c (2 cards) in the second."""
    roadmap = (
        SectionSpec("one", "One", (TopicSpec("a", "A", (), 1), TopicSpec("b", "B", (), 2))),
        SectionSpec("two", "Two", (TopicSpec("c", "C", (), 4),)),
    )
    sizes = {"c": 2, "a": 3, "b": 2}  # decks created out of roadmap order on purpose
    with factory.begin() as db:
        topics = upsert_roadmap(db, roadmap)
        for slug, size in sizes.items():
            deck = Deck(name=slug.upper(), slug=slug, source="builtin", topic_id=topics[slug].id)
            db.add(deck)
            db.flush()
            upsert_cards(db, deck, [CardSpec(f"{slug}{i}", "basic", "Q", "A") for i in range(size)])
    return factory


def _keys(factory: sessionmaker[Session], ids: list[int]) -> list[str]:
    with factory() as db:
        return [db.get_one(Card, i).key for i in ids]


def _session(
    factory: sessionmaker[Session], clock: DayClock, focus: Focus | None = None, **changes: object
) -> ReviewSession:
    settings = Settings(**changes)  # type: ignore[arg-type]
    return ReviewSession(engine_of(factory), LEARNER, settings, clock, focus or Focus(), NOW)


def _drain(session: ReviewSession, rating: Rating = Rating.GOOD) -> list[int]:
    shown_ids = []
    while (shown := session.next_card(NOW)) is not None:
        shown_ids.append(shown.card_id)
        session.rate(shown, rating, NOW, 1000)
    return shown_ids


def _rate_new_cards(session: ReviewSession) -> list[ShownCard]:
    """Rate Easy each card shown while new cards come; the cards shown."""
    rated = []
    while (shown := session.next_card(NOW)) is not None and shown.lane == "new":
        rated.append(shown)
        session.rate(shown, Rating.EASY, NOW, 1000)
    return rated


def test_new_cards_come_in_roadmap_order_up_to_the_daily_limit(
    small: sessionmaker[Session], clock: DayClock
) -> None:
    session = _session(small, clock, new_cards_per_day=6)
    assert session.counts() == {"new": 6, "learning": 0, "review": 0}
    rated = _rate_new_cards(session)
    order, paths = [s.card_id for s in rated], [s.path for s in rated]
    assert _keys(small, order) == ["a0", "a1", "a2", "b0", "b1", "c0"]
    assert paths == ["One › A"] * 3 + ["One › B"] * 2 + ["Two › C"]


def test_the_new_card_limit_counts_across_sessions_of_one_day(
    small: sessionmaker[Session], clock: DayClock
) -> None:
    first = _session(small, clock, new_cards_per_day=3)
    shown = first.next_card(NOW)
    assert shown is not None
    first.rate(shown, Rating.EASY, NOW, 800)
    second = _session(small, clock, new_cards_per_day=3)
    assert second.counts()["new"] == 2
    tomorrow = ReviewSession(
        engine_of(small),
        LEARNER,
        Settings(new_cards_per_day=3),
        clock,
        Focus(),
        NOW + timedelta(days=1),
    )
    assert tomorrow.counts()["new"] == 3


def test_each_rating_is_committed_before_the_next_card(
    small: sessionmaker[Session], clock: DayClock
) -> None:
    session = _session(small, clock)
    shown = session.next_card(NOW)
    assert shown is not None
    outcome = session.rate(shown, Rating.GOOD, NOW, 4321)
    assert outcome is not None
    card = stored(small, shown.card_id).memory  # a separate connection sees it at once
    with small() as other:
        log = other.scalars(select(ReviewLog)).one()
    assert (card.state, card.step, card.reps) == (CardState.LEARNING, 1, 1)
    assert card.due_at == NOW + timedelta(minutes=10) == outcome.memory.due_at
    assert (log.rating, log.duration_ms, log.state_before, log.reviewed_at) == (3, 4321, 0, NOW)
    assert session.counts() == {"new": 6, "learning": 1, "review": 0}


def test_learning_cards_come_back_after_their_step_within_learn_ahead(
    small: sessionmaker[Session], clock: DayClock
) -> None:
    session = _session(small, clock, focus=Focus(topic="b"))
    shown = _drain(session)
    # b0, b1 new; each Good -> 10 min step, within the 20 min learn-ahead -> shown again -> review
    assert _keys(small, shown) == ["b0", "b1", "b0", "b1"]
    with small() as db:
        keys = select(Card.id).where(Card.key.in_(["b0", "b1"]))
        states = db.scalars(select(CardMemory.state).where(CardMemory.card_id.in_(keys))).all()
    assert states == [CardState.REVIEW, CardState.REVIEW]


def test_undo_restores_the_card_and_removes_the_log_exactly(
    small: sessionmaker[Session], clock: DayClock
) -> None:
    session = _session(small, clock)
    shown = session.next_card(NOW)
    assert shown is not None
    with small() as db:
        before = {
            c: getattr(db.get_one(Card, shown.card_id), c)
            for c in Card.__table__.columns.keys()  # noqa: SIM118 - names, not columns
        }
    first = session.rate(shown, Rating.HARD, NOW, 1000)
    upcoming = session.next_card(NOW)
    assert session.undo(current=upcoming)
    with small() as db:
        after = {
            c: getattr(db.get_one(Card, shown.card_id), c)
            for c in Card.__table__.columns.keys()  # noqa: SIM118 - names, not columns
        }
        assert db.scalar(select(func.count(ReviewLog.id))) == 0
    assert after == before
    again = session.next_card(NOW)
    assert again is not None and again.card_id == shown.card_id
    assert session.rate(again, Rating.HARD, NOW, 1000) == first  # same rating, same interval
    assert session.summary.reviewed == 1
    assert session.next_card(NOW) == upcoming  # the card that was on screen comes next


def test_nothing_to_undo(small: sessionmaker[Session], clock: DayClock) -> None:
    assert not _session(small, clock).undo()


def test_bury_hides_the_card_until_the_next_learner_day(
    small: sessionmaker[Session], clock: DayClock
) -> None:
    session = _session(small, clock, focus=Focus(topic="c"))
    shown = session.next_card(NOW)
    assert shown is not None
    session.bury(shown, NOW)
    assert _session(small, clock, focus=Focus(topic="c")).counts()["new"] == 1
    later = ReviewSession(
        engine_of(small), LEARNER, Settings(), clock, Focus(topic="c"), NOW + timedelta(days=1)
    )
    assert later.counts()["new"] == 2


def test_a_card_answered_in_another_session_is_skipped(
    small: sessionmaker[Session], clock: DayClock
) -> None:
    one = _session(small, clock, focus=Focus(topic="b"))
    two = _session(small, clock, focus=Focus(topic="b"))
    shown = one.next_card(NOW)
    assert shown is not None
    one.rate(shown, Rating.EASY, NOW, 1000)
    other = two.next_card(NOW)
    assert other is not None and other.card_id != shown.card_id


def test_review_cards_due_today_are_shown_oldest_first_within_the_limit(
    small: sessionmaker[Session], clock: DayClock
) -> None:
    today = clock.day_of(NOW)
    with small.begin() as db:
        for offset, card in enumerate(db.scalars(select(Card).order_by(Card.id))):
            (
                memory_row(db, card).state,
                memory_row(db, card).stability_days,
                memory_row(db, card).difficulty,
            ) = CardState.REVIEW, 5.0, 5.0
            memory_row(db, card).last_review_day = today - timedelta(days=10)
            memory_row(db, card).due_day = (
                today - timedelta(days=offset % 3) + timedelta(days=offset // 6)
            )
    session = _session(small, clock, reviews_per_day=4)
    assert session.counts() == {"new": 0, "learning": 0, "review": 4}
    due_days = []
    while (shown := session.next_card(NOW)) is not None:
        due_days.append(shown.memory.due_day)
        session.rate(shown, Rating.EASY, NOW, 1000)
    assert len(due_days) == 4
    assert due_days == sorted(due_days)  # type: ignore[type-var]
    assert all(d is not None and d <= today for d in due_days)


def test_unknown_focus_is_a_usage_error(small: sessionmaker[Session], clock: DayClock) -> None:
    with pytest.raises(UsageError, match=r"^--topic nope: no such topic"):
        _session(small, clock, focus=Focus(topic="nope"))
    with pytest.raises(UsageError, match=r"^--section Three: no such section"):
        _session(small, clock, focus=Focus(section="Three"))
    assert _session(small, clock, focus=Focus(section="two")).counts()["new"] == 2


def test_summary_names_topics_newly_done(small: sessionmaker[Session], clock: DayClock) -> None:
    today = clock.day_of(NOW)
    with small.begin() as db:
        for card in db.scalars(select(Card).where(Card.key.in_(["c0", "c1"]))):
            (
                memory_row(db, card).state,
                memory_row(db, card).stability_days,
                memory_row(db, card).difficulty,
            ) = CardState.REVIEW, 19.0, 3.0
            memory_row(db, card).last_review_day, memory_row(db, card).due_day = (
                today - timedelta(days=20),
                today,
            )
    session = _session(small, clock, focus=Focus(topic="c"))
    _drain(session, Rating.EASY)
    summary = session.finish(NOW)
    assert summary.topics_done == ["C"]
    assert (summary.reviewed, summary.again) == (2, 0)


def test_the_roadmap_is_counted_before_the_first_write_not_before_the_first_card(
    small: sessionmaker[Session], clock: DayClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import trainer.study.session as session_module

    counted: list[date] = []

    def counting(*args: Any, **kwargs: Any) -> Any:
        counted.append(args[4])
        return count_mastery(*args, **kwargs)

    monkeypatch.setattr(session_module, "count_mastery", counting)
    session = _session(small, clock)
    first = session.next_card(NOW)
    assert first is not None and counted == []
    session.bury(first, NOW)
    second = session.next_card(NOW)
    assert second is not None and counted == [clock.day_of(NOW)]
    session.rate(second, Rating.GOOD, NOW, 1000)
    assert session.finish(NOW).topics_done == [] and len(counted) == 2
    idle = _session(small, clock)  # wrote nothing: made no topic done, counts nothing
    assert idle.next_card(NOW) is not None
    assert idle.finish(NOW).topics_done == [] and len(counted) == 2


def test_review_cards_are_read_page_by_page_in_due_order(
    small: sessionmaker[Session], clock: DayClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("trainer.study.queue.PAGE_SIZE", 2)
    today = clock.day_of(NOW)
    with small.begin() as db:
        for offset, card in enumerate(db.scalars(select(Card).order_by(Card.id.desc()))):
            (
                memory_row(db, card).state,
                memory_row(db, card).stability_days,
                memory_row(db, card).difficulty,
            ) = CardState.REVIEW, 5.0, 5.0
            memory_row(db, card).last_review_day = today - timedelta(days=30)
            memory_row(db, card).due_day = today - timedelta(days=offset)
    session = _session(small, clock, reviews_per_day=6)
    assert session.counts()["review"] == 6
    shown_ids = _drain(session, Rating.EASY)
    assert len(shown_ids) == 6 and len(set(shown_ids)) == 6
    assert shown_ids == sorted(shown_ids)  # lower ids were made due earlier: oldest first


def test_due_reviews_count_only_active_unburied_cards_of_the_focus(
    small: sessionmaker[Session], clock: DayClock
) -> None:
    today = clock.day_of(NOW)
    with small.begin() as db:
        cards = {card.key: card for card in db.scalars(select(Card))}
        for offset, card in enumerate(cards.values()):
            row = memory_row(db, card)
            row.state, row.stability_days, row.difficulty = CardState.REVIEW, 5.0, 5.0
            row.last_review_day, row.due_day = today - timedelta(days=30), today - timedelta(offset)
        cards["a0"].active = False  # retired: never shown
        cards["c1"].active = False
        memory_row(db, cards["b0"]).buried_until_day = today + timedelta(days=1)
        memory_row(db, cards["a1"]).due_day = today + timedelta(days=1)  # due tomorrow
    counts = {
        None: 7 - 4,  # a2, b1, c0
        "a": 1,
        "c": 1,
    }
    for topic, due in counts.items():
        session = _session(small, clock, Focus(topic=topic), reviews_per_day=100)
        assert session.counts()["review"] == due, topic
    assert _keys(small, _drain(session)) == ["c0"]
    everything = _session(small, clock, reviews_per_day=100)
    assert _keys(small, _drain(everything)) == ["b1", "a2"]  # oldest due first


def test_burying_a_new_card_does_not_use_up_the_new_card_limit(
    small: sessionmaker[Session], clock: DayClock
) -> None:
    session = _session(small, clock, new_cards_per_day=2)
    first = session.next_card(NOW)
    assert first is not None
    session.bury(first, NOW)
    assert session.counts()["new"] == 2  # the limit is untouched; the next new card comes up
    rated = [shown.card_id for shown in _rate_new_cards(session)]
    assert _keys(small, rated) == ["a1", "a2"]
    assert session.queue.held_back() == {"new": 4, "learning": 0, "review": 0}


@pytest.mark.parametrize("rated_before", [False, True])
def test_a_rating_for_a_card_answered_elsewhere_is_refused(
    small: sessionmaker[Session], clock: DayClock, rated_before: bool
) -> None:
    one = _session(small, clock, focus=Focus(topic="b"))
    two = _session(small, clock, focus=Focus(topic="b"))
    if rated_before:  # two reads its next card after its own rating committed (a write mark)
        first = two.next_card(NOW)
        assert first is not None and two.rate(first, Rating.GOOD, NOW, 1000) is not None
    seen_by_two, seen_by_one = two.next_card(NOW), one.next_card(NOW)
    assert seen_by_one is not None and seen_by_two == seen_by_one
    assert one.rate(seen_by_one, Rating.GOOD, NOW, 1000) is not None
    assert two.rate(seen_by_two, Rating.EASY, NOW, 1000) is None
    with small() as db:
        assert db.scalar(select(func.count(ReviewLog.id))) == 1 + rated_before
    assert two.summary.refused == 1 and two.summary.reviewed == rated_before


def _statement_shape(sql: str) -> str:
    """A traced statement without its values: an UPDATE with the columns it sets, any other
    statement up to its first parenthesis."""
    if sql.startswith("UPDATE"):
        head, _ = sql.split(" WHERE", 1)
        return " ".join([*head.split()[:3], *re.findall(r"(\w+)=", head)])
    return sql.split(" (")[0]


@sqlite_only("SQLite's write mark (data_version) and its statement trace")
@pytest.mark.parametrize("topic", ["a", "b"])
def test_a_rating_after_a_committed_one_runs_only_its_writes(
    small: sessionmaker[Session], clock: DayClock, topic: str
) -> None:
    if topic == "a":  # review cards, which the ratings leave unmastered
        _topic_a_below_mastery(small, clock.day_of(NOW))
    session = _session(small, clock, focus=Focus(topic=topic), mastery_stability_days=1000.0)
    first = session.next_card(NOW)
    assert first is not None and session.rate(first, Rating.GOOD, NOW, 1000) is not None
    shown = session.next_card(NOW)
    assert shown is not None
    statements: list[str] = []
    session._writer.connection.dbapi_connection.set_trace_callback(statements.append)  # type: ignore[union-attr]
    outcome = session.rate(shown, Rating.GOOD, NOW, 1000)
    session._writer.connection.dbapi_connection.set_trace_callback(None)  # type: ignore[union-attr]
    memory_write = {  # a new card's row is made; a review card's changed columns are set
        "a": "UPDATE card_memory SET stability_days difficulty due_day last_review_at"
        " last_review_day reps",
        "b": "INSERT INTO card_memory",
    }[topic]
    assert [_statement_shape(sql) for sql in statements] == [
        "BEGIN IMMEDIATE",
        "PRAGMA data_version",  # the write mark: nothing written since the card was read
        memory_write,
        "INSERT INTO review_log",
        "COMMIT",
    ]
    assert outcome is not None and stored(small, shown.card_id).memory == outcome.memory
    session.close()


def test_session_limits_replace_what_the_day_has_left(
    small: sessionmaker[Session], clock: DayClock
) -> None:
    first = _session(small, clock, new_cards_per_day=1)
    _drain(first, Rating.EASY)
    assert _session(small, clock, new_cards_per_day=1).counts()["new"] == 0
    more = ReviewSession(
        engine_of(small), LEARNER, Settings(new_cards_per_day=1), clock, Focus(), NOW, new_cards=3
    )
    assert more.counts()["new"] == 3


def test_counts_stay_right_across_an_undo(small: sessionmaker[Session], clock: DayClock) -> None:
    session = _session(small, clock, new_cards_per_day=5)
    first = session.next_card(NOW)
    assert first is not None
    session.rate(first, Rating.GOOD, NOW, 1000)
    second = session.next_card(NOW)
    assert second is not None
    assert session.counts() == {"new": 3, "learning": 1, "review": 0}
    session.rate(second, Rating.AGAIN, NOW, 1000)
    assert session.undo()
    again = session.next_card(NOW)
    assert again is not None and again.card_id == second.card_id
    assert session.counts() == {"new": 3, "learning": 1, "review": 0}


def test_a_card_left_unanswered_still_counts_as_left_for_today(
    small: sessionmaker[Session], clock: DayClock
) -> None:
    session = _session(small, clock, new_cards_per_day=5)
    assert session.next_card(NOW) is not None
    summary = session.finish(NOW)
    assert summary.left_today == 5
    assert summary.held_back == {"new": 2}


def test_the_summary_counts_cards_falling_due_on_the_next_learner_day_only(
    small: sessionmaker[Session], clock: DayClock
) -> None:
    today = clock.day_of(NOW)
    tomorrow, after = today + timedelta(days=1), today + timedelta(days=2)
    due = {  # key: (state, due_day, due_at)
        "a0": (CardState.REVIEW, tomorrow, None),  # counts
        "c1": (CardState.REVIEW, tomorrow, None),  # counts
        "a1": (CardState.REVIEW, after, None),
        "a2": (CardState.LEARNING, None, clock.day_start(tomorrow)),  # counts: at the rollover
        "b0": (CardState.RELEARNING, None, clock.day_start(after) - timedelta(minutes=1)),  # counts
        "b1": (CardState.LEARNING, None, clock.day_start(after)),
        "c0": (CardState.LEARNING, None, clock.day_start(tomorrow) - timedelta(minutes=1)),
    }
    with small.begin() as db:
        for card in db.scalars(select(Card).where(Card.key.in_(due))):
            (
                memory_row(db, card).state,
                memory_row(db, card).due_day,
                memory_row(db, card).due_at,
            ) = due[card.key]
            (
                memory_row(db, card).stability_days,
                memory_row(db, card).difficulty,
                memory_row(db, card).last_review_day,
            ) = 5.0, 5.0, today
    with _session(small, clock) as session:
        assert session.finish(NOW).due_tomorrow == 4


def test_a_buried_card_is_shown_again_on_the_next_learner_day(
    small: sessionmaker[Session], clock: DayClock
) -> None:
    with _session(small, clock, focus=Focus(topic="c")) as session:
        buried = session.next_card(NOW)
        assert buried is not None
        session.bury(buried, NOW)
    next_day = clock.day_start(clock.day_of(NOW) + timedelta(days=1))
    later = ReviewSession(engine_of(small), LEARNER, Settings(), clock, Focus(topic="c"), next_day)
    with later:
        shown = later.next_card(next_day)
        assert shown is not None and shown.card_id == buried.card_id


def test_undoing_a_bury_takes_the_new_card_limit_again(
    small: sessionmaker[Session], clock: DayClock
) -> None:
    session = _session(small, clock, new_cards_per_day=2)
    first = session.next_card(NOW)
    assert first is not None
    session.bury(first, NOW)  # gives its place in the limit back ...
    on_screen = session.next_card(NOW)
    assert session.undo(current=on_screen)  # ... and takes it again
    rated = [shown.card_id for shown in _rate_new_cards(session)]
    assert _keys(small, rated) == ["a0", "a1"]
    assert session.queue.held_back()["new"] == 5


def test_a_relearning_step_ending_after_the_rollover_comes_back_in_the_session(
    small: sessionmaker[Session], clock: DayClock
) -> None:
    """Again at 03:55 on a review card, a 10-minute step ends at 04:05, after the 04:00
    rollover: the card comes back through the learn-ahead and counts as left today, not as
    due tomorrow, and a session started at 03:58 finds it too."""
    at_0355 = clock.day_start(clock.day_of(NOW) + timedelta(days=1)) - timedelta(minutes=5)
    today = clock.day_of(at_0355)
    with small.begin() as db:
        card = db.scalars(select(Card).where(Card.key == "a0")).one()
        (
            memory_row(db, card).state,
            memory_row(db, card).due_day,
            memory_row(db, card).stability_days,
            memory_row(db, card).difficulty,
        ) = (
            CardState.REVIEW,
            today,
            5.0,
            5.0,
        )
        memory_row(db, card).last_review_day, memory_row(db, card).last_review_at = (
            today - timedelta(days=5),
            NOW,
        )
        card_id = card.id
    engine = engine_of(small)
    settings = Settings(new_cards_per_day=0, relearning_steps_minutes=(10.0,))
    with ReviewSession(engine, LEARNER, settings, clock, Focus(), at_0355) as session:
        shown = session.next_card(at_0355)
        assert shown is not None and shown.card_id == card_id
        outcome = session.rate(shown, Rating.AGAIN, at_0355, 1000)
        assert outcome is not None and outcome.memory.due_at == at_0355 + timedelta(minutes=10)
        assert session.counts() == {"new": 0, "learning": 1, "review": 0}
        summary = session.finish(at_0355)
        assert (summary.left_today, summary.due_tomorrow) == (1, 0)
    at_0358 = at_0355 + timedelta(minutes=3)
    with ReviewSession(engine, LEARNER, settings, clock, Focus(), at_0358) as session:
        assert session.counts() == {"new": 0, "learning": 1, "review": 0}
        again = session.next_card(at_0358)
        assert again is not None and (again.card_id, again.lane) == (card_id, "learning")


@sqlite_only("SQLite's query plans")
def test_the_latest_rating_is_read_from_the_end_of_the_log_without_sorting_it(
    small: sessionmaker[Session], clock: DayClock
) -> None:
    engine = engine_of(small)
    session = _session(small, clock)
    rated = _drain(session)
    session.close()
    statements: list[tuple[str, Any]] = []

    def seen(_conn: object, _cursor: object, sql: str, parameters: Any, *_: object) -> None:
        statements.append((sql, parameters))

    event.listen(engine, "before_cursor_execute", seen)
    with reader(engine) as conn:
        assert last_review_time(conn, LEARNER) == NOW
        assert last_review_time(conn, LEARNER + 1) is None
        event.remove(engine, "before_cursor_execute", seen)
        plans = [
            " ".join(row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params))
            for sql, params in statements
        ]
    assert rated and plans and not any("TEMP B-TREE" in plan for plan in plans), plans


def _suspended(factory: sessionmaker[Session], card_id: int) -> bool | None:
    with factory() as db:
        row = db.get(CardMemory, (LEARNER, card_id))
        return None if row is None else row.suspended


def test_suspending_a_studied_card_keeps_its_memory_and_leaves_mastery(
    small: sessionmaker[Session], clock: DayClock
) -> None:
    with small.begin() as db:
        a0 = db.scalars(select(Card).where(Card.key == "a0")).one()
        row = memory_row(db, a0)
        row.state, row.stability_days, row.difficulty = CardState.REVIEW, 30.0, 5.0
        row.due_day, row.last_review_day, row.reps = NOW.date(), NOW.date(), 3
        a0_id = a0.id
    before = stored(small, a0_id)

    def topic_a() -> tuple[int, int]:
        with reader(engine_of(small)) as conn:
            topic = count_mastery(conn, LEARNER, Settings(), load_roadmap(conn), NOW.date()).topic(
                "a"
            )
        return topic.cards, topic.mastered

    assert topic_a() == (3, 1)
    session = _session(small, clock)
    assert session.counts() == {"new": 6, "learning": 0, "review": 1}
    shown = session.next_card(NOW)
    assert shown is not None and shown.card_id == a0_id
    session.suspend(shown)
    assert (stored(small, a0_id), _suspended(small, a0_id)) == (before, True)
    assert topic_a() == (2, 0)
    assert a0_id not in _drain(session)
    assert _session(small, clock).counts()["review"] == 0
    assert session.summary.suspended == 1
    assert session.undo()  # the last rating
    assert session.summary.suspended == 1
    while session.undo():
        pass
    assert (stored(small, a0_id), _suspended(small, a0_id)) == (before, False)
    assert session.summary.suspended == 0
    assert topic_a() == (3, 1)
    again = session.next_card(NOW)
    assert again is not None and again.card_id == a0_id


def test_undoing_the_suspension_of_a_new_card_leaves_no_row(
    small: sessionmaker[Session], clock: DayClock
) -> None:
    session = _session(small, clock)
    shown = session.next_card(NOW)
    assert shown is not None
    session.suspend(shown)
    assert _suspended(small, shown.card_id) is True
    assert session.counts()["new"] == 6  # its place in the limit goes to the next new card
    upcoming = session.next_card(NOW)
    assert session.undo(current=upcoming)
    assert _suspended(small, shown.card_id) is None
    assert session.next_card(NOW) == replace(shown, shown_at=NOW)


def test_the_rating_that_makes_a_topic_done_stores_its_day_and_an_undo_takes_it_back(
    small: sessionmaker[Session], clock: DayClock
) -> None:
    today = clock.day_of(NOW)
    with small.begin() as db:  # c's two cards: review cards just below mastery, due today
        for card in db.scalars(select(Card).where(Card.key.in_(["c0", "c1"]))):
            row = memory_row(db, card)
            row.state, row.stability_days, row.difficulty = CardState.REVIEW, 19.0, 3.0
            row.last_review_day, row.due_day = today - timedelta(days=20), today

    def stored() -> list[tuple[int, date]]:
        with reader(engine_of(small)) as conn:
            rows = conn.execute(select(TopicDone.topic_id, TopicDone.done_day))
            return [(topic, day) for topic, day in rows]

    session = _session(small, clock, focus=Focus(topic="c"))
    first = session.next_card(NOW)
    assert first is not None
    session.rate(first, Rating.EASY, NOW, 1000)
    assert stored() == []  # 1 of 2 mastered: not done
    second = session.next_card(NOW)
    assert second is not None
    session.rate(second, Rating.EASY, NOW, 1000)
    with reader(engine_of(small)) as conn:
        topic_c = conn.scalar(select(Topic.id).where(Topic.slug == "c"))
    assert stored() == [(topic_c, today)]
    assert session.undo()
    assert stored() == []
    again = session.next_card(NOW)
    assert again is not None and again.card_id == second.card_id
    session.rate(again, Rating.EASY, NOW, 1000)
    assert stored() == [(topic_c, today)]
    session.close()


def _topic_a_below_mastery(factory: sessionmaker[Session], today: date) -> int:
    """Make topic a's three cards review cards just below mastery, due ``today``; its id."""
    with factory.begin() as db:
        for card in db.scalars(select(Card).where(Card.key.in_(["a0", "a1", "a2"]))):
            row = memory_row(db, card)
            row.state, row.stability_days, row.difficulty = CardState.REVIEW, 19.0, 3.0
            row.last_review_day, row.due_day = today - timedelta(days=20), today
        return db.scalars(select(Topic.id).where(Topic.slug == "a")).one()


def _done_rows(factory: sessionmaker[Session]) -> list[int]:
    with factory() as db:
        return list(db.scalars(select(TopicDone.topic_id)))


@pytest.mark.parametrize("suspended_by", ["the session", "another connection"])
def test_a_topic_is_done_by_the_rating_after_a_suspension_between_ratings(
    small: sessionmaker[Session], clock: DayClock, suspended_by: str
) -> None:
    # 3 cards, 90% to master: done once 2 are mastered of the 2 left unsuspended
    topic_a = _topic_a_below_mastery(small, clock.day_of(NOW))
    session = _session(small, clock, focus=Focus(topic="a"))
    first = session.next_card(NOW)
    assert first is not None
    session.rate(first, Rating.EASY, NOW, 1000)  # 1 of 3 mastered
    second = session.next_card(NOW)
    assert second is not None
    if suspended_by == "the session":
        session.suspend(second)
    else:
        with engine_of(small).begin() as conn:
            suspend_cards(conn, LEARNER, [second.card_id])
    third = session.next_card(NOW)
    assert third is not None and third.card_id not in (first.card_id, second.card_id)
    assert _done_rows(small) == []
    session.rate(third, Rating.EASY, NOW, 1000)  # 2 of 2 mastered
    assert _done_rows(small) == [topic_a]
    session.close()


@sqlite_only("SQLite tells a connection whether anything was written since (data_version)")
def test_a_topic_is_counted_once_while_only_the_session_rates(
    small: sessionmaker[Session], clock: DayClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import trainer.study.done_check as done_check

    topic_a = _topic_a_below_mastery(small, clock.day_of(NOW))
    counted: list[int] = []
    real_count = done_check.DoneCheck._count

    def counting(check: done_check.DoneCheck, conn: Any, topic_id: int) -> Any:
        counted.append(topic_id)
        return real_count(check, conn, topic_id)

    monkeypatch.setattr(done_check.DoneCheck, "_count", counting)
    session = _session(small, clock, focus=Focus(topic="a"), topic_done_share=1.0)
    assert len(_drain(session, Rating.EASY)) == 3
    assert counted == [topic_a] and _done_rows(small) == [topic_a]
    session.close()


def test_previews_are_scheduled_when_asked_for_and_a_rating_without_them_is_the_same(
    small: sessionmaker[Session], clock: DayClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    previewed: list[int] = []
    real_preview = Scheduler.preview

    def counting(scheduler: Scheduler, card_id: int, *args: Any, **kwargs: Any) -> Any:
        previewed.append(card_id)
        return real_preview(scheduler, card_id, *args, **kwargs)

    monkeypatch.setattr(Scheduler, "preview", counting)
    session = _session(small, clock)
    shown = session.next_card(NOW)
    assert shown is not None and previewed == []
    unasked = session.rate(shown, Rating.GOOD, NOW + timedelta(seconds=7), 7000)
    assert previewed == [] and session.undo()
    again = session.next_card(NOW)
    assert again is not None and again.card_id == shown.card_id
    preview = again.previews[Rating.GOOD]
    assert again.previews is again.previews and previewed == [shown.card_id]
    asked = session.rate(again, Rating.GOOD, NOW + timedelta(seconds=7), 7000)
    assert unasked is not None and unasked == asked
    assert asked.interval_days == preview.interval_days
    assert asked.memory.due_at == preview.memory.due_at + timedelta(seconds=7)  # type: ignore[operator]
    session.close()
