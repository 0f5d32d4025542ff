"""Mastery: how much of each topic, section and the roadmap the learner knows (pure aggregation).

A card is *mastered* once its FSRS stability reaches ``Settings.mastery_stability_days`` (default
21 days, the interval at which Anki calls a card "mature"); a topic is *done* once at least
``Settings.topic_done_share`` (default 90%) of its active cards are mastered. Figures are computed
in SQL, one grouped query over the cards and one over today's review log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, and_, case, func, or_, select

from trainer.scheduling.days import DayClock
from trainer.store.models import Card, CardState, Deck, ReviewLog, Section, Topic
from trainer.store.settings import Settings


@dataclass(frozen=True)
class TopicProgress:
    """One topic's (or stand-alone deck's) cards: total active, mastered, new, due today."""

    slug: str
    title: str
    cards: int
    mastered: int
    new: int
    due: int
    done: bool

    @property
    def share(self) -> float:
        """Mastered share of the active cards, 0.0-1.0 (0.0 for an empty topic)."""
        return self.mastered / self.cards if self.cards else 0.0


@dataclass(frozen=True)
class SectionProgress:
    """One roadmap section with its topics in roadmap order."""

    slug: str
    title: str
    topics: tuple[TopicProgress, ...]

    @property
    def done(self) -> bool:
        """True once every topic of the section is done."""
        return all(topic.done for topic in self.topics)


@dataclass(frozen=True)
class Today:
    """Today's ratings, new cards first seen today, and cards still due today (not new)."""

    reviewed: int
    new_seen: int
    due: int


@dataclass(frozen=True)
class RoadmapProgress:
    """The whole picture: today's counts, sections, stand-alone decks, the next topic to study."""

    day: date
    today: Today
    sections: tuple[SectionProgress, ...]
    extra_decks: tuple[TopicProgress, ...]

    @property
    def next_topic(self) -> str | None:
        """Slug of the first topic in roadmap order that is not done, or None when all are."""
        for section in self.sections:
            for topic in section.topics:
                if not topic.done:
                    return topic.slug
        return None

    def topic(self, slug: str) -> TopicProgress:
        """The progress of the topic ``slug``; ``KeyError`` if there is none."""
        for section in self.sections:
            for topic in section.topics:
                if topic.slug == slug:
                    return topic
        raise KeyError(slug)


def is_done(cards: int, mastered: int, settings: Settings) -> bool:
    """A topic is done when it has cards and the mastered share reaches the threshold."""
    return cards > 0 and mastered >= settings.topic_done_share * cards


def roadmap_progress(
    conn: Connection, settings: Settings, clock: DayClock, now: datetime
) -> RoadmapProgress:
    """Aggregate every active card at aware UTC ``now`` into roadmap progress."""
    today = clock.day_of(now)
    cutoff = clock.next_rollover(now)
    visible = or_(Card.buried_until_day.is_(None), Card.buried_until_day <= today)
    due = or_(
        and_(Card.state == CardState.REVIEW, Card.due_day <= today),
        and_(Card.state.in_([CardState.LEARNING, CardState.RELEARNING]), Card.due_at < cutoff),
    )
    rows = conn.execute(
        select(
            Deck.id,
            Deck.topic_id,
            Deck.name,
            func.count(Card.id),
            func.sum(case((Card.stability_days >= settings.mastery_stability_days, 1), else_=0)),
            func.sum(case((Card.state == CardState.NEW, 1), else_=0)),
            func.sum(case((and_(due, visible), 1), else_=0)),
        )
        .join(Card, and_(Card.deck_id == Deck.id, Card.active.is_(True)), isouter=True)
        .group_by(Deck.id, Deck.topic_id, Deck.name)
    ).all()
    by_topic: dict[int, tuple[int, ...]] = {}
    extra: list[TopicProgress] = []
    for _deck_id, topic_id, name, cards, mastered, new, due_count in rows:
        figures = (int(cards), int(mastered or 0), int(new or 0), int(due_count or 0))
        if topic_id is None:
            done = is_done(figures[0], figures[1], settings)
            extra.append(TopicProgress(name, name, *figures, done))
        else:
            totals = by_topic.get(topic_id, (0, 0, 0, 0))
            by_topic[topic_id] = tuple(a + b for a, b in zip(totals, figures, strict=True))
    sections: list[SectionProgress] = []
    topics: list[TopicProgress] = []
    roadmap = conn.execute(
        select(Section.slug, Section.title, Topic.id, Topic.slug, Topic.title)
        .join(Topic, Topic.section_id == Section.id)
        .order_by(Section.position, Topic.position)
    ).all()
    for index, (section_slug, section_title, topic_id, slug, title) in enumerate(roadmap):
        cards, mastered, new, due_count = by_topic.get(topic_id, (0, 0, 0, 0))
        done = is_done(cards, mastered, settings)
        topics.append(TopicProgress(slug, title, cards, mastered, new, due_count, done))
        if index + 1 == len(roadmap) or roadmap[index + 1][0] != section_slug:
            sections.append(SectionProgress(section_slug, section_title, tuple(topics)))
            topics = []
    log_rows = conn.execute(
        select(
            func.count(ReviewLog.id),
            func.sum(case((ReviewLog.state_before == CardState.NEW, 1), else_=0)),
        ).where(ReviewLog.review_day == today)
    ).one()
    due_total = sum(t.due for s in sections for t in s.topics) + sum(d.due for d in extra)
    today_counts = Today(int(log_rows[0]), int(log_rows[1] or 0), due_total)
    return RoadmapProgress(today, today_counts, tuple(sections), tuple(extra))
