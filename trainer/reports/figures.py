"""The mastery figures every report shows: per topic, section and the whole roadmap (or the part
of it a report is limited to), with the review history and due forecast the charts draw.

Everything is aggregated in SQL by grouped queries over the card table and the review log, never
by loading reviews or cards into Python. Cards, mastered cards and done topics come from the
mastery engine (:mod:`trainer.study.mastery`), the same as ``trainer status``; the reports add
their per-deck figures to its query: retrievability too, summed per deck in the same query
as the card counts (the FSRS formula comes from :mod:`trainer.scheduling.adapter`; ``power()`` is
standard SQL, which :mod:`trainer.store.db` supplies where SQLite lacks it). Definitions, and how
the first-done day is derived from the review log, are in docs/reports.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    Label,
    SQLColumnExpression,
    and_,
    case,
    func,
    literal,
    not_,
    or_,
    select,
)
from sqlalchemy.sql import ColumnElement

from trainer.scheduling.adapter import Scheduler
from trainer.scheduling.days import DayClock
from trainer.store import tables
from trainer.store.db import days_between
from trainer.store.lookup import select_named
from trainer.store.memory import is_leech, is_new, of_active_cards, unsuspended
from trainer.store.settings import Settings
from trainer.store.tables import CardState, Rating, given_rating
from trainer.study.mastery import (
    DeckTally,
    TopicMastery,
    count_mastery,
    is_mastered,
    latest_day,
    load_roadmap,
    narrow,
    retrievability_sum,
    top_decks,
)

#: Learner days (today included) over which reviews, true retention and the pace of new cards
#: are counted; also how far ahead "retained in 30 days" and the due forecast look.
RECENT_DAYS = 30
#: Learner days (today included) counted as "due soon".
DUE_SOON_DAYS = 7
#: Whole weeks of review history before the current one (Monday first) that the charts draw.
HISTORY_WEEKS = 52


@dataclass(frozen=True)
class Figures:
    """Mastery figures of a group of active cards (a deck, topic, section or the roadmap).

    The four state counts add up to ``cards``: ``mastered`` counts cards whose stability reaches
    the mastery threshold in any state; ``new``, ``learning`` (learning and relearning) and
    ``review`` count the others. ``recalled`` is the number of cards reviewed at least once and
    ``retrievability_now`` / ``retrievability_later`` the sums of their FSRS retrievability today
    and in :data:`RECENT_DAYS` days without reviews. ``reviews_30d`` counts every rating of the
    last :data:`RECENT_DAYS` learner days; ``retention_reviews_30d`` those that were a review-state
    card's first rating of its learner day, ``retention_passed_30d`` those of them not rated
    Again. ``due_7d`` counts unsuspended cards due within :data:`DUE_SOON_DAYS` learner days
    (overdue ones included); ``leeches`` cards marked leeches (:mod:`trainer.study.leeches`).
    ``last_reviewed_at`` is aware UTC.
    """

    cards: int = 0
    new: int = 0
    learning: int = 0
    review: int = 0
    mastered: int = 0
    lapses: int = 0
    leeches: int = 0
    due_7d: int = 0
    last_reviewed_at: datetime | None = None
    recalled: int = 0
    retrievability_now: float = 0.0
    retrievability_later: float = 0.0
    reviews_30d: int = 0
    retention_reviews_30d: int = 0
    retention_passed_30d: int = 0

    def __add__(self, other: Figures) -> Figures:
        times = [t for t in (self.last_reviewed_at, other.last_reviewed_at) if t is not None]
        return Figures(
            cards=self.cards + other.cards,
            new=self.new + other.new,
            learning=self.learning + other.learning,
            review=self.review + other.review,
            mastered=self.mastered + other.mastered,
            lapses=self.lapses + other.lapses,
            leeches=self.leeches + other.leeches,
            due_7d=self.due_7d + other.due_7d,
            last_reviewed_at=max(times, default=None),
            recalled=self.recalled + other.recalled,
            retrievability_now=self.retrievability_now + other.retrievability_now,
            retrievability_later=self.retrievability_later + other.retrievability_later,
            reviews_30d=self.reviews_30d + other.reviews_30d,
            retention_reviews_30d=self.retention_reviews_30d + other.retention_reviews_30d,
            retention_passed_30d=self.retention_passed_30d + other.retention_passed_30d,
        )

    @staticmethod
    def total(parts: Iterable[Figures]) -> Figures:
        """The figures of all ``parts`` together."""
        result = Figures()
        for part in parts:
            result += part
        return result

    @property
    def share(self) -> float:
        """Mastered share of the cards, 0.0-1.0 (0.0 without cards)."""
        return self.mastered / self.cards if self.cards else 0.0

    @property
    def retained_now(self) -> float | None:
        """Mean retrievability (0-1) of the reviewed cards today; None if none was reviewed."""
        return self.retrievability_now / self.recalled if self.recalled else None

    @property
    def retained_in_30d(self) -> float | None:
        """Mean retrievability (0-1) of the reviewed cards in 30 days if none is reviewed."""
        return self.retrievability_later / self.recalled if self.recalled else None

    @property
    def true_retention_30d(self) -> float | None:
        """Share (0-1) of first daily ratings of review cards that were not Again over the last
        30 learner days (Anki's true retention); None without such ratings."""
        if not self.retention_reviews_30d:
            return None
        return self.retention_passed_30d / self.retention_reviews_30d


@dataclass(frozen=True)
class TopicReport:
    """A roadmap topic (or a stand-alone deck: ``slug`` is then the deck name) and its figures.

    A stand-alone deck's figures include the decks under it; ``parent`` is the slug of the deck
    above it (None for a topic and a deck at the top, see :func:`top_decks`).
    ``first_done_day`` is the learner day on which the topic was first done (it stays done);
    None when it is not done. ``retention`` is the mean retrievability today (0-1) of its
    studied cards (None: none studied) and ``needs_refresh`` whether it is done with a
    retention below the learner's ``refresh_retention`` (see :mod:`trainer.study.mastery` and
    docs/reports.md).
    """

    slug: str
    title: str
    subtopics: tuple[str, ...]
    figures: Figures
    done: bool
    first_done_day: date | None
    parent: str | None = None
    retention: float | None = None
    needs_refresh: bool = False


@dataclass(frozen=True)
class SectionReport:
    """A roadmap section: its topics in roadmap order and their figures together.

    Done once every topic is; ``first_done_day`` is the learner day the last of them was first
    done (done topics stay done), None when the section is not done.
    """

    slug: str
    title: str
    topics: tuple[TopicReport, ...]
    figures: Figures
    done: bool
    first_done_day: date | None


@dataclass(frozen=True)
class DayActivity:
    """One learner day of review history: ratings given, new cards started, and the ratings
    counted for true retention (first daily rating of a review card) and how many passed."""

    day: date
    reviews: int = 0
    new_cards: int = 0
    retention_reviews: int = 0
    retention_passed: int = 0


@dataclass(frozen=True)
class Scope:
    """What a report covers: the whole roadmap, one section, one topic or one extra deck with
    the decks under it (each a slug or a title, any case)."""

    section: str | None = None
    topic: str | None = None
    deck: str | None = None

    @property
    def label(self) -> str | None:
        """How the report names its scope (``None`` for the whole roadmap)."""
        if self.deck is not None:
            return f"deck {self.deck}"
        if self.topic is not None:
            return f"topic {self.topic}"
        if self.section is not None:
            return f"section {self.section}"
        return None


@dataclass(frozen=True)
class Report:
    """Everything a report shows, at aware UTC ``generated_at`` on learner day ``day``.

    ``totals`` are the figures of everything in scope (sections and stand-alone decks);
    ``roadmap_done`` / ``roadmap_first_done_day`` say whether every topic in scope is done and
    since when. ``new_cards_per_day`` is the pace of new cards over the last 30 learner days
    (or since the first review, when more recent, and at least one: see :func:`_pace_days`),
    never negative, and ``completion_day`` the learner day on which the last new card would be
    started at that pace (None when every card is started or the pace is zero). ``history``
    holds every learner day from the Monday :data:`HISTORY_WEEKS` weeks before this week's
    through ``day``; ``forecast`` the cards due on each of the next :data:`RECENT_DAYS`
    learner days (overdue cards count on ``day``); both are empty in a report built without
    its charts (see :func:`build_report`). ``zone`` is the learner's time zone (None:
    the system's) for showing times. ``found`` are the done topics without a stored done day
    (:attr:`~trainer.study.mastery.Mastery.found`), which no format shows: the command stores
    them (:func:`~trainer.study.mastery.keep_found`).
    """

    generated_at: datetime
    day: date
    zone: tzinfo | None
    settings: Settings
    scope: Scope
    sections: tuple[SectionReport, ...]
    extra_decks: tuple[TopicReport, ...]
    totals: Figures
    roadmap_done: bool
    roadmap_first_done_day: date | None
    new_cards_per_day: float
    completion_day: date | None
    history: tuple[DayActivity, ...]
    forecast: tuple[tuple[date, int], ...]
    found: tuple[tuple[str, date], ...] = ()

    @property
    def topics(self) -> list[TopicReport]:
        """The roadmap topics in scope, in roadmap order."""
        return [topic for section in self.sections for topic in section.topics]

    @property
    def has_roadmap(self) -> bool:
        """False for a report on one stand-alone deck (``--deck``): it has no roadmap topics
        to talk about."""
        return self.scope.deck is None

    @property
    def topics_done(self) -> int:
        """How many of the topics in scope are done."""
        return sum(topic.done for topic in self.topics)

    def topic(self, slug: str) -> TopicReport:
        """The topic (or stand-alone deck) ``slug``; ``KeyError`` if the report has none."""
        for topic in (*self.topics, *self.extra_decks):
            if topic.slug == slug:
                return topic
        raise KeyError(slug)


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """SQL counting the rows aggregated for which ``condition`` holds."""
    return func.count(case((condition, 1)))


def _in_decks(
    column: SQLColumnExpression[int], deck_ids: list[int] | None
) -> list[ColumnElement[bool]]:
    """The condition that ``column`` (a deck id) is in scope; none for the whole collection."""
    return [] if deck_ids is None else [column.in_(deck_ids)]


def _card_columns(settings: Settings, clock: DayClock, today: date) -> list[Label[Any]]:
    """The per-deck aggregates over the active cards with a learner's memory columns that the
    reports add to the mastery engine's query (:func:`count_mastery`): unsuspended cards by
    state, lapses and leeches (suspended cards too), last review, unsuspended cards due within
    :data:`DUE_SOON_DAYS`, and the retrievability sums."""
    unmastered = not_(
        func.coalesce(is_mastered(tables.card_memory.c.stability_days, settings), False)
    )
    learning = tables.card_memory.c.state.in_([CardState.LEARNING, CardState.RELEARNING])
    soon = today + timedelta(days=DUE_SOON_DAYS - 1)
    due_soon = or_(
        and_(tables.card_memory.c.state == CardState.REVIEW, tables.card_memory.c.due_day <= soon),
        and_(learning, tables.card_memory.c.due_at < clock.day_start(soon + timedelta(days=1))),
    )
    reviewed = and_(
        tables.card_memory.c.last_review_day.is_not(None), tables.card_memory.c.stability_days > 0
    )
    elapsed = days_between(tables.card_memory.c.last_review_day, literal(today, Date))
    scheduler = Scheduler(settings)
    return [
        _count(and_(is_new(), unsuspended())).label("new"),
        _count(and_(learning, unmastered, unsuspended())).label("learning"),
        _count(
            and_(tables.card_memory.c.state == CardState.REVIEW, unmastered, unsuspended())
        ).label("review"),
        func.coalesce(func.sum(tables.card_memory.c.lapses), 0).label("lapses"),
        _count(is_leech()).label("leeches"),
        _count(and_(due_soon, unsuspended())).label("due_7d"),
        func.max(tables.card_memory.c.last_review_at).label("last_reviewed_at"),
        _count(reviewed).label("recalled"),
        retrievability_sum(scheduler, tables.card_memory.c.stability_days, elapsed).label("now"),
        retrievability_sum(
            scheduler, tables.card_memory.c.stability_days, elapsed + RECENT_DAYS
        ).label("later"),
    ]


def _card_figures(tally: DeckTally) -> Figures:
    """A deck's card figures from its tally with the :func:`_card_columns` aggregates."""
    extra = tally.extra
    return Figures(
        cards=tally.cards,
        new=int(extra["new"]),
        learning=int(extra["learning"]),
        review=int(extra["review"]),
        mastered=tally.mastered,
        lapses=int(extra["lapses"]),
        leeches=int(extra["leeches"]),
        due_7d=int(extra["due_7d"]),
        last_reviewed_at=extra["last_reviewed_at"],
        recalled=int(extra["recalled"]),
        retrievability_now=float(extra["now"]),
        retrievability_later=float(extra["later"]),
    )


def _rating_counts() -> list[ColumnElement[int]]:
    """The counts :func:`_fold_ratings` reads of a group of ratings with one state before the
    rating: all of them, those whose previous rating was on an earlier learner day
    (``elapsed_days`` > 0), and those of them not Again. Grouping by the state too (the day
    index's next column) spares each rating the tests of its state."""
    later_day = tables.review_log.c.elapsed_days > 0
    return [
        func.count(),
        _count(later_day),
        _count(and_(later_day, tables.review_log.c.rating != Rating.AGAIN)),
    ]


def _fold_ratings(rows: Iterable[Any]) -> dict[Any, tuple[int, int, int, int]]:
    """Rows of (group, state before the rating, :func:`_rating_counts`) as, per group:
    ratings, new cards started (ratings of a new card), true-retention ratings and those
    passed. A true-retention rating is a review-state card's first of the learner day: its
    previous rating was on an earlier learner day, so later same-day ratings and ratings of
    learning or relearning cards do not count (Anki's true retention); it passed unless
    Again."""
    totals: dict[Any, list[int]] = {}
    for group, state, ratings, later_day, passed in rows:
        counts = totals.setdefault(group, [0, 0, 0, 0])
        counts[0] += ratings
        if state == CardState.NEW:
            counts[1] += ratings
        elif state == CardState.REVIEW:
            counts[2] += later_day
            counts[3] += passed
    return {group: (c[0], c[1], c[2], c[3]) for group, c in totals.items()}


def _recent_reviews(
    conn: Connection, learner_id: int, start: date, deck_ids: list[int] | None
) -> dict[int, tuple[int, int, int, int]]:
    """Learner ``learner_id``'s ratings per deck, since learner day ``start`` (later learner
    days included: ratings given before the time zone moved west): ratings, new cards started,
    true-retention ratings, passed ones (:func:`_fold_ratings`)."""
    state = tables.review_log.c.state_before
    rows = conn.execute(
        select(tables.card.c.deck_id, state, *_rating_counts())
        .join(tables.card, tables.card.c.id == tables.review_log.c.card_id)
        .where(
            tables.review_log.c.learner_id == learner_id,
            given_rating(),
            tables.review_log.c.review_day >= start,
            *_in_decks(tables.card.c.deck_id, deck_ids),
        )
        .group_by(tables.card.c.deck_id, state)
    )
    return _fold_ratings(rows)


def _scoped_log(learner_id: int, deck_ids: list[int] | None) -> list[ColumnElement[bool]]:
    """The condition that a review log row is a rating learner ``learner_id`` gave (not a card
    a passed skip put into review), of a card in scope."""
    mine = and_(tables.review_log.c.learner_id == learner_id, given_rating())
    if deck_ids is None:
        return [mine]
    return [
        mine,
        tables.review_log.c.card_id.in_(
            select(tables.card.c.id).where(tables.card.c.deck_id.in_(deck_ids))
        ),
    ]


def _history(
    conn: Connection, learner_id: int, start: date, today: date, deck_ids: list[int] | None
) -> tuple[DayActivity, ...]:
    """Every learner day from ``start`` through ``today`` with learner ``learner_id``'s review
    activity (:func:`_fold_ratings`)."""
    logged, state = tables.review_log.c.review_day, tables.review_log.c.state_before
    rows = conn.execute(
        select(logged, state, *_rating_counts())
        .where(logged >= start, logged <= today, *_scoped_log(learner_id, deck_ids))
        .group_by(logged, state)
    )
    by_day = {
        active: DayActivity(active, *counts) for active, counts in _fold_ratings(rows).items()
    }
    days = (start + timedelta(days=n) for n in range((today - start).days + 1))
    return tuple(by_day.get(day, DayActivity(day)) for day in days)


def _first_review_day(conn: Connection, learner_id: int, deck_ids: list[int] | None) -> date | None:
    """The learner day of learner ``learner_id``'s first rating in scope, if any."""
    first: date | None = conn.scalar(
        select(func.min(tables.review_log.c.review_day)).where(*_scoped_log(learner_id, deck_ids))
    )
    return first


def _pace_days(first_review: date | None, today: date) -> int:
    """The learner days the pace of new cards is measured over: from the first rating's
    learner day through ``today``, at least 1 and at most :data:`RECENT_DAYS` (all of them
    before any rating). A first rating on a learner day after ``today`` (the time zone moved
    west since, or the clock back) counts as today's, so the span is never zero or negative."""
    if first_review is None:
        return RECENT_DAYS
    return min(RECENT_DAYS, max(1, (today - first_review).days + 1))


def _forecast(
    conn: Connection, learner_id: int, clock: DayClock, today: date, deck_ids: list[int] | None
) -> tuple[tuple[date, int], ...]:
    """Learner ``learner_id``'s cards due on each of the next :data:`RECENT_DAYS` learner days,
    overdue ones today; a buried card counts on the day its burial ends. Read from the
    learner's memory rows alone (their queue indexes), the cards in scope by
    :func:`~trainer.store.memory.of_active_cards`."""
    last = today + timedelta(days=RECENT_DAYS - 1)
    counts: dict[date, int] = defaultdict(int)
    memory = tables.card_memory.c
    scoped = [
        memory.learner_id == learner_id,
        unsuspended(),
        of_active_cards(deck_ids),
    ]
    due, buried = memory.due_day, memory.buried_until_day
    for due_day, buried_until, number in conn.execute(
        select(due, buried, func.count())
        .where(memory.state == CardState.REVIEW, due <= last, *scoped)
        .group_by(due, buried)
    ):
        counts[max(due_day or today, buried_until or today, today)] += int(number)
    for due_at, buried_until in conn.execute(
        select(memory.due_at, buried).where(
            memory.state.in_([CardState.LEARNING, CardState.RELEARNING]), *scoped
        )
    ):
        step_end = clock.day_of(due_at) if due_at is not None else today
        counts[max(step_end, buried_until or today, today)] += 1
    return tuple(
        (day, counts.get(day, 0)) for day in (today + timedelta(days=n) for n in range(RECENT_DAYS))
    )


def build_report(
    conn: Connection,
    learner_id: int,
    settings: Settings,
    clock: DayClock,
    now: datetime,
    scope: Scope | None = None,
    charts: bool = True,
) -> Report:
    """Learner ``learner_id``'s mastery report (with their ``settings``) at aware UTC ``now``
    for ``scope`` (default: everything); read-only. Without ``charts`` the year's review
    history and the due forecast are not read (a third of the work on a large collection) and
    stay empty: for the formats that draw neither (:data:`trainer.reports.CHARTED`).

    Raises :class:`UsageError` as :func:`~trainer.store.lookup.select_named` does.
    """
    scope = scope or Scope()
    today = clock.day_of(now)
    chosen = select_named(conn, section=scope.section, topic=scope.topic, deck=scope.deck)
    roadmap = narrow(conn, load_roadmap(conn), chosen)
    deck_ids = None if scope == Scope() else roadmap.deck_ids
    columns = _card_columns(settings, clock, today)
    mastery = count_mastery(conn, learner_id, settings, roadmap, today, columns, deck_ids)
    recent_start = today - timedelta(days=RECENT_DAYS - 1)
    recent = _recent_reviews(conn, learner_id, recent_start, deck_ids)

    def figures_of(topic: TopicMastery) -> Figures:
        tallies = {tally.deck_id: tally for tally in topic.decks}
        parts = []
        for deck_id in topic.topic.deck_ids:
            reviews, _started, retention_reviews, passed = recent.get(deck_id, (0, 0, 0, 0))
            tally = tallies.get(deck_id)
            parts.append(
                replace(
                    Figures() if tally is None else _card_figures(tally),
                    reviews_30d=reviews,
                    retention_reviews_30d=retention_reviews,
                    retention_passed_30d=passed,
                )
            )
        return Figures.total(parts)

    def report_of(topic: TopicMastery) -> TopicReport:
        place = topic.topic
        return TopicReport(
            place.slug,
            place.title,
            place.subtopics,
            figures_of(topic),
            topic.done,
            topic.done_day,
            place.parent,
            topic.retention,
            topic.needs_refresh,
        )

    sections: list[SectionReport] = []
    for section in mastery.sections:
        reports = [report_of(topic) for topic in section.topics]
        sections.append(
            SectionReport(
                section.slug,
                section.title,
                tuple(reports),
                Figures.total(t.figures for t in reports),
                section.done,
                latest_day([t.first_done_day for t in reports]),
            )
        )
    extra = [report_of(deck) for deck in mastery.extra_decks]
    totals = Figures.total([*(s.figures for s in sections), *(d.figures for d in top_decks(extra))])

    history: tuple[DayActivity, ...] = ()
    forecast: tuple[tuple[date, int], ...] = ()
    if charts:
        history_start = today - timedelta(days=today.weekday() + 7 * HISTORY_WEEKS)
        history = _history(conn, learner_id, history_start, today, deck_ids)
        forecast = _forecast(conn, learner_id, clock, today, deck_ids)
    pace_days = _pace_days(_first_review_day(conn, learner_id, deck_ids), today)
    started = sum(started for _reviews, started, _retention, _passed in recent.values())
    completion = None
    if totals.new and started:  # days to start the rest: new / (started / pace_days), rounded up
        completion = today + timedelta(days=-(-totals.new * pace_days // started))
    return Report(
        generated_at=now,
        day=today,
        zone=clock.zone,
        settings=settings,
        scope=scope,
        sections=tuple(sections),
        extra_decks=tuple(extra),
        totals=totals,
        roadmap_done=mastery.done,
        roadmap_first_done_day=latest_day([t.first_done_day for s in sections for t in s.topics]),
        new_cards_per_day=started / pace_days,
        completion_day=completion,
        history=history,
        forecast=forecast,
        found=mastery.found,
    )
