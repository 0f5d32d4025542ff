"""A learner's coming days, simulated: which cards they will review and learn each day, and
when each group of cards (a topic) is first done.

Pure and deterministic: cards, daily allowances, the learner's rating habits and a seed in, day
counts and done days out; days are whole learner days counted from the first simulated one
(day 0). The memory model is the learner's :class:`~trainer.scheduling.adapter.Scheduler` (their
FSRS-6 parameters, desired retention, steps and maximum interval); what a learner answers is
drawn from a private seeded ``random.Random``, as Anki's simulator (fsrs-rs ``simulate``) draws
it:

- a review card is recalled with its retrievability on the day (the forgetting curve of its
  stability), so a higher desired retention costs more reviews and fails fewer; a recalled
  card is rated Hard, Good or Easy in the learner's shares of those;
- a new card's first rating, and each learning or relearning step after it (on the same day),
  in the learner's shares of the four ratings in that state;
- a learning step is left by Good on the last step or by Easy, goes back to the first step on
  Again and stays on Hard (``fsrs``'s step rules); a card still in steps after
  :data:`MAX_STEP_RATINGS` ratings graduates anyway.

Each day, review cards due that day or earlier are worked oldest due first up to the review
limit (the rest wait, as in the queue), then each new-card lane introduces its day's allowance
in its own order. On a day the :class:`BacklogRule` is on, they are worked lowest
retrievability first up to its cap instead, and no new card is introduced. A review card's
rating counts in the day's ``reviews`` (the ratings the review limit counts); learning steps
are not counted there, a new card counts once in ``new``.
"""

from __future__ import annotations

import heapq
import random
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from trainer.scheduling.adapter import Scheduler, minimum_interval, review_interval
from trainer.store.settings import Settings
from trainer.store.tables import CardState, Rating

#: A learning or relearning card graduates after this many step ratings in one day at most
#: (a bound on the loop; the chance of reaching it is below 1e-6 with Anki's default habits).
MAX_STEP_RATINGS = 12

Shares = tuple[float, float, float, float]

# Anki's simulator defaults (fsrs-rs ``SimulatorConfig::default()``, as
# ``fsrs_rs_python.default_simulator_config()`` gives them; tests/test_plan.py checks them):
# the first rating of a new card, and Hard/Good/Easy among recalled reviews.
_FIRST: Shares = (0.24, 0.094, 0.495, 0.171)
_RECALLED: tuple[float, float, float] = (0.224, 0.631, 0.145)
# The rating of a learning step after an Again, a Hard or a Good (fsrs-rs
# ``learning_step_transitions``; relearning: ``relearning_step_transitions``).
_LEARNING_AFTER = (
    (0.3686, 0.0628, 0.5108, 0.0577),
    (0.0442, 0.4553, 0.4457, 0.0549),
    (0.0519, 0.0470, 0.8462, 0.0550),
)
_RELEARNING_AFTER = (
    (0.2157, 0.0643, 0.6595, 0.0604),
    (0.0500, 0.4638, 0.4475, 0.0387),
    (0.1057, 0.1434, 0.7266, 0.0244),
)


def _mixed(rows: Sequence[Shares], weights: Sequence[float]) -> Shares:
    """The shares of ``rows`` mixed in proportion to ``weights``, scaled to sum to 1 (the
    published rows are rounded to 4 places)."""
    a, h, g, e = (sum(w * row[i] for row, w in zip(rows, weights, strict=True)) for i in range(4))
    total = a + h + g + e
    return (a / total, h / total, g / total, e / total)


#: Weight, in ratings, of the defaults when a learner's own shares are estimated: a state with
#: few ratings of the learner's stays near the defaults, one with hundreds follows the learner
#: (additive smoothing towards the defaults).
PRIOR_RATINGS = 20


@dataclass(frozen=True)
class Habits:
    """How a learner rates, as shares (each summing to 1): ``first`` the four ratings of a new
    card's first rating; ``learning`` and ``relearning`` the four ratings of a learning or
    relearning step after it; ``recalled`` Hard, Good and Easy of a review card recalled
    (whether a review card is recalled is drawn from its retrievability, not from habits).

    :meth:`defaults` are Anki's simulator's: fsrs-rs ``SimulatorConfig::default()``, whose
    step transitions are mixed by the first-rating shares of Again, Hard and Good into one
    share per step state.
    """

    first: Shares
    learning: Shares
    relearning: Shares
    recalled: tuple[float, float, float]

    @classmethod
    def defaults(cls) -> Habits:
        """A new learner's habits (see the class)."""
        weights = _FIRST[:3]
        return cls(
            _FIRST,
            _mixed(_LEARNING_AFTER, weights),
            _mixed(_RELEARNING_AFTER, weights),
            _RECALLED,
        )

    @classmethod
    def from_counts(cls, counts: Mapping[tuple[CardState, Rating], int]) -> Habits:
        """Habits from a learner's ratings counted by (card state when rated, rating): in each
        state the shares of their ratings, smoothed towards :meth:`defaults` with the weight of
        :data:`PRIOR_RATINGS` ratings; a state they never rated in keeps the defaults."""
        prior = cls.defaults()

        def shares(
            state: CardState, ratings: Sequence[Rating], base: Sequence[float]
        ) -> list[float]:
            seen = [counts.get((state, rating), 0) for rating in ratings]
            total = sum(seen) + PRIOR_RATINGS
            return [(n + PRIOR_RATINGS * b) / total for n, b in zip(seen, base, strict=True)]

        def four(state: CardState, base: Shares) -> Shares:
            a, h, g, e = shares(state, tuple(Rating), base)
            return (a, h, g, e)

        h, g, e = shares(CardState.REVIEW, (Rating.HARD, Rating.GOOD, Rating.EASY), prior.recalled)
        return cls(
            four(CardState.NEW, prior.first),
            four(CardState.LEARNING, prior.learning),
            four(CardState.RELEARNING, prior.relearning),
            (h, g, e),
        )


@dataclass(frozen=True)
class SimCard:
    """A card at the start of the simulation. ``group`` is what it counts towards (a topic's
    index; -1 for none). A card with ``stability_days`` None is new; otherwise ``state`` is its
    state, ``difficulty`` its difficulty, ``due`` and ``last_review`` the simulated days (0 is
    the first, negative the past) it is due on and was last reviewed on; a card in learning or
    relearning steps finishes them on day 0."""

    group: int
    state: CardState = CardState.NEW
    stability_days: float | None = None
    difficulty: float | None = None
    due: int = 0
    last_review: int = 0


@dataclass(frozen=True)
class NewLane:
    """A source of new cards: the indexes (into the cards) of its new cards in the order they
    are introduced, ``per_day`` a day, ``first_day`` on day 0 (what today's allowance has
    left)."""

    cards: tuple[int, ...]
    per_day: int
    first_day: int


#: Learner days before a day whose studied cards give the cards the learner usually studies a day.
USUAL_DAYS = 30


@dataclass(frozen=True)
class BacklogRule:
    """Issue 11's catch-up rule after missed days: it is on for a learner day whose due review
    cards number more than ``days`` times the cards the learner usually gets through a day
    (see :meth:`threshold`); that day at most ``cap`` review cards are worked, lowest retrievability
    first, and new cards are paused. ``fallback`` is the usual a day before any review: the
    daily review limit.
    """

    days: int
    cap: int
    fallback: int

    @classmethod
    def of(cls, settings: Settings) -> BacklogRule | None:
        """The rule of learner ``settings`` (``backlog_days``, ``backlog_cap``, 0: the review
        limit); None when ``backlog_days`` is 0."""
        if not settings.backlog_days:
            return None
        cap = settings.backlog_cap or settings.reviews_per_day
        return cls(settings.backlog_days, cap, settings.reviews_per_day)

    def threshold(self, recent: Sequence[int]) -> float:
        """The due review cards above which a day is a backlog, after the cards studied (review
        cards rated and new cards learned) on each of the :data:`USUAL_DAYS` learner days
        before it (``recent``): ``days`` times their mean over the days with any (a missed day
        does not lower it), or times ``fallback`` when there are none. New cards count, or a
        beginner's reviews, few and growing fast from the new cards of the days before, would
        look like a backlog."""
        studied = [n for n in recent if n]
        usual = sum(studied) / len(studied) if studied else self.fallback
        return self.days * usual

    def applies(self, due: int, recent: Sequence[int]) -> bool:
        """Whether ``due`` review cards due on a learner day after ``recent`` (see
        :meth:`threshold`) are a backlog."""
        return due > self.threshold(recent)


@dataclass(frozen=True)
class Forecast:
    """The simulated days: ``reviews[d]`` and ``new[d]`` on day ``d``; ``done_day[g]`` the
    first day group ``g`` is done (0 when it is done already; groups never done are absent);
    ``catch_up[d]`` whether the backlog rule was on on day ``d``."""

    reviews: tuple[int, ...]
    new: tuple[int, ...]
    done_day: Mapping[int, int]
    catch_up: tuple[bool, ...] = ()


def _pick(rng: random.Random, shares: Sequence[float]) -> int:
    """Index drawn from ``shares`` (summing to 1)."""
    x = rng.random()
    for index, share in enumerate(shares[:-1]):
        x -= share
        if x < 0:
            return index
    return len(shares) - 1


_FOUR = tuple(Rating)
_PASSES = (Rating.HARD, Rating.GOOD, Rating.EASY)


class _Run:
    """One simulation's mutable state (see :func:`simulate`)."""

    def __init__(
        self,
        scheduler: Scheduler,
        habits: Habits,
        cards: Sequence[SimCard],
        mastered: Callable[[float], bool],
        done: Callable[[int, int], bool],
        seed: int,
    ) -> None:
        self.scheduler = scheduler
        self.habits = habits
        self.rng = random.Random(seed)
        self.mastered = mastered
        self.done = done
        self.stability = [card.stability_days for card in cards]
        self.difficulty = [card.difficulty for card in cards]
        self.last = [card.last_review for card in cards]
        self.interval = [max(card.due - card.last_review, 0) for card in cards]
        self.group = [card.group for card in cards]
        self.size: dict[int, int] = {}
        self.count: dict[int, int] = {}
        for card in cards:
            if card.group >= 0:
                self.size[card.group] = self.size.get(card.group, 0) + 1
                grown = card.stability_days is not None and mastered(card.stability_days)
                self.count[card.group] = self.count.get(card.group, 0) + grown
        self.changed: set[int] = set()
        settings = scheduler.settings
        self.learning_steps = len(settings.learning_steps_minutes)
        self.relearning_steps = len(settings.relearning_steps_minutes)
        self.maximum = settings.maximum_interval_days
        self.fuzz = settings.fuzz

    def _set(self, card: int, stability: float, difficulty: float) -> None:
        before = self.stability[card]
        self.stability[card], self.difficulty[card] = stability, difficulty
        group = self.group[card]
        if group >= 0:
            change = self.mastered(stability) - (before is not None and self.mastered(before))
            if change:
                self.count[group] += change
                self.changed.add(group)

    def _steps(self, card: int, rating: Rating, steps: int, after: Shares) -> None:
        """Same-day steps after ``rating`` put the card into (re)learning with ``steps``
        steps."""
        step = 0
        for _ in range(MAX_STEP_RATINGS):
            if rating == Rating.EASY:
                return
            if rating == Rating.GOOD:
                step += 1
            elif rating == Rating.AGAIN:
                step = 0
            if step >= steps:
                return
            rating = _FOUR[_pick(self.rng, after)]
            s, d = self.scheduler.next_memory(
                self.stability[card], self.difficulty[card], 0, rating
            )
            self._set(card, s, d)

    def _schedule(self, card: int, day: int, previous: int | None) -> int:
        """The card's due day after its review on ``day`` (``previous``: its last interval,
        for a passed review)."""
        stability = self.stability[card]
        assert stability is not None
        interval = self.scheduler.interval_days(stability)
        minimum = 1 if previous is None else minimum_interval(interval, previous, self.maximum)
        factor = self.rng.random() if self.fuzz else None
        interval = review_interval(interval, minimum, self.maximum, factor)
        self.last[card], self.interval[card] = day, interval
        return day + interval

    def recall(self, card: int, day: int) -> float:
        """Review card ``card``'s retrievability on ``day``."""
        stability = self.stability[card]
        assert stability is not None
        return self.scheduler.retrievability(stability, day - self.last[card])

    def review(self, card: int, day: int) -> int:
        """Rate review card ``card`` on ``day``; returns its next due day."""
        stability, difficulty = self.stability[card], self.difficulty[card]
        assert stability is not None
        elapsed = day - self.last[card]
        if self.rng.random() < self.scheduler.retrievability(stability, elapsed):
            rating = _PASSES[_pick(self.rng, self.habits.recalled)]
            self._set(card, *self.scheduler.next_memory(stability, difficulty, elapsed, rating))
            return self._schedule(card, day, self.interval[card])
        self._set(card, *self.scheduler.next_memory(stability, difficulty, elapsed, Rating.AGAIN))
        self._steps(card, Rating.AGAIN, self.relearning_steps, self.habits.relearning)
        return self._schedule(card, day, None)

    def learn(self, card: int, day: int) -> int:
        """Rate new card ``card`` for the first time on ``day`` and take it through its
        learning steps; returns its due day."""
        rating = _FOUR[_pick(self.rng, self.habits.first)]
        self._set(card, *self.scheduler.next_memory(None, None, None, rating))
        self._steps(card, rating, self.learning_steps, self.habits.learning)
        return self._schedule(card, day, None)

    def finish_steps(self, card: int, state: CardState, day: int) -> int:
        """Take a card found in (re)learning steps through the rest of them on ``day``."""
        relearning = state == CardState.RELEARNING
        steps = self.relearning_steps if relearning else self.learning_steps
        shares = self.habits.relearning if relearning else self.habits.learning
        rating = _FOUR[_pick(self.rng, shares)]
        s, d = self.scheduler.next_memory(self.stability[card], self.difficulty[card], 0, rating)
        self._set(card, s, d)
        self._steps(card, rating, steps, shares)
        return self._schedule(card, day, None)


def simulate(
    scheduler: Scheduler,
    habits: Habits,
    cards: Sequence[SimCard],
    lanes: Sequence[NewLane],
    reviews_per_day: int,
    reviews_first_day: int,
    days: int,
    seed: int,
    mastered: Callable[[float], bool],
    done: Callable[[int, int], bool],
    backlog: BacklogRule | None = None,
    recent: Sequence[int] = (),
) -> Forecast:
    """Simulate ``days`` learner days (see the module): ``cards`` as they stand, new cards
    introduced from ``lanes``, at most ``reviews_per_day`` review cards a day
    (``reviews_first_day`` on day 0), the ``backlog`` rule applied (None: never) after
    ``recent``, the cards studied on the learner days before day 0 (oldest first);
    ``mastered(S)``
    says whether a card of stability S (days) is mastered and ``done(cards, mastered)`` whether
    a group with that many cards and mastered cards is done (the caller's mastery rule).
    The same arguments always give the same forecast."""
    run = _Run(scheduler, habits, cards, mastered, done, seed)
    done_day = {g: 0 for g, size in run.size.items() if done(size, run.count[g])}
    due: list[tuple[int, int]] = []
    stepping: list[tuple[int, CardState]] = []
    for index, card in enumerate(cards):
        if card.stability_days is None:
            continue
        if card.state == CardState.REVIEW:
            due.append((card.due, index))
        else:
            stepping.append((index, card.state))
    heapq.heapify(due)
    queues = [list(reversed(lane.cards)) for lane in lanes]
    reviews, new, catch_up = [], [], []
    window = deque(recent, maxlen=USUAL_DAYS)
    for day in range(days):
        for index, state in stepping:
            heapq.heappush(due, (run.finish_steps(index, state, day), index))
        stepping = []
        ready = []
        while due and due[0][0] <= day:
            ready.append(heapq.heappop(due))  # oldest due first
        limit = reviews_first_day if day == 0 else reviews_per_day
        behind = backlog is not None and backlog.applies(len(ready), window)
        if backlog is not None and behind:
            limit = max(backlog.cap - (reviews_per_day - limit), 0)
            ready.sort(key=lambda item: (run.recall(item[1], day), item))
        for item in ready[limit:]:
            heapq.heappush(due, item)
        for _, index in ready[:limit]:
            heapq.heappush(due, (run.review(index, day), index))
        reviewed = min(limit, len(ready))
        learned = 0
        for lane, queue in zip(lanes, queues, strict=True):
            allowance = 0 if behind else lane.first_day if day == 0 else lane.per_day
            for _ in range(min(allowance, len(queue))):
                index = queue.pop()
                heapq.heappush(due, (run.learn(index, day), index))
                learned += 1
        for group in run.changed:
            if group not in done_day and done(run.size[group], run.count[group]):
                done_day[group] = day
        run.changed.clear()
        reviews.append(reviewed)
        new.append(learned)
        catch_up.append(behind)
        window.append(reviewed + learned)
    return Forecast(tuple(reviews), tuple(new), done_day, tuple(catch_up))
