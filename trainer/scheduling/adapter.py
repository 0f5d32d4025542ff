"""The one adapter to the ``fsrs`` package (FSRS-6): a card's memory state in, the next one out.

Pure: every function takes ``now`` (aware UTC) and a :class:`~trainer.scheduling.days.DayClock`,
works on :class:`~trainer.store.memory.Memory` values (reading card rows into them and writing
them back is the caller's, through :mod:`trainer.store.memory`), and never reads the clock,
prints, builds SQL or touches the database.

FSRS was fitted on day-based review data and ``fsrs`` counts elapsed time in whole 24-hour
periods, so reviews are handed to it at the *start of their learner day* (as Anki does): each
review and the card's last review are placed at midnight UTC of their learner day's date, which
makes the elapsed time exactly the number of learner days between them. Learning steps (minutes)
are then measured from the real review time (``due_at``), and review intervals (days) from the
learner day (``due_day``: the card is due from that day's rollover).

``fsrs`` draws its interval fuzz from the global RNG and may round past the maximum interval, so
its fuzz is off and :func:`review_interval` applies the same fuzz ranges (``fsrs.scheduler.
FUZZ_RANGES``) with a factor fixed by card id and review count, like Anki: the same card,
review and rating always get the same interval, an undone rating redone gets the same interval
again, and Hard <= Good <= Easy holds because all four ratings share one fuzz factor. As in
Anki, fuzz never shortens a review card's interval that FSRS kept or lengthened
(:func:`minimum_interval`), and no interval passes the maximum.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import starmap
from operator import attrgetter
from typing import TYPE_CHECKING

import fsrs
from fsrs.scheduler import DEFAULT_PARAMETERS, FUZZ_RANGES

from trainer.scheduling.days import DayClock
from trainer.store.memory import Memory
from trainer.store.settings import Settings
from trainer.store.tables import CardState, Rating

if TYPE_CHECKING:  # loaded by the one method that replays histories in a batch
    import fsrs_rs_python as fsrs_rs


@dataclass(frozen=True)
class Outcome:
    """What one rating does: the card's new :class:`Memory`, the interval it got (whole days,
    0 for a learning step) and the learner days elapsed since the previous review (None for a
    card's first review)."""

    memory: Memory
    interval_days: int
    elapsed_days: int | None


def _anchor(day: date) -> datetime:
    """Midnight UTC of ``day``'s date: the instant a review on learner ``day`` is handed to fsrs."""
    return datetime.combine(day, time(), UTC)


def _round(days: float) -> int:
    """``days`` (>= 0) to the nearest whole day, halves up, as Anki rounds intervals."""
    return math.floor(days + 0.5)


#: ``FUZZ_RANGES`` as (start, end, factor) triples, read once.
_FUZZ_RANGES = tuple((r["start"], r["end"], r["factor"]) for r in FUZZ_RANGES)


def fuzz_bounds(interval_days: float, minimum_days: int, maximum_days: int) -> tuple[int, int]:
    """The whole days (lowest, highest) fuzz may spread ``interval_days`` over, kept within
    ``minimum_days``-``maximum_days``.

    The spread is fsrs's and Anki's (``FUZZ_RANGES``): +-1 day plus 15% of the part between 2.5
    and 7 days, 10% of the part up to 20 days and 5% of the rest; intervals under 2.5 days get
    none. As Anki's ``constrained_fuzz_bounds`` (rslib/src/scheduler/states/fuzz.rs), a range
    squeezed to one day above 2 days and below the maximum is widened by a day upwards.
    """
    minimum_days = min(minimum_days, maximum_days)
    interval = min(max(interval_days, minimum_days), maximum_days)
    delta = 0.0
    if interval >= 2.5:
        delta = 1.0 + sum(
            factor * max(min(interval, end) - start, 0.0) for start, end, factor in _FUZZ_RANGES
        )
    low = min(max(_round(interval - delta), minimum_days), maximum_days)
    high = min(max(_round(interval + delta), minimum_days), maximum_days)
    if high == low and 2 < high < maximum_days:
        high += 1
    return low, high


def minimum_interval(interval_days: int, previous_days: int, maximum_days: int) -> int:
    """The shortest interval a passing rating (Hard, Good, Easy) of a review card may get when
    its last interval was ``previous_days`` and FSRS gives ``interval_days``: one day more than
    the last when FSRS lengthened it, the last one when FSRS kept it within fuzz reach (fuzz
    never shortens it), and no floor (0) when FSRS really shortened it. Anki's
    ``minimum_review_fuzz_interval`` (rslib/src/scheduler/states/fuzz.rs), except that a last
    interval beyond a since lowered maximum counts as the maximum."""
    previous_days = min(previous_days, maximum_days)
    if interval_days > previous_days:
        return previous_days + 1
    if previous_days <= fuzz_bounds(interval_days, 1, maximum_days)[1]:
        return previous_days
    return 0


def review_interval(
    interval_days: int, minimum_days: int, maximum_days: int, factor: float | None
) -> int:
    """The interval in whole days a review gets for FSRS's ``interval_days``: at least
    ``minimum_days`` (and 1), at most ``maximum_days``, and spread over :func:`fuzz_bounds` at
    the point ``factor`` (0-1; None: no fuzz). Monotone in ``interval_days`` and
    ``minimum_days`` for a fixed factor, so ratings sharing one factor stay ordered."""
    minimum_days = min(max(minimum_days, 1), maximum_days)
    if factor is None:
        return min(max(interval_days, minimum_days), maximum_days)
    low, high = fuzz_bounds(interval_days, minimum_days, maximum_days)
    return math.floor(low + factor * (high - low + 1))


#: The longest interval (days) load balancing spreads; longer ones are only fuzzed, as in
#: Anki (``MAX_LOAD_BALANCE_INTERVAL``, rslib/src/scheduler/states/load_balancer.rs).
MAX_BALANCED_DAYS = 90
#: How far ahead (days) a load counts due cards: the longest balanced interval with the widest
#: fuzz above it (Anki's ``LOAD_BALANCE_DAYS``, 10% more).
LOAD_DAYS = 99
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class DayLoad:
    """A learner's review load for load balancing: ``due`` maps a learner day to the number of
    their review cards due on it (from today up to :data:`LOAD_DAYS` ahead; a missing day has
    none), ``easy_days`` is each weekday's share of a full day's load, Monday first (7
    numbers in 0-1; 1: a full day, 0: as few reviews as possible)."""

    due: Mapping[date, int]
    easy_days: tuple[float, ...] = (1.0,) * 7


def balanced_interval(low: int, high: int, today: date, load: DayLoad, factor: float) -> int:
    """The interval in days, from ``low`` to ``high`` (the fuzz bounds, days after learner day
    ``today``), whose due day has the lightest load: its due cards divided by its
    weekday's share (a weekday with share 0 only when every day in range has share 0, then by
    due cards alone). Equally light days are chosen between by ``factor`` (0-1, the card's
    fuzz factor), so on a flat load this is the fuzzed interval.

    Anki 24.11's load balancer (rslib/src/scheduler/states/load_balancer.rs) draws a day at
    random weighted by ``(1 / due) ** 2.15`` and treats easy days by a share threshold; here
    the lightest day always wins and a share scales the day's load directly, so the choice is
    the same for the same card, review and load.
    """
    day = today + timedelta(days=low)
    weekday, easy_days = day.weekday(), load.easy_days
    shares = [easy_days[(weekday + offset) % 7] for offset in range(high - low + 1)]
    if not any(shares):
        shares = [1.0] * len(shares)
    due, lightest, tied = load.due, math.inf, []
    for offset, share in enumerate(shares, start=low):  # the days in order, one date each
        if share > 0:
            value = due.get(day, 0) / share
            if value < lightest:
                lightest, tied = value, [offset]
            elif value == lightest:
                tied.append(offset)
        day += _ONE_DAY
    return tied[min(math.floor(factor * len(tied)), len(tied) - 1)]


def _not_before_last_review(
    memory: Memory, now: datetime, clock: DayClock
) -> tuple[datetime, date]:
    """``now`` and its learner day, moved forward to the card's last review where they are
    before it."""
    if memory.last_review_at is not None and now < memory.last_review_at:
        now = memory.last_review_at
    today = clock.day_of(now)
    if memory.last_review_day is not None and today < memory.last_review_day:
        today = memory.last_review_day
    return now, today


def _moved(outcome: Outcome, shift: timedelta) -> Outcome:
    """``outcome`` as if rated ``shift`` later on the same learner day: its last review and a
    learning step's due time move by ``shift``."""
    after = outcome.memory
    if not shift or after.last_review_at is None:
        return outcome
    due_at = None if after.due_at is None else after.due_at + shift
    return replace(
        outcome, memory=replace(after, last_review_at=after.last_review_at + shift, due_at=due_at)
    )


def _last_interval(memory: Memory) -> int | None:
    """The interval (days) a review card got at its last review; None for other cards."""
    if memory.state != CardState.REVIEW or memory.due_day is None:
        return None
    if memory.last_review_day is None:
        return None
    return (memory.due_day - memory.last_review_day).days


#: ``fsrs.Rating`` of each rating (looked up once per replayed review, not converted).
_FSRS_RATINGS = {rating: fsrs.Rating(int(rating)) for rating in Rating}


def fuzz_factor(seed: int) -> float:
    """A uniform number in [0, 1) fixed by ``seed``: the splitmix64 mix of the seed (Steele,
    Lea and Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014). A private,
    stateless generator: the same seed always gives the same factor, and no global RNG is
    touched."""
    mask = (1 << 64) - 1
    z = (seed + 0x9E3779B97F4A7C15) & mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return ((z ^ (z >> 31)) >> 11) / float(1 << 53)


class Scheduler:
    """FSRS-6 scheduling with the learner's settings (retention, steps, maximum interval, fuzz)
    and the 21 FSRS-6 ``parameters`` (empty: the learner's own, ``settings.fsrs_parameters``,
    else ``fsrs``'s defaults).

    Raises nothing for valid :class:`~trainer.store.settings.Settings`; settings are validated where
    they are parsed. Raises ``ValueError`` for parameters outside ``fsrs``'s bounds.
    """

    def __init__(self, settings: Settings, parameters: Sequence[float] = ()) -> None:
        self.settings = settings
        self._fsrs = fsrs.Scheduler(
            parameters=tuple(parameters) or settings.fsrs_parameters or DEFAULT_PARAMETERS,
            desired_retention=settings.desired_retention,
            learning_steps=tuple(timedelta(minutes=m) for m in settings.learning_steps_minutes),
            relearning_steps=tuple(timedelta(minutes=m) for m in settings.relearning_steps_minutes),
            maximum_interval=settings.maximum_interval_days,
            enable_fuzzing=False,
        )
        # FSRS-6's forgetting curve: R(t, S) = (1 + factor * t / S) ** decay, decay = -w20.
        self._decay = -self._fsrs.parameters[20]
        self._factor = 0.9 ** (1 / self._decay) - 1
        self._batch: fsrs_rs.FSRS | None = None  # fsrs-rs with the same parameters, made once

    def _to_fsrs(self, card_id: int, memory: Memory, today: date) -> fsrs.Card:
        new = memory.state == CardState.NEW
        return fsrs.Card(
            card_id=card_id,
            state=fsrs.State.Learning if new else fsrs.State(int(memory.state)),
            step=0 if new else memory.step,
            stability=memory.stability_days,
            difficulty=memory.difficulty,
            due=_anchor(today),
            last_review=_anchor(memory.last_review_day) if memory.last_review_day else None,
        )

    def review(
        self,
        card_id: int,
        memory: Memory,
        rating: Rating,
        now: datetime,
        clock: DayClock,
        previewed: tuple[datetime, dict[Rating, Outcome]] | None = None,
        load: DayLoad | None = None,
    ) -> Outcome:
        """The outcome of rating card ``card_id`` (in state ``memory``) at aware UTC ``now``.

        A ``now`` before the card's last review (a clock set back) counts as that review's
        time, and a learner day before it as its day: elapsed time is never negative and the
        last review never moves into the past. With the learner's ``load`` (and the
        ``load_balance`` and ``fuzz`` settings on), a review interval up to
        :data:`MAX_BALANCED_DAYS` goes to the lightest day of its fuzz range
        (:func:`balanced_interval`) instead of a fuzzed one.

        ``previewed``, (the aware UTC instant, what :meth:`preview` gave for this card and this
        ``memory`` then), saves scheduling the card again: when ``now`` falls on the learner day
        of that instant, the previewed outcome of ``rating`` is the answer, its last review and
        learning-step due time moved by the time since (fsrs is handed the learner day, not the
        instant, so nothing else can differ). On another day the card is scheduled anew.
        """
        now, today = _not_before_last_review(memory, now, clock)
        if previewed is not None:
            at, day = _not_before_last_review(memory, previewed[0], clock)
            if day == today:
                return _moved(previewed[1][rating], now - at)
        return self._outcome(card_id, None, memory, rating, now, today, load)

    def preview(
        self,
        card_id: int,
        memory: Memory,
        now: datetime,
        clock: DayClock,
        load: DayLoad | None = None,
    ) -> dict[Rating, Outcome]:
        """The outcome each of the four ratings would have, for labelling the rating keys."""
        now, today = _not_before_last_review(memory, now, clock)
        card = self._to_fsrs(card_id, memory, today)
        return {r: self._outcome(card_id, card, memory, r, now, today, load) for r in Rating}

    def replay(
        self, card_id: int, ratings: Sequence[tuple[Rating, datetime]], clock: DayClock
    ) -> Memory:
        """The memory of card ``card_id`` after ``ratings`` (rating, aware UTC time, oldest
        first) given from new, each scheduled as :meth:`review` schedules it, on ``clock``'s
        learner days: how a card's state is rebuilt from its review log."""
        memory = Memory()
        for rating, at in ratings:
            memory = self.review(card_id, memory, rating, at, clock).memory
        return memory

    def _fsrs_review(
        self, card_id: int, card: fsrs.Card | None, memory: Memory, rating: Rating, today: date
    ) -> tuple[CardState, int | None, float, float, timedelta]:
        """What ``fsrs.Scheduler.review_card`` makes of card ``card_id`` in state ``memory``
        rated on learner ``today`` (``card``: the card as :meth:`_to_fsrs` gives it, made
        here when None): its state, learning step, stability (days), difficulty, and the
        time from the learner day's anchor to when it is due.

        A review card rated Hard, Good or Easy (most ratings) stays in review, keeps its
        step, and takes the stability and difficulty of :meth:`next_memory` (the formulas
        ``review_card`` applies, at the elapsed learner days) and fsrs's own interval for the
        new stability; ``tests/test_scheduling.py`` checks this against ``review_card``. Every
        other card goes through ``review_card``.
        """
        stability, difficulty = memory.stability_days, memory.difficulty
        if (
            memory.state == CardState.REVIEW
            and rating != Rating.AGAIN
            and memory.last_review_day is not None
            and stability is not None
            and difficulty is not None
        ):
            elapsed = (today - memory.last_review_day).days
            stability, difficulty = self.next_memory(stability, difficulty, elapsed, rating)
            interval = timedelta(days=self._fsrs._next_interval(stability=stability))
            return CardState.REVIEW, memory.step, stability, difficulty, interval
        if card is None:
            card = self._to_fsrs(card_id, memory, today)
        anchor = card.due  # _to_fsrs puts the learner day's anchor there
        result, _ = self._fsrs.review_card(card, _FSRS_RATINGS[rating], anchor)
        assert result.stability is not None and result.difficulty is not None  # set by fsrs
        state = CardState(int(result.state))
        return state, result.step, result.stability, result.difficulty, result.due - anchor

    def _outcome(
        self,
        card_id: int,
        card: fsrs.Card | None,
        memory: Memory,
        rating: Rating,
        now: datetime,
        today: date,
        load: DayLoad | None = None,
    ) -> Outcome:
        state, step, stability, difficulty, wait = self._fsrs_review(
            card_id, card, memory, rating, today
        )
        due_day: date | None = None
        due_at: datetime | None = None  # a review card is due on a learner day, at its rollover
        if state == CardState.REVIEW:
            maximum = self.settings.maximum_interval_days
            interval = wait.days
            minimum = 1
            previous = _last_interval(memory)
            if previous is not None and rating != Rating.AGAIN:
                minimum = minimum_interval(interval, previous, maximum)
            factor = None
            if self.settings.fuzz:
                factor = fuzz_factor(card_id * 1_000_003 + memory.reps)
            minimum = min(max(minimum, 1), maximum)
            if (
                load is not None
                and factor is not None
                and self.settings.load_balance
                and max(interval, minimum) <= MAX_BALANCED_DAYS
            ):
                low, high = fuzz_bounds(interval, minimum, maximum)
                interval = balanced_interval(low, high, today, load, factor)
            else:
                interval = review_interval(interval, minimum, maximum, factor)
            due_day = today + timedelta(days=interval)
        else:
            interval, due_at = 0, now + wait
        lapsed = memory.state == CardState.REVIEW and rating == Rating.AGAIN
        elapsed = (today - memory.last_review_day).days if memory.last_review_day else None
        after = Memory(
            state=state,
            step=step,
            stability_days=stability,
            difficulty=difficulty,
            due_at=due_at,
            due_day=due_day,
            last_review_at=now,
            last_review_day=today,
            reps=memory.reps + 1,
            lapses=memory.lapses + lapsed,
        )
        return Outcome(after, interval, elapsed)

    def next_memory(
        self,
        stability: float | None,
        difficulty: float | None,
        elapsed_days: int | None,
        rating: Rating,
    ) -> tuple[float, float]:
        """(stability in days, difficulty) after ``rating`` a card at ``stability`` and
        ``difficulty`` (None for a card never rated) ``elapsed_days`` learner days after its
        last review (None for none).

        The formulas ``fsrs.Scheduler.review_card`` applies in every state: the initial
        stability and difficulty for a first rating, the short-term stability for a rating on
        the day of the last review, else the next stability at the retrievability after
        ``elapsed_days``; the difficulty moves as for any rating. Without the card copy, the
        state machine and the interval, for replaying a review log quickly (the same values
        as :meth:`review`; :meth:`memory_histories` computes them for many cards at once).
        """
        scheduler = self._fsrs
        grade = _FSRS_RATINGS[rating]
        if stability is None or difficulty is None:
            return (
                scheduler._initial_stability(rating=grade),
                scheduler._initial_difficulty(rating=grade, clamp=True),
            )
        if elapsed_days is not None and elapsed_days < 1:
            stability = scheduler._short_term_stability(stability=stability, rating=grade)
        else:
            retrievability = self.retrievability(stability, elapsed_days or 0)
            stability = scheduler._next_stability(
                difficulty=difficulty,
                stability=stability,
                retrievability=retrievability,
                rating=grade,
            )
        return stability, scheduler._next_difficulty(difficulty=difficulty, rating=grade)

    def memory_histories(
        self, items: Sequence[tuple[tuple[float, float] | None, Sequence[tuple[int, int]]]]
    ) -> list[list[tuple[float, float]]]:
        """For each item, the (stability in days, difficulty) after each of its ratings.

        An item is (the card's starting (stability, difficulty), None for a card never rated;
        its ratings, oldest first, each as (rating 1-4, whole learner days since the review
        before it, >= 0; ignored on the first rating of a card without a starting state)).

        The formulas of :meth:`next_memory`, computed by fsrs-rs
        (``FSRS.historical_memory_state_batch``, one call for all items, in 32-bit floats as
        Anki computes a card's memory state from its review log): for replaying the review
        logs of thousands of cards at once. An item without ratings gets an empty list.
        """
        import fsrs_rs_python as fsrs_rs

        if self._batch is None:
            self._batch = fsrs_rs.FSRS(list(self._fsrs.parameters))
        rated = [(start, ratings) for start, ratings in items if ratings]
        review, item = fsrs_rs.FSRSReview, fsrs_rs.FSRSItem
        states = iter(
            self._batch.historical_memory_state_batch(
                [item(list(starmap(review, ratings))) for _, ratings in rated],
                [None if s is None else fsrs_rs.MemoryState(*s) for s, _ in rated],
            )
            if rated
            else ()
        )
        # fsrs-rs lists an item's starting state first, then the state after each rating
        memory = attrgetter("stability", "difficulty")
        return [
            list(map(memory, next(states)[start is not None :])) if ratings else []
            for start, ratings in items
        ]

    def memory_from_sm2(
        self, ease_factor: float, interval_days: float, sm2_retention: float
    ) -> tuple[float, float]:
        """(stability in days, difficulty) of a card SM-2 scheduled with ``ease_factor`` (2.5
        = 250%) and ``interval_days``, assuming SM-2 gave ``sm2_retention`` (0-1) recall.

        The conversion fsrs-rs's ``FSRS::memory_state_from_sm2`` makes for FSRS-6 (Anki uses
        it for cards whose review log is incomplete): the stability whose forgetting curve
        reaches ``sm2_retention`` after the interval, and the difficulty at which the FSRS
        recall-stability gain equals the ease factor; difficulty is clamped to 1-10.
        """
        w = self._fsrs.parameters
        decay = -w[20]
        factor = 0.9 ** (1 / decay) - 1
        stability = max(interval_days, 0.001) * factor / (sm2_retention ** (1 / decay) - 1)
        growth = math.exp(w[8]) * stability ** -w[9] * math.expm1((1 - sm2_retention) * w[10])
        difficulty = 11 - (ease_factor - 1) / growth
        return stability, min(max(difficulty, 1.0), 10.0)

    def interval_days(self, stability_days: float) -> int:
        """The whole days FSRS waits after a review that left a card at ``stability_days``
        (> 0): the time its retrievability takes to fall to the desired retention, rounded,
        at least 1 and at most the maximum interval (``fsrs.Scheduler``'s interval, before
        fuzz)."""
        return int(self._fsrs._next_interval(stability=stability_days))

    @property
    def forgetting_curve(self) -> tuple[float, float]:
        """FSRS-6's forgetting curve as (factor F, decay d): a card left at stability S (days)
        is recalled t days later with chance R(t, S) = (1 + F * t / S) ** d, where d = -w20 and
        F = 0.9 ** (1 / d) - 1, so R(S, S) = 0.9 (the formula of
        ``fsrs.Scheduler.get_card_retrievability``)."""
        return self._factor, self._decay

    def retrievability(self, stability_days: float, elapsed_days: float) -> float:
        """The chance (0-1) of recalling a card ``elapsed_days`` days (learner days; negative
        counts as 0) after a review that left it at ``stability_days`` (> 0): R(t, S) on
        :attr:`forgetting_curve`, the value ``fsrs.Scheduler.get_card_retrievability`` gives."""
        return float((1 + self._factor * max(elapsed_days, 0) / stability_days) ** self._decay)

    def elapsed_share(self, retrievability: float) -> float:
        """The elapsed time, as a share of the stability (t / S, >= 0), at which a card's
        retrievability falls to ``retrievability`` (0 < R <= 1) on :attr:`forgetting_curve`:
        t / S = (R ** (1 / d) - 1) / F. R(t, S) falls as t / S grows, so "R below x" is "t / S
        above ``elapsed_share(x)``", a condition SQL can test on stored columns without
        powers. Raises ``ValueError`` for R outside (0, 1]."""
        if not 0 < retrievability <= 1:
            raise ValueError(f"retrievability {retrievability} is not in (0, 1]")
        return float((retrievability ** (1 / self._decay) - 1) / self._factor)
