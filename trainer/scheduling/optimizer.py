"""Fitting a learner's own FSRS-6 parameters to their review log (pure, through ``fsrs_rs_python``,
the Rust optimizer Anki uses).

The training items are built as Anki builds them (rslib ``scheduler/fsrs/params.rs``,
``reviews_for_fsrs`` with ``training``): a card's history starts at the first rating of its
last run of learning ratings (a card reset to new starts again there; a card with no learning
rating in its log, such as an Anki card imported with a cut history, gives no item), the
elapsed time of each rating is the number of learner days since the one before (0 for a
rating on the same learner day, which stays in the history), and every rating after the
first that comes at least one learner day after the one before is one item: that rating with
all the card's earlier ones. The review log holds ratings only (no manual or cram entries), so
nothing else is left out. Items are ordered by the time of their rating, as Anki orders them.

The new parameters replace the current ones only when they predict the same items better
(a lower log loss), as Anki's ``compute_params`` decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import groupby

import fsrs_rs_python as fsrs_rs

from trainer.scheduling.adapter import Scheduler
from trainer.store.models import CardState, Rating

#: Usable items below which fsrs-rs fits nothing and hands back its default parameters
#: (``compute_parameters`` in fsrs-rs ``training.rs``; with fewer than 64 it fits only the
#: initial stabilities). Usable: the items left after its outlier filter, see
#: :func:`usable_items`.
MINIMUM_ITEMS = 8

#: The 21 FSRS-6 default parameters of fsrs-rs (the same as the ``fsrs`` package's).
DEFAULT_PARAMETERS: tuple[float, ...] = tuple(fsrs_rs.DEFAULT_PARAMETERS)

_LEARNING = (CardState.NEW, CardState.LEARNING)


@dataclass(frozen=True)
class LoggedRating:
    """One review-log row as the optimizer reads it: the card, the rating (1-4), when it was
    given (aware UTC) and on which learner day, the card's :class:`CardState` before it, and
    the stability (days) and difficulty it recorded after it."""

    card_id: int
    rating: int
    reviewed_at: datetime
    review_day: date
    state_before: CardState
    stability_days: float
    difficulty: float


@dataclass(frozen=True)
class TrainingSet:
    """The items built from a review log: ``items`` (``fsrs_rs_python.FSRSItem``), the card
    of each (``card_ids``, aligned) and the number of ``reviews`` in the histories used."""

    items: list[fsrs_rs.FSRSItem]
    card_ids: list[int]
    reviews: int


def _history_start(ratings: Sequence[LoggedRating]) -> int | None:
    """The index of the first rating of the last run of learning ratings (None: there is
    none), as Anki's ``reviews_for_fsrs`` walks back from the latest review."""
    start = None
    for index in range(len(ratings) - 1, -1, -1):
        if ratings[index].state_before in _LEARNING:
            start = index
        elif start is not None:
            break
    return start


def training_set(log: Iterable[LoggedRating]) -> TrainingSet:
    """The training items of ``log`` (rows ordered by card, then by time; see the module
    docstring for the rules)."""
    timed: list[tuple[datetime, int, fsrs_rs.FSRSItem]] = []
    reviews = 0
    for card_id, rows in groupby(log, key=lambda row: row.card_id):
        ratings = list(rows)
        start = _history_start(ratings)
        if start is None:
            continue
        history = ratings[start:]
        made: list[tuple[datetime, int, fsrs_rs.FSRSItem]] = []
        so_far: list[fsrs_rs.FSRSReview] = []
        previous: date | None = None
        for index, row in enumerate(history):
            delta = 0 if previous is None else (row.review_day - previous).days
            so_far.append(fsrs_rs.FSRSReview(row.rating, delta))
            previous = row.review_day
            if index >= 1 and delta > 0:
                made.append((row.reviewed_at, card_id, fsrs_rs.FSRSItem(list(so_far))))
        if made:
            reviews += len(history)
            timed.extend(made)
    timed.sort(key=lambda entry: entry[0])
    return TrainingSet([item for *_, item in timed], [card for _, card, _ in timed], reviews)


@dataclass(frozen=True)
class Fit:
    """The outcome of fitting: the ``reviews`` and ``items`` used, the fitted ``parameters``
    (21 floats), and the log loss and RMSE (binned, as a share 0-1) of the ``current`` and the
    fitted parameters on the same items (``*_before``, ``*_after``). ``better`` is true when
    the fitted ones have the lower log loss."""

    reviews: int
    items: int
    parameters: tuple[float, ...]
    log_loss_before: float
    log_loss_after: float
    rmse_before: float
    rmse_after: float

    @property
    def better(self) -> bool:
        """Whether the fitted parameters predict the items better (a strictly lower log loss;
        Anki keeps the current ones on a tie)."""
        return self.log_loss_after < self.log_loss_before


def usable_items(training: TrainingSet) -> int:
    """How many of ``training``'s items fsrs-rs trains on: those its outlier filter keeps
    (``filter_outlier``, run on the items whose last rating is the card's first one a day or
    more after another, as fsrs-rs's ``prepare_training_data`` runs it)."""
    first = [item for item in training.items if item.long_term_review_cnt() == 1]
    return len(fsrs_rs.filter_outlier(first, training.items)[1])


class NotEnoughReviews(Exception):
    """The log gives fewer than :data:`MINIMUM_ITEMS` usable items; ``missing`` more are
    needed."""

    def __init__(self, missing: int) -> None:
        super().__init__(missing)
        self.missing = missing


def fit(training: TrainingSet, current: Sequence[float], relearning_steps: int) -> Fit:
    """Fit FSRS-6 parameters to ``training`` and evaluate them and the ``current`` ones (empty:
    the defaults) on the same items. ``relearning_steps`` is the number of the learner's
    relearning steps (fsrs-rs uses it to bound the short-term parameters).

    The training runs Anki's configuration (8 epochs, fsrs-rs's defaults otherwise).
    Raises :class:`NotEnoughReviews` below :data:`MINIMUM_ITEMS` items.
    """
    usable = usable_items(training)
    if usable < MINIMUM_ITEMS:
        raise NotEnoughReviews(MINIMUM_ITEMS - usable)
    current = tuple(current) or DEFAULT_PARAMETERS
    fitted = fsrs_rs.FSRS(current).compute_parameters(
        training.items,
        card_ids=training.card_ids,
        enable_short_term=True,
        num_relearning_steps=relearning_steps,
        training_config=fsrs_rs.TrainingConfig(num_epochs=8),
    )
    before = fsrs_rs.FSRS(current).evaluate(training.items)
    after = fsrs_rs.FSRS(fitted).evaluate(training.items)
    return Fit(
        reviews=training.reviews,
        items=len(training.items),
        parameters=tuple(float(value) for value in fitted),
        log_loss_before=before.log_loss,
        log_loss_after=after.log_loss,
        rmse_before=before.rmse_bins,
        rmse_after=after.rmse_bins,
    )


def memory_from_log(
    scheduler: Scheduler, ratings: Sequence[LoggedRating]
) -> tuple[float, float] | None:
    """(stability in days, difficulty) of a card after its logged ``ratings`` (oldest first)
    under ``scheduler``'s parameters, through :meth:`Scheduler.next_memory` (the replay the
    Anki import uses too), on the ratings' learner days: from the first rating of the last run
    of learning ratings, as Anki recomputes memory states; a log without one (an imported card
    whose Anki history was cut) starts from the state its first row recorded. None for no
    ratings."""
    if not ratings:
        return None
    start = _history_start(ratings)
    stability: float | None = None
    difficulty: float | None = None
    previous: date | None = None
    if start is None:
        first = ratings[0]
        stability, difficulty, previous = first.stability_days, first.difficulty, first.review_day
        start = 1
    for row in ratings[start:]:
        elapsed = None if previous is None else (row.review_day - previous).days
        rating = Rating(row.rating)
        stability, difficulty = scheduler.next_memory(stability, difficulty, elapsed, rating)
        previous = row.review_day
    if stability is None or difficulty is None:
        return None
    return stability, difficulty
