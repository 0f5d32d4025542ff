"""A study sitting, free of any UI: next card, rate, bury, undo, summary.

Every method takes ``now`` (aware UTC) from its caller and never reads the clock or prints. Each
rating, bury and undo is its own committed transaction, made before the next card is handed out,
so quitting, a crash or ``kill -9`` between cards loses nothing. No transaction is held open while
the learner thinks, so several sessions can share one database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from trainer.days import DayClock
from trainer.mastery import roadmap_progress
from trainer.models import Card, CardState, Deck, Rating, ReviewLog, Section, Topic
from trainer.review_queue import Focus, Lane, ReviewQueue
from trainer.scheduling import Memory, Outcome, Scheduler, memory_of, store_memory
from trainer.settings import Settings


@dataclass(frozen=True)
class ShownCard:
    """A card ready to show: its text, where it sits in the roadmap, and what each rating would
    do if given at ``shown_at`` (aware UTC)."""

    card_id: int
    lane: Lane
    kind: str
    front: str
    back: str
    accepted: tuple[str, ...]
    docs_url: str | None
    path: str
    memory: Memory
    previews: dict[Rating, Outcome]
    shown_at: datetime


@dataclass(frozen=True)
class _Undo:
    card_id: int
    lane: Lane
    memory: Memory
    buried_until_day: date | None
    log_id: int | None
    rating: Rating | None
    duration_ms: int


@dataclass
class Summary:
    """What a session did: ratings given, Again ratings, time spent rating (ms), cards buried,
    topics that became done, and cards due on the next learner day."""

    reviewed: int = 0
    again: int = 0
    duration_ms: int = 0
    buried: int = 0
    topics_done: list[str] = field(default_factory=list)
    due_tomorrow: int = 0

    @property
    def again_rate(self) -> float:
        """Share of ratings that were Again, 0.0-1.0."""
        return self.again / self.reviewed if self.reviewed else 0.0


class ReviewSession:
    """One study sitting over the cards in ``focus``, within today's limits.

    Raises :class:`~trainer.errors.UsageError` (from :class:`Focus`) for an unknown topic or
    section.
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        settings: Settings,
        clock: DayClock,
        focus: Focus,
        now: datetime,
    ) -> None:
        self._factory = factory
        self.settings = settings
        self.clock = clock
        self.scheduler = Scheduler(settings)
        self._learn_ahead = timedelta(minutes=settings.learn_ahead_minutes)
        self._undo: list[_Undo] = []
        self._again: tuple[int, Lane] | None = None
        self.summary = Summary()
        with factory.begin() as db:
            self._deck_ids = focus.deck_ids(db)
            self.queue = ReviewQueue.build(db, settings, clock, now, self._deck_ids)
            self._done_at_start = self._done_topics(db, now)

    def _done_topics(self, db: Session, now: datetime) -> dict[str, str]:
        progress = roadmap_progress(db, self.settings, self.clock, now)
        return {t.slug: t.title for s in progress.sections for t in s.topics if t.done}

    def counts(self) -> dict[Lane, int]:
        """Cards left today in each lane: ``{"new": n, "learning": n, "review": n}``."""
        return self.queue.counts()

    def next_card(self, now: datetime) -> ShownCard | None:
        """The card to show at ``now``, or None when nothing is left within the learn-ahead.

        A card that another session answered or buried meanwhile is skipped.
        """
        while True:
            if self._again is not None:
                card_id, lane = self._again
                self._again = None
                self.queue.remove(card_id)
            else:
                picked = self.queue.pop(now, self._learn_ahead)
                if picked is None:
                    return None
                card_id, lane = picked
            with self._factory() as db:
                row = db.execute(
                    select(Card, Topic.title, Section.title, Deck.name)
                    .join(Deck, Card.deck_id == Deck.id)
                    .outerjoin(Topic, Deck.topic_id == Topic.id)
                    .outerjoin(Section, Topic.section_id == Section.id)
                    .where(Card.id == card_id)
                ).one_or_none()
            if row is None or not self._still_due(row[0], lane, now):
                continue
            card, topic, section, deck = row
            memory = memory_of(card)
            return ShownCard(
                card_id=card.id,
                lane=lane,
                kind=card.kind,
                front=card.front,
                back=card.back,
                accepted=tuple(card.accepted),
                docs_url=card.docs_url,
                path=f"{section} › {topic}" if topic else deck,
                memory=memory,
                previews=self.scheduler.preview(card.id, memory, now, self.clock),
                shown_at=now,
            )

    def _still_due(self, card: Card, lane: Lane, now: datetime) -> bool:
        today = self.clock.day_of(now)
        if not card.active or (card.buried_until_day and card.buried_until_day > today):
            return False
        if lane == "new":
            return card.state == CardState.NEW
        if lane == "review":
            return card.state == CardState.REVIEW and card.due_day is not None
        return (
            card.state in (CardState.LEARNING, CardState.RELEARNING)
            and card.due_at is not None
            and card.due_at <= now + self._learn_ahead
        )

    def rate(self, shown: ShownCard, rating: Rating, now: datetime, duration_ms: int) -> Outcome:
        """Record ``rating`` for the shown card at ``now`` and commit it; return the outcome.

        The card is re-read inside the transaction, so a change made by another session since
        it was shown is built on, not overwritten. ``duration_ms`` is the thinking time.
        """
        with self._factory.begin() as db:
            card = db.get_one(Card, shown.card_id)
            before = memory_of(card)
            outcome = self.scheduler.review(card.id, before, rating, now, self.clock)
            store_memory(card, outcome.memory)
            log = ReviewLog(
                card_id=card.id,
                rating=int(rating),
                reviewed_at=now,
                review_day=self.clock.day_of(now),
                duration_ms=max(0, duration_ms),
                state_before=int(before.state),
                elapsed_days=outcome.elapsed_days,
                state=int(outcome.memory.state),
                stability_days=outcome.memory.stability_days,
                difficulty=outcome.memory.difficulty,
                interval_days=outcome.interval_days,
            )
            db.add(log)
            db.flush()
            self._undo.append(
                _Undo(
                    card.id, shown.lane, before, card.buried_until_day, log.id, rating, duration_ms
                )
            )
        after = outcome.memory
        if (
            after.state in (CardState.LEARNING, CardState.RELEARNING)
            and after.due_at is not None
            and after.due_at < self.clock.next_rollover(now)
        ):
            self.queue.push_learning(shown.card_id, after.due_at)
        self.summary.reviewed += 1
        self.summary.again += rating == Rating.AGAIN
        self.summary.duration_ms += max(0, duration_ms)
        return outcome

    def bury(self, shown: ShownCard, now: datetime) -> None:
        """Hide the shown card until the next learner day, committed."""
        with self._factory.begin() as db:
            card = db.get_one(Card, shown.card_id)
            self._undo.append(
                _Undo(card.id, shown.lane, memory_of(card), card.buried_until_day, None, None, 0)
            )
            card.buried_until_day = self.clock.day_of(now) + timedelta(days=1)
        self.queue.remove(shown.card_id)
        self.summary.buried += 1

    def undo(self, current: ShownCard | None = None) -> bool:
        """Undo the last rating or bury: restore the card exactly, delete its review log, and
        show it again next; ``current``, the card on screen, goes back to its lane. Returns
        False when there is nothing to undo."""
        if not self._undo:
            return False
        last = self._undo.pop()
        if current is not None:
            self.queue.restore(current.card_id, current.lane, current.memory.due_at)
        with self._factory.begin() as db:
            card = db.get_one(Card, last.card_id)
            store_memory(card, last.memory)
            card.buried_until_day = last.buried_until_day
            if last.log_id is not None:
                db.delete(db.get_one(ReviewLog, last.log_id))
        self.queue.remove(last.card_id)
        self.queue.restore(last.card_id, last.lane, last.memory.due_at)
        self._again = (last.card_id, last.lane)
        if last.rating is None:
            self.summary.buried -= 1
        else:
            self.summary.reviewed -= 1
            self.summary.again -= last.rating == Rating.AGAIN
            self.summary.duration_ms -= max(0, last.duration_ms)
        return True

    def finish(self, now: datetime) -> Summary:
        """Complete the summary at ``now``: topics newly done and cards due tomorrow."""
        with self._factory() as db:
            done_now = self._done_topics(db, now)
            tomorrow = self.clock.day_of(now) + timedelta(days=1)
            progress = roadmap_progress(
                db, self.settings, self.clock, self.clock.day_start(tomorrow)
            )
        self.summary.topics_done = [t for s, t in done_now.items() if s not in self._done_at_start]
        self.summary.due_tomorrow = progress.today.due
        return self.summary
