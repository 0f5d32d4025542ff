"""Mastery: how much of each topic, section and the roadmap the learner knows.

The one engine behind ``trainer status``, the review summary, ``trainer plan`` and every report.
A card is *mastered* once its FSRS stability reaches ``Settings.mastery_stability_days``
(default 21 days, the interval at which Anki calls a card "mature"); a topic (or stand-alone
deck) *meets the rule* once it has active cards and at least ``Settings.topic_done_share``
(default 90%) of them are mastered. A roadmap topic that met the rule once stays *done*, with
the learner day it first did (a ``topic_done`` row, written by the rating that made it so:
:func:`record_done`); until that row is written (or for a stand-alone deck, which has none) it
is done while it meets the rule, since the first day its review log shows it meeting it. A
topic found so (settings, suspensions or imports made it meet the rule without a rating) gets
its row from the command that found it (:func:`keep_found`), so the review log is read for it
once, not by every status and report after. A
done topic whose *retention* (the mean retrievability now of its studied cards) is below
``Settings.refresh_retention`` *needs a refresh*: it stays done. A section is done once all
its topics are. A stand-alone deck's figures include the decks under it, as Anki's deck list
shows them; totals add up the decks at the top only, so each card counts once. Cards are counted
in one grouped query over the card table, per deck; callers add their own per-deck aggregates
to that same query.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from itertools import groupby
from typing import Any, Protocol, TypeVar

from sqlalchemy import (
    Connection,
    Date,
    Engine,
    Label,
    SQLColumnExpression,
    and_,
    case,
    func,
    insert,
    literal,
    or_,
    select,
)
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.sql import ColumnElement

from trainer.scheduling.adapter import Scheduler
from trainer.scheduling.days import DayClock
from trainer.store import tables
from trainer.store.db import days_between, derived_writer
from trainer.store.deck_tree import DeckTree
from trainer.store.lookup import Selection
from trainer.store.memory import (
    is_leech,
    is_new,
    learner_cards,
    recall_on_curve,
    unsuspended,
    visible_on,
)
from trainer.store.settings import Settings
from trainer.store.tables import CardState, given_rating
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
    """The mastery rule: a topic of ``cards`` active cards, ``mastered`` of them mastered,
    meets it when it has cards and the mastered share reaches ``topic_done_share``. (A
    roadmap topic that met it once stays done: see the module's docstring.)"""
    return cards > 0 and mastered >= settings.topic_done_share * cards


def retrievability_sum(
    scheduler: Scheduler,
    stability_days: SQLColumnExpression[float | None],
    elapsed_days: SQLColumnExpression[int],
    counted: ColumnElement[bool] | None = None,
) -> ColumnElement[float]:
    """SQL for the sum, over the rows aggregated, of the chance of recalling a card
    ``elapsed_days`` learner days after a review that left it at ``stability_days``, on
    ``scheduler``'s forgetting curve (:attr:`~trainer.scheduling.adapter.Scheduler.
    forgetting_curve`): for one card the value ``fsrs.Scheduler.get_card_retrievability``
    gives. Negative elapsed days count as 0; only rows for which ``counted`` holds add to it
    (default: rows with a positive stability), the condition tested once a row."""
    curve = recall_on_curve(scheduler.forgetting_curve, stability_days, elapsed_days)
    condition = stability_days > 0 if counted is None else counted
    return func.coalesce(func.sum(case((condition, curve))), 0.0)


def latest_day(days: Sequence[date | None]) -> date | None:
    """The latest of ``days``; None if there are none or any is None. A section is done on
    the latest of its topics' done days (done topics stay done), the roadmap on the latest of
    all; a plan predicts them so."""
    if not days or any(day is None for day in days):
        return None
    return max(day for day in days if day is not None)


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
    for deck_id, topic_id in conn.execute(
        select(tables.deck.c.id, tables.deck.c.topic_id).order_by(tables.deck.c.name)
    ):
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
        select(
            tables.section.c.slug,
            tables.section.c.title,
            tables.topic.c.id,
            tables.topic.c.slug,
            tables.topic.c.title,
            tables.topic.c.subtopics,
        )
        .join(tables.topic, tables.topic.c.section_id == tables.section.c.id)
        .order_by(tables.section.c.position, tables.topic.c.position)
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
    """A topic's (or stand-alone deck's) active cards the learner has not suspended, the
    mastered ones, the studied ones (reviewed, with a stability) and the sum of their
    retrievability today (0-1 each), the learner day it was first done (None: not done) and
    whether it needs a refresh (done, retention below ``refresh_retention``).

    ``decks`` holds the tallies of its decks that have active cards.
    """

    topic: RoadmapTopic
    decks: tuple[DeckTally, ...]
    cards: int
    mastered: int
    done_day: date | None = None
    studied: int = 0
    retrievability: float = 0.0
    needs_refresh: bool = False

    @property
    def done(self) -> bool:
        """True once the topic is done (see the module's docstring): it has a done day."""
        return self.done_day is not None

    @property
    def retention(self) -> float | None:
        """Mean retrievability today (0-1) of the studied cards; None when none is studied."""
        return self.retrievability / self.studied if self.studied else None

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
    #: The roadmap topics done without a ``topic_done`` row (their done day read from the
    #: review log, or today when the log never shows it), as (slug, done day) pairs in roadmap
    #: order: what :func:`keep_found` stores.
    found: tuple[tuple[str, date], ...] = ()

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
    scoped = [] if deck_ids is None else [tables.card.c.deck_id.in_(deck_ids)]
    rows = conn.execute(
        learner_cards(
            learner_id,
            tables.card.c.deck_id,
            func.count(case((unsuspended(), 1))),
            func.count(
                case(
                    (
                        and_(
                            unsuspended(),
                            is_mastered(tables.card_memory.c.stability_days, settings),
                        ),
                        1,
                    )
                )
            ),
            *columns,
        )
        .where(tables.card.c.active.is_(True), *scoped)
        .group_by(tables.card.c.deck_id)
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
            and_(
                tables.card_memory.c.state == CardState.REVIEW,
                tables.card_memory.c.due_day <= today,
            ),
            and_(
                tables.card_memory.c.state.in_([CardState.LEARNING, CardState.RELEARNING]),
                tables.card_memory.c.due_at < clock.next_rollover(now),
            ),
        ),
        visible_on(today),
    )


#: Labels of the aggregates :func:`count_mastery` adds to the per-deck query.
_STUDIED, _RETRIEVABILITY = "mastery_studied", "mastery_retrievability"


def count_mastery(
    conn: Connection,
    learner_id: int,
    settings: Settings,
    roadmap: Roadmap,
    today: date,
    columns: Sequence[Label[Any]] = (),
    deck_ids: Collection[int] | None = None,
) -> Mastery:
    """Count the active cards of ``roadmap`` and how many learner ``learner_id`` has mastered
    and studied (with their retrievability on learner day ``today``), per deck in one grouped
    query (:func:`tally_decks`, with ``columns`` and ``deck_ids``, None for a roadmap that is
    not narrowed), and decide which topics and sections are done, since when, and which need a
    refresh (see the module's docstring).
    """
    studied = and_(
        unsuspended(),
        tables.card_memory.c.last_review_day.is_not(None),
        tables.card_memory.c.stability_days > 0,
    )
    elapsed = days_between(tables.card_memory.c.last_review_day, literal(today, Date))
    stability = tables.card_memory.c.stability_days
    own: list[Label[Any]] = [
        func.count(case((studied, 1))).label(_STUDIED),
        retrievability_sum(Scheduler(settings), stability, elapsed, studied).label(_RETRIEVABILITY),
    ]
    tallies = tally_decks(conn, learner_id, settings, [*own, *columns], deck_ids)
    stored: dict[str, date] = {
        slug: day
        for slug, day in conn.execute(
            select(tables.topic.c.slug, tables.topic_done.c.done_day)
            .join(tables.topic, tables.topic.c.id == tables.topic_done.c.topic_id)
            .where(tables.topic_done.c.learner_id == learner_id)
        )
    }
    counted = [
        (topic, decks, sum(d.cards for d in decks), sum(d.mastered for d in decks))
        for topic in (*(t for s in roadmap.sections for t in s.topics), *roadmap.extra_decks)
        for decks in [tuple(tallies[d] for d in topic.deck_ids if d in tallies)]
    ]
    meeting = [
        (topic, cards)
        for topic, _, cards, mastered in counted
        if topic.slug not in stored and is_done(cards, mastered, settings)
    ]
    first = first_done_days(conn, learner_id, settings, meeting) if meeting else {}
    topics = {}
    for topic, decks, cards, mastered in counted:
        met = is_done(cards, mastered, settings)
        done_day = stored.get(topic.slug) or (first.get(topic.slug, today) if met else None)
        result = TopicMastery(
            topic,
            decks,
            cards,
            mastered,
            done_day,
            sum(int(d.extra[_STUDIED]) for d in decks),
            sum(float(d.extra[_RETRIEVABILITY]) for d in decks),
        )
        retention = result.retention
        refresh = retention is not None and retention < settings.refresh_retention
        topics[topic.slug] = replace(result, needs_refresh=result.done and refresh)
    sections = tuple(
        SectionMastery(section, tuple(topics[t.slug] for t in section.topics))
        for section in roadmap.sections
    )
    found = tuple(
        (topic.slug, topic.done_day)
        for section in sections
        for topic in section.topics
        if topic.done_day is not None and topic.slug not in stored
    )
    return Mastery(sections, tuple(topics[deck.slug] for deck in roadmap.extra_decks), found)


def _mastery_changes(
    conn: Connection, learner_id: int, settings: Settings, deck_ids: list[int]
) -> dict[int, list[tuple[date, int]]]:
    """Per deck, from learner ``learner_id``'s ratings of its active cards they have not
    suspended, the learner days on which its count of mastered cards changed, and by how much:
    each rating leaves the card mastered or not (its stability after the rating against the
    threshold); a rating whose result differs from the card's previous rating's is a change.
    """
    flag = case((is_mastered(tables.review_log.c.stability_days, settings), 1), else_=0)
    before = func.lag(flag, 1, 0).over(
        partition_by=tables.review_log.c.card_id,
        order_by=(tables.review_log.c.reviewed_at, tables.review_log.c.id),
    )
    suspended = select(tables.card_memory.c.card_id).where(
        tables.card_memory.c.learner_id == learner_id, tables.card_memory.c.suspended.is_(True)
    )
    ratings = (
        select(
            tables.review_log.c.card_id,
            tables.review_log.c.review_day,
            flag.label("mastered"),
            before.label("before"),
        )
        .where(
            tables.review_log.c.learner_id == learner_id,
            tables.review_log.c.card_id.in_(
                select(tables.card.c.id).where(
                    tables.card.c.active.is_(True), tables.card.c.deck_id.in_(deck_ids)
                )
            ),
            tables.review_log.c.card_id.not_in(suspended),
        )
        .subquery()
    )
    changes: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for deck_id, day, delta in conn.execute(
        select(
            tables.card.c.deck_id,
            ratings.c.review_day,
            func.sum(ratings.c.mastered - ratings.c.before),
        )
        .join(tables.card, tables.card.c.id == ratings.c.card_id)
        .where(ratings.c.mastered != ratings.c.before)
        .group_by(tables.card.c.deck_id, ratings.c.review_day)
        .order_by(ratings.c.review_day)
    ):
        changes[deck_id].append((day, int(delta)))
    return changes


def first_done_days(
    conn: Connection,
    learner_id: int,
    settings: Settings,
    topics: Sequence[tuple[RoadmapTopic, int]],
) -> dict[str, date]:
    """The first learner day on which each of ``topics`` (with its count of active cards now)
    met the mastery rule by learner ``learner_id``'s review log, by slug: the end of the first
    day its mastered count reached the share, counted against the cards it has now (a past
    day's number of cards is not recorded). Topics the log never shows meeting it are left out.
    """
    changes = _mastery_changes(
        conn, learner_id, settings, [d for topic, _ in topics for d in topic.deck_ids]
    )
    result = {}
    for topic, cards in topics:
        by_day: dict[date, int] = defaultdict(int)
        for deck_id in topic.deck_ids:
            for day, delta in changes.get(deck_id, []):
                by_day[day] += delta
        mastered = 0
        for day in sorted(by_day):
            mastered += by_day[day]
            if is_done(cards, mastered, settings):
                result[topic.slug] = day
                break
    return result


def record_done(
    conn: Connection,
    learner_id: int,
    settings: Settings,
    today: date,
    deck_ids: Collection[int] | None = None,
) -> list[int]:
    """Store a ``topic_done`` row, with its done day (see :func:`count_mastery`), for every
    roadmap topic of learner ``learner_id`` that meets the mastery rule on learner day
    ``today`` and has none (only the topics of ``deck_ids``' decks when given); return their
    topic ids. Run inside the caller's write transaction."""
    roadmap = load_roadmap(conn)
    roadmap = Roadmap(roadmap.sections, ())
    if deck_ids is not None:
        chosen = set(deck_ids)
        roadmap = Roadmap(
            tuple(
                replace(s, topics=tuple(t for t in s.topics if chosen & set(t.deck_ids)))
                for s in roadmap.sections
            ),
            (),
        )
    scope = None if deck_ids is None else roadmap.deck_ids
    mastery = count_mastery(conn, learner_id, settings, roadmap, today, deck_ids=scope)
    stored = set(
        conn.scalars(
            select(tables.topic_done.c.topic_id).where(tables.topic_done.c.learner_id == learner_id)
        )
    )
    ids: dict[str, int] = {
        slug: id_ for slug, id_ in conn.execute(select(tables.topic.c.slug, tables.topic.c.id))
    }
    new = [t for t in mastery.topics if t.done and ids[t.slug] not in stored]
    if new:
        conn.execute(
            insert(tables.topic_done),
            [
                {"learner_id": learner_id, "topic_id": ids[t.slug], "done_day": t.done_day}
                for t in new
            ],
        )
    return [ids[t.slug] for t in new]


def keep_found(engine: Engine, learner_id: int, found: Sequence[tuple[str, date]]) -> None:
    """Store the ``topic_done`` rows of learner ``learner_id`` that a read found missing
    (:attr:`Mastery.found`: topic slug, done day), in a transaction of their own, so later
    reads take the stored day instead of reading the review log again; a done topic stays done
    (see the module's docstring). A topic stored meanwhile keeps its row.

    Never fails the command that read them: nothing is written to a SQLite file this process
    may not write, nor when another writer holds the database past the busy timeout or stored
    the same row first (the next read finds them again). The rows restate what the review log
    shows, so no daily backup is made for them (:func:`~trainer.store.db.derived_writer`).
    """
    if not found:
        return
    days = dict(found)
    try:
        with derived_writer(engine) as conn, conn.begin():
            stored = set(
                conn.scalars(
                    select(tables.topic_done.c.topic_id).where(
                        tables.topic_done.c.learner_id == learner_id
                    )
                )
            )
            rows = [
                {"learner_id": learner_id, "topic_id": topic_id, "done_day": days[slug]}
                for slug, topic_id in conn.execute(
                    select(tables.topic.c.slug, tables.topic.c.id).where(
                        tables.topic.c.slug.in_(days)
                    )
                )
                if topic_id not in stored
            ]
            if rows:
                conn.execute(insert(tables.topic_done), rows)
    except (OperationalError, IntegrityError):
        return  # read-only, locked, or stored first by another writer


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


def next_topic(
    conn: Connection, learner_id: int, mastery: Mastery, today: date, new_cards: int | None = None
) -> str | None:
    """The topic (slug) the learner works on next: None once every topic of ``mastery`` is
    done (or it has none); else the topic of the next new roadmap card the review queue would
    show on learner ``today`` (:func:`~trainer.study.queue.new_page_loader`'s order); once no
    new card is left, :attr:`Mastery.next_topic`. So it is None exactly when the roadmap is
    done, as every report says it.

    ``new_cards``, when the caller counted them, is the number of active cards of the
    topics' decks new to the learner and not suspended: with none, no new card can come and
    the queue is not asked."""
    if mastery.done or not mastery.sections:
        return None
    if new_cards == 0:
        return mastery.next_topic
    topic_of_deck = {deck_id: t.slug for t in mastery.topics for deck_id in t.topic.deck_ids}
    page = new_page_loader(learner_id, today, list(topic_of_deck))(conn, 1)
    if page:
        return topic_of_deck[
            conn.execute(
                select(tables.card.c.deck_id).where(tables.card.c.id == page[0])
            ).scalar_one()
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
    mastery = count_mastery(conn, learner_id, settings, roadmap, today, columns, deck_ids)
    log_rows = conn.execute(
        select(
            func.count(tables.review_log.c.id),
            func.count(case((tables.review_log.c.state_before == CardState.NEW, 1))),
        ).where(
            tables.review_log.c.learner_id == learner_id,
            given_rating(),
            tables.review_log.c.review_day == today,
        )
    ).one()
    topics: Iterable[TopicMastery] = (*mastery.topics, *top_decks(mastery.extra_decks))
    due_total = sum(topic.total("due") for topic in topics)
    counts = Today(int(log_rows[0]), int(log_rows[1]), due_total)
    new_cards = sum(topic.total("new") for topic in mastery.topics)
    following = next_topic(conn, learner_id, mastery, today, new_cards)
    return RoadmapProgress(today, counts, mastery, following)
