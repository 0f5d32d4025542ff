"""``trainer optimize``: fit the learner's own FSRS-6 parameters to their review log, and apply
them (or the defaults, ``--reset``) by recomputing every card's memory state from its log.

The fit and the item rules are :mod:`trainer.scheduling.optimizer`'s. Applying stores the
parameters with the learner day they were fitted on and recomputes the stability and
difficulty of each card the learner has studied, all in the caller's one transaction; due
days and states stay as they are (as Anki leaves them when it recomputes memory states without
rescheduling), so the new parameters shape each card's next interval.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from itertools import groupby

from sqlalchemy import select
from sqlalchemy.orm import Session

from trainer.scheduling.adapter import Scheduler
from trainer.scheduling.optimizer import (
    Fit,
    LoggedRating,
    fit,
    memory_from_log,
    training_set,
)
from trainer.store.memory import put_stability
from trainer.store.models import CardMemory, CardState, ReviewLog, given_rating
from trainer.store.settings import Settings, store_parameters
from trainer.study.mastery import record_done


def learner_log(db: Session, learner_id: int, skips: bool = True) -> list[LoggedRating]:
    """Learner ``learner_id``'s review log, by card and then by time; without the rows of kind
    ``skip`` (:mod:`trainer.study.skip`: cards put into review, not answers) when ``skips`` is
    false."""
    mine = [ReviewLog.learner_id == learner_id]
    if not skips:
        mine.append(given_rating())
    rows = db.execute(
        select(
            ReviewLog.card_id,
            ReviewLog.rating,
            ReviewLog.reviewed_at,
            ReviewLog.review_day,
            ReviewLog.state_before,
            ReviewLog.stability_days,
            ReviewLog.difficulty,
        )
        .where(*mine)
        .order_by(ReviewLog.card_id, ReviewLog.reviewed_at, ReviewLog.id)
    )
    return [
        LoggedRating(card, rating, at, day, CardState(state), stability, difficulty)
        for card, rating, at, day, state, stability, difficulty in rows
    ]


def fit_learner(db: Session, learner_id: int, settings: Settings) -> Fit:
    """Fit parameters to learner ``learner_id``'s review log, compared with the ones in
    ``settings``, leaving out skipped cards' rows (a card whose log starts with one gives no
    item, as a card with a cut history). Raises
    :class:`~trainer.scheduling.optimizer.NotEnoughReviews`."""
    training = training_set(learner_log(db, learner_id, skips=False))
    relearning = len(settings.relearning_steps_minutes)
    return fit(training, settings.fsrs_parameters, relearning)


def apply_parameters(
    db: Session, learner_id: int, settings: Settings, parameters: tuple[float, ...], day: date
) -> int:
    """Make ``parameters`` (21 floats; empty: the defaults) learner ``learner_id``'s, fitted on
    learner ``day``, and recompute the stability and difficulty of every card they have
    studied from its review log with them; a topic the new stabilities make done is recorded
    done on ``day`` (:func:`~trainer.study.mastery.record_done`); no commit. Returns the cards
    recomputed."""
    store_parameters(db, learner_id, parameters, day)
    scheduler = Scheduler(replace(settings, fsrs_parameters=parameters))
    studied = set(
        db.scalars(
            select(CardMemory.card_id).where(
                CardMemory.learner_id == learner_id, CardMemory.state != CardState.NEW
            )
        )
    )
    values = []
    for card_id, ratings in groupby(learner_log(db, learner_id), key=lambda row: row.card_id):
        if card_id not in studied:
            continue
        memory = memory_from_log(scheduler, list(ratings))
        if memory is not None:
            values.append((card_id, *memory))
    put_stability(db.connection(), learner_id, values)
    record_done(db.connection(), learner_id, settings, day)
    return len(values)
