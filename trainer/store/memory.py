"""A card's memory state as a value, and the one place a learner's memory rows are joined,
read and written.

Each learner's memory of a card is a ``card_memory`` row (:class:`CardMemory`); a card without
one is new to that learner. Every query over a learner's cards joins them through
:func:`learner_cards` (cards with the learner's memory columns, NULL for a new card), and every
write goes through :func:`put_memory`. The scheduler (:mod:`trainer.scheduling.adapter`) works on
:class:`Memory` values only: :func:`memory_of` reads one from a row, :func:`memory_values` turns
one back into column values.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Float,
    Select,
    SQLColumnExpression,
    and_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    update,
)

from trainer.store import tables
from trainer.store.db import not_below_zero
from trainer.store.prepared import PreparedRead, PreparedWrite
from trainer.store.tables import CardState


@dataclass(frozen=True)
class Memory:
    """A card's scheduling state: its :class:`CardState`, learning step (None in Review),
    FSRS stability (days) and difficulty (1-10), when it is due (``due_at``, aware UTC, for a
    learning step; ``due_day``, a learner day, for a review), its last review (aware UTC and
    learner day), its reviews and lapses so far."""

    state: CardState = CardState.NEW
    step: int | None = None
    stability_days: float | None = None
    difficulty: float | None = None
    due_at: datetime | None = None
    due_day: date | None = None
    last_review_at: datetime | None = None
    last_review_day: date | None = None
    reps: int = 0
    lapses: int = 0

    @property
    def problem(self) -> str | None:
        """Why FSRS cannot schedule a card in this state, or None when it can: a card past new
        needs a stability above 0 days and a difficulty (both finite numbers) and a last review
        day. Nothing the scheduler writes breaks this; a damaged or hand-edited database can."""
        if self.state == CardState.NEW:
            return None
        stability, difficulty = self.stability_days, self.difficulty
        if (  # the usual case, tested before any message is worded
            stability is not None
            and difficulty is not None
            and 0 < stability < math.inf
            and math.isfinite(difficulty)
            and self.last_review_day is not None
        ):
            return None
        name = self.state.name.lower()
        for label, value in (("stability", stability), ("difficulty", difficulty)):
            if value is None:
                return f"no {label} in {name} state"
            if not math.isfinite(value) or (label == "stability" and value <= 0):
                return f"{label} {value:g} in {name} state"
        return f"no last review in {name} state"


#: The memory columns that make up a :class:`Memory`, in field order.
MEMORY_COLUMNS = (
    tables.card_memory.c.state,
    tables.card_memory.c.step,
    tables.card_memory.c.stability_days,
    tables.card_memory.c.difficulty,
    tables.card_memory.c.due_at,
    tables.card_memory.c.due_day,
    tables.card_memory.c.last_review_at,
    tables.card_memory.c.last_review_day,
    tables.card_memory.c.reps,
    tables.card_memory.c.lapses,
)


def memory_on(learner_id: int | ColumnElement[Any]) -> ColumnElement[bool]:
    """The join condition of a card (``Card``) with learner ``learner_id``'s memory row of it
    (an id, or a bound parameter)."""
    return and_(
        tables.card_memory.c.card_id == tables.card.c.id,
        tables.card_memory.c.learner_id == learner_id,
    )


def learner_cards(learner_id: int | ColumnElement[Any], *columns: Any) -> Select[Any]:
    """``SELECT columns FROM card LEFT JOIN`` learner ``learner_id``'s memory rows: every card
    once, with NULL memory columns for a card new to the learner (``learner_id`` an id or a
    bound parameter). Conditions on memory columns are written as for any row
    (``tables.card_memory.c.state == CardState.REVIEW`` is false for a new card); test for new
    cards with :func:`is_new`."""
    return (
        select(*columns)
        .select_from(tables.card)
        .outerjoin(tables.card_memory, memory_on(learner_id))
    )


def studied_cards(learner_id: int, *columns: Any) -> Select[Any]:
    """``SELECT columns FROM`` learner ``learner_id``'s memory rows ``JOIN card``: only the
    cards they have a row of (learning, review and buried cards), led by the memory indexes."""
    return (
        select(*columns)
        .select_from(tables.card_memory)
        .join(tables.card, tables.card.c.id == tables.card_memory.c.card_id)
        .where(tables.card_memory.c.learner_id == learner_id)
    )


def of_active_cards(deck_ids: Iterable[int] | None = None) -> ColumnElement[bool]:
    """SQL, over memory rows read without their cards (``FROM card_memory``): the row's card
    is active and, with ``deck_ids``, of those decks. Tested against a list of card ids (the
    few retired cards, read through ``ix_card_retired``; or the active cards of the decks),
    not by reading each row's card, so a count or sort of many rows reads no card row."""
    card = tables.card.c
    if deck_ids is None:
        return tables.card_memory.c.card_id.not_in(select(card.id).where(card.active.is_(False)))
    return tables.card_memory.c.card_id.in_(
        select(card.id).where(card.active.is_(True), card.deck_id.in_(list(deck_ids)))
    )


def is_new() -> ColumnElement[bool]:
    """SQL, over :func:`learner_cards`: the card is new to the learner (no memory row, or a
    row in the NEW state)."""
    return or_(tables.card_memory.c.state.is_(None), tables.card_memory.c.state == CardState.NEW)


def new_visible_cards(learner_id: int, today: date, *columns: Any) -> Select[Any]:
    """``SELECT columns FROM card`` for the cards new to learner ``learner_id`` and visible on
    learner ``today``: the cards ``learner_cards(...).where(is_new(), visible_on(today))``
    finds, read without their memory rows' columns. A card qualifies when the learner has no
    row of it (tested through ``ix_card_memory_card_id``, far narrower than the rows: on
    SQLite about half the time a row lookup takes a card) or its row is among the learner's
    rows of new cards neither suspended nor buried past ``today`` (few; read once through the
    queue index). Conditions on memory columns cannot be added: the rows are not joined."""
    known = tables.card_memory.alias("known")
    new_and_visible = select(tables.card_memory.c.card_id).where(
        tables.card_memory.c.learner_id == learner_id,
        tables.card_memory.c.state == CardState.NEW,
        visible_on(today),
    )
    return (
        select(*columns)
        .select_from(tables.card)
        .outerjoin(
            known, and_(known.c.card_id == tables.card.c.id, known.c.learner_id == learner_id)
        )
        .where(or_(known.c.card_id.is_(None), tables.card.c.id.in_(new_and_visible)))
    )


def count_set_apart(conn: Connection, learner_id: int, today: date) -> int:
    """How many active cards learner ``learner_id`` has a row of that keeps the card from
    being a new card on learner ``today``: past new, suspended, or buried past ``today``.

    Counted in the learner's index entries alone, without reading a card: all their rows, less
    their rows of new cards visible today, less their other rows of retired cards (looked up
    by the retired cards' ids, which ``ix_card_retired`` lists; few). So the new cards of
    every deck are the active cards less this count (see ``trainer.study.queue``), at a
    fraction of the cost of looking up the learner's row of each card."""
    memory = tables.card_memory.c
    mine = memory.learner_id == learner_id
    new_and_visible = and_(memory.state == CardState.NEW, visible_on(today))
    retired = select(tables.card.c.id).where(tables.card.c.active.is_(False))

    def count(*conditions: ColumnElement[bool]) -> Any:
        return (
            select(func.count())
            .select_from(tables.card_memory)
            .where(mine, *conditions)
            .scalar_subquery()
        )

    rows = count() - count(new_and_visible)
    return int(
        conn.scalar(select(rows - count(memory.card_id.in_(retired), not_(new_and_visible)))) or 0
    )


def unsuspended() -> ColumnElement[bool]:
    """SQL, over :func:`learner_cards` or :func:`studied_cards`: the learner has not suspended
    the card (a card without their row never is)."""
    return or_(tables.card_memory.c.suspended.is_(None), tables.card_memory.c.suspended.is_(False))


def is_leech() -> ColumnElement[bool]:
    """SQL, over :func:`learner_cards` or :func:`studied_cards`: the learner's card is marked
    a leech (see :mod:`trainer.study.leeches`; a card without their row never is)."""
    return tables.card_memory.c.leech.is_(True)


def recall_on_curve(
    curve: tuple[float, float],
    stability_days: SQLColumnExpression[float | None],
    elapsed_days: SQLColumnExpression[int],
) -> ColumnElement[float]:
    """SQL for the chance of recalling a card ``elapsed_days`` learner days (negative counts
    as 0) after a review that left it at ``stability_days`` (> 0), on the forgetting curve
    ``curve``, (factor F, decay d) as :attr:`~trainer.scheduling.adapter.Scheduler.
    forgetting_curve` gives it: (1 + F * t / S) ** d, computed in the order and the double
    precision :meth:`~trainer.scheduling.adapter.Scheduler.retrievability` computes it, so
    the database gives the same value."""
    factor, decay = (literal(value, Float) for value in curve)
    elapsed = cast(not_below_zero(elapsed_days), Float)
    return func.power(1.0 + factor * elapsed / stability_days, decay)


def visible_on(today: date) -> ColumnElement[bool]:
    """SQL, over :func:`learner_cards`: the learner has not suspended the card, nor buried it
    past learner day ``today``."""
    return and_(
        unsuspended(),
        or_(
            tables.card_memory.c.buried_until_day.is_(None),
            tables.card_memory.c.buried_until_day <= today,
        ),
    )


#: Each :class:`CardState` by its stored value.
_STATES = {int(state): state for state in CardState}


def memory_of(row: Any) -> Memory:
    """The :class:`Memory` in a row holding MEMORY_COLUMNS (a ``CardMemory``, or a result row
    of :func:`learner_cards` with NULLs for a card new to the learner)."""
    state = row.state or 0
    return Memory(
        state=_STATES[state] if state in _STATES else CardState(state),
        step=row.step,
        stability_days=row.stability_days,
        difficulty=row.difficulty,
        due_at=row.due_at,
        due_day=row.due_day,
        last_review_at=row.last_review_at,
        last_review_day=row.last_review_day,
        reps=row.reps or 0,
        lapses=row.lapses or 0,
    )


def memory_values(memory: Memory) -> dict[str, Any]:
    """Column values that store ``memory`` in a memory row."""
    values = {column.key: getattr(memory, column.key) for column in MEMORY_COLUMNS}
    values["state"] = int(memory.state)
    return values


@dataclass(frozen=True)
class StoredMemory:
    """A learner's row of a card as read: the :class:`Memory` (a new card's when there is no
    row), the learner day the card is buried until (None: not buried) and whether the row
    ``exists``."""

    memory: Memory
    buried_until_day: date | None
    exists: bool


# Compiled once (the rating's hot path): the WHERE binds are named ``learner`` and ``card``,
# since a bind may not share the name of a column the statement sets.
_VALUE_KEYS = [*(column.key for column in MEMORY_COLUMNS), "buried_until_day"]
_ROW = and_(
    tables.card_memory.c.learner_id == bindparam("learner"),
    tables.card_memory.c.card_id == bindparam("card"),
)
#: An UPDATE of a row for each set of columns it sets (keys in :data:`_VALUE_KEYS` order).
_UPDATES: dict[tuple[str, ...], PreparedWrite] = {}
_INSERT = PreparedWrite(insert(tables.card_memory), ["learner_id", "card_id", *_VALUE_KEYS])
_READ = PreparedRead(
    select(*MEMORY_COLUMNS, tables.card_memory.c.buried_until_day).where(_ROW), ["learner", "card"]
)
_DELETE = delete(tables.card_memory).where(_ROW)


def read_memory(conn: Connection, learner_id: int, card_id: int) -> StoredMemory:
    """Learner ``learner_id``'s row of card ``card_id`` (read in the connection's transaction,
    if one is open)."""
    row = _READ.first(conn, {"learner": learner_id, "card": card_id})
    if row is None:
        return StoredMemory(Memory(), None, exists=False)
    return StoredMemory(memory_of(row), row.buried_until_day, exists=True)


def forget_memory(conn: Connection, learner_id: int, card_id: int) -> None:
    """Delete learner ``learner_id``'s row of card ``card_id``: the card is new to them again,
    as before their first rating or bury (an undo of it)."""
    conn.execute(_DELETE, {"learner": learner_id, "card": card_id})


def suspend_cards(
    conn: Connection, learner_id: int, card_ids: Collection[int], suspended: bool = True
) -> int:
    """Suspend (or, not ``suspended``, unsuspend) ``card_ids`` for learner ``learner_id``, in
    the connection's open transaction, their memory state kept: a card new to them gets a row
    in the NEW state to hold it. Returns how many cards changed (those already as asked are
    left alone)."""
    changing = set(
        conn.scalars(
            learner_cards(learner_id, tables.card.c.id).where(
                tables.card.c.id.in_(card_ids),
                unsuspended() if suspended else tables.card_memory.c.suspended.is_(True),
            )
        )
    )
    if not changing:
        return 0
    have_row = set(
        conn.scalars(
            select(tables.card_memory.c.card_id).where(
                tables.card_memory.c.learner_id == learner_id,
                tables.card_memory.c.card_id.in_(changing),
            )
        )
    )
    if have_row:
        conn.execute(
            update(tables.card_memory)
            .where(
                tables.card_memory.c.learner_id == learner_id,
                tables.card_memory.c.card_id.in_(have_row),
            )
            .values(suspended=suspended)
        )
    if changing - have_row:
        conn.execute(
            insert(tables.card_memory),
            [
                {"learner_id": learner_id, "card_id": card_id, "suspended": True}
                for card_id in sorted(changing - have_row)
            ],
        )
    return len(changing)


@dataclass(frozen=True)
class Marks:
    """A learner's marks on a card beside its memory state: a leech, suspended."""

    leech: bool
    suspended: bool


_MARKS = PreparedRead(
    select(tables.card_memory.c.leech, tables.card_memory.c.suspended).where(_ROW),
    ["learner", "card"],
)
_PUT_MARKS = (
    update(tables.card_memory)
    .where(_ROW)
    .values(leech=bindparam("leech_mark"), suspended=bindparam("suspended_mark"))
)


def read_marks(conn: Connection, learner_id: int, card_id: int) -> Marks:
    """Learner ``learner_id``'s marks on card ``card_id`` (none without a row)."""
    row = _MARKS.first(conn, {"learner": learner_id, "card": card_id})
    return Marks(False, False) if row is None else Marks(bool(row.leech), bool(row.suspended))


def put_marks(conn: Connection, learner_id: int, card_id: int, marks: Marks) -> None:
    """Set learner ``learner_id``'s ``marks`` on card ``card_id``, whose row exists, in the
    connection's open transaction."""
    conn.execute(
        _PUT_MARKS,
        {
            "learner": learner_id,
            "card": card_id,
            "leech_mark": marks.leech,
            "suspended_mark": marks.suspended,
        },
    )


def mark_leeches(conn: Connection, learner_id: int, card_ids: Collection[int]) -> None:
    """Mark learner ``learner_id``'s rows of ``card_ids`` leeches, suspending none, in the
    connection's open transaction (cards whose history already reached the threshold)."""
    if card_ids:
        conn.execute(
            update(tables.card_memory)
            .where(
                tables.card_memory.c.learner_id == learner_id,
                tables.card_memory.c.card_id.in_(card_ids),
            )
            .values(leech=True)
        )


def insert_memories(
    conn: Connection, learner_id: int, memories: Iterable[tuple[int, Memory]]
) -> None:
    """Insert learner ``learner_id``'s memory of each card of ``memories`` ((card id,
    :class:`Memory`) pairs; none of those cards may have a row of the learner's yet), not
    buried, in the connection's open transaction: one ``executemany`` of plain tuples for the
    thousands of cards an import with history brings (about ten times cheaper than a Core
    INSERT of as many dicts)."""
    rows = (
        (  # in the order of _INSERT's keys: MEMORY_COLUMNS, then buried_until_day
            learner_id,
            card_id,
            int(m.state),
            m.step,
            m.stability_days,
            m.difficulty,
            m.due_at,
            m.due_day,
            m.last_review_at,
            m.last_review_day,
            m.reps,
            m.lapses,
            None,
        )
        for card_id, m in memories
    )
    _INSERT.run_many(conn, rows)


def put_memory(
    conn: Connection,
    learner_id: int,
    card_id: int,
    memory: Memory,
    buried_until_day: date | None,
    exists: bool,
) -> None:
    """Store learner ``learner_id``'s ``memory`` of card ``card_id`` and the learner day it is
    buried until (None: not buried), in the connection's open transaction: an UPDATE of their
    row when it ``exists`` (as read in the same transaction), else an INSERT."""
    values = {**memory_values(memory), "buried_until_day": buried_until_day}
    if exists:
        _update(conn, learner_id, card_id, values)
    else:
        _INSERT.run(conn, {"learner_id": learner_id, "card_id": card_id, **values})


def change_memory(
    conn: Connection, learner_id: int, card_id: int, stored: StoredMemory, memory: Memory
) -> None:
    """Store learner ``learner_id``'s ``memory`` of card ``card_id`` over their row as
    ``stored`` (read in the connection's open transaction, or known unchanged since), the
    learner day it is buried until kept: an UPDATE of the columns whose value changes (the
    fewer columns, the fewer index entries SQLite rewrites), else an INSERT when there is no
    row."""
    if not stored.exists:
        put_memory(conn, learner_id, card_id, memory, stored.buried_until_day, exists=False)
        return
    was = vars(stored.memory)  # a Memory's fields are its columns' keys, in their order
    changed = {key: value for key, value in vars(memory).items() if value != was[key]}
    if "state" in changed:
        changed["state"] = int(memory.state)
    if changed:
        _update(conn, learner_id, card_id, changed)


def _update(conn: Connection, learner_id: int, card_id: int, values: dict[str, Any]) -> None:
    """UPDATE learner ``learner_id``'s row of card ``card_id`` with ``values`` (by column key,
    in :data:`_VALUE_KEYS` order), through a statement compiled once per set of columns."""
    keys = tuple(values)
    prepared = _UPDATES.get(keys)
    if prepared is None:
        statement = update(tables.card_memory).where(_ROW)
        prepared = _UPDATES[keys] = PreparedWrite(statement, ["learner", "card", *keys])
    prepared.run(conn, {"learner": learner_id, "card": card_id, **values})


_STABILITY = (
    update(tables.card_memory)
    .where(_ROW)
    .values(stability_days=bindparam("stability"), difficulty=bindparam("difficulty"))
)


def put_stability(
    conn: Connection, learner_id: int, values: list[tuple[int, float, float]]
) -> None:
    """Set the stability (days) and difficulty of learner ``learner_id``'s rows of cards, each
    of ``values`` as (card id, stability, difficulty), leaving state and due as they are, in
    the connection's open transaction (for recomputing memory states with new parameters)."""
    if values:
        conn.execute(
            _STABILITY,
            [
                {"learner": learner_id, "card": card, "stability": s, "difficulty": d}
                for card, s, d in values
            ],
        )
