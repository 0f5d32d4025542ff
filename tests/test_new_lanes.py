"""The new-card lanes: which new cards a session shows, in which order, and what it counts on
screen and in the summary, across decks, topics, sections, lanes, pages and daily limits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, event, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from conftest import LEARNER, NOW, engine_of, memory_row
from trainer.content.builtin_sync import upsert_cards, upsert_roadmap
from trainer.content.parser import CardSpec, SectionSpec, TopicSpec
from trainer.scheduling.days import DayClock
from trainer.store import tables
from trainer.store.db import reader
from trainer.store.deck_tree import DeckTree, deck_for_path
from trainer.store.memory import is_new, learner_cards
from trainer.store.models import Card, CardMemory, CardState, Deck, Rating, ReviewLog
from trainer.store.settings import Settings
from trainer.study import queue
from trainer.study.queue import (
    Focus,
    count_new_cards,
    in_roadmap_order,
    new_page_loader,
    new_source,
    visible,
)
from trainer.study.session import ReviewSession

#: The decks of the fixture and their cards' keys, in the order they are made (the decks of
#: the roadmap out of roadmap order, so deck ids do not follow it).
DECKS = {
    "C": ["c0", "c1", "c2", "c3"],
    "B": ["b0", "b1", "b2", "b3"],
    "A2": ["x0", "x1"],
    "A": ["a0", "a1", "a2"],
    "Rocks::Igneous": ["i0", "i1"],
    "Rocks::Sedimentary": ["s0", "s1"],
    "Spanish": ["e0", "e1", "e2"],
}
TOPIC_OF = {"A": "a", "A2": "a", "B": "b", "C": "c"}


@pytest.fixture
def lanes(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """Section one (topics a: decks A2 and A, in that order by id; b: deck B), section two
    (topic c: deck C); extra decks Rocks::Igneous, Rocks::Sedimentary and Spanish. No memory
    rows yet."""
    roadmap = (
        SectionSpec("one", "One", (TopicSpec("a", "A", (), 1), TopicSpec("b", "B", (), 2))),
        SectionSpec("two", "Two", (TopicSpec("c", "C", (), 3),)),
    )
    with factory.begin() as db:
        topics = upsert_roadmap(db, roadmap)
        for name, keys in DECKS.items():
            if name in TOPIC_OF:
                deck = Deck(
                    name=name,
                    slug=name.lower(),
                    source="builtin",
                    topic_id=topics[TOPIC_OF[name]].id,
                )
                db.add(deck)
                db.flush()
            else:
                deck = deck_for_path(db, name)
            upsert_cards(db, deck, [CardSpec(key, "basic", f"Q {key}", "A") for key in keys])
    return factory


def _ids(factory: sessionmaker[Session]) -> dict[str, int]:
    with factory() as db:
        return {key: card_id for card_id, key in db.execute(select(Card.id, Card.key))}


def _studied(factory: sessionmaker[Session], clock: DayClock) -> None:
    """Memory rows and today's log over the ``lanes`` decks: per deck, the new cards visible
    today are A: a2; A2: none (x0 suspended, x1 buried until tomorrow); B: b0 (buried until
    today), b3 (at b0's position), b2; C: c1, c2 (c3 retired); Rocks: i1, s0, s1; Spanish: e1,
    e2. a1 and e0 were new cards rated today: each used its source's allowance."""
    today = clock.day_of(NOW)
    ids = _ids(factory)
    with factory.begin() as db:

        def row(key: str) -> CardMemory:
            return memory_row(db, db.get_one(Card, ids[key]))

        for key in ("a0", "a1", "c0", "i0", "e0"):
            studied = row(key)
            studied.state, studied.stability_days, studied.difficulty = CardState.REVIEW, 9.0, 5.0
            studied.last_review_day = today - timedelta(days=3)
            studied.due_day = today + timedelta(days=6)
        for key in ("a1", "e0"):
            db.add(
                ReviewLog(
                    learner_id=LEARNER,
                    card_id=ids[key],
                    rating=int(Rating.EASY),
                    reviewed_at=NOW - timedelta(hours=1),
                    review_day=today,
                    duration_ms=1000,
                    state_before=int(CardState.NEW),
                    state=int(CardState.REVIEW),
                    stability_days=9.0,
                    difficulty=5.0,
                    interval_days=9,
                )
            )
        row("x0").suspended = True
        row("x1").buried_until_day = today + timedelta(days=1)
        row("b0").buried_until_day = today
        learning = row("b1")
        learning.state, learning.step, learning.stability_days = CardState.LEARNING, 0, 1.0
        learning.difficulty, learning.last_review_day = 5.0, today - timedelta(days=1)
        learning.due_at = NOW + timedelta(days=2)
        db.execute(update(tables.card).where(tables.card.c.id == ids["b3"]).values(position=0))
        db.execute(update(tables.card).where(tables.card.c.id == ids["c3"]).values(active=False))


def _session(
    factory: sessionmaker[Session],
    clock: DayClock,
    focus: Focus | None = None,
    new_cards: int | None = None,
) -> ReviewSession:
    settings = Settings(new_cards_per_day=4, deck_new_cards_per_day=2)
    return ReviewSession(
        engine_of(factory), LEARNER, settings, clock, focus or Focus(), NOW, new_cards=new_cards
    )


def _walk(factory: sessionmaker[Session], session: ReviewSession) -> list[tuple[str, int]]:
    """Rate Easy every new card the session shows: each card's key with the new cards left
    after it."""
    keys = {card_id: key for key, card_id in _ids(factory).items()}
    walked = []
    while (shown := session.next_card(NOW)) is not None:
        assert shown.lane == "new"
        walked.append((keys[shown.card_id], session.counts()["new"]))
        session.rate(shown, Rating.EASY, NOW, 1000)
    return walked


@pytest.fixture(params=[1, 2, 200], ids=lambda size: f"pages of {size}")
def page_size(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    monkeypatch.setattr(queue, "PAGE_SIZE", request.param)
    yield request.param


def test_the_lanes_share_out_the_new_cards_within_each_allowance(
    lanes: sessionmaker[Session], clock: DayClock, page_size: int
) -> None:
    _studied(lanes, clock)
    session = _session(lanes, clock)
    # roadmap: 4 a day, 1 used (a1): 3 of 6; Rocks: 2 of 3; Spanish: 2 a day, 1 used: 1 of 2
    assert session.counts() == {"new": 3 + 2 + 1, "learning": 0, "review": 0}
    assert session.queue.held_back() == {"new": 3 + 1 + 1, "learning": 0, "review": 0}
    assert _walk(lanes, session) == [
        ("a2", 5),
        ("i1", 4),
        ("e1", 3),
        ("b0", 2),
        ("s0", 1),
        ("b3", 0),
    ]
    summary = session.finish(NOW)
    assert (summary.left_today, summary.held_back) == (0, {"new": 3 + 1 + 1})
    later = _session(lanes, clock)
    assert later.counts()["new"] == 0
    assert later.queue.held_back()["new"] == 5
    more = _session(lanes, clock, new_cards=4)  # --new-cards 4: b2, c1, c2; s1; e2
    assert more.counts()["new"] == 4
    assert more.queue.held_back()["new"] == 1
    assert _walk(lanes, more) == [("b2", 3), ("s1", 2), ("e2", 1), ("c1", 0)]
    assert more.finish(NOW).held_back == {"new": 1}


def test_a_session_number_of_new_cards_caps_the_lanes_together(
    lanes: sessionmaker[Session], clock: DayClock, page_size: int
) -> None:
    _studied(lanes, clock)
    session = _session(lanes, clock, new_cards=5)
    assert session.counts()["new"] == 5
    assert session.queue.held_back()["new"] == 6 + 3 + 2 - 5
    assert [key for key, _ in _walk(lanes, session)] == ["a2", "i1", "e1", "b0", "s0"]
    assert session.finish(NOW).held_back == {"new": 6}


@pytest.mark.parametrize(
    ("focus", "shown", "held"),
    [
        (Focus(section="one"), ["a2", "b0", "b3"], 1),
        (Focus(topic="c"), ["c1", "c2"], 0),
        (Focus(deck="rocks"), ["i1", "s0"], 1),
        (Focus(deck="Rocks::Sedimentary"), ["s0", "s1"], 0),
    ],
)
def test_a_focus_keeps_the_order_and_limits_of_its_lane(
    lanes: sessionmaker[Session],
    clock: DayClock,
    page_size: int,
    focus: Focus,
    shown: list[str],
    held: int,
) -> None:
    _studied(lanes, clock)
    session = _session(lanes, clock, focus)
    assert session.counts()["new"] == len(shown)
    assert session.queue.held_back()["new"] == held
    assert [key for key, _ in _walk(lanes, session)] == shown
    assert session.finish(NOW).held_back == ({"new": held} if held else {})


#: A card's memory in the property below: no row, a row in each state, suspended or buried.
MEMORIES = st.sampled_from(
    ["none", "new", "suspended", "buried today", "buried tomorrow", "learning", "review"]
)


def _set_memories(
    factory: sessionmaker[Session],
    today: date,
    cards: list[tuple[str, int, bool]],
) -> None:
    """Replace every memory row: card number i (in id order) gets ``cards[i]``'s memory, its
    position and whether it is active."""
    with factory.begin() as db:
        db.execute(delete(CardMemory))
        ids = list(db.scalars(select(Card.id).order_by(Card.id)))
        for card_id, (memory, position, active) in zip(ids, cards, strict=True):
            db.execute(
                update(tables.card)
                .where(tables.card.c.id == card_id)
                .values(position=position, active=active)
            )
            if memory == "none":
                continue
            row = memory_row(db, db.get_one(Card, card_id))
            row.suspended = memory == "suspended"
            row.buried_until_day = {
                "buried today": today,
                "buried tomorrow": today + timedelta(days=1),
            }.get(memory)
            if memory in ("learning", "review"):
                row.state = CardState.LEARNING if memory == "learning" else CardState.REVIEW
                row.stability_days, row.difficulty = 3.0, 5.0
                row.last_review_day, row.due_day = today, today + timedelta(days=3)
                row.due_at = NOW + timedelta(days=3)


#: Searches of the property below: none, one over the cards, one over the memory rows.
SEARCHES = {
    "none": None,
    "early cards": tables.card.c.position < 2,
    "no row or suspended": or_(
        tables.card_memory.c.card_id.is_(None), tables.card_memory.c.suspended.is_(True)
    ),
}


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cards=st.lists(
        st.tuples(MEMORIES, st.integers(0, 3), st.booleans() | st.just(True)),
        min_size=sum(len(keys) for keys in DECKS.values()),
        max_size=sum(len(keys) for keys in DECKS.values()),
    ),
    pages=st.lists(st.integers(1, 4), min_size=1, max_size=20),
    focus=st.sampled_from([None, ("A", "B"), ("Rocks::Igneous", "C", "Spanish")]),
    search=st.sampled_from(list(SEARCHES)),
)
def test_each_lane_is_one_sorted_query_cut_in_pages_and_counted_whole(
    lanes: sessionmaker[Session],
    clock: DayClock,
    cards: list[tuple[str, int, bool]],
    pages: list[int],
    focus: tuple[str, ...] | None,
    search: str,
) -> None:
    today = clock.day_of(NOW)
    matching = SEARCHES[search]
    _set_memories(lanes, today, cards)
    with reader(engine_of(lanes)) as conn:
        tree = DeckTree.read(conn)
        names = {deck_id: node.name for deck_id, node in tree.nodes.items()}
        focused = [d for d in tree.nodes if focus is None or names[d] in focus]
        by_lane: dict[int | None, list[int]] = {}
        for deck_id in sorted(focused):
            by_lane.setdefault(new_source(tree, deck_id), []).append(deck_id)
        groups = list(by_lane.values())
        whole = []
        for lane_decks in groups:
            everything = list(
                conn.scalars(
                    in_roadmap_order(
                        learner_cards(LEARNER, tables.card.c.id).where(
                            is_new(), *visible(today, lane_decks, matching)
                        )
                    )
                )
            )
            load = new_page_loader(LEARNER, today, lane_decks, matching)
            read: list[int] = []
            for size in pages:
                read += load(conn, size)
            read += load(conn, len(everything) + 1)
            assert read == everything
            assert load(conn, 1) == []
            whole.append(len(everything))
        counted = count_new_cards(conn, LEARNER, today, groups, focus is None, matching)
        assert counted == whole


def test_lanes_are_counted_in_a_few_queries_however_many_there_are(
    lanes: sessionmaker[Session], clock: DayClock
) -> None:
    _studied(lanes, clock)
    with lanes.begin() as db:
        for number in range(4):  # the roadmap keeps more than half the active cards
            deck = deck_for_path(db, f"Extra {number}")
            upsert_cards(db, deck, [CardSpec(f"z{number}", "basic", "Q", "A")])
    today = clock.day_of(NOW)
    statements: list[str] = []
    engine = engine_of(lanes)

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    with reader(engine) as conn:
        tree = DeckTree.read(conn)
        by_lane: dict[int | None, list[int]] = {}
        for deck_id in sorted(tree.nodes):
            by_lane.setdefault(new_source(tree, deck_id), []).append(deck_id)
        groups = sorted(by_lane.items(), key=lambda item: item[0] is not None)
        event.listen(engine, "before_cursor_execute", record)
        try:
            everything = count_new_cards(conn, LEARNER, today, [g for _, g in groups], True)
            focused = count_new_cards(conn, LEARNER, today, [g for _, g in groups[1:]], False)
        finally:
            event.remove(engine, "before_cursor_execute", record)
    # the roadmap: a2, b0, b3, b2, c1, c2; Rocks: i1, s0, s1; Spanish: e1, e2; one each extra
    assert everything == [6, 3, 2, 1, 1, 1, 1]
    assert focused == [3, 2, 1, 1, 1, 1]
    assert len(statements) == 3 + 1  # actives, card by card, set apart; card by card
