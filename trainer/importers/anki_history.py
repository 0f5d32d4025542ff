"""An Anki card's review log, and its FSRS memory state rebuilt from it as Anki does (pure).

The rules are current Anki's (rslib ``scheduler/fsrs/params.rs`` ``reviews_for_fsrs`` and
``memory_state.rs`` ``fsrs_item_for_memory_state``, FSRS-6 with the parameters and historical
retention of the card's deck preset, see :func:`fsrs6_parameters`):

- Only rows with a rating count: "manual" rows (set due date, reset: rating 0) and
  "rescheduled" rows are left out, and so are cram rows (reviews in a filtered deck that does
  not reschedule, stored as kind "filtered" with ease factor 0); reviews in a rescheduling
  filtered deck count.
- The history starts at the first rating of the last run of learning steps; a reset after
  which the card was rated again cuts everything before it.
- With no learning step left in the history (an imported or truncated log), the first rated
  review with an interval of a day or more gives a starting state through the SM-2 conversion
  (:meth:`trainer.scheduling.adapter.Scheduler.memory_from_sm2`, with the preset's historical
  retention), and the replay goes on from the next review.
- A card with no usable row has no memory state in Anki (26.9). The trainer cannot schedule a
  review card without one, so such a card gets the SM-2 conversion of its current interval
  and ease, as earlier Anki versions gave it.
- Days are learner days counted at the rollover hour in the learner's *current* UTC offset:
  a review's day is how many whole 24-hour periods lie between it and the next rollover, so
  reviews on the same learner day count as same-day reviews (FSRS's short-term formula).

The replay itself goes through :meth:`trainer.scheduling.adapter.Scheduler.memory_histories`:
fsrs-rs, the FSRS code Anki runs, in one batch for all cards of one set of parameters.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache, partial
from typing import NamedTuple, cast

from fsrs.scheduler import LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS

from trainer.scheduling.adapter import Scheduler
from trainer.scheduling.days import DayClock
from trainer.store.memory import Memory
from trainer.store.models import CardState

#: Anki's default "historical retention" of SM-2 reviews, used by the SM-2 conversion, and the
#: range a preset's own value must lie in (rslib ``deckconfig/mod.rs``; else the default).
SM2_RETENTION = 0.9
SM2_RETENTION_RANGE = (0.7, 0.97)
#: fsrs-rs's decay for parameters older than FSRS-6 (``FSRS5_DEFAULT_DECAY``).
FSRS5_DECAY = 0.5

# Anki's revlog kinds (rslib revlog/mod.rs RevlogReviewKind) and card types (card/mod.rs).
LEARNING, REVIEW, RELEARNING, FILTERED, MANUAL, RESCHEDULED = range(6)
NEW_CARD, LEARNING_CARD, REVIEW_CARD, RELEARNING_CARD = range(4)


class RevlogEntry(NamedTuple):
    """One row of Anki's ``revlog`` table (a named tuple: tens of thousands are read).

    ``id_ms`` is the review time (Unix milliseconds); ``ease`` the button (1 Again .. 4 Easy, 0
    for manual rows); ``interval`` days when positive, seconds when negative (a learning step);
    ``factor`` the ease factor in permille; ``kind`` one of the revlog kinds above.
    """

    id_ms: int
    ease: int
    interval: int
    factor: int
    duration_ms: int
    kind: int

    @property
    def cramming(self) -> bool:
        """A review in a filtered deck that does not reschedule (Anki: ``is_cramming``)."""
        return self.kind == FILTERED and self.factor == 0

    @property
    def reset(self) -> bool:
        """The card was reset to new (Anki: ``is_reset``)."""
        return self.kind == MANUAL and self.factor == 0


class AnkiSchedule(NamedTuple):
    """A card's scheduling fields in Anki's ``cards`` table (a named tuple: one is read per
    card).

    ``card_type`` is new/learning/review/relearning (0-3); ``due`` is, for a review card, days
    since the collection was created (``original_due`` when the card sits in a filtered deck,
    ``original_deck`` non-zero), for a learning card in ``queue`` 1 a Unix time in seconds and
    in queue 3 a day number; ``left`` counts learning steps left (mod 1000); ``factor`` is the
    ease in permille.
    """

    card_type: int
    queue: int
    due: int
    interval: int
    factor: int
    reps: int
    lapses: int
    left: int
    original_due: int
    original_deck: int


class CardHistory(NamedTuple):
    """An Anki card's schedule and review log (oldest first); ``created_s`` is the
    collection's creation time (Unix seconds, the base of review due days). A named tuple:
    one is made per card.

    ``parameters`` are the 21 FSRS-6 parameters of the card's deck preset (empty: FSRS's
    defaults) and ``historical_retention`` its retention (0-1) for the SM-2 conversion.
    """

    key: str
    schedule: AnkiSchedule
    reviews: tuple[RevlogEntry, ...]
    created_s: int
    parameters: tuple[float, ...] = ()
    historical_retention: float = SM2_RETENTION


def fsrs6_parameters(values: list[float]) -> tuple[float, ...]:
    """A preset's FSRS parameters as the 21 of FSRS-6, as fsrs-rs reads them (``FSRS::new``:
    ``check_and_fill_parameters``, then each clipped into its bounds, which are py-fsrs's
    ``LOWER_BOUNDS_PARAMETERS``/``UPPER_BOUNDS_PARAMETERS``): 19 values (FSRS-5) get w19 = 0
    and the decay 0.5; 17 (FSRS-4.5) are converted the same way after w4 += 2 w5,
    w5 = ln(1 + 3 w5) / 3, w6 += 0.5. Empty for no values, another count or a value that is
    not finite (Anki refuses those; FSRS's defaults apply)."""
    filled = [float(v) for v in values]
    if not all(math.isfinite(v) for v in filled):
        return ()
    if len(filled) == 17:
        w4, w5 = filled[4], filled[5]
        filled[4], filled[5], filled[6] = w4 + 2 * w5, math.log1p(3 * w5) / 3, filled[6] + 0.5
        filled += [0.0, 0.0]
    if len(filled) == 19:
        filled += [0.0, FSRS5_DECAY]
    if len(filled) != len(LOWER_BOUNDS_PARAMETERS):
        return ()
    return tuple(
        min(max(value, low), high)
        for value, low, high in zip(
            filled, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS, strict=True
        )
    )


def historical_retention(value: float) -> float:
    """A preset's historical retention, or :data:`SM2_RETENTION` when it lies outside
    :data:`SM2_RETENTION_RANGE` (as Anki resets it)."""
    low, high = SM2_RETENTION_RANGE
    return value if low <= value <= high else SM2_RETENTION


class LogEntry(NamedTuple):
    """A review-log row to store: the columns of :class:`trainer.store.models.ReviewLog`, with
    the review's instant as Anki keeps it (a named tuple of plain values: tens of thousands are
    made per import)."""

    rating: int
    #: The instant of the review, Unix milliseconds (UTC; Anki's review-log id).
    reviewed_ms: int
    review_day: date
    duration_ms: int
    state_before: int
    elapsed_days: int | None
    state: int
    stability_days: float
    difficulty: float
    interval_days: int


#: A :class:`LogEntry` from the tuple of its fields in order, without the Python-level
#: ``__new__`` a named tuple's constructor runs (tens of thousands are made per import).
_log_entry = cast(Callable[[tuple[object, ...]], LogEntry], partial(tuple.__new__, LogEntry))


@dataclass(frozen=True)
class Rebuilt:
    """A card's memory after its history, and the review-log rows that led to it."""

    memory: Memory
    logs: tuple[LogEntry, ...]


def reviews_for_fsrs(entries: tuple[RevlogEntry, ...]) -> tuple[list[RevlogEntry], bool] | None:
    """The rated reviews FSRS replays, and whether they start with the card's first learning
    step (True) or need the SM-2 starting state (False); None when nothing is usable.

    Anki's ``reviews_for_fsrs`` for memory states (no "ignore reviews before" date).
    """
    first_learning: int | None = None
    first_rated: int | None = None
    complete = False
    for index in range(len(entries) - 1, -1, -1):
        _, ease, interval, factor, _, kind = entries[index]
        if kind == FILTERED and factor == 0:  # cramming
            continue
        rated = ease > 0
        if rated and (interval >= 1 or interval <= -86_400):
            first_rated = index
        if rated and kind == LEARNING:
            first_learning, complete = index, True
        elif kind == MANUAL and factor == 0:  # a reset
            if first_learning is not None:
                complete = True
                break
            if first_rated is not None:
                complete = False
                break
            return None
        elif first_learning is not None:
            break
    start = first_learning if first_learning is not None else first_rated
    if start is None:
        return None
    kept = [e for e in entries[start:] if e[1] > 0 and not (e[5] == FILTERED and e[3] == 0)]
    return (kept, complete) if kept else None


def anki_clock(clock: DayClock, now: datetime) -> DayClock:
    """``clock`` with its time zone replaced by the learner's UTC offset at ``now``: learner
    days as Anki counts them (whole 24-hour periods back from the next rollover)."""
    offset = clock.local(now).utcoffset() or timedelta(0)
    return DayClock(clock.rollover_hour, timezone(offset))


def rebuild(history: CardHistory, scheduler: Scheduler, clock: DayClock, now: datetime) -> Rebuilt:
    """The card's memory at aware UTC ``now`` and its review log, from its Anki history:
    :func:`rebuild_many` for one card."""
    return rebuild_many([(history, scheduler)], clock, now)[0]


def rebuild_many(
    cards: Sequence[tuple[CardHistory, Scheduler]], clock: DayClock, now: datetime
) -> list[Rebuilt]:
    """Each card's memory at aware UTC ``now`` and its review log, from its Anki history, in
    the order of ``cards``.

    Each card's ``scheduler`` carries the learner's settings and the FSRS parameters to replay
    with (the caller builds one per set of parameters, ``history.parameters`` or the
    learner's own); the replay of all cards of one scheduler is one batch
    (:meth:`Scheduler.memory_histories`).

    Stability and difficulty are replayed as Anki computes them (see the module docstring);
    the card's state and due date are Anki's (a review card stays due on the day Anki had it
    due); review-log days are the learner's days on ``clock``.
    """
    next_day_s = _anki_next_day(clock, now)
    plans: list[_Plan | None] = []
    batches: dict[int, tuple[Scheduler, list[int], list[_Item]]] = {}
    for history, scheduler in cards:
        plan = _plan(history, scheduler, next_day_s)
        plans.append(plan)
        if plan is not None and plan.ratings is not None:
            batch = batches.setdefault(id(scheduler), (scheduler, [], []))
            batch[1].append(len(plans) - 1)
            batch[2].append((plan.start, plan.replayed))
    states: dict[int, list[tuple[float, float]]] = {}
    for scheduler, indexes, items in batches.values():
        states.update(zip(indexes, scheduler.memory_histories(items), strict=True))
    rebuilt = []
    for index, ((history, scheduler), plan) in enumerate(zip(cards, plans, strict=True)):
        if plan is None:
            rebuilt.append(Rebuilt(Memory(), ()))
            continue
        if plan.ratings is None:
            memory = _with_schedule(plan.start, None, history, clock, scheduler)
            rebuilt.append(Rebuilt(memory, ()))
            continue
        logs = _logs(plan, states[index], clock)
        last = logs[-1]
        memory = _with_schedule(
            (last.stability_days, last.difficulty), last, history, clock, scheduler
        )
        rebuilt.append(Rebuilt(memory, logs))
    return rebuilt


@lru_cache(maxsize=8)
def _anki_next_day(clock: DayClock, now: datetime) -> int:
    """The Unix second of the next rollover on :func:`anki_clock`: the same for every card of
    an import, so computed once."""
    return int(anki_clock(clock, now).next_rollover(now).timestamp())


#: One card's replay for :meth:`Scheduler.memory_histories`: (starting state, ratings).
_Item = tuple[tuple[float, float] | None, list[tuple[int, int]]]


class _Plan(NamedTuple):
    """What a card's replay needs: its usable reviews (:func:`reviews_for_fsrs`), each one's
    (rating, whole Anki days since the review before it; 0 for the first), and the starting
    state of an incomplete history (its first review's SM-2 conversion, None for a complete
    one): FSRS replays the ratings after it (:attr:`replayed`). A card without usable reviews
    has ``ratings`` None and ``start`` the SM-2 conversion of its schedule."""

    reviews: list[RevlogEntry]
    ratings: list[tuple[int, int]] | None
    start: tuple[float, float] | None

    @property
    def replayed(self) -> list[tuple[int, int]]:
        """The ratings FSRS replays: all of them, or those after the starting state's."""
        ratings = self.ratings or []
        return ratings if self.start is None else ratings[1:]


def _plan(history: CardHistory, scheduler: Scheduler, next_day_s: int) -> _Plan | None:
    """The replay of ``history`` (see :class:`_Plan`), or None for a card that starts again as
    new (a new card, or nothing to go on). ``next_day_s`` is :func:`_anki_next_day`'s."""
    schedule = history.schedule
    if schedule.card_type == NEW_CARD:
        return None
    usable = reviews_for_fsrs(history.reviews)
    if usable is None:
        if schedule.interval > 0 and schedule.reps > 0:
            converted = scheduler.memory_from_sm2(
                (schedule.factor or 0) / 1000, schedule.interval, history.historical_retention
            )
            return _Plan([], None, converted)
        return None
    reviews, complete = usable
    # How many Anki days before today each review was: Anki counts the whole 24-hour periods
    # from the review's second to the next rollover (``RevlogEntry::days_elapsed``), so a
    # review at the rollover second itself belongs to the day before, and one after ``now``
    # to today.
    backs = [
        back if (back := (next_day_s - entry[0] // 1000) // 86_400) > 0 else 0 for entry in reviews
    ]
    start: tuple[float, float] | None = None
    if not complete:
        first = reviews[0]
        ease = (first.factor or 2500) / 1000
        stability, difficulty = scheduler.memory_from_sm2(
            ease, max(first.interval, 1), history.historical_retention
        )
        if ease <= 1.1:  # an ease factor written by FSRS stores the difficulty (Anki)
            difficulty = (ease - 0.1) * 9 + 1
        start = (stability, difficulty)
    # each review's rating (Anki's buttons past Easy count as Easy) and days since the one before
    ratings = [
        (4 if ease > 4 else ease if ease > 1 else 1, before - back)
        for (_, ease, _, _, _, _), before, back in zip(
            reviews, [backs[0], *backs[:-1]], backs, strict=True
        )
    ]
    return _Plan(reviews, ratings, start)


def _logs(plan: _Plan, states: list[tuple[float, float]], clock: DayClock) -> tuple[LogEntry, ...]:
    """The review-log rows of ``plan``'s reviews, given the state after each rating
    (``states``, from :meth:`Scheduler.memory_histories`); the last holds the card's memory."""
    reviews, ratings = plan.reviews, plan.ratings or []
    if plan.start is not None:
        states = [plan.start, *states]
    day_of_ms = clock.day_of_ms
    before = _STATE_BEFORE.get
    logs = [
        _log_entry(  # the fields in order, one tuple made in C
            (
                rating,
                at_ms,
                day_of_ms(at_ms),
                duration if duration > 0 else 0,
                before(kind, REVIEW_STATE),
                elapsed,
                REVIEW_STATE
                if interval > 0
                else LEARNING_STATE
                if kind == LEARNING
                else RELEARNING_STATE,
                stability,
                difficulty,
                interval if interval > 0 else 0,
            )
        )
        for (at_ms, _, interval, _, duration, kind), (rating, elapsed), (
            stability,
            difficulty,
        ) in zip(reviews, ratings, states, strict=True)
    ]
    # the first row: a card's first review finds it new (a complete history), and has no
    # review before it
    first = logs[0]
    state_before = NEW_STATE if plan.start is None else first[4]
    logs[0] = _log_entry((*first[:4], state_before, None, *first[6:]))
    return tuple(logs)


#: States as the review log stores them (plain integers: tens of thousands are made).
NEW_STATE, LEARNING_STATE, REVIEW_STATE, RELEARNING_STATE = (int(s) for s in CardState)
#: The state a review of each Anki kind was given in (any other kind: a review card).
_STATE_BEFORE = {LEARNING: LEARNING_STATE, RELEARNING: RELEARNING_STATE}


@lru_cache(maxsize=8)
def _created_day(clock: DayClock, created_s: int) -> date:
    """The learner day on ``clock`` of the collection's creation (Unix seconds): the base of
    Anki's due day numbers, the same for every card of an import."""
    return clock.day_of(datetime.fromtimestamp(created_s, UTC))


#: The trainer's state of each Anki card type (any other: a review card).
_CARD_STATES = {
    LEARNING_CARD: CardState.LEARNING,
    REVIEW_CARD: CardState.REVIEW,
    RELEARNING_CARD: CardState.RELEARNING,
}


def _with_schedule(
    memory: tuple[float, float] | None,
    last: LogEntry | None,
    history: CardHistory,
    clock: DayClock,
    scheduler: Scheduler,
) -> Memory:
    """The card's :class:`Memory`: ``memory`` (stability, difficulty) after its ``last``
    review-log row (None when it has none: the last review is put one interval before the
    due day), with Anki's state, due date, reps and lapses."""
    schedule = history.schedule
    due = schedule.original_due if schedule.original_deck else schedule.due
    state = _CARD_STATES.get(schedule.card_type, CardState.REVIEW)
    due_day: date | None = None
    due_at: datetime | None = None
    step: int | None = None
    if state == CardState.REVIEW or schedule.queue == 2:
        state = CardState.REVIEW
        due_day = _created_day(clock, history.created_s) + timedelta(days=due)
    else:
        if schedule.queue == 3:  # a learning step of a day or more: due is a day number
            created = _created_day(clock, history.created_s)
            due_at = clock.day_start(created + timedelta(days=due))
        else:
            due_at = datetime.fromtimestamp(max(due, 0), UTC)
        steps = (
            scheduler.settings.learning_steps_minutes
            if state == CardState.LEARNING
            else scheduler.settings.relearning_steps_minutes
        )
        step = min(max(len(steps) - schedule.left % 1000, 0), max(len(steps) - 1, 0))
    last_at: datetime | None = None
    last_day: date | None = None
    if last is not None:
        last_at = datetime.fromtimestamp(last.reviewed_ms / 1000, UTC)
        last_day = last.review_day
    elif due_day is not None:
        last_at = clock.day_start(due_day - timedelta(days=max(schedule.interval, 1)))
        last_day = clock.day_of(last_at)
    stability, difficulty = memory if memory is not None else (None, None)
    return Memory(
        state=state,
        step=step,
        stability_days=stability,
        difficulty=difficulty,
        due_at=due_at,
        due_day=due_day,
        last_review_at=last_at,
        last_review_day=last_day,
        reps=schedule.reps,
        lapses=schedule.lapses,
    )
