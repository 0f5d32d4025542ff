"""Learners: who studies, by name; the row of each is made by their first write.

A learner is picked by ``--learner NAME`` or ``TRAINER_LEARNER``, by default the operating-system
user name (:func:`default_name`). A command that only reads never creates a learner: an unknown
name reads as :data:`NOBODY`, an id no row has, so every figure of theirs is empty.
"""

from __future__ import annotations

import getpass
import importlib
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, func, select

from trainer.errors import UsageError
from trainer.store import tables
from trainer.store.tables import CardState

#: The id an unknown learner reads as: no learner row has it (ids start at 1), so their memory
#: rows, review log and settings are empty.
NOBODY = 0

#: The longest learner name, in characters (the ``learner.name`` column's length).
NAME_LENGTH = 100


def default_name() -> str:
    """The operating-system user name (``getpass.getuser()``: ``LOGNAME``, ``USER``,
    ``LNAME``, ``USERNAME``, then the password database), or ``"learner"`` when there is
    none."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "learner"


def check_name(name: str, option: str = "--learner") -> str:
    """``name`` as a learner name: not empty or only spaces, printable characters only, at most
    :data:`NAME_LENGTH` characters. Raises :class:`UsageError` naming ``option`` otherwise."""
    if not name.strip():
        raise UsageError(f"{option}: a learner name cannot be empty")
    if not name.isprintable():
        raise UsageError(f"{option}: a learner name must be printable (no control characters)")
    if len(name) > NAME_LENGTH:
        raise UsageError(f"{option}: a learner name has at most {NAME_LENGTH} characters")
    return name


def find_learner(conn: Connection, name: str) -> int:
    """The id of learner ``name``, or :data:`NOBODY` when there is none; writes nothing."""
    found = conn.scalar(select(tables.learner.c.id).where(tables.learner.c.name == name))
    return NOBODY if found is None else int(found)


def learner_for_write(conn: Connection, name: str, now: datetime) -> int:
    """The id of learner ``name``, made (``created_at`` aware UTC ``now``) when there is none;
    in the connection's open transaction, no commit. Two sessions making the same new learner
    at once make one row: the insert does nothing on a name already taken (``ON CONFLICT DO
    NOTHING``, on SQLite and PostgreSQL alike; on PostgreSQL the second waits for the first's
    commit, then reads its row)."""
    found = find_learner(conn, name)
    if found != NOBODY:
        return found
    # the engine's own dialect module (sqlite or postgresql), imported only here: PostgreSQL's
    # is a tenth of a start on SQLite, and only a new learner's first write needs it
    dialect = importlib.import_module(f"sqlalchemy.dialects.{conn.dialect.name}")
    values = {"name": name, "created_at": now}
    conn.execute(
        dialect.insert(tables.learner)
        .values(values)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    return find_learner(conn, name)


@dataclass(frozen=True)
class LearnerSummary:
    """One learner for ``trainer learners``: their ``id`` and ``name``, the cards they have
    studied (their memory rows past new), their ``reviews`` (review log rows) and the learner
    day of their last one (None before the first)."""

    id: int
    name: str
    cards_studied: int
    reviews: int
    last_review_day: date | None


def learner_summaries(conn: Connection) -> list[LearnerSummary]:
    """Every learner, by name, with what they have studied; read-only (three grouped
    queries)."""
    studied: dict[int, int] = dict(
        conn.execute(
            select(tables.card_memory.c.learner_id, func.count())
            .where(tables.card_memory.c.state != CardState.NEW)
            .group_by(tables.card_memory.c.learner_id)
        ).all()
    )
    logged = {
        learner: (int(count), last)
        for learner, count, last in conn.execute(
            select(
                tables.review_log.c.learner_id,
                func.count(),
                func.max(tables.review_log.c.review_day),
            ).group_by(tables.review_log.c.learner_id)
        )
    }
    return [
        LearnerSummary(learner, name, int(studied.get(learner, 0)), *logged.get(learner, (0, None)))
        for learner, name in conn.execute(
            select(tables.learner.c.id, tables.learner.c.name).order_by(tables.learner.c.name)
        )
    ]


def lock_learner(conn: Connection, learner_id: int) -> None:
    """Make the connection's open transaction the only writer of learner ``learner_id``'s
    rows until it ends: on PostgreSQL it locks the learner's row (``SELECT ... FOR UPDATE``),
    so a second session rating, burying or undoing for the same learner waits, then reads what
    the first committed, as two sessions do on SQLite, whose ``BEGIN IMMEDIATE`` serialises
    all writers (a card's memory row may not exist yet, so it cannot be the row locked).
    Other learners are not held up. Nothing is done on SQLite."""
    if conn.dialect.name != "sqlite":
        conn.execute(
            select(tables.learner.c.id).where(tables.learner.c.id == learner_id).with_for_update()
        )


def holds_work(conn: Connection) -> bool:
    """Whether the database holds anything a learner did or brought: an imported deck, a card's
    memory state, a review-log row, an edit, a setting, a per-deck value or a done topic. A
    database that only opening made (the schema, the built-in decks, learner rows) holds none."""
    kept = (
        tables.card_memory,
        tables.review_log,
        tables.card_edit,
        tables.learner_setting,
        tables.learner_deck,
        tables.topic_done,
    )
    brought = select(tables.deck.c.id).where(tables.deck.c.source != "builtin").limit(1)
    return conn.execute(brought).first() is not None or any(
        conn.execute(select(table).limit(1)).first() is not None for table in kept
    )
