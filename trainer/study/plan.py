"""``trainer plan``: when the learner will be through each topic, section and the roadmap, and
what it costs a day.

The learner as they stand (:func:`read_situation`: every active card they have not suspended
with their memory of it, their new cards in the order the queue introduces them, today's
allowances left, their rating habits from their review log) goes through
:func:`trainer.scheduling.simulate.simulate` with their scheduler (own FSRS-6 parameters,
desired retention, steps), and a topic is done on the first simulated day the mastery rule
(:func:`trainer.study.mastery.is_done`, cards mastered by
:func:`~trainer.study.mastery.holds_mastery`) holds for it; a topic already done keeps the day
it was done, as status and the reports show it. The backlog rule of ``trainer review``
(:func:`trainer.study.queue.find_backlog`: lowest retrievability first, new cards paused)
applies on the simulated days too, and the plan counts them as catch-up days.
:func:`needed_new_cards` inverts the plan: the fewest new roadmap cards a day that finish the
roadmap by a date, found by bisection.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import partial

from sqlalchemy import Connection, func, select

from trainer.scheduling.adapter import Scheduler
from trainer.scheduling.simulate import (
    BacklogRule,
    Forecast,
    Habits,
    NewLane,
    SimCard,
    simulate,
)
from trainer.store.deck_tree import DeckTree
from trainer.store.memory import is_new, learner_cards, unsuspended
from trainer.store.models import Card, CardMemory, CardState, Rating, ReviewLog, given_rating
from trainer.store.settings import Settings
from trainer.study.mastery import (
    Roadmap,
    RoadmapSection,
    count_mastery,
    holds_mastery,
    is_done,
    latest_day,
    load_roadmap,
)
from trainer.study.queue import (
    ROADMAP,
    day_usage,
    deck_allowances,
    in_roadmap_order,
    new_source,
    recent_studied,
)

#: Days a plan looks ahead unless told otherwise.
PLAN_DAYS = 365
#: The simulation's seed: the same learner and database always get the same plan.
SEED = 20260101


@dataclass(frozen=True)
class Situation:
    """Learner's cards and habits as they stand on learner day ``today`` (day 0 of a plan).

    ``cards`` are their active cards (``group``: the topic's index in roadmap order, -1 for a
    stand-alone deck's card); ``roadmap_new`` the indexes of their new roadmap cards in queue
    order, ``roadmap_used`` the new roadmap cards they already learned today; ``deck_lanes``
    each top-level stand-alone deck's new cards with its allowance; ``reviews_used`` the review
    cards they already rated today; ``done_days`` the learner day each topic already done (by
    its index) was first done: it stays done (:mod:`trainer.study.mastery`);
    ``recent_studied`` the cards they studied on the learner days before (oldest first,
    :func:`~trainer.study.queue.recent_studied`), which set the backlog rule's threshold.
    """

    today: date
    sections: tuple[RoadmapSection, ...]
    cards: tuple[SimCard, ...]
    roadmap_new: tuple[int, ...]
    roadmap_used: int
    deck_lanes: tuple[NewLane, ...]
    reviews_used: int
    habits: Habits
    done_days: Mapping[int, date]
    recent_studied: tuple[int, ...] = ()


def rating_counts(conn: Connection, learner_id: int) -> dict[tuple[CardState, Rating], int]:
    """Learner ``learner_id``'s ratings (not the cards a passed skip put into review) counted by
    the card's state when rated and the rating."""
    rows = conn.execute(
        select(ReviewLog.state_before, ReviewLog.rating, func.count())
        .where(ReviewLog.learner_id == learner_id, given_rating())
        .group_by(ReviewLog.state_before, ReviewLog.rating)
    )
    return {(CardState(state), Rating(rating)): int(n) for state, rating, n in rows}


def read_situation(conn: Connection, learner_id: int, settings: Settings, today: date) -> Situation:
    """Read learner ``learner_id``'s :class:`Situation` on learner day ``today`` (read-only)."""
    sections = load_roadmap(conn).sections
    mastery = count_mastery(conn, learner_id, settings, Roadmap(sections, ()), today)
    group_of_deck = {
        deck_id: index
        for index, topic in enumerate(t for s in sections for t in s.topics)
        for deck_id in topic.deck_ids
    }
    tree = DeckTree.read(conn)
    cards: list[SimCard] = []
    lanes: dict[int | None, list[int]] = {}
    new_rows = conn.execute(
        in_roadmap_order(
            learner_cards(learner_id, Card.deck_id).where(
                Card.active.is_(True), unsuspended(), is_new()
            )
        )
    )
    for (deck_id,) in new_rows:
        lanes.setdefault(new_source(tree, deck_id), []).append(len(cards))
        cards.append(SimCard(group_of_deck.get(deck_id, -1)))
    studied = conn.execute(
        learner_cards(
            learner_id,
            Card.deck_id,
            CardMemory.state,
            CardMemory.stability_days,
            CardMemory.difficulty,
            CardMemory.due_day,
            CardMemory.last_review_day,
        ).where(Card.active.is_(True), unsuspended(), ~is_new())
    )
    for deck_id, state, stability, difficulty, due, last in studied:
        last_day = (last - today).days if last is not None else 0
        cards.append(
            SimCard(
                group_of_deck.get(deck_id, -1),
                CardState(state),
                stability,
                difficulty,
                (due - today).days if due is not None else 0,
                last_day,
            )
        )
    used = day_usage(conn, learner_id, today, tree)
    deck_lanes = tuple(
        NewLane(tuple(lanes.get(root, ())), allowance, max(allowance - used.new[root], 0))
        for root, allowance in deck_allowances(conn, learner_id, settings, tree).items()
    )
    return Situation(
        today,
        sections,
        tuple(cards),
        tuple(lanes.get(ROADMAP, ())),
        used.new[ROADMAP],
        deck_lanes,
        used.reviews,
        Habits.from_counts(rating_counts(conn, learner_id)),
        {
            index: topic.done_day
            for index, topic in enumerate(mastery.topics)
            if topic.done_day is not None
        },
        tuple(recent_studied(conn, learner_id, today)),
    )


@dataclass(frozen=True)
class DayLoad:
    """One planned learner day: review cards rated and new cards learned."""

    day: date
    reviews: int
    new: int


@dataclass(frozen=True)
class TopicPlan:
    """A topic and the learner day it is predicted to be done (None: not within the plan)."""

    slug: str
    title: str
    done_day: date | None


@dataclass(frozen=True)
class SectionPlan:
    """A section, the day its last topic is predicted to be done, and its topics."""

    slug: str
    title: str
    done_day: date | None
    topics: tuple[TopicPlan, ...]


@dataclass(frozen=True)
class Plan:
    """A forecast over ``days`` from the situation's day, at ``retention`` and
    ``new_cards_per_day`` new roadmap cards a day; ``roadmap_done_day`` is the day the last
    section is predicted done (None: not within the plan); ``catch_up_days`` the planned days
    the backlog rule is on (new cards paused)."""

    days: tuple[DayLoad, ...]
    sections: tuple[SectionPlan, ...]
    roadmap_done_day: date | None
    retention: float
    new_cards_per_day: int
    catch_up_days: int

    def reviews_until(self, day: date) -> tuple[float, int]:
        """(mean, highest) review cards a day from the first planned day through ``day``."""
        counts = [load.reviews for load in self.days if load.day <= day] or [0]
        return sum(counts) / len(counts), max(counts)


def forecast(
    situation: Situation, settings: Settings, days: int = PLAN_DAYS, new_cards: int | None = None
) -> Plan:
    """The plan for ``days`` learner days from ``situation`` with learner ``settings``
    (``settings.desired_retention`` the retention forecast at), introducing ``new_cards`` new
    roadmap cards a day (None: ``settings.new_cards_per_day``)."""
    per_day = settings.new_cards_per_day if new_cards is None else new_cards
    roadmap_lane = NewLane(situation.roadmap_new, per_day, max(per_day - situation.roadmap_used, 0))
    result: Forecast = simulate(
        Scheduler(settings),
        situation.habits,
        situation.cards,
        (roadmap_lane, *situation.deck_lanes),
        settings.reviews_per_day,
        max(settings.reviews_per_day - situation.reviews_used, 0),
        days,
        SEED,
        partial(holds_mastery, settings=settings),
        partial(is_done, settings=settings),
        BacklogRule.of(settings),
        situation.recent_studied,
    )
    start = situation.today
    loads = tuple(
        DayLoad(start + timedelta(days=d), reviews, new)
        for d, (reviews, new) in enumerate(zip(result.reviews, result.new, strict=True))
    )
    index = 0
    sections = []
    for section in situation.sections:
        topics = []
        for topic in section.topics:
            offset = result.done_day.get(index)
            done = situation.done_days.get(index)
            if done is None and offset is not None:
                done = start + timedelta(days=offset)
            topics.append(TopicPlan(topic.slug, topic.title, done))
            index += 1
        done_day = latest_day([t.done_day for t in topics])
        sections.append(SectionPlan(section.slug, section.title, done_day, tuple(topics)))
    return Plan(
        loads,
        tuple(sections),
        latest_day([s.done_day for s in sections]),
        settings.desired_retention,
        per_day,
        sum(result.catch_up),
    )


#: Desired retention above which ``trainer config desired_retention`` shows the daily cost
#: before setting it (issue 11: the workload rises steeply towards 1).
COSTLY_RETENTION = 0.95


def retention_cost(situation: Situation, settings: Settings, retention: float) -> str:
    """One line comparing the plan at ``settings``' desired retention with the plan at
    ``retention``: the mean review cards a day over :data:`PLAN_DAYS` days and the day the
    roadmap is predicted done at each."""

    def figures(plan: Plan) -> str:
        mean, _ = plan.reviews_until(plan.days[-1].day)
        done = plan.roadmap_done_day
        finish = f"roadmap done {done.isoformat()}" if done else "roadmap not done within a year"
        return f"about {mean:.0f} reviews a day, {finish}"

    now = forecast(situation, settings)
    then = forecast(situation, at_retention(settings, retention))
    return (
        f"At retention {retention:g}: {figures(then)}"
        f" (now at {settings.desired_retention:g}: {figures(now)})."
    )


def at_retention(settings: Settings, retention: float | None) -> Settings:
    """``settings`` with ``retention`` as the desired retention (None: as they are)."""
    return settings if retention is None else replace(settings, desired_retention=retention)


@dataclass(frozen=True)
class Needed:
    """What finishing the roadmap by a day takes: ``new_cards`` new roadmap cards a day and
    the plan at that number (None for both when even every new card on the first day does
    not finish it in time)."""

    by: date
    new_cards: int | None
    plan: Plan | None


def needed_new_cards(situation: Situation, settings: Settings, by: date) -> Needed:
    """The fewest new roadmap cards a day whose plan finishes the roadmap by learner day
    ``by`` (on or after the situation's day).

    More new cards a day finish sooner only up to a point: past what the review limit can
    carry, reviews pile up and the roadmap finishes later. So the numbers are tried doubling
    from 1 (up to all of the learner's new roadmap cards at once) until one finishes in time,
    then the fewest between it and the one before is found by bisection (the simulation's
    draws are fixed by the seed, so a number always gives the same plan).
    """
    days = (by - situation.today).days + 1

    def finishes(per_day: int) -> Plan | None:
        plan = forecast(situation, settings, days, per_day)
        done = plan.roadmap_done_day
        return plan if done is not None and done <= by else None

    most = max(len(situation.roadmap_new), 1)
    low, high = 0, 1
    best = finishes(high)
    while best is None:
        if high >= most:
            return Needed(by, None, None)
        low, high = high, min(high * 2, most)
        best = finishes(high)
    while high - low > 1:
        middle = (low + high) // 2
        plan = finishes(middle)
        if plan is None:
            low = middle
        else:
            high, best = middle, plan
    return Needed(by, high, best)
