"""PreparedWrite stores exactly what SQLAlchemy's own execute stores; PreparedRead reads what it
reads."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import cast

import pytest
from sqlalchemy import Engine, Table, bindparam, insert, select, text, update
from sqlalchemy.exc import ResourceClosedError
from sqlalchemy.orm import Session, sessionmaker

from conftest import LEARNER, engine_of, sqlite_only, stored
from trainer.content.builtin_sync import upsert_cards
from trainer.content.parser import CardSpec
from trainer.store.memory import (
    MEMORY_COLUMNS,
    Memory,
    change_memory,
    forget_memory,
    learner_cards,
    put_memory,
    read_memory,
)
from trainer.store.models import Card, CardMemory, CardState, Deck, ReviewLog
from trainer.store.prepared import BULK_CACHE_KIB, PreparedRead, PreparedWrite

VALUES = {
    "learner_id": LEARNER,
    "rating": 3,
    "reviewed_at": datetime(2026, 11, 29, 10, 0, 0, 123456, tzinfo=UTC),
    "review_day": date(2026, 11, 29),
    "duration_ms": 4321,
    "state_before": 2,
    "elapsed_days": None,
    "state": 2,
    "stability_days": 12.345678901234567,
    "difficulty": 5.5,
    "interval_days": 12,
}


def _card(factory: sessionmaker[Session]) -> int:
    with factory.begin() as db:
        deck = Deck(name="d", slug="d", source="import")
        db.add(deck)
        db.flush()
        upsert_cards(db, deck, [CardSpec("a", "basic", "Q", "A")])
        return db.scalars(select(Card.id)).one()


def _raw_rows(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT * FROM review_log ORDER BY id"))]


def test_prepared_insert_and_update_match_sqlalchemy(factory: sessionmaker[Session]) -> None:
    card_id = _card(factory)
    engine = engine_of(factory)
    prepared = PreparedWrite(insert(ReviewLog), ["card_id", *VALUES])
    with engine.connect() as conn, conn.begin():
        new_id = prepared.run(conn, {"card_id": card_id, **VALUES})
        conn.execute(insert(ReviewLog), {"card_id": card_id, **VALUES})
    first, second = _raw_rows(engine)
    assert new_id == first[0]
    assert first[1:] == second[1:]  # same stored text for dates, times and floats

    table = cast(Table, CardMemory.__table__)  # a mapped class's table is typed as FromClause
    row = (table.c.learner_id == LEARNER) & (table.c.card_id == card_id)
    set_state = PreparedWrite(update(table).where(row), ["due_day", "reps"])
    with engine.connect() as conn, conn.begin():
        conn.execute(insert(table), {"learner_id": LEARNER, "card_id": card_id, "state": 2})
        set_state.run(conn, {"due_day": date(2027, 1, 2), "reps": 7})
    memory = stored(factory, card_id).memory
    assert (memory.due_day, memory.reps) == (date(2027, 1, 2), 7)


def test_a_write_on_an_invalidated_connection_says_it_is_closed(
    factory: sessionmaker[Session],
) -> None:
    card_id = _card(factory)
    prepared = PreparedWrite(insert(ReviewLog), ["card_id", *VALUES])
    with engine_of(factory).connect() as conn:
        conn.connection.invalidate()  # as SQLAlchemy does after a lost DBAPI connection
        with pytest.raises(ResourceClosedError, match="this connection is closed"):
            prepared.run(conn, {"card_id": card_id, **VALUES})
        with pytest.raises(ResourceClosedError, match="this connection is closed"):
            prepared.run_many(conn, [(card_id, *VALUES.values())])


@sqlite_only("SQLite's page cache of a connection")
def test_many_rows_are_written_with_a_roomy_page_cache_then_the_usual_one(
    factory: sessionmaker[Session],
) -> None:
    card_id = _card(factory)
    prepared = PreparedWrite(insert(ReviewLog), ["card_id", *VALUES])
    with engine_of(factory).connect() as conn, conn.begin():
        driver = conn.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        (usual,) = driver.execute("PRAGMA cache_size").fetchone()
        statements: list[str] = []
        driver.set_trace_callback(statements.append)
        prepared.run_many(conn, [(card_id, *VALUES.values())] * 3)
        driver.set_trace_callback(None)
        inserts = [index for index, sql in enumerate(statements) if sql.startswith("INSERT")]
        assert len(inserts) == 3
        assert statements[: inserts[0]][-1] == f"PRAGMA cache_size = -{BULK_CACHE_KIB}"
        assert statements[inserts[-1] + 1 :] == [f"PRAGMA cache_size = {usual}"]
        assert driver.execute("PRAGMA cache_size").fetchone() == (usual,)


def test_prepared_read_gives_the_rows_sqlalchemy_gives(factory: sessionmaker[Session]) -> None:
    card_id = _card(factory)
    engine = engine_of(factory)
    statement = learner_cards(
        bindparam("learner"),
        Card.id,
        Card.accepted,
        Card.active,
        Card.front,
        CardMemory.buried_until_day,
        *MEMORY_COLUMNS,
    ).where(Card.id == bindparam("card"))
    prepared = PreparedRead(statement, ["learner", "card"])
    memory = {
        "learner_id": LEARNER,
        "card_id": card_id,
        "state": 3,
        "step": 0,
        "stability_days": 0.123456789012345,
        "difficulty": 7.25,
        "due_at": datetime(2026, 11, 29, 10, 10, 0, 654321, tzinfo=UTC),
        "due_day": None,
        "last_review_at": datetime(2026, 11, 29, 10, 0, 0, 123456, tzinfo=UTC),
        "last_review_day": date(2026, 11, 29),
        "reps": 9,
        "lapses": 2,
        "buried_until_day": date(2026, 12, 1),
    }
    keys = {"learner": LEARNER, "card": card_id}
    rows = []
    for write in (None, memory):  # a card new to the learner (NULLs), then one with a row
        if write is not None:
            with engine.begin() as conn:
                conn.execute(insert(CardMemory), write)
        with engine.connect() as conn:
            expected = conn.execute(statement, keys).first()
            assert expected is not None
            rows.append(prepared.first(conn, keys))
            assert rows[-1] == tuple(expected)
            assert rows[-1]._fields == tuple(expected._fields)
            assert prepared.first(conn, {**keys, "card": -1}) is None
    assert rows[0].state is None and rows[0].accepted == [] and rows[0].active is True
    *stored, buried = list(memory.values())[2:]  # as written, aware UTC times included
    assert rows[1][4:] == (buried, *stored)


def test_changing_a_memory_row_stores_what_putting_it_stores(
    factory: sessionmaker[Session],
) -> None:
    """change_memory sets only the changed columns, to the stored text put_memory writes."""
    with factory.begin() as db:
        deck = Deck(name="d", slug="d", source="import")
        db.add(deck)
        db.flush()
        upsert_cards(db, deck, [CardSpec(key, "basic", "Q", "A") for key in ("a", "b")])
    with factory() as db:
        one, two = sorted(db.scalars(select(Card.id)))
    engine = engine_of(factory)
    learning = Memory(
        CardState.LEARNING,
        1,
        0.5,
        6.0,
        datetime(2026, 11, 29, 10, 10, 0, 654321, tzinfo=UTC),
        None,
        datetime(2026, 11, 29, 10, 0, 0, 123456, tzinfo=UTC),
        date(2026, 11, 29),
        1,
    )
    review = replace(learning, state=CardState.REVIEW, step=None, due_at=None)
    review = replace(review, due_day=date(2026, 12, 3), reps=2, stability_days=3.25)
    relearning = replace(review, state=CardState.RELEARNING, step=0, lapses=1, reps=3)
    relearning = replace(relearning, due_at=review.last_review_at, due_day=None)
    buried = date(2026, 11, 30)
    for before, after in ((Memory(), learning), (learning, review), (review, relearning)):
        with engine.begin() as conn:
            for card_id in (one, two):
                forget_memory(conn, LEARNER, card_id)
            if before != Memory():
                put_memory(conn, LEARNER, one, before, buried, exists=False)
                put_memory(conn, LEARNER, two, before, buried, exists=False)
            kept = buried if before != Memory() else None  # no row before: none to keep
            put_memory(conn, LEARNER, one, after, kept, exists=before != Memory())
            change_memory(conn, LEARNER, two, read_memory(conn, LEARNER, two), after)
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT * FROM card_memory WHERE card_id IN (:one, :two) ORDER BY card_id"),
                {"one": one, "two": two},
            ).all()
        put, changed = (tuple(row)[2:] for row in rows)
        assert changed == put and stored(factory, two).memory == after
        assert stored(factory, two).buried_until_day == kept
