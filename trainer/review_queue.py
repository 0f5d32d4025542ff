"""Today's review queue: which card comes next.

Order: learning/relearning cards whose step has ended, then review cards due today (oldest due
first), then new cards in roadmap order (section, topic, card), then learning cards due within
the learn-ahead window.

Building the queue counts the due review cards and loads the first page of them; later pages are
read as the session reaches them (keyset paging on ``(due_day, id)``), so a backlog of 100,000
due cards costs one indexed count at the start, not 100,000 rows. Learning and new cards (at most
the new-card limit) are loaded whole. The session re-reads each card before showing it, so a card
another session answered meanwhile is skipped.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from sqlalchemy import Connection, func, or_, select, tuple_
from sqlalchemy.sql import ColumnElement

from trainer.days import DayClock
from trainer.errors import UsageError
from trainer.models import Card, CardState, Deck, ReviewLog, Section, Topic
from trainer.settings import Settings

Lane = Literal["learning", "review", "new"]
#: Review cards read per page.
PAGE_SIZE = 200
ReviewKey = tuple[date, int]
#: Reads, through a connection, up to ``limit`` due review cards after a key (None: from the
#: start), in queue order.
PageLoader = Callable[[Connection, ReviewKey | None, int], list[ReviewKey]]


@dataclass(frozen=True)
class Focus:
    """What a session draws from: everything, one topic (slug) or one section (slug or title)."""

    topic: str | None = None
    section: str | None = None

    def deck_ids(self, conn: Connection) -> list[int] | None:
        """The ids of the decks in focus, or None for all decks.

        Raises :class:`UsageError` naming the option for an unknown topic or section.
        """
        if self.topic is None and self.section is None:
            return None
        query = select(Deck.id).join(Topic, Deck.topic_id == Topic.id)
        if self.topic is not None:
            if conn.scalar(select(Topic.id).where(Topic.slug == self.topic)) is None:
                raise UsageError(f"--topic {self.topic}: no such topic (see 'trainer status')")
            query = query.where(Topic.slug == self.topic)
        if self.section is not None:
            wanted = self.section.lower()
            section_id = conn.scalar(
                select(Section.id).where(
                    or_(Section.slug == wanted, func.lower(Section.title) == wanted)
                )
            )
            if section_id is None:
                raise UsageError(
                    f"--section {self.section}: no such section (see 'trainer status')"
                )
            query = query.where(Topic.section_id == section_id)
        return list(conn.scalars(query))


@dataclass(frozen=True)
class DayUsage:
    """How much of today's limits is used: review-card ratings and new cards introduced."""

    reviews: int
    new: int


def day_usage(conn: Connection, day: date) -> DayUsage:
    """Count learner ``day``'s ratings of review cards and first ratings of new cards."""
    rows = conn.execute(
        select(ReviewLog.state_before, func.count())
        .where(ReviewLog.review_day == day)
        .where(ReviewLog.state_before.in_([CardState.NEW, CardState.REVIEW]))
        .group_by(ReviewLog.state_before)
    ).all()
    counts = {int(state): int(count) for state, count in rows}
    return DayUsage(counts.get(CardState.REVIEW, 0), counts.get(CardState.NEW, 0))


def visible(today: date, deck_ids: list[int] | None) -> list[ColumnElement[bool]]:
    """Conditions for active cards, not buried on learner ``today``, of the decks in focus."""
    conditions = [
        Card.active.is_(True),
        or_(Card.buried_until_day.is_(None), Card.buried_until_day <= today),
    ]
    if deck_ids is not None:
        conditions.append(Card.deck_id.in_(deck_ids))
    return conditions


def _due_reviews(today: date, deck_ids: list[int] | None) -> list[ColumnElement[bool]]:
    return [
        Card.state == CardState.REVIEW,
        Card.due_day <= today,
        *visible(today, deck_ids),
    ]


def review_page_loader(today: date, deck_ids: list[int] | None) -> PageLoader:
    """A :data:`PageLoader` for the review cards due on learner ``today`` in ``deck_ids``."""

    def load(conn: Connection, after: ReviewKey | None, limit: int) -> list[ReviewKey]:
        query = select(Card.due_day, Card.id).where(*_due_reviews(today, deck_ids))
        if after is not None:
            query = query.where(tuple_(Card.due_day, Card.id) > tuple_(*after))
        rows = conn.execute(query.order_by(Card.due_day, Card.id).limit(limit)).all()
        return [(due_day, card_id) for due_day, card_id in rows if due_day is not None]

    return load


class ReviewQueue:
    """The cards left for today, by lane; changed only through its methods.

    ``learning`` holds ``(due_at, card id)`` pairs; ``reviews_left`` counts the review cards
    still to show today (loaded or not); ``load_reviews`` reads further pages of them through
    connections from ``conn_factory``.
    """

    def __init__(
        self,
        learning: list[tuple[datetime, int]],
        new: list[int],
        reviews_left: int,
        load_reviews: PageLoader,
        conn_factory: Callable[[], Connection],
    ) -> None:
        self._learning = sorted(learning)
        self._new = deque(new)
        self._reviews: deque[ReviewKey] = deque()
        self._reviews_left = reviews_left
        self._last_loaded: ReviewKey | None = None
        self._load_reviews = load_reviews
        self._conn_factory = conn_factory

    @classmethod
    def build(
        cls,
        conn: Connection,
        conn_factory: Callable[[], Connection],
        settings: Settings,
        clock: DayClock,
        now: datetime,
        deck_ids: list[int] | None = None,
    ) -> ReviewQueue:
        """Today's queue at aware UTC ``now`` within the daily limits left, for ``deck_ids``.

        ``conn`` answers the build's queries; later review pages are read through
        ``conn_factory()``.
        """
        today = clock.day_of(now)
        used = day_usage(conn, today)
        learning = conn.execute(
            select(Card.due_at, Card.id)
            .where(*visible(today, deck_ids))
            .where(Card.state.in_([CardState.LEARNING, CardState.RELEARNING]))
            .where(Card.due_at < clock.next_rollover(now))
        ).all()
        due_reviews = conn.scalar(
            select(func.count()).select_from(Card).where(*_due_reviews(today, deck_ids))
        )
        new = conn.scalars(
            select(Card.id)
            .where(*visible(today, deck_ids))
            .where(Card.state == CardState.NEW)
            .join(Deck, Card.deck_id == Deck.id)
            .outerjoin(Topic, Deck.topic_id == Topic.id)
            .outerjoin(Section, Topic.section_id == Section.id)
            .order_by(
                Section.position.is_(None),
                Section.position,
                Topic.position,
                Deck.id,
                Card.position,
            )
            .limit(max(settings.new_cards_per_day - used.new, 0))
        ).all()
        queue = cls(
            [(due, card_id) for due, card_id in learning if due is not None],
            list(new),
            min(int(due_reviews or 0), max(settings.reviews_per_day - used.reviews, 0)),
            review_page_loader(today, deck_ids),
            conn_factory,
        )
        queue._fill_reviews(conn)
        return queue

    def _fill_reviews(self, conn: Connection | None = None) -> None:
        """Load the next page of review cards when the loaded ones have run out (through
        ``conn``, or a connection of its own)."""
        if self._reviews or self._reviews_left <= 0:
            return
        if conn is None:
            with self._conn_factory() as own:
                self._fill_reviews(own)
            return
        page = self._load_reviews(conn, self._last_loaded, min(PAGE_SIZE, self._reviews_left))
        if not page:
            self._reviews_left = 0
            return
        self._reviews.extend(page)
        self._last_loaded = page[-1]

    def counts(self) -> dict[Lane, int]:
        """Cards left in each lane (learning counts every step still due today)."""
        return {
            "new": len(self._new),
            "learning": len(self._learning),
            "review": self._reviews_left,
        }

    def pop(self, now: datetime, learn_ahead: timedelta) -> tuple[int, Lane] | None:
        """Take the next card to show at ``now``: its id and the lane it came from."""
        if self._learning and self._learning[0][0] <= now:
            return self._learning.pop(0)[1], "learning"
        self._fill_reviews()
        if self._reviews:
            self._reviews_left -= 1
            return self._reviews.popleft()[1], "review"
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

    def restore(
        self, card_id: int, lane: Lane, due_at: datetime | None, due_day: date | None
    ) -> None:
        """Put a card back at the head of its lane (after an undo): learning cards by
        ``due_at``, review cards with their ``due_day``."""
        if lane == "learning" and due_at is not None:
            self.push_learning(card_id, due_at)
        elif lane == "review" and due_day is not None:
            self._reviews.appendleft((due_day, card_id))
            self._reviews_left += 1
        else:
            self._new.appendleft(card_id)

    def remove(self, card_id: int) -> None:
        """Take a card out of whichever lane holds it (it is shown now, or was answered)."""
        self._learning = [item for item in self._learning if item[1] != card_id]
        for key in [key for key in self._reviews if key[1] == card_id]:
            self._reviews.remove(key)
            self._reviews_left -= 1
        if card_id in self._new:
            self._new.remove(card_id)
