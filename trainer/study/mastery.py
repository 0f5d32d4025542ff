"""Mastery: how much of each topic, section and the roadmap the learner knows.

The one engine behind ``trainer status``, the review summary and every report. A card is
*mastered* once its FSRS stability reaches ``Settings.mastery_stability_days`` (default 21 days,
the interval at which Anki calls a card "mature"); a topic (or stand-alone deck) is *done* once
it has active cards and at least ``Settings.topic_done_share`` (default 90%) of them are
mastered; a section once all its topics are. A stand-alone deck's figures include the decks
under it, as Anki's deck list shows them; totals add up the decks at the top only, so each card
counts once. Cards are counted in one grouped query over the card table, per deck; callers add
their own per-deck aggregates to that same query.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from itertools import groupby
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Label, SQLColumnExpression, and_, case, func, or_, select
from sqlalchemy.sql import ColumnElement

from trainer.scheduling.days import DayClock
from trainer.store.deck_tree import DeckTree
from trainer.store.lookup import Selection
from trainer.store.memory import is_leech, is_new, learner_cards, unsuspended, visible_on
from trainer.store.models import Card, CardMemory, CardState, Deck, ReviewLog, Section, Topic
from trainer.store.settings import Settings
from trainer.study.queue import new_page_loader


def is_mastered(
    stability_days: SQLColumnExpression[float | None], settings: Settings
) -> ColumnElement[bool]:
    """SQL: a stability (days, of a card or of a review log row) at or above the mastery
    threshold; a missing stability is not mastered."""
    return stability_days >= settings.mastery_stability_days


def holds_mastery(stability_days: float | None, settings: Settings) -> bool:
    """:func:`is_mastered` for one stability (days) held in Python, as the plan's simulated
    cards have it; None (a new card) is not mastered."""
    return stability_days is not None and stability_days >= settings.mastery_stability_days


def is_done(cards: int, mastered: int, settings: Settings) -> bool:
    """A topic is done when it has cards and the mastered share reaches the threshold."""
    return cards > 0 and mastered >= settings.topic_done_share * cards


@dataclass(frozen=True)
class RoadmapTopic:
    """A roadmap topic as stored, with the ids of its decks (built-in and imported), by name.
    A stand-alone deck is one too: ``slug`` and ``title`` are then its name, ``deck_ids`` the
    deck and every stand-alone deck under it, and ``parent`` the slug of the deck above it
    whose figures include this one's (None for a topic and for a deck at the top)."""

    slug: str
    title: str
    subtopics: tuple[str, ...]
    deck_ids: tuple[int, ...]
    parent: str | None = None


@dataclass(frozen=True)
class RoadmapSection:
    """A roadmap section with its topics in roadmap order."""

    slug: str
    title: str
    topics: tuple[RoadmapTopic, ...]


@dataclass(frozen=True)
class Roadmap:
    """The roadmap as stored: sections in order, and the decks that belong to no topic."""

    sections: tuple[RoadmapSection, ...]
    extra_decks: tuple[RoadmapTopic, ...]

    @property
    def deck_ids(self) -> list[int]:
        """Every deck of the roadmap's topics and of the stand-alone decks, each once."""
        topics = [*(t for s in self.sections for t in s.topics), *top_decks(self.extra_decks)]
        return [deck_id for topic in topics for deck_id in topic.deck_ids]


class InTree(Protocol):
    """A stand-alone deck as any layer holds it: ``parent`` is the slug of the deck above it
    whose figures include this one's, None at the top."""

    @property
    def parent(self) -> str | None: ...


DeckT = TypeVar("DeckT", bound=InTree)


def top_decks(decks: Iterable[DeckT]) -> list[DeckT]:
    """The stand-alone decks of ``decks`` that no deck above them includes: adding up their
    figures counts every card once."""
    return [deck for deck in decks if deck.parent is None]


def load_roadmap(conn: Connection) -> Roadmap:
    """The sections and topics in roadmap order, each topic's decks (by name), and the
    stand-alone decks as a tree: each deck (slug, and its whole ``A::B`` name as title) with
    the decks under it, then those decks (see :func:`top_decks` for totals)."""
    decks_of_topic: dict[int, list[int]] = defaultdict(list)
    for deck_id, topic_id in conn.execute(select(Deck.id, Deck.topic_id).order_by(Deck.name)):
        if topic_id is not None:
            decks_of_topic[topic_id].append(deck_id)
    tree = DeckTree.read(conn)
    extra = [
        RoadmapTopic(
            node.slug,
            node.name,
            (),
            tuple(i for i in tree.subtree(node.id) if tree.nodes[i].topic_id is None),
            None if node.parent_id is None else tree.nodes[node.parent_id].slug,
        )
        for node in tree.ordered()
        if node.topic_id is None
    ]
    rows = conn.execute(
        select(Section.slug, Section.title, Topic.id, Topic.slug, Topic.title, Topic.subtopics)
        .join(Topic, Topic.section_id == Section.id)
        .order_by(Section.position, Topic.position)
    ).all()
    sections = tuple(
        RoadmapSection(
            slug,
            title,
            tuple(
                RoadmapTopic(r[3], r[4], tuple(r[5]), tuple(decks_of_topic.get(r[2], ())))
                for r in group
            ),
        )
        for (slug, title), group in groupby(rows, key=lambda r: (r[0], r[1]))
    )
    return Roadmap(sections, tuple(extra))


def narrow(conn: Connection, roadmap: Roadmap, chosen: Selection) -> Roadmap:
    """Keep only the section, topic or deck (with the decks under it) ``chosen``; stand-alone
    decks go with a section or topic narrowing."""
    if chosen == Selection():
        return roadmap
    if chosen.deck is not None:
        under = set(DeckTree.read(conn).subtree(chosen.deck.id))
        kept = [d for d in roadmap.extra_decks if set(d.deck_ids) <= under]
        # the chosen deck is the top of what is left
        return Roadmap(
            (), tuple(replace(d, parent=None) if d.slug == chosen.deck.slug else d for d in kept)
        )
    sections = roadmap.sections
    if chosen.section is not None:
        sections = tuple(s for s in sections if s.slug == chosen.section.slug)
    if chosen.topic is not None:
        slug = chosen.topic.slug
        sections = tuple(
            replace(s, topics=tuple(t for t in s.topics if t.slug == slug)) for s in sections
        )
        sections = tuple(s for s in sections if s.topics)
    return Roadmap(sections, ())


@dataclass(frozen=True)
class DeckTally:
    """One deck's active cards: how many, how many mastered, and the extra aggregates the
    caller asked for, by label (see :func:`count_mastery`)."""

    deck_id: int
    cards: int
    mastered: int
    extra: Mapping[str, Any]


@dataclass(frozen=True)
class TopicMastery:
    """A topic's (or stand-alone deck's) active cards, mastered cards and whether it is done.

    ``decks`` holds the tallies of its decks that have active cards.
    """

    topic: RoadmapTopic
    decks: tuple[DeckTally, ...]
    cards: int
    mastered: int
    done: bool

    @property
    def slug(self) -> str:
        """The topic's slug (a stand-alone deck's name)."""
        return self.topic.slug

    @property
    def title(self) -> str:
        """The topic's title (a stand-alone deck's name)."""
        return self.topic.title

    @property
    def parent(self) -> str | None:
        """The slug of the stand-alone deck whose figures include this one's (see
        :class:`RoadmapTopic`)."""
        return self.topic.parent

    @property
    def share(self) -> float:
        """Mastered share of the active cards, 0.0-1.0 (0.0 without cards)."""
        return self.mastered / self.cards if self.cards else 0.0

    def total(self, label: str) -> int:
        """The sum over the topic's decks of the extra aggregate ``label`` (a count)."""
        return sum(int(deck.extra[label]) for deck in self.decks)


@dataclass(frozen=True)
class SectionMastery:
    """A section's topics in roadmap order; done once every topic is (and it has one)."""

    section: RoadmapSection
    topics: tuple[TopicMastery, ...]

    @property
    def slug(self) -> str:
        """The section's slug."""
        return self.section.slug

    @property
    def title(self) -> str:
        """The section's title."""
        return self.section.title

    @property
    def done(self) -> bool:
        """True once the section has topics and every one of them is done."""
        return bool(self.topics) and all(topic.done for topic in self.topics)


@dataclass(frozen=True)
class Mastery:
    """Mastery of every section and topic of a :class:`Roadmap`, and of its stand-alone decks."""

    sections: tuple[SectionMastery, ...]
    extra_decks: tuple[TopicMastery, ...]

    @property
    def topics(self) -> list[TopicMastery]:
        """The roadmap topics, in roadmap order (stand-alone decks not included)."""
        return [topic for section in self.sections for topic in section.topics]

    @property
    def done(self) -> bool:
        """True once the roadmap has sections and every one of them is done."""
        return bool(self.sections) and all(section.done for section in self.sections)

    @property
    def next_topic(self) -> str | None:
        """Where the learner stands once no new card is left to introduce (see
        :func:`next_topic`): the slug of the first topic in roadmap order that is not done and
        has cards to study; else of the first one not done (all its cards suspended or gone:
        it still stands between the learner and the roadmap's end); None exactly when
        :attr:`done` is true or the roadmap has no topic."""
        waiting = [topic for topic in self.topics if not topic.done]
        return next((t.slug for t in waiting if t.cards), waiting[0].slug if waiting else None)

    def topic(self, slug: str) -> TopicMastery:
        """The topic (or stand-alone deck) ``slug``; ``KeyError`` if there is none."""
        for topic in (*self.topics, *self.extra_decks):
            if topic.slug == slug:
                return topic
        raise KeyError(slug)


def tally_decks(
    conn: Connection,
    learner_id: int,
    settings: Settings,
    columns: Sequence[Label[Any]] = (),
    deck_ids: Collection[int] | None = None,
) -> dict[int, DeckTally]:
    """Each deck's active cards that learner ``learner_id`` has not suspended and how many of
    them they have mastered, by deck id, in one grouped query (decks without active cards are
    left out).

    ``columns`` are further aggregates over all the deck's active cards, suspended ones too,
    with the learner's memory columns (:func:`~trainer.store.memory.learner_cards`), each
    labelled; every deck's values land in :attr:`DeckTally.extra` under their labels.
    ``deck_ids`` limits the query to those decks (None: every deck).
    """
    scoped = [] if deck_ids is None else [Card.deck_id.in_(deck_ids)]
    rows = conn.execute(
        learner_cards(
            learner_id,
            Card.deck_id,
            func.count(case((unsuspended(), 1))),
            func.count(
                case((and_(unsuspended(), is_mastered(CardMemory.stability_days, settings)), 1))
            ),
            *columns,
        )
        .where(Card.active.is_(True), *scoped)
        .group_by(Card.deck_id)
    ).all()
    labels = [column.name for column in columns]
    return {
        row[0]: DeckTally(row[0], int(row[1]), int(row[2]), dict(zip(labels, row[3:], strict=True)))
        for row in rows
    }


def due_today(clock: DayClock, now: datetime) -> ColumnElement[bool]:
    """SQL, over a learner's cards (:func:`~trainer.store.memory.learner_cards`): a card is
    due on learner day of aware UTC ``now`` and not buried: a review card due that day or
    earlier, a learning or relearning card whose step ends before the next rollover."""
    today = clock.day_of(now)
    return and_(
        or_(
            and_(CardMemory.state == CardState.REVIEW, CardMemory.due_day <= today),
            and_(
                CardMemory.state.in_([CardState.LEARNING, CardState.RELEARNING]),
                CardMemory.due_at < clock.next_rollover(now),
            ),
        ),
        visible_on(today),
    )


def count_mastery(
    conn: Connection,
    learner_id: int,
    settings: Settings,
    roadmap: Roadmap,
    columns: Sequence[Label[Any]] = (),
    deck_ids: Collection[int] | None = None,
) -> Mastery:
    """Count the active cards of ``roadmap`` and how many learner ``learner_id`` has mastered,
    per deck in one grouped query (:func:`tally_decks`, with ``columns`` and ``deck_ids``,
    None for a roadmap that is not narrowed), and decide which topics and sections are done.
    """
    tallies = tally_decks(conn, learner_id, settings, columns, deck_ids)

    def topic_mastery(topic: RoadmapTopic) -> TopicMastery:
        decks = tuple(tallies[d] for d in topic.deck_ids if d in tallies)
        cards, mastered = sum(d.cards for d in decks), sum(d.mastered for d in decks)
        return TopicMastery(topic, decks, cards, mastered, is_done(cards, mastered, settings))

    return Mastery(
        tuple(
            SectionMastery(section, tuple(topic_mastery(t) for t in section.topics))
            for section in roadmap.sections
        ),
        tuple(topic_mastery(deck) for deck in roadmap.extra_decks),
    )


@dataclass(frozen=True)
class Today:
    """Today's ratings, new cards first seen today, and cards still due today (not new)."""

    reviewed: int
    new_seen: int
    due: int


@dataclass(frozen=True)
class RoadmapProgress:
    """What ``trainer status`` shows: the learner day, today's counts, and mastery of the
    roadmap whose deck tallies carry ``new`` (new cards) and ``due`` (due today) counts."""

    day: date
    today: Today
    mastery: Mastery
    next_topic: str | None = None


def next_topic(conn: Connection, learner_id: int, mastery: Mastery, today: date) -> str | None:
    """The topic (slug) the learner works on next: None once every topic of ``mastery`` is
    done (or it has none); else the topic of the next new roadmap card the review queue would
    show on learner ``today`` (:func:`~trainer.study.queue.new_page_loader`'s order); once no
    new card is left, :attr:`Mastery.next_topic`. So it is None exactly when the roadmap is
    done, as every report says it."""
    if mastery.done or not mastery.sections:
        return None
    topic_of_deck = {deck_id: t.slug for t in mastery.topics for deck_id in t.topic.deck_ids}
    page = new_page_loader(learner_id, today, list(topic_of_deck))(conn, 1)
    if page:
        return topic_of_deck[
            conn.execute(select(Card.deck_id).where(Card.id == page[0])).scalar_one()
        ]
    return mastery.next_topic


def roadmap_progress(
    conn: Connection,
    learner_id: int,
    settings: Settings,
    clock: DayClock,
    now: datetime,
    chosen: Selection | None = None,
) -> RoadmapProgress:
    """Learner ``learner_id``'s mastery of the roadmap at aware UTC ``now``, with new,
    due-today and leech counts per deck and their ratings today; read-only. ``chosen``
    narrows it to a section, topic or deck (see :func:`narrow`); today's ratings stay the
    whole day's."""
    today = clock.day_of(now)
    columns = [
        func.count(case((and_(is_new(), unsuspended()), 1))).label("new"),
        func.count(case((due_today(clock, now), 1))).label("due"),
        func.count(case((is_leech(), 1))).label("leeches"),
    ]
    roadmap = narrow(conn, load_roadmap(conn), chosen or Selection())
    deck_ids = None if chosen in (None, Selection()) else roadmap.deck_ids
    mastery = count_mastery(conn, learner_id, settings, roadmap, columns, deck_ids)
    log_rows = conn.execute(
        select(
            func.count(ReviewLog.id),
            func.count(case((ReviewLog.state_before == CardState.NEW, 1))),
        ).where(ReviewLog.learner_id == learner_id, ReviewLog.review_day == today)
    ).one()
    topics: Iterable[TopicMastery] = (*mastery.topics, *top_decks(mastery.extra_decks))
    due_total = sum(topic.total("due") for topic in topics)
    counts = Today(int(log_rows[0]), int(log_rows[1]), due_total)
    return RoadmapProgress(today, counts, mastery, next_topic(conn, learner_id, mastery, today))
