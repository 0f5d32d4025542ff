"""Finding cards by a search (docs/searching.md): a parsed query as one SQL condition, and the
cards it matches with their memory state.

:func:`condition` compiles a :mod:`~trainer.study.search_syntax` tree into a SQLAlchemy
condition over a card and the searching learner's memory row of it
(:func:`~trainer.store.memory.learner_cards`); :func:`find_cards` runs it over the active cards.
A card new to the learner has no memory row: its state reads as new, its lapses and reps as 0.

Every term is a condition that is true or false, never SQL NULL (a missing stability, due day
or last review makes a ``prop:`` term false), so ``-TERM`` matches exactly the cards ``TERM``
does not. Text and names match ignoring case the way the database's ``lower()`` does (SQLite:
the letters A-Z only, as Anki's plain searches).

``prop:r`` (retrievability now) is compiled without powers: on FSRS's forgetting curve R falls
as t / S grows (t the learner days since the last review, S the stability), so ``R < x`` is
``t > k S`` with ``k`` = :meth:`~trainer.scheduling.adapter.Scheduler.elapsed_share` of ``x``,
the scheduler's own formula; ``x`` above 1 or at most 0 is decided outright (R is in (0, 1]).
Cards never reviewed have no retrievability and match no ``prop:r`` term. The FSRS parameters
are the scheduler's defaults, as in the reports.
"""

from __future__ import annotations

import operator
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    and_,
    case,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)

from trainer.scheduling.adapter import Scheduler
from trainer.scheduling.days import DayClock
from trainer.store import tables
from trainer.store.db import days_between, tag_like
from trainer.store.edits import CONTENT, edited_card, is_edited, shown, shown_matches, with_edits
from trainer.store.lookup import LARGEST_ID, TAG_SEPARATOR
from trainer.store.memory import MEMORY_COLUMNS, Memory, is_leech, learner_cards, memory_of
from trainer.store.tables import CardState, given_rating
from trainer.study.mastery import due_today
from trainer.study.search_syntax import (
    And,
    CardIds,
    Field,
    Is,
    Node,
    Not,
    Or,
    Prop,
    Rated,
    Text,
)

#: SQL comparisons of ``prop:`` by operator.
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "=": operator.eq,
    "!=": operator.ne,
}
#: ``R OP x`` as ``t OP' k S`` (R falls as t / S grows, so every comparison turns round).
_TURNED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}
#: Whether ``R OP x`` holds for every R in (0, 1] when x > 1, and when x <= 0.
_ABOVE_ONE = {"<": True, "<=": True, ">": False, ">=": False, "=": False, "!=": True}
_AT_MOST_ZERO = {"<": False, "<=": False, ">": True, ">=": True, "=": False, "!=": True}


def _state() -> ColumnElement[int]:
    """SQL: the learner's :class:`CardState` of the card (new without a memory row)."""
    return func.coalesce(tables.card_memory.c.state, int(CardState.NEW))


def _count(column: Any) -> ColumnElement[int]:
    """SQL: a count of the learner's memory row (lapses, reps), 0 without a row."""
    return func.coalesce(column, 0)


@dataclass(frozen=True)
class SearchContext:
    """What a search is evaluated at: learner ``learner_id``'s cards, aware UTC ``now`` on
    ``clock``'s learner days, and the ``scheduler`` whose forgetting curve gives
    retrievability."""

    learner_id: int
    now: datetime
    clock: DayClock
    scheduler: Scheduler

    @property
    def today(self) -> date:
        """The learner day of ``now``."""
        return self.clock.day_of(self.now)


def condition(node: Node, context: SearchContext) -> ColumnElement[bool]:
    """The SQL condition on a card and the learner's memory row of it
    (:func:`~trainer.store.memory.learner_cards`) that ``node`` stands for."""
    if isinstance(node, And):
        return and_(true(), *(condition(term, context) for term in node.terms))
    if isinstance(node, Or):
        return or_(*(condition(term, context) for term in node.terms))
    if isinstance(node, Not):
        return not_(condition(node.term, context))
    if isinstance(node, Text):
        pattern = literal("%" + _like(node.text) + "%")
        return shown_matches(
            context.learner_id,
            lambda content: or_(_like_in(content.front, pattern), _like_in(content.back, pattern)),
        )
    if isinstance(node, Field):
        return _field(node, context)
    if isinstance(node, Is):
        return _is(node.state, context)
    if isinstance(node, Prop):
        return _prop(node, context)
    if isinstance(node, Rated):
        # days reaching before the first calendar day count from it (Anki takes any count)
        since = context.today - timedelta(days=min(node.days - 1, context.today.toordinal() - 1))
        rated = select(tables.review_log.c.card_id).where(
            tables.review_log.c.learner_id == context.learner_id,
            given_rating(),
            tables.review_log.c.review_day >= since,
        )
        if node.rating is not None:
            rated = rated.where(tables.review_log.c.rating == node.rating)
        return tables.card.c.id.in_(rated)
    assert isinstance(node, CardIds)  # an id no row can have names no card
    return tables.card.c.id.in_([card_id for card_id in node.ids if card_id <= LARGEST_ID])


def _like(glob: str) -> str:
    """A LIKE pattern (escape character ``\\``) of a search's text with Anki's wildcards
    (:data:`~trainer.study.search_syntax.WILDCARDS`): ``*`` any run, ``_`` one character,
    ``\\*``, ``\\_``, ``\\\\`` and every other character (``%`` too) themselves."""
    return re.sub(
        r"\\(.)|([*%])",
        lambda found: (
            ("\\" + found[1] if found[1] in "_\\" else found[1])
            if found[1]
            else ("%" if found[2] == "*" else "\\%")
        ),
        glob,
    )


def _plain(glob: str) -> str:
    """The characters of a search's text for a name without wildcards (``topic:``,
    ``section:``): the escapes of ``*``, ``_`` and a backslash resolved."""
    return re.sub(r"\\(.)", r"\1", glob)


def _like_in(column: Any, pattern: Any) -> ColumnElement[bool]:
    """``column`` matches the LIKE ``pattern`` ignoring case (the database's ``lower()``)."""
    return func.lower(column).like(func.lower(pattern), escape="\\")


def _same(column: Any, value: str) -> ColumnElement[bool]:
    """``column`` equals ``value`` ignoring case (the database's ``lower()`` on both sides)."""
    return func.lower(column) == func.lower(literal(value))


def _field(node: Field, context: SearchContext) -> ColumnElement[bool]:
    if node.name == "deck":
        # the deck named (by name or slug) and every deck whose name starts with its name + ::
        named_deck = tables.deck.alias()
        named = named_deck.c
        under = func.lower(
            func.substr(tables.deck.c.name, 1, func.length(named.name) + 2)
        ) == func.lower(named.name + "::")
        decks = select(tables.deck.c.id).join(named_deck, or_(tables.deck.c.id == named.id, under))
        pattern = literal(_like(node.value))
        decks = decks.where(or_(_like_in(named.name, pattern), _like_in(named.slug, pattern)))
        return tables.card.c.deck_id.in_(decks)
    if node.name == "tag":  # the tag or one under it (tag:geo finds geo::rocks), as in Anki
        tag = _like(unicodedata.normalize("NFC", node.value.lower()))  # tags are lower case
        return shown_matches(
            context.learner_id,
            lambda content: or_(
                tag_like(content.tags, literal(tag)),
                tag_like(content.tags, literal(tag + TAG_SEPARATOR + "%")),
            ),
        )
    value = _plain(node.value)
    topics = select(tables.deck.c.id).join(
        tables.topic, tables.deck.c.topic_id == tables.topic.c.id
    )
    if node.name == "topic":
        topics = topics.where(
            or_(_same(tables.topic.c.slug, value), _same(tables.topic.c.title, value))
        )
    else:
        topics = topics.join(
            tables.section, tables.topic.c.section_id == tables.section.c.id
        ).where(or_(_same(tables.section.c.slug, value), _same(tables.section.c.title, value)))
    return tables.card.c.deck_id.in_(topics)


def _is(state: str, context: SearchContext) -> ColumnElement[bool]:
    memory = tables.card_memory.c
    if state == "new":
        return _state() == CardState.NEW
    if state == "learning":  # Anki's is:learn: learning and relearning
        return _state().in_([CardState.LEARNING, CardState.RELEARNING])
    if state == "review":  # Anki's is:review: review cards and lapsed (relearning) ones
        return _state().in_([CardState.REVIEW, CardState.RELEARNING])
    if state == "due":  # as in the queue: due today (learning: before the rollover), not hidden
        return func.coalesce(due_today(context.clock, context.now), false())
    if state == "suspended":
        return func.coalesce(memory.suspended, false())
    if state == "buried":
        return and_(memory.buried_until_day.is_not(None), memory.buried_until_day > context.today)
    if state == "edited":
        return edited_card(context.learner_id)
    return func.coalesce(is_leech(), false())  # marked a leech (trainer.study.leeches)


def _prop(node: Prop, context: SearchContext) -> ColumnElement[bool]:
    memory = tables.card_memory.c
    compare = _COMPARE[node.operator]
    if node.name == "r":
        return _retrievability(node, context)
    if node.name == "due":
        until = days_between(literal(context.today, Date), memory.due_day)
        return and_(memory.due_day.is_not(None), compare(until, node.value))
    column = {
        "stability": memory.stability_days,
        "difficulty": memory.difficulty,
        "lapses": _count(memory.lapses),
        "reps": _count(memory.reps),
    }[node.name]
    return and_(column.is_not(None), compare(column, node.value))


def _retrievability(node: Prop, context: SearchContext) -> ColumnElement[bool]:
    memory = tables.card_memory.c
    reviewed = and_(
        _state() != CardState.NEW,
        memory.stability_days > 0,
        memory.last_review_day.is_not(None),
    )
    if node.value > 1:
        return and_(reviewed, true() if _ABOVE_ONE[node.operator] else false())
    if node.value <= 0:
        return and_(reviewed, true() if _AT_MOST_ZERO[node.operator] else false())
    share = context.scheduler.elapsed_share(node.value)
    days = days_between(memory.last_review_day, literal(context.today, Date))
    elapsed = case((days < 0, 0), else_=days)
    compare = _COMPARE[_TURNED[node.operator]]
    return and_(reviewed, compare(elapsed, literal(share) * memory.stability_days))


@dataclass(frozen=True)
class FoundCard:
    """A card a search matched: its ``id``, ``deck`` (whole name), ``topic`` (slug, None for an
    extra deck), ``key``, its content as the learner sees it (``kind``, ``front``, ``back``,
    ``accepted`` answers, ``tags``, ``docs_url``: their edit's, else the card's), whether they
    ``edited`` it (``trainer edit``), its :class:`Memory`, the learner day it is
    buried until (None: not buried), its ``retrievability`` now (0-1, None if never
    reviewed), whether it is ``suspended`` and marked a ``leech`` (``is:suspended``,
    ``is:leech``)."""

    id: int
    deck: str
    topic: str | None
    key: str
    kind: str
    front: str
    back: str
    accepted: list[str]
    tags: list[str]
    docs_url: str | None
    edited: bool
    memory: Memory
    buried_until_day: date | None
    retrievability: float | None
    suspended: bool
    leech: bool


def find_cards(
    conn: Connection, node: Node, context: SearchContext, limit: int | None = None
) -> tuple[list[FoundCard], int]:
    """The active cards ``node`` matches, in card id order (at most ``limit``; None: all),
    and how many match in all."""
    memory = tables.card_memory.c
    where = and_(tables.card.c.active.is_(True), condition(node, context))
    total = conn.scalar(learner_cards(context.learner_id, func.count()).where(where)) or 0
    rows = conn.execute(
        with_edits(
            learner_cards(
                context.learner_id,
                tables.card.c.id,
                tables.deck.c.name.label("deck"),
                tables.topic.c.slug.label("topic"),
                tables.card.c.key,
                *(shown(name) for name in CONTENT),
                is_edited().label("edited"),
                *MEMORY_COLUMNS,
                memory.buried_until_day,
                _is("suspended", context).label("suspended"),
                _is("leech", context).label("leech"),
            ),
            context.learner_id,
        )
        .join(tables.deck, tables.card.c.deck_id == tables.deck.c.id)
        .outerjoin(tables.topic, tables.deck.c.topic_id == tables.topic.c.id)
        .where(where)
        .order_by(tables.card.c.id)
        .limit(limit)
    )
    found = []
    for row in rows:
        state = memory_of(row)
        recall = None
        if state.problem is None and state.stability_days and state.last_review_day:
            elapsed = (context.today - state.last_review_day).days
            recall = context.scheduler.retrievability(state.stability_days, elapsed)
        found.append(
            FoundCard(
                row.id,
                row.deck,
                row.topic,
                row.key,
                row.kind,
                row.front,
                row.back,
                row.accepted,
                row.tags,
                row.docs_url,
                bool(row.edited),
                state,
                row.buried_until_day,
                recall,
                bool(row.suspended),
                bool(row.leech),
            )
        )
    return found, total
