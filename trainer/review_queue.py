"""Today's review queue: which card comes next.

The queue is built by one query per lane from the database and then kept in memory for the
session; the session re-reads each card before showing it, so a card another session answered
meanwhile is skipped. Order: learning/relearning cards whose step has ended, then review cards
due today (oldest due first), then new cards in roadmap order (section, topic, card), then
learning cards due within the learn-ahead window.
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from trainer.days import DayClock
from trainer.errors import UsageError
from trainer.models import Card, CardState, Deck, ReviewLog, Section, Topic
from trainer.settings import Settings

Lane = Literal["learning", "review", "new"]


@dataclass(frozen=True)
class Focus:
    """What a session draws from: everything, one topic (slug) or one section (slug or title)."""

    topic: str | None = None
    section: str | None = None

    def deck_ids(self, db: Session) -> list[int] | None:
        """The ids of the decks in focus, or None for all decks.

        Raises :class:`UsageError` naming the option for an unknown topic or section.
        """
        if self.topic is None and self.section is None:
            return None
        query = select(Deck.id).join(Topic, Deck.topic_id == Topic.id)
        if self.topic is not None:
            if db.scalar(select(Topic.id).where(Topic.slug == self.topic)) is None:
                raise UsageError(f"--topic {self.topic}: no such topic (see 'trainer status')")
            query = query.where(Topic.slug == self.topic)
        if self.section is not None:
            wanted = self.section.lower()
            section_id = db.scalar(
                select(Section.id).where(
                    or_(Section.slug == wanted, func.lower(Section.title) == wanted)
                )
            )
            if section_id is None:
                raise UsageError(
                    f"--section {self.section}: no such section (see 'trainer status')"
                )
            query = query.where(Topic.section_id == section_id)
        return list(db.scalars(query))


@dataclass(frozen=True)
class DayUsage:
    """How much of today's limits is used: review-card ratings and new cards introduced."""

    reviews: int
    new: int


def day_usage(db: Session, day: date) -> DayUsage:
    """Count today's first ratings of new cards and ratings of review cards (learner ``day``)."""
    rows = db.execute(
        select(ReviewLog.state_before, func.count())
        .where(ReviewLog.review_day == day)
        .where(ReviewLog.state_before.in_([CardState.NEW, CardState.REVIEW]))
        .group_by(ReviewLog.state_before)
    ).all()
    counts = {int(state): int(count) for state, count in rows}
    return DayUsage(counts.get(CardState.REVIEW, 0), counts.get(CardState.NEW, 0))


def _visible(today: date, deck_ids: list[int] | None) -> list[ColumnElement[bool]]:
    """Conditions for active, unburied cards of the decks in focus."""
    conditions = [
        Card.active.is_(True),
        or_(Card.buried_until_day.is_(None), Card.buried_until_day <= today),
    ]
    if deck_ids is not None:
        conditions.append(Card.deck_id.in_(deck_ids))
    return conditions


class ReviewQueue:
    """The cards left for today, by lane. Cheap to query; changed only through its methods."""

    def __init__(
        self, learning: list[tuple[datetime, int]], reviews: list[int], new: list[int]
    ) -> None:
        self._learning = sorted(learning)
        self._reviews = deque(reviews)
        self._new = deque(new)

    @classmethod
    def build(
        cls,
        db: Session,
        settings: Settings,
        clock: DayClock,
        now: datetime,
        deck_ids: list[int] | None = None,
    ) -> ReviewQueue:
        """Today's queue at aware UTC ``now``, within the daily limits left, for ``deck_ids``."""
        today = clock.day_of(now)
        cutoff = clock.next_rollover(now)
        used = day_usage(db, today)
        learning = db.execute(
            select(Card.due_at, Card.id)
            .where(*_visible(today, deck_ids))
            .where(Card.state.in_([CardState.LEARNING, CardState.RELEARNING]))
            .where(Card.due_at < cutoff)
        ).all()
        reviews = db.scalars(
            select(Card.id)
            .where(*_visible(today, deck_ids))
            .where(Card.state == CardState.REVIEW)
            .where(Card.due_day <= today)
            .order_by(Card.due_day, Card.id)
            .limit(max(settings.reviews_per_day - used.reviews, 0))
        ).all()
        new = db.scalars(
            select(Card.id)
            .where(*_visible(today, deck_ids))
            .join(Deck, Card.deck_id == Deck.id)
            .outerjoin(Topic, Deck.topic_id == Topic.id)
            .outerjoin(Section, Topic.section_id == Section.id)
            .where(Card.state == CardState.NEW)
            .order_by(
                Section.position.is_(None),
                Section.position,
                Topic.position,
                Deck.id,
                Card.position,
            )
            .limit(max(settings.new_cards_per_day - used.new, 0))
        ).all()
        pending = [(due, card_id) for due, card_id in learning if due is not None]
        return cls(pending, list(reviews), list(new))

    def counts(self) -> dict[Lane, int]:
        """Cards left in each lane (learning counts every step still due today)."""
        return {
            "new": len(self._new),
            "learning": len(self._learning),
            "review": len(self._reviews),
        }

    def pop(self, now: datetime, learn_ahead: timedelta) -> tuple[int, Lane] | None:
        """Take the next card to show at ``now``: its id and the lane it came from."""
        if self._learning and self._learning[0][0] <= now:
            return self._learning.pop(0)[1], "learning"
        if self._reviews:
            return self._reviews.popleft(), "review"
        if self._new:
            return self._new.popleft(), "new"
        if self._learning and self._learning[0][0] <= now + learn_ahead:
            return self._learning.pop(0)[1], "learning"
        return None

    def next_learning_due(self) -> datetime | None:
        """When the earliest learning card still waiting falls due, if any."""
        return self._learning[0][0] if self._learning else None

    def push_learning(self, card_id: int, due_at: datetime) -> None:
        """Queue a card whose new (re)learning step ends at ``due_at`` today."""
        bisect.insort(self._learning, (due_at, card_id))

    def restore(self, card_id: int, lane: Lane, due_at: datetime | None) -> None:
        """Put a card back at the head of its lane (after an undo); learning cards by ``due_at``."""
        if lane == "learning" and due_at is not None:
            self.push_learning(card_id, due_at)
        elif lane == "review":
            self._reviews.appendleft(card_id)
        else:
            self._new.appendleft(card_id)

    def remove(self, card_id: int) -> None:
        """Take a card out of whichever lane holds it (it is shown now, or was answered)."""
        self._learning = [item for item in self._learning if item[1] != card_id]
        for lane in (self._reviews, self._new):
            if card_id in lane:
                lane.remove(card_id)
