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

The replay itself goes through :meth:`trainer.scheduling.adapter.Scheduler.next_memory`, so
stability and difficulty come from the same FSRS code as every other review.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache
from typing import NamedTuple

from fsrs.scheduler import LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS

from trainer.scheduling.adapter import Scheduler
from trainer.scheduling.days import DayClock
from trainer.store.memory import Memory
from trainer.store.models import CardState, Rating

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


@dataclass(frozen=True)
class AnkiSchedule:
    """A card's scheduling fields in Anki's ``cards`` table.

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


@dataclass(frozen=True)
class CardHistory:
    """An Anki card's schedule and review log (oldest first); ``created_s`` is the
    collection's creation time (Unix seconds, the base of review due days).

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
        entry = entries[index]
        if entry.cramming:
            continue
        rated = entry.ease > 0
        if rated and (entry.interval >= 1 or entry.interval <= -86_400):
            first_rated = index
        if rated and entry.kind == LEARNING:
            first_learning, complete = index, True
        elif entry.reset:
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
    kept = [e for e in entries[start:] if e.ease > 0 and not e.cramming]
    return (kept, complete) if kept else None


def anki_clock(clock: DayClock, now: datetime) -> DayClock:
    """``clock`` with its time zone replaced by the learner's UTC offset at ``now``: learner
    days as Anki counts them (whole 24-hour periods back from the next rollover)."""
    offset = clock.local(now).utcoffset() or timedelta(0)
    return DayClock(clock.rollover_hour, timezone(offset))


def rebuild(history: CardHistory, scheduler: Scheduler, clock: DayClock, now: datetime) -> Rebuilt:
    """The card's memory at aware UTC ``now`` and its review log, from its Anki history.

    ``scheduler`` carries the learner's settings and ``history.parameters`` (the caller builds
    one per set of parameters).

    Stability and difficulty are replayed as Anki computes them (see the module docstring);
    the card's state and due date are Anki's (a review card stays due on the day Anki had it
    due); review-log days are the learner's days on ``clock``.
    """
    schedule = history.schedule
    if schedule.card_type == NEW_CARD:
        return Rebuilt(Memory(), ())
    usable = reviews_for_fsrs(history.reviews)
    memory = Memory()
    logs: list[LogEntry] = []
    if usable is not None:
        today, next_day_s = _anki_today(clock, now)
        retention = history.historical_retention
        memory, logs = _replay(usable, retention, scheduler, today, next_day_s, clock)
    elif schedule.interval > 0 and schedule.reps > 0:
        stability, difficulty = scheduler.memory_from_sm2(
            (schedule.factor or 0) / 1000, schedule.interval, history.historical_retention
        )
        memory = Memory(stability_days=stability, difficulty=difficulty)
    if memory.stability_days is None:  # nothing to go on: the card starts again as new
        return Rebuilt(Memory(), ())
    return Rebuilt(_with_schedule(memory, history, clock, scheduler), tuple(logs))


@lru_cache(maxsize=8)
def _anki_today(clock: DayClock, now: datetime) -> tuple[date, int]:
    """(Today on :func:`anki_clock`, the Unix second of its next rollover): the same for
    every card of an import, so computed once."""
    days = anki_clock(clock, now)
    return days.day_of(now), int(days.next_rollover(now).timestamp())


def _replay(
    usable: tuple[list[RevlogEntry], bool],
    retention: float,
    scheduler: Scheduler,
    today: date,
    next_day_at: int,
    clock: DayClock,
) -> tuple[Memory, list[LogEntry]]:
    """Stability and difficulty after ``usable`` (see :func:`reviews_for_fsrs`), with the
    review-log rows, through :meth:`Scheduler.next_memory` (the FSRS formulas alone: the
    replay only needs the memory, not the state machine or intervals). ``today`` and
    ``next_day_at`` (Unix seconds) are :func:`_anki_today`'s."""
    reviews, complete = usable
    logs: list[LogEntry] = []

    def days_back(entry: RevlogEntry) -> int:
        """How many Anki days before today the review was: Anki counts the whole 24-hour
        periods from the review's second to the next rollover (``RevlogEntry::days_elapsed``),
        so a review at the rollover second itself belongs to the day before, and a review
        after ``now`` to today."""
        return max((next_day_at - entry.id_ms // 1000) // 86_400, 0)

    stability: float | None = None
    difficulty: float | None = None
    last_back: int | None = None
    if not complete:
        first = reviews[0]
        ease = (first.factor or 2500) / 1000
        stability, difficulty = scheduler.memory_from_sm2(ease, max(first.interval, 1), retention)
        if ease <= 1.1:  # an ease factor written by FSRS stores the difficulty (Anki)
            difficulty = (ease - 0.1) * 9 + 1
        last_back = days_back(first)
        logs.append(_log(first, stability, difficulty, clock, None, first_step=False))
        reviews = reviews[1:]
    for entry in reviews:
        back = days_back(entry)
        elapsed = None if last_back is None else last_back - back
        rating = _RATINGS[min(max(entry.ease, 1), 4)]
        stability, difficulty = scheduler.next_memory(stability, difficulty, elapsed, rating)
        logs.append(_log(entry, stability, difficulty, clock, elapsed, not logs and complete))
        last_back = back
    memory = Memory(
        state=CardState.REVIEW,
        stability_days=stability,
        difficulty=difficulty,
        last_review_at=_instant(usable[0][-1]),
        last_review_day=today - timedelta(days=last_back or 0),
    )
    return memory, logs


#: The rating of each clamped Anki ease (1-4), by index.
_RATINGS = (Rating.AGAIN, *Rating)


def _instant(entry: RevlogEntry) -> datetime:
    return datetime.fromtimestamp(entry.id_ms / 1000, UTC)


#: The state a review of each Anki kind was given in (any other kind: a review card).
_STATE_BEFORE = {LEARNING: CardState.LEARNING, RELEARNING: CardState.RELEARNING}


def _log(
    entry: RevlogEntry,
    stability: float,
    difficulty: float,
    clock: DayClock,
    elapsed: int | None,
    first_step: bool,
) -> LogEntry:
    """The review-log row of ``entry``: states as Anki logged them (the card's first learning
    step was shown as new), memory as rebuilt."""
    if entry.interval > 0:
        state = CardState.REVIEW
    else:
        state = CardState.LEARNING if entry.kind == LEARNING else CardState.RELEARNING
    state_before = CardState.NEW if first_step else _STATE_BEFORE.get(entry.kind, CardState.REVIEW)
    return LogEntry(  # positional: the fields in order, without keyword matching
        min(max(entry.ease, 1), 4),
        entry.id_ms,
        clock.day_of_ms(entry.id_ms),
        max(entry.duration_ms, 0),
        int(state_before),
        elapsed,
        int(state),
        stability,
        difficulty,
        max(entry.interval, 0),
    )


def _with_schedule(
    memory: Memory, history: CardHistory, clock: DayClock, scheduler: Scheduler
) -> Memory:
    """``memory`` (stability and difficulty) with Anki's state, due date, reps and lapses."""
    schedule = history.schedule
    due = schedule.original_due if schedule.original_deck else schedule.due
    last_at = memory.last_review_at
    state = {
        LEARNING_CARD: CardState.LEARNING,
        REVIEW_CARD: CardState.REVIEW,
        RELEARNING_CARD: CardState.RELEARNING,
    }.get(schedule.card_type, CardState.REVIEW)
    due_day: date | None = None
    due_at: datetime | None = None
    step: int | None = None
    if state == CardState.REVIEW or schedule.queue == 2:
        state = CardState.REVIEW
        created = clock.day_of(datetime.fromtimestamp(history.created_s, UTC))
        due_day = created + timedelta(days=due)
    else:
        if schedule.queue == 3:  # a learning step of a day or more: due is a day number
            created = clock.day_of(datetime.fromtimestamp(history.created_s, UTC))
            due_at = clock.day_start(created + timedelta(days=due))
        else:
            due_at = datetime.fromtimestamp(max(due, 0), UTC)
        steps = (
            scheduler.settings.learning_steps_minutes
            if state == CardState.LEARNING
            else scheduler.settings.relearning_steps_minutes
        )
        step = min(max(len(steps) - schedule.left % 1000, 0), max(len(steps) - 1, 0))
    if last_at is None and due_day is not None:
        last_day = due_day - timedelta(days=max(schedule.interval, 1))
        last_at = clock.day_start(last_day)
    return Memory(
        state=state,
        step=step,
        stability_days=memory.stability_days,
        difficulty=memory.difficulty,
        due_at=due_at,
        due_day=due_day,
        last_review_at=last_at,
        last_review_day=clock.day_of(last_at) if last_at else None,
        reps=schedule.reps,
        lapses=schedule.lapses,
    )
