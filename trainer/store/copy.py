"""``trainer db copy``: a whole database, every table and learner, into another engine's.

Tables are copied in dependency order (parents first, :attr:`MetaData.sorted_tables`), each read
in primary-key order and written in batches, all in one transaction on the target: a failure
leaves the target as it was, its schema made and no row in it. A column that refers to its own
table (a deck's parent) is written after all the table's rows are in. Afterwards each table's
row count and checksum (:func:`table_checksum`) are compared between the two databases, still
inside the transaction, and PostgreSQL's id sequences are moved past the copied ids.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Select, Table, bindparam, func, insert, select, text
from sqlalchemy import update as sa_update

from trainer.errors import DatabaseError
from trainer.store.models import Base

#: Rows read and written at a time: bounds memory, and keeps each INSERT statement small.
BATCH_ROWS = 2_000


@dataclass(frozen=True)
class TableCopy:
    """One copied table: its name, its row count, and its checksum (the same on both sides)."""

    table: str
    rows: int
    checksum: str


def copy_database(source: Engine, target: Engine, target_shown: str) -> list[TableCopy]:
    """Copy every row of every trainer table from ``source`` into ``target`` (both at the
    current schema); return each table's count and checksum, in copy order.

    Raises :class:`DatabaseError`, naming ``target_shown``, when the target already holds a
    row, or when a table's count or checksum differs after the copy (nothing is kept then).
    """
    tables = Base.metadata.sorted_tables
    with source.connect() as reading, target.begin() as writing:
        for table in tables:
            rows = writing.scalar(select(func.count()).select_from(table))
            if rows:
                raise DatabaseError(
                    f"database {target_shown}: not empty (table {table.name} has {rows}"
                    f" row{'s' if rows != 1 else ''}); copy into a new, empty database"
                )
        copied = []
        for table in tables:
            _copy_table(reading, writing, table)
            mine, theirs = table_checksum(reading, table), table_checksum(writing, table)
            if mine != theirs:
                raise DatabaseError(
                    f"database {target_shown}: table {table.name} differs after the copy"
                    f" ({mine.rows} rows read, {theirs.rows} written); nothing was copied"
                )
            copied.append(mine)
        if writing.dialect.name == "postgresql":
            _move_sequences(writing, tables)
    return copied


def _copy_table(reading: Connection, writing: Connection, table: Table) -> None:
    """Insert ``table``'s rows, in batches; columns referring to ``table`` itself are set by
    UPDATEs once every row is in (a row's parent may come after it)."""
    own = [
        column
        for column in table.columns
        if any(key.column.table is table for key in column.foreign_keys)
    ]
    later: list[dict[str, Any]] = []
    result = reading.execute(_in_key_order(table))
    for batch in result.partitions():
        rows = [row._asdict() for row in batch]
        for row in rows:
            if any(row[column.key] is not None for column in own):
                later.append({"key_": row["id"], **{c.key: row[c.key] for c in own}})
                row.update({column.key: None for column in own})
        writing.execute(insert(table), rows)
    if later:
        statement = (
            sa_update(table)
            .where(table.c.id == bindparam("key_"))
            .values({column.key: bindparam(column.key) for column in own})
        )
        for start in range(0, len(later), BATCH_ROWS):
            writing.execute(statement, later[start : start + BATCH_ROWS])


def _move_sequences(writing: Connection, tables: Iterable[Table]) -> None:
    """Set each PostgreSQL id sequence past the highest copied id, so the next row a trainer
    adds gets a new one."""
    for table in tables:
        if table.autoincrement_column is None:
            continue
        column = table.autoincrement_column.name
        writing.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence(:table, :column),"
                f" coalesce(max({column}), 0) + 1, false) FROM {table.name}"
            ),
            {"table": table.name, "column": column},
        )


def table_checksum(connection: Connection, table: Table) -> TableCopy:
    """``table``'s row count and the SHA-256 of its rows' canonical text, in primary-key order.

    Each row is one line, its values in column order separated by tabs, each value as
    :func:`canonical` writes it. The values are the Python ones SQLAlchemy's column types
    give, so the text is the same for the same rows on SQLite and on PostgreSQL.
    """
    digest = hashlib.sha256()
    rows = 0
    result = connection.execute(_in_key_order(table))
    for row in result:
        line = "\t".join(canonical(value) for value in row)
        digest.update(line.encode() + b"\n")
        rows += 1
    return TableCopy(table.name, rows, digest.hexdigest())


def _in_key_order(table: Table) -> Select[Any]:
    """All of ``table``'s rows in primary-key order, fetched :data:`BATCH_ROWS` at a time."""
    ordered = select(table).order_by(*table.primary_key.columns)
    return ordered.execution_options(yield_per=BATCH_ROWS)


def canonical(value: Any) -> str:
    """The text of one column value in a checksum: ``\\N`` for NULL, ``t``/``f`` for a
    boolean, ``repr`` of a float (the shortest text that reads back exactly; ``nan``,
    ``inf``), ISO 8601 for a date and a time (UTC, with its offset), JSON with
    sorted keys for a list or mapping, and ``str`` for the rest."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | dict | tuple):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)
