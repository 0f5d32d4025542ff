"""``trainer skip TOPIC``: a verified skip of a topic the learner already knows.

A sample of the topic's new cards is quizzed through the normal review screen: for each of the
topic's must-know points (its deck file's ``[[coverage]]`` list, in file order) not yet covered
by a chosen card, the new card that covers it and the most other uncovered points (the first
in deck order on a tie); a topic without a coverage list gives every tenth new card (at least
one). The quizzed cards keep their real ratings. When every sampled card was answered and at
least :data:`PASS_SHARE` of them passed (Hard, Good or Easy), the topic's other new cards
enter review as if first answered Easy, through the scheduler (load balanced), each with a
review-log row of kind ``skip`` (:data:`~trainer.store.models.SKIP`): they come back to be
confirmed on their first due day instead of waiting as new. The optimizer leaves ``skip`` rows
out (they are not answers), and they use no new-card allowance. Otherwise nothing else
changes, and the result names the must-know points whose cards were answered Again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, func, insert, select

from trainer.content.parser import CoveragePoint, DeckSpec
from trainer.errors import UsageError
from trainer.scheduling.adapter import DayLoad, Scheduler
from trainer.scheduling.days import DayClock
from trainer.store.lookup import find
from trainer.store.memory import is_new, learner_cards, put_memory, read_memory, visible_on
from trainer.store.models import SKIP, Card, CardState, Deck, Rating, ReviewLog
from trainer.store.settings import Settings, easy_day_shares
from trainer.study.mastery import record_done
from trainer.study.session import due_per_day

#: The share of the sampled cards that must pass for the rest of the topic to be skipped (the
#: issue's 90%).
PASS_SHARE = 0.9
#: Without a coverage list, one new card in this many is sampled.
SAMPLE_EVERY = 10


@dataclass(frozen=True)
class SkipPlan:
    """What a skip of topic ``slug`` (``title``) quizzes: the ``sample`` card ids in quiz order,
    the coverage points each sampled card covers (by card id), every coverage point of the
    topic, the ``rest``: the topic's other new cards, by card id, and the newest review-log id
    when it was planned (the quiz's ratings come after it)."""

    slug: str
    title: str
    sample: tuple[int, ...]
    covers: dict[int, tuple[CoveragePoint, ...]]
    points: tuple[CoveragePoint, ...]
    rest: tuple[int, ...]
    last_log_id: int


def plan_skip(
    conn: Connection, learner_id: int, topic: str, decks: Sequence[DeckSpec], today: date
) -> SkipPlan:
    """The sample and the rest of a skip of ``topic`` (slug or title) by learner
    ``learner_id`` on learner ``today`` (cards buried past it are not quizzed, but enter review
    with the rest); ``decks`` are the built-in deck files (their coverage lists and the points
    each card covers).

    Raises :class:`UsageError` for an unknown topic, or one without new cards to quiz today.
    """
    found = find(conn, "topic", topic, option=False)
    rows = conn.execute(
        learner_cards(learner_id, Card.id, Card.key, Deck.source, visible_on(today))
        .join(Deck, Deck.id == Card.deck_id)
        .where(Deck.topic_id == found.id, Card.active.is_(True), is_new())
        .order_by(Deck.id, Card.position, Card.id)
    ).all()
    if not rows:
        raise UsageError(f"topic {found.title!r} has no new cards to skip")
    spec = next((d for d in decks if d.topic == found.slug), None)
    points = spec.coverage if spec is not None else ()
    by_key = {point.key: point for point in points}
    card_covers = {
        card.key: tuple(by_key[key] for key in card.covers if key in by_key)
        for card in (spec.cards if spec is not None else ())
    }
    covers = {  # the cards that can be quizzed today: not buried
        card_id: card_covers.get(key, ()) if source == "builtin" else ()
        for card_id, key, source, shown in rows
        if shown
    }
    sample: list[int] = []
    uncovered = set(by_key)
    for point in points:
        if point.key not in uncovered:
            continue
        candidates = [c for c in covers if point in covers[c] and c not in sample]
        if not candidates:
            continue
        best = max(candidates, key=lambda c: len({p.key for p in covers[c]} & uncovered))
        sample.append(best)
        uncovered -= {p.key for p in covers[best]}
    if not sample:
        sample = list(covers)[::SAMPLE_EVERY]
    if not sample:
        raise UsageError(f"topic {found.title!r} has no new cards to quiz today (all buried)")
    rest = tuple(card_id for card_id, *_ in rows if card_id not in sample)
    last = conn.scalar(select(func.max(ReviewLog.id)))
    return SkipPlan(
        found.slug,
        found.title,
        tuple(sample),
        {card_id: covers[card_id] for card_id in sample},
        points,
        rest,
        int(last or 0),
    )


@dataclass(frozen=True)
class SkipResult:
    """How a skip went: the sampled cards ``answered`` and ``passed`` (Hard, Good or Easy on
    their first answer), whether the topic was ``skipped``, the cards that entered review
    (``entered``, with the first learner day one of them is due), and the coverage points of
    the cards answered Again, to study, in the topic's order."""

    answered: int
    passed: int
    skipped: bool
    entered: int
    first_due: date | None
    study: tuple[CoveragePoint, ...]


def finish_skip(
    conn: Connection,
    learner_id: int,
    settings: Settings,
    clock: DayClock,
    plan: SkipPlan,
    now: datetime,
) -> SkipResult:
    """Judge the quiz of ``plan`` (the first ratings of its sampled cards logged after it was
    planned) and, when it passed, put the topic's other new cards into review as if first
    answered Easy at ``now``, in the connection's open transaction (the caller commits). A rest
    card answered meanwhile (no longer new) is left as it is."""
    first: dict[int, int] = {}
    for card_id, rating in conn.execute(
        select(ReviewLog.card_id, ReviewLog.rating)
        .where(
            ReviewLog.learner_id == learner_id,
            ReviewLog.card_id.in_(plan.sample),
            ReviewLog.id > plan.last_log_id,
            ReviewLog.state_before == CardState.NEW,
        )
        .order_by(ReviewLog.id)
    ):
        first.setdefault(card_id, rating)
    passed = sum(rating != Rating.AGAIN for rating in first.values())
    skipped = len(first) == len(plan.sample) and passed >= PASS_SHARE * len(plan.sample)
    failed = {card_id for card_id, rating in first.items() if rating == Rating.AGAIN}
    weak = {point.key for c in failed for point in plan.covers[c]}
    study = () if skipped else tuple(p for p in plan.points if p.key in weak)
    if not skipped:
        return SkipResult(len(first), passed, False, 0, None, study)
    entered, first_due = _enter_review(conn, learner_id, settings, clock, plan.rest, now)
    return SkipResult(len(first), passed, True, entered, first_due, ())


def _enter_review(
    conn: Connection,
    learner_id: int,
    settings: Settings,
    clock: DayClock,
    card_ids: Sequence[int],
    now: datetime,
) -> tuple[int, date | None]:
    scheduler = Scheduler(settings)
    today = clock.day_of(now)
    due = due_per_day(conn, learner_id, today)
    load = DayLoad(due, easy_day_shares(settings))
    still_new = set(
        conn.scalars(learner_cards(learner_id, Card.id).where(Card.id.in_(card_ids), is_new()))
    )
    rows = []
    days = []
    for card_id in card_ids:
        if card_id not in still_new:
            continue
        stored = read_memory(conn, learner_id, card_id)
        outcome = scheduler.review(card_id, stored.memory, Rating.EASY, now, clock, load=load)
        after = outcome.memory
        put_memory(conn, learner_id, card_id, after, stored.buried_until_day, stored.exists)
        if after.due_day is not None:
            due[after.due_day] = due.get(after.due_day, 0) + 1
            days.append(after.due_day)
        rows.append(
            {
                "learner_id": learner_id,
                "card_id": card_id,
                "rating": int(Rating.EASY),
                "reviewed_at": after.last_review_at,
                "review_day": after.last_review_day,
                "duration_ms": 0,
                "state_before": int(CardState.NEW),
                "elapsed_days": None,
                "state": int(after.state),
                "stability_days": after.stability_days,
                "difficulty": after.difficulty,
                "interval_days": outcome.interval_days,
                "kind": SKIP,
            }
        )
    if rows:
        conn.execute(insert(ReviewLog), rows)
        record_done(conn, learner_id, settings, today)
    return len(rows), min(days, default=None)
