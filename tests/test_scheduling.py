"""The fsrs adapter: py-fsrs's reference values, recorded golden intervals, learner-day elapsed
time, reproducible bounded fuzz."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import fsrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import recorded_with_fsrs
from trainer.scheduling.adapter import Scheduler, fuzz_factor, review_interval
from trainer.scheduling.days import DayClock
from trainer.store.memory import Memory
from trainer.store.models import CardState, Rating
from trainer.store.settings import Settings

UTC_CLOCK = DayClock(rollover_hour=4, zone=ZoneInfo("UTC"))
START = datetime(2026, 11, 29, 10, tzinfo=UTC)
RATINGS = {"A": Rating.AGAIN, "H": Rating.HARD, "G": Rating.GOOD, "E": Rating.EASY}


def test_intervals_match_py_fsrs_reference_sequence() -> None:
    """py-fsrs 6.3.1's own test (tests/test_basic.py, test_review_card): default parameters, no
    fuzz, each review on the moment the card falls due, from 2022-11-29 12:30 UTC."""
    scheduler = Scheduler(Settings(fuzz=False))
    memory, now = Memory(), datetime(2022, 11, 29, 12, 30, tzinfo=UTC)
    intervals = []
    for rating in "GGGGGGAAGGGGG":
        outcome = scheduler.review(1, memory, RATINGS[rating], now, UTC_CLOCK)
        memory = outcome.memory
        intervals.append(outcome.interval_days)
        now = max(now, memory.due_at or UTC_CLOCK.day_start(memory.due_day))  # type: ignore[arg-type]
    assert intervals == [0, 2, 11, 46, 163, 498, 0, 0, 2, 4, 7, 12, 21]


def test_memory_matches_py_fsrs_reference_state() -> None:
    """py-fsrs 6.3.1's own test (tests/test_basic.py, test_memo_state): Again then five Goods,
    0, 0, 1, 3, 8 and 21 days apart, give stability 53.62691 and difficulty 6.3574867."""
    scheduler = Scheduler(Settings())
    memory, now = Memory(), datetime(2022, 11, 29, 12, 30, tzinfo=UTC)
    for rating, days in zip("AGGGGG", (0, 0, 1, 3, 8, 21), strict=True):
        now += timedelta(days=days)
        memory = scheduler.review(1, memory, RATINGS[rating], now, UTC_CLOCK).memory
    assert memory.stability_days == pytest.approx(53.62691, abs=1e-4)
    assert memory.difficulty == pytest.approx(6.3574867, abs=1e-4)


@recorded_with_fsrs
def test_golden_sequence_without_fuzz() -> None:
    scheduler = Scheduler(Settings(fuzz=False))
    memory, now = Memory(), START
    seen = []
    for rating in "GGGGAGG":
        outcome = scheduler.review(1, memory, RATINGS[rating], now, UTC_CLOCK)
        memory = outcome.memory
        due = memory.due_at or UTC_CLOCK.day_start(memory.due_day)  # type: ignore[arg-type]
        seen.append((outcome.interval_days, round(memory.stability_days or 0, 4), due.isoformat()))
        now = max(now, due)
    assert seen == [
        (0, 2.3065, "2026-11-29T10:10:00+00:00"),  # learning step 2: 10 min
        (2, 2.3065, "2026-12-01T04:00:00+00:00"),  # graduates: due at the rollover
        (11, 10.971, "2026-12-12T04:00:00+00:00"),
        (46, 46.3169, "2027-01-27T04:00:00+00:00"),
        (0, 2.9338, "2027-01-27T04:10:00+00:00"),  # lapse: relearning step 10 min
        (3, 2.9338, "2027-01-30T04:00:00+00:00"),
        (8, 7.7991, "2027-02-07T04:00:00+00:00"),
    ]
    assert memory.reps == 7 and memory.lapses == 1


def _review_state(last_day: date) -> Memory:
    return Memory(
        state=CardState.REVIEW,
        stability_days=10.0,
        difficulty=5.0,
        last_review_at=datetime.combine(last_day, datetime.min.time(), UTC) + timedelta(hours=23),
        last_review_day=last_day,
        reps=3,
    )


def test_elapsed_time_is_counted_in_learner_days() -> None:
    scheduler = Scheduler(Settings(fuzz=False))
    memory = _review_state(date(2026, 11, 28))  # last review 23:00 on the 28th
    six_hours_later = datetime(2026, 11, 29, 5, tzinfo=UTC)  # past the 4 am rollover
    outcome = scheduler.review(1, memory, Rating.GOOD, six_hours_later, UTC_CLOCK)
    assert outcome.elapsed_days == 1
    # the same as fsrs given both reviews at the start of their days
    expected, _ = fsrs.Scheduler(enable_fuzzing=False).review_card(
        fsrs.Card(
            card_id=1,
            state=fsrs.State.Review,
            stability=10.0,
            difficulty=5.0,
            last_review=datetime(2026, 11, 28, tzinfo=UTC),
        ),
        fsrs.Rating.Good,
        datetime(2026, 11, 29, tzinfo=UTC),
    )
    assert outcome.memory.stability_days == expected.stability
    before_rollover = datetime(2026, 11, 29, 3, tzinfo=UTC)
    assert scheduler.review(1, memory, Rating.GOOD, before_rollover, UTC_CLOCK).elapsed_days == 0


def test_a_review_interval_lands_on_the_local_rollover_across_dst() -> None:
    berlin = DayClock(rollover_hour=4, zone=ZoneInfo("Europe/Berlin"))
    scheduler = Scheduler(Settings(fuzz=False))
    memory = _review_state(date(2026, 3, 20))
    now = datetime(2026, 3, 27, 9, tzinfo=UTC)
    outcome = scheduler.review(1, memory, Rating.GOOD, now, berlin)
    due_day = outcome.memory.due_day
    assert due_day == date(2026, 3, 27) + timedelta(days=outcome.interval_days)
    assert outcome.memory.due_at is None  # review cards are due by learner day
    assert berlin.day_start(due_day).astimezone(ZoneInfo("Europe/Berlin")).hour == 4


def test_fuzz_is_reproducible_per_card_and_review() -> None:
    scheduler = Scheduler(Settings())
    memory = _review_state(date(2026, 11, 1))
    first = scheduler.review(42, memory, Rating.GOOD, START, UTC_CLOCK)
    again = scheduler.review(42, memory, Rating.GOOD, START, UTC_CLOCK)
    assert first == again
    other_cards = {
        scheduler.review(card_id, memory, Rating.GOOD, START, UTC_CLOCK).interval_days
        for card_id in range(40)
    }
    assert len(other_cards) > 1  # fuzz does spread intervals


def test_fuzz_ranges_match_fsrs() -> None:
    # fsrs: 10 days -> delta 1 + 0.15 * 4.5 + 0.10 * 3 = 1.975 -> range 8..12
    spread = {review_interval(10, 1, 36500, fuzz_factor(seed)) for seed in range(300)}
    assert spread == {8, 9, 10, 11, 12}
    assert review_interval(2, 1, 36500, fuzz_factor(5)) == 2


@given(st.integers(1, 36500), st.integers(0, 36500), st.integers(1, 36500), st.integers(0, 2**40))
def test_fuzz_never_passes_the_maximum(
    interval: int, minimum: int, maximum: int, seed: int
) -> None:
    given = review_interval(min(interval, maximum), minimum, maximum, fuzz_factor(seed))
    assert 1 <= given <= maximum


def _due_review(interval_days: int, days_late: int, stability: float, difficulty: float) -> Memory:
    """A review card last given ``interval_days``, reviewed ``days_late`` days after it fell due
    (on START's learner day)."""
    today = UTC_CLOCK.day_of(START)
    due_day = today - timedelta(days=days_late)
    last_day = due_day - timedelta(days=interval_days)
    return Memory(
        state=CardState.REVIEW,
        stability_days=stability,
        difficulty=difficulty,
        due_day=due_day,
        last_review_day=last_day,
        last_review_at=UTC_CLOCK.day_start(last_day) + timedelta(hours=6),
        reps=5,
    )


def test_fuzz_never_shortens_an_on_time_good() -> None:
    """FSRS gives this card 4 days again after its 4-day interval; fuzz spreads 4 over 3-5,
    and without a floor a third of the cards got 3 days (Anki's fix: the last interval is the
    floor when FSRS kept it within fuzz reach)."""
    scheduler = Scheduler(Settings())
    memory = _due_review(4, 0, stability=2.0, difficulty=10.0)
    unfuzzed = Scheduler(Settings(fuzz=False)).review(1, memory, Rating.GOOD, START, UTC_CLOCK)
    assert unfuzzed.interval_days == 4
    goods = {
        scheduler.review(card_id, memory, Rating.GOOD, START, UTC_CLOCK).interval_days
        for card_id in range(300)
    }
    assert goods == {4, 5}


@recorded_with_fsrs
def test_a_really_shorter_fsrs_interval_is_kept() -> None:
    """When FSRS itself gives far less than the last interval, no floor applies (Anki)."""
    scheduler = Scheduler(Settings(fuzz=False))
    memory = _due_review(30, 0, stability=1.0, difficulty=10.0)
    assert scheduler.review(1, memory, Rating.GOOD, START, UTC_CLOCK).interval_days == 4


@given(
    interval=st.integers(1, 400),
    days_late=st.integers(0, 60),
    stability=st.floats(0.1, 1000),
    difficulty=st.floats(1, 10),
    card_id=st.integers(1, 10**9),
    maximum=st.integers(1, 500),
    fuzz=st.booleans(),
)
def test_on_time_or_late_good_and_easy_never_shorten_the_interval(
    interval: int,
    days_late: int,
    stability: float,
    difficulty: float,
    card_id: int,
    maximum: int,
    fuzz: bool,
) -> None:
    scheduler = Scheduler(Settings(maximum_interval_days=maximum, fuzz=fuzz))
    memory = _due_review(interval, days_late, stability, difficulty)
    plain = Scheduler(Settings(maximum_interval_days=maximum, fuzz=False))
    fsrs_good = plain.review(card_id, memory, Rating.GOOD, START, UTC_CLOCK).interval_days
    outcomes = scheduler.preview(card_id, memory, START, UTC_CLOCK)
    hard, good, easy = (outcomes[r].interval_days for r in (Rating.HARD, Rating.GOOD, Rating.EASY))
    assert hard <= good <= easy <= maximum
    if fsrs_good >= min(interval, maximum):  # FSRS kept or lengthened it: fuzz must not shorten
        assert good >= min(interval, maximum)


@given(
    card=st.tuples(st.floats(0.01, 36500), st.floats(1, 10), st.integers(0, 5000)),
    rating=st.sampled_from([Rating.HARD, Rating.GOOD, Rating.EASY]),
    scheduler=st.tuples(st.floats(0.7, 0.99), st.integers(1, 36500), st.floats(0.1, 0.8)),
)
def test_a_passed_review_is_scheduled_as_py_fsrs_schedules_it(
    card: tuple[float, float, int], rating: Rating, scheduler: tuple[float, int, float]
) -> None:
    """A review card rated Hard, Good or Easy (stability, difficulty, days since its last
    review) is worked out without ``fsrs.Card``: its state, step, stability, difficulty and
    interval are exactly those ``review_card`` gives, whatever the desired retention, maximum
    interval and decay (w20)."""
    (stability, difficulty, days_ago), (retention, maximum, decay) = card, scheduler
    parameters = (*fsrs.scheduler.DEFAULT_PARAMETERS[:20], decay)
    settings = Settings(desired_retention=retention, maximum_interval_days=maximum)
    today = date(2026, 11, 29)
    last_day = today - timedelta(days=days_ago)
    memory = Memory(
        CardState.REVIEW,
        None,
        stability,
        difficulty,
        due_day=today,
        last_review_day=last_day,
        last_review_at=datetime.combine(last_day, time(9), UTC),
        reps=4,
    )
    reference = fsrs.Scheduler(
        parameters=parameters,
        desired_retention=retention,
        maximum_interval=maximum,
        enable_fuzzing=False,
    )
    anchor = datetime.combine(today, time(), UTC)
    fsrs_card = fsrs.Card(
        card_id=7,
        state=fsrs.State.Review,
        stability=stability,
        difficulty=difficulty,
        due=anchor,
        last_review=datetime.combine(last_day, time(), UTC),
    )
    expected, _ = reference.review_card(fsrs_card, fsrs.Rating(int(rating)), anchor)
    assert Scheduler(settings, parameters)._fsrs_review(7, None, memory, rating, today) == (
        CardState.REVIEW,
        None,
        expected.stability,
        expected.difficulty,
        expected.due - anchor,
    )


def _studied(state: CardState, stability: float, difficulty: float, **fields: Any) -> Memory:
    """A new card's memory for NEW, else one in ``state`` (step 0 outside Review) with
    ``stability``, ``difficulty`` and the other ``fields``."""
    if state == CardState.NEW:
        return Memory()
    step = None if state == CardState.REVIEW else 0
    return Memory(state, step, stability, difficulty, **fields)


@given(
    state=st.sampled_from(
        [CardState.NEW, CardState.LEARNING, CardState.REVIEW, CardState.RELEARNING]
    ),
    stability=st.floats(0.1, 5000),
    difficulty=st.floats(1, 10),
    days_ago=st.integers(0, 3000),
    card_id=st.integers(1, 10**9),
    reps=st.integers(0, 200),
    retention=st.floats(0.7, 0.99),
)
def test_hard_good_easy_are_ordered_and_due_follows_the_review(
    state: CardState,
    stability: float,
    difficulty: float,
    days_ago: int,
    card_id: int,
    reps: int,
    retention: float,
) -> None:
    scheduler = Scheduler(Settings(desired_retention=retention, maximum_interval_days=3650))
    today = UTC_CLOCK.day_of(START)
    memory = _studied(
        state, stability, difficulty, last_review_day=today - timedelta(days=days_ago), reps=reps
    )
    outcomes = scheduler.preview(card_id, memory, START, UTC_CLOCK)
    due = [
        o.memory.due_at or UTC_CLOCK.day_start(o.memory.due_day)  # type: ignore[arg-type]
        for o in outcomes.values()
    ]
    assert all(d > START for d in due)
    assert due[1] <= due[2] <= due[3]
    assert all(o.interval_days <= 3650 for o in outcomes.values())
    expected_reps = 1 if state == CardState.NEW else reps + 1
    assert [o.memory.reps for o in outcomes.values()] == [expected_reps] * 4


@given(
    back=st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=400)),
    state=st.sampled_from([CardState.LEARNING, CardState.REVIEW, CardState.RELEARNING]),
    rating=st.sampled_from(list(Rating)),
)
def test_a_clock_set_back_never_gives_negative_elapsed_days_or_an_earlier_last_review(
    back: timedelta, state: CardState, rating: Rating
) -> None:
    last_at = START
    last_day = UTC_CLOCK.day_of(last_at)
    memory = Memory(
        state=state,
        step=None if state == CardState.REVIEW else 0,
        stability_days=5.0,
        difficulty=5.0,
        due_at=None if state == CardState.REVIEW else last_at + timedelta(minutes=10),
        due_day=last_day + timedelta(days=5) if state == CardState.REVIEW else None,
        last_review_at=last_at,
        last_review_day=last_day,
        reps=3,
    )
    outcome = Scheduler(Settings()).review(7, memory, rating, START - back, UTC_CLOCK)
    assert outcome.elapsed_days == 0
    assert outcome.memory.last_review_at == last_at
    assert outcome.memory.last_review_day == last_day


@given(
    state=st.sampled_from(list(CardState)),
    stability=st.floats(0.1, 5000),
    difficulty=st.floats(1, 10),
    last_review=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3000)),
    shown=st.timedeltas(min_value=timedelta(days=-1), max_value=timedelta(days=2)),
    later=st.timedeltas(min_value=timedelta(days=-1), max_value=timedelta(days=2)),
    rating=st.sampled_from(list(Rating)),
    zone=st.sampled_from(["UTC", "Europe/Berlin", "Pacific/Auckland"]),
)
def test_a_rating_from_the_preview_is_the_rating_scheduled_anew(
    state: CardState,
    stability: float,
    difficulty: float,
    last_review: timedelta,
    shown: timedelta,
    later: timedelta,
    rating: Rating,
    zone: str,
) -> None:
    clock = DayClock(rollover_hour=4, zone=ZoneInfo(zone))
    last_at = START - last_review
    review = state == CardState.REVIEW
    memory = _studied(
        state,
        stability,
        difficulty,
        due_at=None if review else last_at + timedelta(minutes=10),
        due_day=clock.day_of(last_at) + timedelta(days=3) if review else None,
        last_review_at=last_at,
        last_review_day=clock.day_of(last_at),
        reps=4,
    )
    scheduler = Scheduler(Settings())
    shown_at, rated_at = START + shown, START + shown + later
    previewed = (shown_at, scheduler.preview(11, memory, shown_at, clock))
    assert scheduler.review(11, memory, rating, rated_at, clock, previewed) == scheduler.review(
        11, memory, rating, rated_at, clock
    )


def test_the_maximum_interval_setting_caps_a_review_without_fuzz() -> None:
    memory = replace(_review_state(date(2026, 11, 1)), stability_days=400.0)
    capped = Scheduler(Settings(fuzz=False, maximum_interval_days=30))
    outcome = capped.review(1, memory, Rating.EASY, START, UTC_CLOCK)
    assert outcome.interval_days == 30
    assert outcome.memory.due_day == UTC_CLOCK.day_of(START) + timedelta(days=30)
    free = Scheduler(Settings(fuzz=False)).review(1, memory, Rating.EASY, START, UTC_CLOCK)
    assert free.interval_days > 30


def test_the_relearning_steps_setting_times_a_lapse() -> None:
    scheduler = Scheduler(Settings(relearning_steps_minutes=(30.0,)))
    outcome = scheduler.review(1, _review_state(date(2026, 11, 20)), Rating.AGAIN, START, UTC_CLOCK)
    assert outcome.memory.state == CardState.RELEARNING
    assert outcome.memory.due_at == START + timedelta(minutes=30)
    assert outcome.memory.lapses == 1


def test_the_learning_steps_setting_times_a_new_card() -> None:
    scheduler = Scheduler(Settings(learning_steps_minutes=(3.0, 45.0)))
    first = scheduler.review(1, Memory(), Rating.AGAIN, START, UTC_CLOCK).memory
    assert (first.state, first.due_at) == (CardState.LEARNING, START + timedelta(minutes=3))
    second = scheduler.review(1, first, Rating.GOOD, START, UTC_CLOCK).memory
    assert second.due_at == START + timedelta(minutes=45)


def test_fuzz_off_gives_every_card_the_same_interval() -> None:
    scheduler = Scheduler(Settings(fuzz=False))
    memory = _review_state(date(2026, 11, 1))
    intervals = {
        scheduler.review(card_id, memory, Rating.GOOD, START, UTC_CLOCK).interval_days
        for card_id in range(40)
    }
    assert len(intervals) == 1
