"""``trainer check``: find and repair what would stop a review, like Anki's Check Database.

Every learner's cards whose stored memory state FSRS cannot schedule (:attr:`Memory.problem`:
stability 0, negative or missing, no difficulty, NaN) get their state rebuilt by replaying their
review log, with that learner's settings, through the scheduler (:meth:`Scheduler.replay`), as Anki
recomputes FSRS memory states from the revlog (a review card is due on the day its last rating gave
it, as the log records: the replay cannot know the load that balanced it); when the log does not
start at the card's first rating, or the replay gives no usable state either, the card is reset to
new. On SQLite, ``PRAGMA integrity_check`` and ``PRAGMA foreign_key_check`` are run too; on
PostgreSQL, which checks its own pages, every foreign key is checked by a join (rows can lose their
parent there only while a superuser has the checks off); what they find is reported, not repaired.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy import Connection, select, text, update

from trainer.scheduling.adapter import Scheduler
from trainer.scheduling.days import DayClock
from trainer.store.memory import MEMORY_COLUMNS, Memory, memory_of, memory_values, studied_cards
from trainer.store.models import (
    Base,
    Card,
    CardMemory,
    CardState,
    Deck,
    Learner,
    Rating,
    ReviewLog,
)
from trainer.store.settings import Settings, load_settings


@dataclass(frozen=True)
class Finding:
    """One problem: a line saying what and where, and whether it was repaired."""

    message: str
    repaired: bool


def check_database(conn: Connection) -> list[Finding]:
    """Every problem found in the database behind ``conn``, every learner's cards repaired on
    the way, each with their own settings and learner days (:func:`repair_learner_cards`).

    The caller owns the transaction (and commits the repairs). An empty list means the
    database is sound.
    """
    findings = _sqlite_checks(conn) if conn.dialect.name == "sqlite" else _orphans(conn)
    for learner_id, name in conn.execute(select(Learner.id, Learner.name).order_by(Learner.name)):
        settings = load_settings(conn, learner_id)
        clock = DayClock.from_settings(settings)
        findings += repair_learner_cards(conn, learner_id, name, settings, clock)
    return findings


def _orphans(conn: Connection) -> list[Finding]:
    """Rows whose foreign key names a parent row that does not exist, for every foreign key
    of the schema, worded like SQLite's ``foreign_key_check`` findings (a row named by its
    primary key, the parts of a composite one joined by ``/``)."""
    findings = []
    for table in Base.metadata.sorted_tables:
        keys = list(table.primary_key.columns)
        for key in table.foreign_keys:
            parents = key.column.table.alias("parent")  # a deck's parent is a deck
            parent = parents.c[key.column.name]
            missing = (
                select(*keys)
                .outerjoin(parents, key.parent == parent)
                .where(key.parent.is_not(None), parent.is_(None))
                .order_by(*keys)
            )
            name = key.column.table.name
            findings += [
                Finding(
                    f"{table.name} row {'/'.join(map(str, row))}: its {name} row is missing",
                    False,
                )
                for row in conn.execute(missing)
            ]
    return findings


def _sqlite_checks(conn: Connection) -> list[Finding]:
    """What SQLite's own checks report (sqlite.org/pragma.html): ``integrity_check`` says
    ``ok`` or lists damage; ``foreign_key_check`` lists rows whose parent row is missing."""
    findings = [
        Finding(f"database file: {line}", False)
        for (line,) in conn.execute(text("PRAGMA integrity_check"))
        if line != "ok"
    ]
    for table, rowid, parent, _key in conn.execute(text("PRAGMA foreign_key_check")):
        findings.append(Finding(f"{table} row {rowid}: its {parent} row is missing", False))
    return findings


def _as_given(memory: Memory, interval_days: int) -> Memory:
    """A replayed review card due on the day its last rating gave it (``interval_days`` after
    it, as the review log records it): the replay cannot know the load that balanced it."""
    if memory.state != CardState.REVIEW or memory.last_review_day is None or interval_days < 1:
        return memory
    return replace(memory, due_day=memory.last_review_day + timedelta(days=interval_days))


def repair_learner_cards(
    conn: Connection, learner_id: int, name: str, settings: Settings, clock: DayClock
) -> list[Finding]:
    """Learner ``learner_id``'s (named ``name``) cards whose memory state FSRS cannot schedule,
    each rebuilt from their review log with their ``settings`` or reset to new, one finding
    each; in the connection's open transaction. Past ratings are replayed on the learner days
    ``clock`` gives them, without its floor (:attr:`DayClock.not_before`)."""
    scheduler = Scheduler(settings)
    # Each past rating is replayed on its own learner day: the clock's floor (the last day
    # studied, so that no day comes back) holds for new ratings only.
    history = replace(clock, not_before=None)
    rows = conn.execute(
        studied_cards(learner_id, Card.id, Card.key, Deck.name, *MEMORY_COLUMNS)
        .join(Deck, Deck.id == Card.deck_id)
        .where(CardMemory.state != CardState.NEW)
        .order_by(Card.id)
    ).all()
    findings = []
    for row in rows:
        problem = memory_of(row).problem
        if problem is None:
            continue
        log = conn.execute(
            select(
                ReviewLog.rating,
                ReviewLog.reviewed_at,
                ReviewLog.state_before,
                ReviewLog.interval_days,
            )
            .where(ReviewLog.learner_id == learner_id, ReviewLog.card_id == row.id)
            .order_by(ReviewLog.reviewed_at, ReviewLog.id)
        ).all()
        memory = Memory()
        if log and log[0].state_before == CardState.NEW:
            ratings = [(Rating(rating), at) for rating, at, _state, _days in log]
            memory = _as_given(scheduler.replay(row.id, ratings, history), log[-1].interval_days)
        if memory.state != CardState.NEW and memory.problem is None:
            done = f"rebuilt from its {len(log)} rating{'s' * (len(log) != 1)}"
        else:
            memory, done = Memory(), "reset to new (its review log cannot rebuild it)"
        conn.execute(
            update(CardMemory)
            .where(CardMemory.learner_id == learner_id, CardMemory.card_id == row.id)
            .values(**memory_values(memory))
        )
        where = f"learner {name}: card {row.key} in deck {row.name}"
        findings.append(Finding(f"{where}: {problem}; {done}", True))
    return findings
