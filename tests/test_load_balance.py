"""Load balancing and easy days: a review goes to the lightest day of its fuzz range (the
learner's due cards per day, scaled by each weekday's share), the same day for the same card."""

from __future__ import annotations

import math
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from conftest import LEARNER, NOW, engine_of, memory_row
from trainer.content.builtin_sync import upsert_cards
from trainer.content.parser import CardSpec
from trainer.errors import UsageError
from trainer.scheduling.adapter import (
    DayLoad,
    Scheduler,
    balanced_interval,
    fuzz_bounds,
    review_interval,
)
from trainer.scheduling.days import DayClock
from trainer.store.memory import Memory
from trainer.store.models import Card, CardState, Deck, Rating
from trainer.store.settings import Settings, easy_day_shares, parse_setting
from trainer.study.queue import Focus
from trainer.study.session import ReviewSession

MONDAY = date(2026, 12, 7)
FLAT = (1.0,) * 7


def _load(counts: dict[int, int], easy_days: tuple[float, ...] = FLAT) -> DayLoad:
    return DayLoad({MONDAY + timedelta(days=d): n for d, n in counts.items()}, easy_days)


def test_the_lightest_day_of_the_range_wins_whatever_the_factor() -> None:
    load = _load({8: 5, 9: 3, 10: 1, 11: 4, 12: 2})
    assert {balanced_interval(8, 12, MONDAY, load, f) for f in (0.0, 0.3, 0.99)} == {10}


def test_equally_light_days_are_chosen_by_the_factor_as_fuzz_chooses() -> None:
    load = _load({8: 2, 12: 2})  # 9, 10, 11 empty
    assert [balanced_interval(8, 12, MONDAY, load, f) for f in (0.0, 0.4, 0.7, 0.99)] == [
        9,
        10,
        11,
        11,
    ]
    flat = _load({})
    for factor in (0.0, 0.25, 0.5, 0.999):
        assert balanced_interval(8, 12, MONDAY, flat, factor) == review_interval(
            10, 1, 36500, factor
        )


def test_easy_days_scale_a_weekdays_load() -> None:
    shares = easy_day_shares(Settings(easy_days=parse_setting("easy_days", "sat=0.5,Sun=0")))
    assert shares == (1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.0)
    # days 3-6 after Monday are Thursday to Sunday
    load = _load({3: 4, 4: 3, 5: 2}, shares)  # Sat counts 2 / 0.5 = 4; Sunday (empty) never
    assert balanced_interval(3, 6, MONDAY, load, 0.99) == 4
    assert balanced_interval(5, 6, MONDAY, load, 0.0) == 5
    only_sundays = _load({6: 9, 13: 1}, shares)
    assert balanced_interval(6, 6, MONDAY, only_sundays, 0.5) == 6  # no other day in range


def test_the_easy_days_setting_reads_and_refuses() -> None:
    assert parse_setting("easy_days", "sun=0 sat=0.5, mon=1") == "sat=0.5,sun=0"
    assert parse_setting("easy_days", "") == ""
    for text, reason in (
        ("sun=2", "must give each weekday a share from 0 to 1 (not 2)"),
        ("sunday", "must be weekday=share pairs such as sat=0.5,sun=0"),
        ("sun=x", "must be weekday=share pairs such as sat=0.5,sun=0"),
    ):
        try:
            parse_setting("easy_days", text)
        except UsageError as exc:
            assert str(exc) == f"setting easy_days={text!r}: {reason}"
        else:
            raise AssertionError(text)


@given(
    interval=st.integers(1, 120),
    minimum=st.integers(1, 100),
    maximum=st.integers(1, 400),
    factor=st.floats(0, 1, exclude_max=True),
    counts=st.lists(st.integers(0, 50), min_size=110, max_size=110),
    shares=st.tuples(*[st.sampled_from([0.0, 0.25, 0.5, 1.0])] * 7),
)
def test_the_balanced_day_is_the_lightest_within_the_fuzz_bounds(
    interval: int,
    minimum: int,
    maximum: int,
    factor: float,
    counts: list[int],
    shares: tuple[float, ...],
) -> None:
    low, high = fuzz_bounds(interval, minimum, maximum)
    load = _load(dict(enumerate(counts)), shares)
    chosen = balanced_interval(low, high, MONDAY, load, factor)
    assert low <= chosen <= high
    # the rule as its docstring states it: the lightest day, equally light ones by the factor
    weights = {d: shares[(MONDAY + timedelta(days=d)).weekday()] for d in range(low, high + 1)}
    if not any(weights.values()):
        weights = dict.fromkeys(weights, 1.0)
    loads = {d: (counts[d] if d < len(counts) else 0) / w for d, w in weights.items() if w > 0}
    tied = [d for d, value in loads.items() if value == min(loads.values())]
    assert chosen == tied[min(math.floor(factor * len(tied)), len(tied) - 1)]


def _review_card(stability: float, today: date = MONDAY) -> Memory:
    """A review card at ``stability`` due ``today``, last reviewed 10 days before."""
    last = today - timedelta(days=10)
    return Memory(
        state=CardState.REVIEW,
        stability_days=stability,
        difficulty=5.0,
        due_day=today,
        last_review_day=last,
        last_review_at=None,
        reps=3,
    )


def test_the_scheduler_balances_only_with_fuzz_and_load_balance_on(clock: DayClock) -> None:
    memory = _review_card(10.0)
    now = clock.day_start(MONDAY) + timedelta(hours=2)
    plain = Scheduler(Settings(fuzz=False)).review(7, memory, Rating.GOOD, now, clock)
    low, high = fuzz_bounds(plain.interval_days, 1, 36500)
    assert high - low >= 2
    target = low + 1
    load = _load({d: 0 if d == target else 9 for d in range(low, high + 1)})
    balanced = Scheduler(Settings()).review(7, memory, Rating.GOOD, now, clock, load=load)
    assert balanced.interval_days == target
    assert balanced.memory.due_day == MONDAY + timedelta(days=target)
    for off in (Settings(fuzz=False), Settings(load_balance=False)):
        unbalanced = Scheduler(off).review(7, memory, Rating.GOOD, now, clock, load=load)
        assert unbalanced == Scheduler(off).review(7, memory, Rating.GOOD, now, clock)


def test_a_session_sends_a_review_to_the_lightest_day_and_counts_it(
    factory: sessionmaker[Session], clock: DayClock
) -> None:
    today = clock.day_of(NOW)
    memory = _review_card(10.0, today)
    plain = Scheduler(Settings(fuzz=False)).review(1, memory, Rating.GOOD, NOW, clock)
    low, high = fuzz_bounds(plain.interval_days, 1, 36500)
    busy = [d for d in range(low, high + 1) if d != high - 1]
    with factory.begin() as db:
        deck = Deck(name="D", slug="d", source="import")
        db.add(deck)
        db.flush()
        specs = [CardSpec(f"k{i}", "basic", "Q", "A") for i in range(2 + len(busy))]
        upsert_cards(db, deck, specs)
        cards = list(db.scalars(select(Card).order_by(Card.id)))
        for card in cards[:2]:  # two cards due today, like the one above
            row = memory_row(db, card)
            row.state, row.stability_days, row.difficulty = CardState.REVIEW, 10.0, 5.0
            row.due_day, row.last_review_day, row.reps = today, today - timedelta(days=10), 3
        for day, card in zip(busy, cards[2:], strict=True):  # one due on each other day
            row = memory_row(db, card)
            row.state, row.stability_days, row.difficulty = CardState.REVIEW, 50.0, 5.0
            row.due_day, row.last_review_day, row.reps = today + timedelta(days=day), today, 3
    second = cards[1].id
    fuzzed = Scheduler(Settings()).review(second, memory, Rating.GOOD, NOW, clock).interval_days
    assert fuzzed != high - 1
    with ReviewSession(engine_of(factory), LEARNER, Settings(), clock, Focus(), NOW) as session:
        days = []
        for _ in range(2):
            shown = session.next_card(NOW)
            assert shown is not None
            outcome = session.rate(shown, Rating.GOOD, NOW, 1000)
            assert outcome is not None
            days.append(outcome.interval_days)
    # the first goes to the only empty day; then every day holds one, and the second card
    # goes where its fuzz sends it
    assert days == [high - 1, fuzzed]
