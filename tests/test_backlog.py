"""Issue 11's backlog rule: after missed days, due review cards lowest retrievability first up
to a daily cap, new cards paused until the backlog is under control; in ``trainer review`` and
in the plan's simulation alike."""

from __future__ import annotations

import json
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from test_cli import run
from test_review_session import small  # noqa: F401 (a fixture)

from conftest import LEARNER, NOW, engine_of, memory_row
from trainer.scheduling.adapter import Scheduler
from trainer.scheduling.days import DayClock
from trainer.scheduling.simulate import BacklogRule, Habits, NewLane, SimCard, simulate
from trainer.store.db import reader
from trainer.store.models import Card, CardState, Rating
from trainer.store.settings import Settings
from trainer.study.mastery import holds_mastery, is_done
from trainer.study.queue import Focus, count_due_reviews, lowest_recall_loader
from trainer.study.session import ReviewSession


def _week_missed(backlog: BacklogRule | None, days: int = 8) -> tuple[tuple[int, ...], ...]:
    """A learner who studied 10 cards a day for 23 days, then missed a week: 80 review cards
    due (10 on each of the 7 missed days and 10 today), 50 new cards at 5 a day."""
    settings = Settings()
    reviews = [
        SimCard(0, CardState.REVIEW, 3650.0, 5.0, -7 + i // 10, -7 + i // 10 - 30)
        for i in range(80)
    ]
    cards = [*reviews, *(SimCard(1) for _ in range(50))]
    result = simulate(
        Scheduler(settings),
        Habits.defaults(),
        cards,
        [NewLane(tuple(range(80, 130)), 5, 5)],
        200,
        200,
        days,
        7,
        partial(holds_mastery, settings=settings),
        partial(is_done, settings=settings),
        backlog,
        [10] * 23 + [0] * 7,
    )
    return result.reviews, result.new, tuple(int(on) for on in result.catch_up)


def test_a_week_missed_is_caught_up_with_new_cards_paused_then_resumed() -> None:
    rule = BacklogRule.of(Settings(backlog_days=3, backlog_cap=25))
    assert rule == BacklogRule(days=3, cap=25, fallback=200)
    reviews, new, catch_up = _week_missed(rule)
    # usual 10 a day: 80 due > 30, 55 due > 32 (the usual now counts day 0's 25), then 30
    # due <= 34 and the rule is off: the rest of the backlog, and new cards again
    assert reviews[:3] == (25, 25, 30)
    assert new == (0, 0, 5, 5, 5, 5, 5, 5)
    assert catch_up == (1, 1, 0, 0, 0, 0, 0, 0)
    # without the rule, the whole backlog at once beside the new cards
    reviews, new, catch_up = _week_missed(None)
    assert reviews[0] == 80 and new[:3] == (5, 5, 5) and set(catch_up) == {0}


def test_a_first_day_without_history_measures_against_the_review_limit() -> None:
    rule = BacklogRule(days=3, cap=50, fallback=200)
    assert rule.threshold([0] * 30) == 600
    assert rule.threshold([0] * 20 + [12, 0, 6] + [0] * 7) == 27  # mean of the studied days
    assert not rule.applies(600, []) and rule.applies(601, [])
    assert BacklogRule.of(Settings(backlog_days=0)) is None
    assert BacklogRule.of(Settings(reviews_per_day=90)) == BacklogRule(3, 90, 90)


@pytest.mark.parametrize("backlog_days", [1, 0])
def test_review_works_a_backlog_lowest_retrievability_first_up_to_the_cap(
    small: sessionmaker[Session],  # noqa: F811
    clock: DayClock,
    backlog_days: int,
) -> None:
    today = clock.day_of(NOW)
    stabilities = [40.0, 3.0, 90.0, 8.0, 1.5]  # the first 5 cards; the other 2 stay new
    with small.begin() as db:
        cards = list(db.scalars(select(Card).order_by(Card.id)))
        for offset, (card, stability) in enumerate(zip(cards, stabilities, strict=False)):
            row = memory_row(db, card)
            row.state, row.stability_days, row.difficulty = CardState.REVIEW, stability, 5.0
            row.last_review_day = today - timedelta(days=12 + offset)
            row.due_day = today - timedelta(days=offset)
        ids = [card.id for card in cards]
    settings = Settings(reviews_per_day=2, backlog_days=backlog_days, backlog_cap=3)
    session = ReviewSession(engine_of(small), LEARNER, settings, clock, Focus(), NOW)
    shown = []
    while (next_card := session.next_card(NOW)) is not None:
        shown.append((next_card.card_id, next_card.lane))
        session.rate(next_card, Rating.EASY, NOW, 1000)
    scheduler = Scheduler(settings)

    def recall(index: int) -> float:
        return scheduler.retrievability(stabilities[index], 12 + index)

    if backlog_days:  # no history: 5 due > 1 day's worth of the review limit, 2
        assert session.backlog is not None and session.backlog.due == 5
        lowest = sorted(range(5), key=recall)[:3]
        assert lowest == [4, 1, 3]
        assert shown == [(ids[i], "review") for i in lowest]
    else:  # oldest due first within the review limit, then the new cards
        assert session.backlog is None
        assert shown == [(ids[4], "review"), (ids[3], "review"), (ids[5], "new"), (ids[6], "new")]


def test_a_backlog_of_equal_recall_comes_oldest_due_first(
    small: sessionmaker[Session],  # noqa: F811
    clock: DayClock,
) -> None:
    today = clock.day_of(NOW)
    days_due = [1, 3, 0, 2]  # days before today each card fell due
    with small.begin() as db:
        cards = list(db.scalars(select(Card).order_by(Card.id)))[:4]
        for card, days in zip(cards, days_due, strict=True):
            row = memory_row(db, card)
            row.state, row.stability_days, row.difficulty = CardState.REVIEW, 10.0, 5.0
            row.last_review_day = today - timedelta(days=20)  # one recall for all
            row.due_day = today - timedelta(days=days)
        ids = [card.id for card in cards]
    settings = Settings(reviews_per_day=1, backlog_days=1, backlog_cap=4)
    session = ReviewSession(engine_of(small), LEARNER, settings, clock, Focus(), NOW)
    assert session.backlog is not None
    shown = []
    while (next_card := session.next_card(NOW)) is not None:
        shown.append(next_card.card_id)
        session.bury(next_card, NOW)
    assert shown == [ids[1], ids[3], ids[0], ids[2]]


def test_review_says_so_and_pauses_new_cards() -> None:
    assert run("review", input=" 4" * 5 + "q")[0] == 0  # five cards to review later
    assert run("config", "reviews_per_day", "2")[0] == 0
    assert run("config", "backlog_days", "1") == (0, "backlog_days = 1\n")
    assert run("config", "backlog_cap", "3") == (0, "backlog_cap = 3\n")
    later = "2027-01-10T10:00:00+00:00"  # all five are due, no study in the 30 days before
    code, output = run("review", input="q", now=later)
    assert code == 0, output
    # under the first card's header and rule, where a full-screen review keeps it in view
    lines = output.lstrip("\n").splitlines()
    assert lines[0].endswith("New 0  Learning 0  Review 3") and set(lines[1]) == {"─"}
    assert " ".join(" ".join(lines[2:5]).split()) == (
        "Backlog: 5 review cards due, more than 2 (1 day's worth of the cards you usually"
        " study). Up to 3 a day, lowest recall chance first; new cards are paused until it is"
        " under control."
    )
    assert run("config", "backlog_days", "0")[0] == 0
    code, output = run("review", input="q", now=later)
    assert "Backlog" not in output and "New 20  Learning 0  Review 2\n" in output


def test_plan_names_the_catch_up_days() -> None:
    assert run("review", input=" 4" * 5 + "q")[0] == 0  # five cards to review later
    later = "2027-01-10T10:00:00+00:00"  # all five are due, no study in the 30 days before
    assert json.loads(run("plan", "--json", now=later)[1])["catch_up_days"] == 0
    assert run("config", "reviews_per_day", "1")[0] == 0
    assert run("config", "backlog_cap", "3")[0] == 0
    code, output = run("plan", "--json", "--new-cards", "0", now=later)
    assert code == 0, output
    plan = json.loads(output)
    # day 0: 5 due > 3 days' worth of the review limit, 1: the cap of 3; from day 1 the usual
    # is the 3 studied, and the 5 cards can never be more than 9 due
    assert plan["catch_up_days"] == 1
    assert plan["days"][0] == {"day": "2027-01-10", "reviews": 3, "new": 0}
    assert plan["days"][1]["reviews"] == 1  # the review limit again
    terminal = run("plan", "--new-cards", "0", now=later)[1]
    assert "Catching up a backlog on 1 day: new cards paused." in terminal


def _lowest_recall_first(
    scheduler: Scheduler, cards: list[tuple[int, tuple[float | None, int, int]]]
) -> list[int]:
    """The ids of ``cards`` (id, (stability, days since the last review, days overdue)) in the
    order the backlog shows them, by the scheduler's own retrievability in Python."""

    def key(card: tuple[int, tuple[float | None, int, int]]) -> tuple[float, int, int]:
        card_id, (stability, since, overdue) = card
        recall = scheduler.retrievability(stability, since) if stability else 0.0
        return recall, -overdue, card_id

    return [card_id for card_id, _ in sorted(cards, key=key)]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.one_of(
                st.sampled_from([None, 0.0, 0.01, 1.0, 3.0, 10.0]),
                st.floats(min_value=0.001, max_value=36500, allow_nan=False),
            ),
            st.integers(-3, 400),  # days since the last review (negative: a clock set back)
            st.integers(0, 4),  # days past due
        ),
        min_size=7,
        max_size=7,
    )
)
def test_a_backlog_comes_in_the_order_of_the_schedulers_retrievability(
    small: sessionmaker[Session],  # noqa: F811
    clock: DayClock,
    cards: list[tuple[float | None, int, int]],
) -> None:
    today = clock.day_of(NOW)
    with small.begin() as db:
        ids = list(db.scalars(select(Card.id).order_by(Card.id)))
        for card_id, (stability, since, overdue) in zip(ids, cards, strict=True):
            row = memory_row(db, db.get_one(Card, card_id))
            row.state, row.stability_days, row.difficulty = CardState.REVIEW, stability, 5.0
            row.last_review_day = today - timedelta(days=since)
            row.due_day = today - timedelta(days=overdue)
    scheduler = Scheduler(Settings())

    expected = _lowest_recall_first(scheduler, list(zip(ids, cards, strict=True)))
    with reader(engine_of(small)) as conn:
        assert lowest_recall_loader(LEARNER, today, None, scheduler)(conn, 10) == expected


@pytest.mark.parametrize("focus", [None, ["a", "c"]])
def test_a_backlog_read_in_pages_keeps_the_one_sort_order_ties_included(
    small: sessionmaker[Session],  # noqa: F811
    clock: DayClock,
    focus: list[str] | None,
) -> None:
    # seven cards: three with the same stability and days since their last review (equal
    # retrievability), two of those due on the same day (the card id decides); a retired card,
    # a suspended one and a buried one are never read, whatever the page size (the cards are
    # of decks c, c, a, a, a, b, b)
    today = clock.day_of(NOW)
    memory = [(10.0, 5, 1), (10.0, 5, 1), (10.0, 5, 2), (None, 0, 0), (3.0, 40, 0)]
    memory += [(1.0, 30, 3), (1.0, 30, 3)]
    with small.begin() as db:
        cards = list(db.scalars(select(Card).order_by(Card.id)))
        for card, (stability, since, overdue) in zip(cards, memory, strict=True):
            row = memory_row(db, card)
            row.state, row.stability_days, row.difficulty = CardState.REVIEW, stability, 5.0
            row.last_review_day = today - timedelta(days=since)
            row.due_day = today - timedelta(days=overdue)
        retired, suspended, buried = cards[3], cards[4], cards[5]
        retired.active = False
        memory_row(db, suspended).suspended = True
        memory_row(db, buried).buried_until_day = today + timedelta(days=1)
        decks = {card.id: card.deck.slug for card in cards}
        in_focus = (
            None if focus is None else sorted({c.deck_id for c in cards if c.deck.slug in focus})
        )
    hidden = {retired.id, suspended.id, buried.id}
    scheduler = Scheduler(Settings())

    expected = [
        card_id
        for card_id in _lowest_recall_first(scheduler, list(zip(decks, memory, strict=True)))
        if card_id not in hidden and (focus is None or decks[card_id] in focus)
    ]
    with reader(engine_of(small)) as conn:
        assert lowest_recall_loader(LEARNER, today, in_focus, scheduler)(conn, 100) == expected
        for size in (1, 2, 3):
            load = lowest_recall_loader(LEARNER, today, in_focus, scheduler)
            pages = [load(conn, size) for _ in range(len(expected) // size + 2)]
            assert [card for page in pages for card in page] == expected
            assert all(len(page) <= size for page in pages) and pages[-1] == []


def test_a_backlog_session_counts_the_due_cards_once(
    small: sessionmaker[Session],  # noqa: F811
    clock: DayClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import trainer.study.queue as queue_module

    today = clock.day_of(NOW)
    with small.begin() as db:
        for card in list(db.scalars(select(Card).order_by(Card.id)))[:4]:
            row = memory_row(db, card)
            row.state, row.stability_days, row.difficulty = CardState.REVIEW, 10.0, 5.0
            row.last_review_day, row.due_day = today - timedelta(days=20), today
    counted: list[list[int] | None] = []

    def counting(*args: Any, **kwargs: Any) -> int:
        counted.append(args[3])
        return count_due_reviews(*args, **kwargs)

    monkeypatch.setattr(queue_module, "count_due_reviews", counting)
    settings = Settings(reviews_per_day=1, backlog_days=1, backlog_cap=3)
    session = ReviewSession(engine_of(small), LEARNER, settings, clock, Focus(), NOW)
    assert session.backlog is not None and session.backlog.due == 4 and counted == [None]
    assert session.counts() == {"new": 0, "learning": 0, "review": 3}
    assert session.queue.held_back()["review"] == 1
    focused = ReviewSession(engine_of(small), LEARNER, settings, clock, Focus(topic="c"), NOW)
    assert focused.backlog is not None and len(counted) == 3  # the focus's own count
    assert focused.counts()["review"] == 2  # c's two cards
