"""Today's review queue: which card comes next.

Order: learning/relearning cards whose step has ended, then review cards due today (oldest due
first, whatever their deck; on a day the backlog rule is on, lowest retrievability first: see
:func:`find_backlog`), then new cards, then learning cards due within the learn-ahead
window. New cards come from the roadmap (in roadmap order: section, topic, card) and from each
top-level stand-alone deck (with the decks under it), each within its own daily allowance, and
are interleaved: a deck imported yesterday shows beside the roadmap, not behind it.

Building the queue counts the due review cards and loads the first page of them; later pages are
read as the session reaches them (keyset paging on ``(due_day, id)``, or on ``(retrievability,
due_day, id)`` on a backlog day), so a backlog of 100,000 due cards costs one indexed count at
the start and pages of ids, never 100,000 ids in Python. New cards are counted per lane
(:func:`count_new_cards`) and read a page at a time too (:func:`new_page_loader`); learning
cards are loaded whole. The session re-reads each card before showing it, so a card another
session answered meanwhile is skipped.
"""

from __future__ import annotations

import bisect
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import (
    Connection,
    Date,
    Select,
    and_,
    bindparam,
    case,
    func,
    literal,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.sql import ColumnElement

from trainer.scheduling.adapter import Scheduler
from trainer.scheduling.days import DayClock
from trainer.scheduling.simulate import USUAL_DAYS, BacklogRule
from trainer.store import tables
from trainer.store.db import days_between
from trainer.store.deck_tree import DeckTree
from trainer.store.lookup import select_named
from trainer.store.memory import (
    count_set_apart,
    is_new,
    learner_cards,
    new_visible_cards,
    of_active_cards,
    recall_on_curve,
    studied_cards,
    visible_on,
)
from trainer.store.settings import Settings
from trainer.store.tables import CardState, given_rating

Lane = Literal["learning", "review", "new"]
#: Review cards read per page.
PAGE_SIZE = 200
#: Reads, through a connection, up to ``limit`` more cards of a lane, in queue order.
PageLoader = Callable[[Connection, int], list[int]]


@dataclass(frozen=True)
class Focus:
    """What a session draws from: everything, one topic, one section or one deck with the
    decks under it (each a slug or a title, any case)."""

    topic: str | None = None
    section: str | None = None
    deck: str | None = None

    def deck_ids(self, conn: Connection) -> list[int] | None:
        """The ids of the decks in focus, or None for all decks.

        Raises :class:`UsageError` as :func:`~trainer.store.lookup.select_named` does.
        """
        if self.topic is None and self.section is None and self.deck is None:
            return None
        chosen = select_named(conn, section=self.section, topic=self.topic, deck=self.deck)
        if chosen.deck is not None:
            return DeckTree.read(conn).subtree(chosen.deck.id)
        query = select(tables.deck.c.id).join(
            tables.topic, tables.deck.c.topic_id == tables.topic.c.id
        )
        if chosen.topic is not None:
            query = query.where(tables.topic.c.id == chosen.topic.id)
        if chosen.section is not None:
            query = query.where(tables.topic.c.section_id == chosen.section.id)
        return list(conn.scalars(query))


#: The new-card source of the roadmap's decks (every deck of a topic); any other source is a
#: top-level stand-alone deck, by id, whose allowance covers the decks under it.
ROADMAP: int | None = None


def new_source(tree: DeckTree, deck_id: int) -> int | None:
    """Whose daily allowance a new card of ``deck_id`` uses: :data:`ROADMAP` for a topic's
    deck, else the id of the top-level stand-alone deck above it (or itself)."""
    if tree.nodes[deck_id].topic_id is not None:
        return ROADMAP
    return tree.root(deck_id)


@dataclass(frozen=True)
class Limits:
    """How many new and review cards a session may show: what today's limits leave, or the
    numbers given for this session.

    ``new`` is the roadmap's new cards, ``deck_new`` each top-level stand-alone deck's (by id;
    a deck not in it shows none); ``new_total``, when set, caps the new cards of all of them
    together (a session's own number).
    """

    new: int
    reviews: int
    deck_new: Mapping[int, int] = field(default_factory=dict)
    new_total: int | None = None

    @classmethod
    def for_session(
        cls,
        conn: Connection,
        learner_id: int,
        settings: Settings,
        today: date,
        new: int | None = None,
        reviews: int | None = None,
        backlog: Backlog | None = None,
    ) -> Limits:
        """Learner ``learner_id``'s limits today less what they already used on learner day
        ``today``, unless ``new`` or ``reviews`` set this session's numbers outright.

        Each top-level stand-alone deck has its own allowance of new cards a day: the learner's
        ``new_cards_per_day`` for it, else their ``deck_new_cards_per_day`` setting. While a
        ``backlog`` is being caught up, the review limit is its cap and new cards are paused
        (0), unless given outright.
        """
        tree = DeckTree.read(conn)
        used = day_usage(conn, learner_id, today, tree)
        paused = backlog is not None
        deck_new = {
            root: new if new is not None else 0 if paused else max(allowance - used.new[root], 0)
            for root, allowance in deck_allowances(conn, learner_id, settings, tree).items()
        }
        roadmap_new = 0 if paused else max(settings.new_cards_per_day - used.new[ROADMAP], 0)
        day_reviews = settings.reviews_per_day if backlog is None else backlog.rule.cap
        return cls(
            new if new is not None else roadmap_new,
            reviews if reviews is not None else max(day_reviews - used.reviews, 0),
            deck_new,
            new,
        )


def deck_allowances(
    conn: Connection, learner_id: int, settings: Settings, tree: DeckTree
) -> dict[int, int]:
    """The new cards a learner day each top-level stand-alone deck of ``tree`` (by id) allows
    learner ``learner_id``: their own ``new_cards_per_day`` for it, else their
    ``deck_new_cards_per_day`` setting."""
    mine = tables.learner_deck.c.learner_id == learner_id
    own = {
        deck_id: per_day
        for deck_id, per_day in conn.execute(
            select(tables.learner_deck.c.deck_id, tables.learner_deck.c.new_cards_per_day).where(
                mine
            )
        )
    }
    allowances = {}
    for root in tree.children(None):
        if tree.nodes[root].topic_id is None:
            per_day = own.get(root)
            allowances[root] = settings.deck_new_cards_per_day if per_day is None else per_day
    return allowances


@dataclass(frozen=True)
class DayUsage:
    """How much of today's limits is used: review-card ratings, and new cards introduced by
    new-card source (see :func:`new_source`)."""

    reviews: int
    new: Counter[int | None]


def day_usage(conn: Connection, learner_id: int, day: date, tree: DeckTree) -> DayUsage:
    """Count learner ``learner_id``'s ratings of review cards on learner day ``day`` and their
    first ratings of new cards (the latter by the source whose allowance they used, from the
    decks in ``tree``); cards a ``trainer skip`` put into review use no allowance."""
    mine = and_(tables.review_log.c.learner_id == learner_id, given_rating())
    reviews = conn.scalar(
        select(func.count())
        .select_from(tables.review_log)
        .where(
            mine,
            tables.review_log.c.review_day == day,
            tables.review_log.c.state_before == CardState.REVIEW,
        )
    )
    new: Counter[int | None] = Counter()
    for deck_id, count in conn.execute(
        select(tables.card.c.deck_id, func.count())
        .select_from(tables.review_log)
        .join(tables.card, tables.card.c.id == tables.review_log.c.card_id)
        .where(
            mine,
            tables.review_log.c.review_day == day,
            tables.review_log.c.state_before == CardState.NEW,
        )
        .group_by(tables.card.c.deck_id)
    ):
        new[new_source(tree, deck_id)] += int(count)
    return DayUsage(int(reviews or 0), new)


def recent_studied(conn: Connection, learner_id: int, today: date) -> list[int]:
    """The cards learner ``learner_id`` studied (review cards rated, new cards rated the first
    time) on each of the :data:`~trainer.scheduling.simulate.USUAL_DAYS` learner days before
    ``today``, oldest first (0 for a day without)."""
    since = today - timedelta(days=USUAL_DAYS)
    per_day: dict[date, int] = dict(
        conn.execute(
            select(tables.review_log.c.review_day, func.count())
            .where(
                tables.review_log.c.learner_id == learner_id,
                given_rating(),
                tables.review_log.c.state_before.in_([CardState.REVIEW, CardState.NEW]),
                tables.review_log.c.review_day >= since,
                tables.review_log.c.review_day < today,
            )
            .group_by(tables.review_log.c.review_day)
        ).all()
    )
    return [int(per_day.get(since + timedelta(days=d), 0)) for d in range(USUAL_DAYS)]


@dataclass(frozen=True)
class Backlog:
    """A learner day on which the backlog rule is on: ``due`` review cards due (every deck),
    more than ``threshold``, and at most ``rule.cap`` of them reviewed."""

    due: int
    threshold: float
    rule: BacklogRule


def find_backlog(
    conn: Connection, learner_id: int, settings: Settings, today: date
) -> Backlog | None:
    """Learner ``learner_id``'s backlog on learner ``today``: their due review cards of every
    deck when :class:`~trainer.scheduling.simulate.BacklogRule` (from their settings, after
    :func:`recent_studied`) finds them a backlog, else None."""
    rule = BacklogRule.of(settings)
    if rule is None:
        return None
    due = count_due_reviews(conn, learner_id, today, None)
    threshold = rule.threshold(recent_studied(conn, learner_id, today))
    return Backlog(due, threshold, rule) if due > threshold else None


def last_study_day(conn: Connection, learner_id: int) -> date | None:
    """The latest learner day in learner ``learner_id``'s review log (None before their first
    review): their learner days never go back before it
    (:class:`~trainer.scheduling.days.DayClock` ``not_before``)."""
    day: date | None = conn.scalar(
        select(func.max(tables.review_log.c.review_day)).where(
            tables.review_log.c.learner_id == learner_id
        )
    )
    return day


def last_review_time(conn: Connection, learner_id: int) -> datetime | None:
    """When learner ``learner_id``'s latest rating recorded was given (aware UTC; None before
    the first).

    Read from the end of the log backwards: ``learner_id + 0`` keeps SQLite from choosing the
    learner's index, which would sort all their rows by id (sqlite.org/optoverview.html, "the
    unary + operator"); the learner's index only tells first whether they have any row.
    """
    if (
        conn.scalar(
            select(tables.review_log.c.id)
            .where(tables.review_log.c.learner_id == learner_id)
            .limit(1)
        )
        is None
    ):
        return None
    return conn.scalar(
        select(tables.review_log.c.reviewed_at)
        .where(tables.review_log.c.learner_id + 0 == learner_id)
        .order_by(tables.review_log.c.id.desc())
        .limit(1)
    )


def reviews_due_after(conn: Connection, learner_id: int, day: date) -> int:
    """Learner ``learner_id``'s active review cards due after learner ``day``."""
    query = studied_cards(learner_id, func.count()).where(tables.card.c.active.is_(True))
    due = query.where(
        tables.card_memory.c.state == CardState.REVIEW, tables.card_memory.c.due_day > day
    )
    return int(conn.scalar(due) or 0)


def bring_in_reviews(conn: Connection, learner_id: int, maximum_days: int, today: date) -> int:
    """Move learner ``learner_id``'s active review cards due more than ``maximum_days`` learner
    days after ``today`` to at most ``maximum_days`` after their last review, and not before
    ``today``; returns how many moved. Memory state and review log stay as they are (Anki's
    "reschedule cards on change" for a lowered maximum interval does the same with the capped
    interval). The caller commits.
    """
    beyond = conn.execute(
        studied_cards(learner_id, tables.card.c.id, tables.card_memory.c.last_review_day).where(
            tables.card.c.active.is_(True),
            tables.card_memory.c.state == CardState.REVIEW,
            tables.card_memory.c.due_day > today + timedelta(days=maximum_days),
        )
    ).all()
    moves = [
        {"card": card_id, "due": max(today, (last or today) + timedelta(days=maximum_days))}
        for card_id, last in beyond
    ]
    if moves:
        conn.execute(
            update(tables.card_memory)
            .where(
                tables.card_memory.c.learner_id == learner_id,
                tables.card_memory.c.card_id == bindparam("card"),
            )
            .values(due_day=bindparam("due")),
            moves,
        )
    return len(moves)


def learning_cutoff(clock: DayClock, now: datetime, learn_ahead: timedelta) -> datetime:
    """The aware UTC instant before which a (re)learning step that ends belongs to the session
    at ``now``: the next day rollover, or ``now + learn_ahead`` when that reaches past it. As
    in Anki, a step ending just after the rollover (Again at 03:55, a 10-minute step, rollover
    04:00) still comes back in the session through the learn-ahead."""
    return max(clock.next_rollover(now), now + learn_ahead)


def visible_cards(deck_ids: list[int] | None) -> list[ColumnElement[bool]]:
    """Conditions over ``card`` alone: the card is active and, with ``deck_ids``, of those
    decks."""
    conditions: list[ColumnElement[bool]] = [tables.card.c.active.is_(True)]
    if deck_ids is not None:
        conditions.append(tables.card.c.deck_id.in_(deck_ids))
    return conditions


def visible(
    today: date, deck_ids: list[int] | None, matching: ColumnElement[bool] | None = None
) -> list[ColumnElement[bool]]:
    """Conditions, over a learner's cards (:func:`~trainer.store.memory.learner_cards` or
    :func:`~trainer.store.memory.studied_cards`), for active cards not buried on learner
    ``today``, of the decks in focus, that a search finds (``matching``: its SQL condition,
    None: every card)."""
    conditions = [*visible_cards(deck_ids), visible_on(today)]
    if matching is not None:
        conditions.append(matching)
    return conditions


def _due_reviews(
    today: date, deck_ids: list[int] | None, matching: ColumnElement[bool] | None
) -> list[ColumnElement[bool]]:
    """Review cards due by ``today``; with a search (``matching``), every review card it finds,
    due or not (Anki's filtered decks review ahead)."""
    due = [] if matching is not None else [tables.card_memory.c.due_day <= today]
    return [
        tables.card_memory.c.state == CardState.REVIEW,
        *due,
        *visible(today, deck_ids, matching),
    ]


def count_due_reviews(
    conn: Connection,
    learner_id: int,
    today: date,
    deck_ids: list[int] | None,
    matching: ColumnElement[bool] | None = None,
) -> int:
    """Learner ``learner_id``'s active review cards due by learner ``today`` and not buried,
    of the decks in focus (``deck_ids``; None: every deck); with a search (``matching``), its
    review cards, due or not.

    Without a focus or search no card is joined: their due memory rows are counted in the
    queue index alone, leaving out those of the few retired cards (a list read through
    ``ix_card_retired``), so no card row is read per due card (see tests/benchmarks).
    """
    if deck_ids is not None or matching is not None:
        query = studied_cards(learner_id, func.count()).where(
            *_due_reviews(today, deck_ids, matching)
        )
    else:
        query = (
            select(func.count())
            .select_from(tables.card_memory)
            .where(
                tables.card_memory.c.learner_id == learner_id,
                tables.card_memory.c.state == CardState.REVIEW,
                tables.card_memory.c.due_day <= today,
                visible_on(today),
                of_active_cards(None),
            )
        )
    return int(conn.scalar(query) or 0)


def review_page_loader(
    learner_id: int,
    today: date,
    deck_ids: list[int] | None,
    matching: ColumnElement[bool] | None = None,
) -> PageLoader:
    """Pages of learner ``learner_id``'s review cards due on learner ``today`` (with a search,
    ``matching``, those it finds), oldest due first (keyset paging on ``(due_day, card
    id)``)."""
    last: tuple[date, int] | None = None

    def load(conn: Connection, limit: int) -> list[int]:
        nonlocal last
        due, card = tables.card_memory.c.due_day, tables.card_memory.c.card_id
        query = studied_cards(learner_id, due, card).where(*_due_reviews(today, deck_ids, matching))
        if last is not None:
            query = query.where(tuple_(due, card) > tuple_(*last))
        rows = conn.execute(query.order_by(due, card).limit(limit)).all()
        if rows and rows[-1][0] is not None:
            last = (rows[-1][0], rows[-1][1])
        return [card_id for _, card_id in rows]

    return load


def lowest_recall_loader(
    learner_id: int, today: date, deck_ids: list[int] | None, scheduler: Scheduler
) -> PageLoader:
    """Pages of learner ``learner_id``'s review cards due on learner ``today``, lowest
    retrievability today first (``scheduler``'s forgetting curve of each card's stability and
    days since its last review, :func:`~trainer.store.memory.recall_on_curve`; 0 for a card
    without a positive stability; then oldest due, then by card id).

    Keyset paging on ``(retrievability, due_day, card id)``: each page is the database's
    ``limit`` lowest after the last one handed out, so no page holds more than ``limit`` ids
    in Python, and the order is the one a single sort of every due card gives, ties included
    (the key is unique, and a retrievability read back binds as the same double). Each page
    reads the learner's memory rows in their key order, not through the queue index: the
    order needs every due card's stability and last review day, which the index lacks, and a
    backlog is most of the rows. No card row is read: the cards in scope are tested against a
    list (:func:`~trainer.store.memory.of_active_cards`).
    """
    memory = tables.card_memory.c
    since_last = func.coalesce(days_between(memory.last_review_day, literal(today, Date)), 0)
    recall = case(
        (
            memory.stability_days > 0,
            recall_on_curve(scheduler.forgetting_curve, memory.stability_days, since_last),
        ),
        else_=0.0,
    )
    ordered = recall.label("recall")  # ordered by the label: computed once a row
    due = (
        select(ordered, memory.due_day, memory.card_id)
        .where(
            memory.learner_id == learner_id,
            # "+ 0": the rows by their key, not through the queue index (see above)
            memory.state + 0 == CardState.REVIEW,
            memory.due_day <= today,
            visible_on(today),
            of_active_cards(deck_ids),
        )
        .order_by(ordered, memory.due_day, memory.card_id)
    )
    last: tuple[float, date, int] | None = None

    def load(conn: Connection, limit: int) -> list[int]:
        nonlocal last
        query = due
        if last is not None:
            query = query.where(tuple_(recall, memory.due_day, memory.card_id) > tuple_(*last))
        rows = conn.execute(query.limit(limit)).all()
        if rows:
            last = (rows[-1][0], rows[-1][1], rows[-1][2])
        return [card_id for _, _, card_id in rows]

    return load


def new_cards_query(
    learner_id: int,
    today: date,
    deck_ids: list[int] | None,
    matching: ColumnElement[bool] | None,
    *columns: Any,
) -> Select[Any]:
    """``SELECT columns`` over the active cards of ``deck_ids`` (None: every deck) new to
    learner ``learner_id`` and visible on learner ``today`` (that a search finds,
    ``matching``). Without a search no memory row is read
    (:func:`~trainer.store.memory.new_visible_cards`)."""
    if matching is None:
        return new_visible_cards(learner_id, today, *columns).where(*visible_cards(deck_ids))
    return learner_cards(learner_id, *columns).where(is_new(), *visible(today, deck_ids, matching))


def new_page_loader(
    learner_id: int,
    today: date,
    deck_ids: list[int] | None,
    matching: ColumnElement[bool] | None = None,
) -> PageLoader:
    """Pages of the cards new to learner ``learner_id`` (that a search finds, ``matching``) in
    roadmap order (section, topic, deck, card; stand-alone decks last), each the first cards
    in that order not handed out before.

    A page is read in runs of decks in roadmap order, each run twice as long as the one
    before (1, 2, 4... decks), and stops at the run that fills it: a page found in the first
    decks reads no card of the others, and a page that needs every deck takes a handful of
    queries (each sorting only its run's new cards). Every page starts again at the first
    deck, so a card new again since (an undo) comes in its place.
    """
    loaded: set[int] = set()
    runs: list[list[int]] | None = None
    card = tables.card.c
    # built once: each run binds its decks, the cards handed out and the number still wanted
    query = in_roadmap_order(
        new_cards_query(learner_id, today, None, matching, card.id).where(
            card.deck_id.in_(bindparam("run", expanding=True)),
            card.id.not_in(bindparam("loaded", expanding=True)),
        )
    ).limit(bindparam("wanted"))

    def load(conn: Connection, limit: int) -> list[int]:
        nonlocal runs
        if runs is None:
            runs = _doubling(roadmap_decks(conn, deck_ids))
        page: list[int] = []
        for run in runs:
            if len(page) >= limit:
                break
            values = {"run": run, "loaded": sorted(loaded), "wanted": limit - len(page)}
            page += conn.scalars(query, values)
        loaded.update(page)
        return page

    return load


def _doubling(items: list[int]) -> list[list[int]]:
    """``items`` cut into runs of 1, 2, 4... items, in order."""
    runs, start = [], 0
    while start < len(items):
        runs.append(items[start : 2 * start + 1])
        start = 2 * start + 1
    return runs


#: Decks in roadmap order: by section, then topic, then id; stand-alone decks last, by id.
_DECK_ORDER = (
    tables.section.c.position.is_(None),
    tables.section.c.position,
    tables.topic.c.position,
    tables.deck.c.id,
)


def _with_topics(query: Select[Any]) -> Select[Any]:
    """``query`` over decks, joined to each deck's topic and section (if any)."""
    return query.outerjoin(tables.topic, tables.deck.c.topic_id == tables.topic.c.id).outerjoin(
        tables.section, tables.topic.c.section_id == tables.section.c.id
    )


def roadmap_decks(conn: Connection, deck_ids: list[int] | None) -> list[int]:
    """The ids of ``deck_ids`` (None: every deck) in roadmap order (:func:`in_roadmap_order`)."""
    query = _with_topics(select(tables.deck.c.id).select_from(tables.deck))
    if deck_ids is not None:
        query = query.where(tables.deck.c.id.in_(deck_ids))
    return list(conn.scalars(query.order_by(*_DECK_ORDER)))


def in_roadmap_order(query: Select[Any]) -> Select[Any]:
    """``query`` over cards in the order new cards are introduced: roadmap order (section,
    topic, deck, card position, card id), stand-alone decks last."""
    return _with_topics(
        query.join(tables.deck, tables.card.c.deck_id == tables.deck.c.id)
    ).order_by(*_DECK_ORDER, tables.card.c.position, tables.card.c.id)


def count_new_cards(
    conn: Connection,
    learner_id: int,
    today: date,
    groups: list[list[int]],
    every_deck: bool,
    matching: ColumnElement[bool] | None = None,
) -> list[int]:
    """The active cards new to learner ``learner_id`` and visible on learner ``today`` (that
    a search finds, ``matching``) in each group of decks (ids) of ``groups``.

    Each group is counted card by card (:func:`new_cards_query`, one query grouped by deck
    for all of them), but one: when the groups hold ``every_deck`` and one of them more than
    half the active cards (one query, a count per group), as the roadmap does in most
    databases, that group's new cards are all the active cards, less the learner's rows that
    keep a card from being new (:func:`~trainer.store.memory.count_set_apart`, read in the
    memory index alone), less the other groups' new cards, so no card of that group is looked
    up one by one. However many groups there are, at most four queries run.
    """
    whole: int | None = None  # the group counted from its active cards, if any
    active: list[int] = []
    if every_deck and matching is None and groups:
        active = _active_cards(conn, groups)
        largest = max(range(len(groups)), key=active.__getitem__)
        if 2 * active[largest] > sum(active):
            whole = largest
    by_card = [deck_id for i, group in enumerate(groups) if i != whole for deck_id in group]
    per_deck: dict[int, int] = {}
    if by_card:
        query = new_cards_query(
            learner_id, today, by_card, matching, tables.card.c.deck_id, func.count()
        )
        per_deck = {
            deck_id: int(n) for deck_id, n in conn.execute(query.group_by(tables.card.c.deck_id))
        }
    counts = [sum(per_deck.get(deck_id, 0) for deck_id in group) for group in groups]
    if whole is not None:
        others = sum(count for i, count in enumerate(counts) if i != whole)
        counts[whole] = sum(active) - count_set_apart(conn, learner_id, today) - others
    return counts


def _active_cards(conn: Connection, groups: list[list[int]]) -> list[int]:
    """The active cards of each group of decks (ids) of ``groups``, in one query."""
    counts = [
        select(literal(index).label("group"), func.count().label("cards"))
        .select_from(tables.card)
        .where(*visible_cards(group))
        for index, group in enumerate(groups)
    ]
    found = dict(conn.execute(counts[0] if len(counts) == 1 else union_all(*counts)).all())
    return [int(found.get(index, 0)) for index in range(len(groups))]


def _new_lanes(
    conn: Connection,
    learner_id: int,
    limits: Limits,
    today: date,
    deck_ids: list[int] | None,
    matching: ColumnElement[bool] | None,
) -> _NewLanes:
    """One paged lane of new cards per new-card source with decks in focus (of the cards a
    search finds, ``matching``), each counted whole (:func:`count_new_cards`)."""
    tree = DeckTree.read(conn)
    focus = set(tree.nodes) if deck_ids is None else set(deck_ids)
    decks: dict[int | None, list[int]] = {}
    for deck_id in sorted(focus & set(tree.nodes)):
        decks.setdefault(new_source(tree, deck_id), []).append(deck_id)
    sources = sorted(decks, key=lambda source: source is not None)
    groups = [decks[source] for source in sources]
    counts = count_new_cards(conn, learner_id, today, groups, deck_ids is None, matching)
    lanes: list[_PagedLane] = []
    lane_of_deck: dict[int, int] = {}
    for source, source_decks, available in zip(sources, groups, counts, strict=True):
        allowance = limits.new if source is None else limits.deck_new.get(source, 0)
        loader = new_page_loader(learner_id, today, source_decks, matching)
        lane_of_deck.update(dict.fromkeys(source_decks, len(lanes)))
        lanes.append(_PagedLane(available, allowance, loader))
    return _NewLanes(lanes, limits.new_total, lane_of_deck)


class _PagedLane:
    """A lane read page by page: it shows at most ``allowance`` of its ``available`` cards."""

    def __init__(self, available: int, allowance: int, load: PageLoader) -> None:
        self.cards: deque[int] = deque()
        self.available = available
        self.allowance = allowance
        self._load = load

    def left(self) -> int:
        return max(0, min(self.available, self.allowance))

    def held_back(self) -> int:
        """Cards waiting beyond the allowance."""
        return max(0, self.available - self.allowance)

    def fill(self, conn: Connection) -> None:
        if self.cards or not self.left():
            return
        page = self._load(conn, min(PAGE_SIZE, self.left()))
        if page:
            self.cards.extend(page)
        else:
            self.available = 0

    def pop(self) -> int | None:
        if not self.cards:
            return None
        self.available -= 1
        self.allowance -= 1
        return self.cards.popleft()

    def restore(self, card_id: int) -> None:
        self.cards.appendleft(card_id)
        self.available += 1
        self.allowance += 1

    def remove(self, card_id: int) -> None:
        """Take a card out of turn (shown again after an undo): it counts like a pop."""
        if card_id in self.cards:
            self.cards.remove(card_id)
            self.available -= 1
            self.allowance -= 1

    def drop(self, card_id: int) -> bool:
        """Take out a counted card that is no longer available (a buried sibling), using no
        allowance; True when it was in a loaded page."""
        loaded = card_id in self.cards
        if loaded:
            self.cards.remove(card_id)
        self.available = max(0, self.available - 1)
        return loaded

    def undrop(self, card_id: int, loaded: bool) -> None:
        """Undo :meth:`drop`: a card that was in a loaded page goes to its head, any other is
        read with a later page."""
        if loaded:
            self.cards.appendleft(card_id)
        self.available += 1


class _NewLanes:
    """The new cards, one paged lane per new-card source (the roadmap, each top-level
    stand-alone deck), taken in turn so the sources are interleaved: the next card comes from
    the source that has shown the smallest share of what it started with (the roadmap first
    on a tie). ``total``, when set, caps them all together."""

    def __init__(
        self, lanes: list[_PagedLane], total: int | None, lane_of_deck: dict[int, int]
    ) -> None:
        self.lanes = lanes
        self.total = total
        self.lane_of_deck = lane_of_deck  # deck id -> index of the lane its new cards are in
        self._start = [max(lane.left(), 1) for lane in lanes]
        self._shown = [0] * len(lanes)
        self._owner: dict[int, int] = {}  # card id -> lane index, for every card handed out

    def left(self) -> int:
        left = sum(lane.left() for lane in self.lanes)
        return left if self.total is None else max(0, min(left, self.total))

    def held_back(self) -> int:
        """New cards waiting beyond the allowances."""
        return max(0, sum(lane.available for lane in self.lanes) - self.left())

    def fill(self, conn: Connection) -> None:
        """Read the first page of each lane."""
        for lane in self.lanes:
            lane.fill(conn)

    def pop(self, conn_factory: Callable[[], Connection]) -> int | None:
        if self.total is not None and self.total <= 0:
            return None
        while True:
            ready = [i for i, lane in enumerate(self.lanes) if lane.left()]
            if not ready:
                return None
            index = min(ready, key=lambda i: (self._shown[i] / self._start[i], i))
            lane = self.lanes[index]
            if not lane.cards:
                with conn_factory() as conn:
                    lane.fill(conn)
            card_id = lane.pop()
            if card_id is not None:
                self._owner[card_id] = index
                self._shown[index] += 1
                self._count(-1)
                return card_id

    def _count(self, change: int) -> None:
        if self.total is not None:
            self.total += change

    def restore(self, card_id: int) -> None:
        index = self._owner.get(card_id)
        if index is not None:
            self.lanes[index].restore(card_id)
            self._shown[index] -= 1
            self._count(1)

    def remove(self, card_id: int) -> None:
        """Take a card out of turn (shown again after an undo): it counts like a pop."""
        for index, lane in enumerate(self.lanes):
            if card_id in lane.cards:
                lane.remove(card_id)
                self._shown[index] += 1
                self._count(-1)

    def skipped(self, card_id: int, change: int) -> None:
        """Give back (``change`` 1) or take again (-1) the allowance a buried card used."""
        index = self._owner.get(card_id)
        if index is not None:
            self.lanes[index].allowance += change
            self._count(change)


class ReviewQueue:
    """The cards left for today, by lane; changed only through its methods.

    Learning cards (``(due_at, card id)`` pairs) are all held; new and review cards are
    counted, then read a page at a time through connections from ``conn_factory``.
    """

    def __init__(
        self,
        learning: list[tuple[datetime, int]],
        new: _NewLanes,
        reviews: _PagedLane,
        conn_factory: Callable[[], Connection],
    ) -> None:
        self._learning = sorted(learning)
        self._new = new
        self._reviews = reviews
        self._conn_factory = conn_factory

    @classmethod
    def build(
        cls,
        conn: Connection,
        conn_factory: Callable[[], Connection],
        learner_id: int,
        limits: Limits,
        clock: DayClock,
        now: datetime,
        deck_ids: list[int] | None = None,
        learn_ahead: timedelta = timedelta(0),
        matching: ColumnElement[bool] | None = None,
        lowest_recall: Scheduler | None = None,
        due_reviews: int | None = None,
    ) -> ReviewQueue:
        """Learner ``learner_id``'s queue today at aware UTC ``now`` for ``deck_ids``, within
        ``limits``; learning cards up to :func:`learning_cutoff` for ``learn_ahead``. With a
        search (``matching``, its SQL condition), only the cards it finds, its review cards
        due or not. Review cards come oldest due first, or with ``lowest_recall`` (a backlog
        day, never with a search) by :func:`lowest_recall_loader` with that scheduler.
        ``due_reviews`` is the count of due review cards in focus (:func:`count_due_reviews`)
        when the caller has it already (a backlog's, :attr:`Backlog.due`, without a focus).

        ``conn`` answers the build's queries (two counts, the learning cards, the first pages);
        later pages are read through ``conn_factory()``.
        """
        today = clock.day_of(now)
        learning = conn.execute(
            studied_cards(learner_id, tables.card_memory.c.due_at, tables.card.c.id)
            .where(*visible(today, deck_ids, matching))
            .where(tables.card_memory.c.state.in_([CardState.LEARNING, CardState.RELEARNING]))
            .where(tables.card_memory.c.due_at < learning_cutoff(clock, now, learn_ahead))
        ).all()
        reviews = _PagedLane(
            count_due_reviews(conn, learner_id, today, deck_ids, matching)
            if due_reviews is None
            else due_reviews,
            limits.reviews,
            review_page_loader(learner_id, today, deck_ids, matching)
            if lowest_recall is None
            else lowest_recall_loader(learner_id, today, deck_ids, lowest_recall),
        )
        new = _new_lanes(conn, learner_id, limits, today, deck_ids, matching)
        new.fill(conn)
        reviews.fill(conn)
        pending = [(due, card_id) for due, card_id in learning if due is not None]
        return cls(pending, new, reviews, conn_factory)

    @classmethod
    def of_cards(cls, card_ids: list[int], conn_factory: Callable[[], Connection]) -> ReviewQueue:
        """A queue of exactly ``card_ids`` (new cards, in that order), without limits, reviews
        or learning cards: a quiz such as ``trainer skip``'s."""
        lane = _PagedLane(len(card_ids), len(card_ids), lambda _conn, _limit: [])
        lane.cards.extend(card_ids)
        none = _PagedLane(0, 0, lambda _conn, _limit: [])
        return cls([], _NewLanes([lane], None, {}), none, conn_factory)

    def _fill(self, lane: _PagedLane) -> None:
        if not lane.cards and lane.left():
            with self._conn_factory() as conn:
                lane.fill(conn)

    def counts(self) -> dict[Lane, int]:
        """Cards left in each lane (learning counts every step still due today)."""
        return {
            "new": self._new.left(),
            "learning": len(self._learning),
            "review": self._reviews.left(),
        }

    def held_back(self) -> dict[Lane, int]:
        """New and review cards waiting beyond this session's limits."""
        return {"new": self._new.held_back(), "learning": 0, "review": self._reviews.held_back()}

    def pop(self, now: datetime, learn_ahead: timedelta) -> tuple[int, Lane] | None:
        """Take the next card to show at ``now``: its id and the lane it came from."""
        if self._learning and self._learning[0][0] <= now:
            return self._learning.pop(0)[1], "learning"
        self._fill(self._reviews)
        card_id = self._reviews.pop()
        if card_id is not None:
            return card_id, "review"
        card_id = self._new.pop(self._conn_factory)
        if card_id is not None:
            return card_id, "new"
        if self._learning and self._learning[0][0] <= now + learn_ahead:
            return self._learning.pop(0)[1], "learning"
        return None

    def next_learning_due(self) -> datetime | None:
        """When the earliest learning card still waiting falls due, if any."""
        return self._learning[0][0] if self._learning else None

    def learning_ids(self) -> list[int]:
        """The (re)learning cards still to come in this session."""
        return [card_id for _, card_id in self._learning]

    def push_learning(self, card_id: int, due_at: datetime) -> None:
        """Queue a card whose new (re)learning step ends at ``due_at`` today."""
        bisect.insort(self._learning, (due_at, card_id))

    def restore(self, card_id: int, lane: Lane, due_at: datetime | None) -> None:
        """Put a card back at the head of its lane (after an undo; learning cards by
        ``due_at``)."""
        if lane == "learning" and due_at is not None:
            self.push_learning(card_id, due_at)
        elif lane == "review":
            self._reviews.restore(card_id)
        elif lane == "new":
            self._new.restore(card_id)

    def skipped(self, card_id: int, lane: Lane, undone: bool = False) -> None:
        """A card taken from ``lane`` was buried, not answered, so it does not use up a limit
        (``undone``: the bury was undone, so it does again)."""
        change = -1 if undone else 1
        if lane == "review":
            self._reviews.allowance += change
        elif lane == "new":
            self._new.skipped(card_id, change)

    def _lane(self, lane: Lane, deck_id: int) -> _PagedLane | None:
        if lane == "review":
            return self._reviews
        index = self._new.lane_of_deck.get(deck_id) if lane == "new" else None
        return None if index is None else self._new.lanes[index]

    def drop(self, card_id: int, lane: Lane, deck_id: int) -> bool:
        """Take out a card of deck ``deck_id`` counted in ``lane`` ("new" or "review") that is
        no longer available today (a sibling buried by a rating): it uses no limit. Returns
        whether it was in a loaded page, for :meth:`undrop`."""
        paged = self._lane(lane, deck_id)
        return paged.drop(card_id) if paged is not None else False

    def undrop(self, card_id: int, lane: Lane, deck_id: int, loaded: bool) -> None:
        """Undo :meth:`drop` (the rating that buried the card was undone)."""
        paged = self._lane(lane, deck_id)
        if paged is not None:
            paged.undrop(card_id, loaded)

    def remove(self, card_id: int) -> None:
        """Take a card out of whichever lane holds it (it is shown now, or was answered)."""
        self._learning = [item for item in self._learning if item[1] != card_id]
        self._reviews.remove(card_id)
        self._new.remove(card_id)
