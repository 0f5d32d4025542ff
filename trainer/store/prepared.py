"""Prepared statements for the review hot path.

SQLAlchemy's per-execution work (statement cache lookup, parameter processing, result set-up)
costs about 0.1 ms a statement, more than SQLite needs to run it, and a rating with its next
card runs four. A :class:`PreparedWrite` compiles a Core statement once for the connection's
dialect and runs it on the DBAPI cursor of a SQLAlchemy connection, converting each value with
SQLAlchemy's own bind processor for its column type, so what is stored is byte for byte what a
normal ``Connection.execute`` stores; a :class:`PreparedRead` does the same for a SELECT and
converts each value read with SQLAlchemy's own result processor, so its rows equal
``Connection.execute``'s (``tests/test_prepared.py`` checks both). The transaction is still
SQLAlchemy's: call ``run`` inside ``connection.begin()`` (or on a connection that reads
without one).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Dialect, Table
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.exc import ResourceClosedError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Insert, UpdateBase
from sqlalchemy.sql.selectable import SelectBase

#: The page cache (KiB) of a SQLite connection while it writes many rows at once, as Anki's
#: collection has it always (rslib ``storage/sqlite.rs``: ``cache_size`` -40 * 1024). Rows whose
#: keys land all over an index (a card's key hashes its front) touch far more pages than the
#: default 2 MiB hold, which a write then spills and reads back again and again.
BULK_CACHE_KIB = 40 * 1024
#: Per bind of a compiled statement, in order: its name, the key of its value (None for a value
#: fixed in the statement), its bind processor, and the fixed value.
Binds = Sequence[tuple[str, str | None, Callable[[Any], Any] | None, Any]]


def _binds(compiled: SQLCompiler, dialect: Dialect, keys: Sequence[str]) -> Binds:
    """The :data:`Binds` of ``compiled``, whose values come from ``keys``."""
    names = compiled.positiontup if dialect.positional else list(compiled.binds)
    binds: list[tuple[str, str | None, Callable[[Any], Any] | None, Any]] = []
    for name in names or ():
        bind = compiled.binds[name]
        # psycopg needs the dialect's own processors (JSON is wrapped for it); on SQLite the
        # type's generic ones keep the text earlier versions stored (sqlite3's adapters)
        kind = bind.type if dialect.name == "sqlite" else bind.type.dialect_impl(dialect)
        process = kind.bind_processor(dialect)
        if bind.key in keys:
            binds.append((name, bind.key, process, None))
        else:  # a value fixed in the statement itself
            value = bind.effective_value
            binds.append((name, None, None, process(value) if process else value))
    return binds


def _parameters(binds: Binds, positional: bool, values: Mapping[str, Any]) -> Any:
    """The DBAPI parameters for ``values`` (one per key): a list, or a dict by bind name."""
    converted = [
        fixed if key is None else process(values[key]) if process else values[key]
        for _name, key, process, fixed in binds
    ]
    if positional:
        return converted
    return {name: value for (name, *_), value in zip(binds, converted, strict=True)}


class PreparedWrite:
    """An INSERT, UPDATE or DELETE compiled once per dialect, for the parameter ``keys`` given.

    ``keys`` are the bind names the statement takes: for an INSERT or an UPDATE without
    ``.values()``, the column keys to set (plus any ``bindparam`` of the WHERE clause).
    """

    def __init__(self, statement: UpdateBase, keys: Sequence[str]) -> None:
        self._statement = statement
        self._keys = list(keys)
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, dialect: Dialect) -> _Compiled:
        statement = self._statement
        many = statement.compile(dialect=dialect, column_keys=self._keys).string
        returns = isinstance(statement, Insert) and dialect.name != "sqlite"
        if returns:  # drivers other than sqlite3 give no lastrowid: ask for the new id
            insert = cast(Insert, statement)
            statement = insert.returning(*cast(Table, insert.table).primary_key.columns)
        compiled = statement.compile(dialect=dialect, column_keys=self._keys)
        binds = _binds(compiled, dialect, self._keys)
        return _Compiled(compiled.string, many, dialect.positional, binds, returns)

    def run(self, connection: Connection, values: Mapping[str, Any]) -> int | None:
        """Execute with ``values`` (one per key) in the connection's open transaction.

        Returns the new row's id after an INSERT (SQLite: the cursor's ``lastrowid``; other
        engines: read back with ``RETURNING``), None after an UPDATE or DELETE.
        Raises ``KeyError`` for a missing value.
        """
        dialect = connection.dialect
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = self._compile(dialect)
        parameters = _parameters(compiled.binds, compiled.positional, values)
        cursor = _cursor(connection)
        try:
            cursor.execute(compiled.sql, parameters)
            if compiled.returns:
                row = cursor.fetchone()
                return None if row is None else int(row[0])
            return cursor.lastrowid if isinstance(self._statement, Insert) else None
        finally:
            cursor.close()

    def run_many(
        self,
        connection: Connection,
        rows: Iterable[Sequence[Any]],
        repeated: Sequence[str] = (),
    ) -> None:
        """Execute once per row (one ``executemany``) in the connection's open transaction.

        Each row holds its values in the order of ``keys``. For the keys in ``repeated``
        (values most rows share: flags, tag lists) each distinct value is converted once and
        the result reused. On SQLite the connection's page cache is :data:`BULK_CACHE_KIB` while
        the rows are written, then as it was.
        """
        dialect = connection.dialect
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = self._compile(dialect)
        rows = list(rows)
        columns = list(zip(*rows, strict=True))  # the values of each key, in row order
        parameters: list[Any] = []
        if rows:
            bound: list[Sequence[Any]] = []  # for each bind, its values in row order
            for _name, key, process, fixed in compiled.binds:
                if key is None:
                    bound.append([fixed] * len(rows))
                    continue
                column = columns[self._keys.index(key)]
                bound.append(
                    column if process is None else _converted(column, process, key in repeated)
                )
            parameters = list(zip(*bound, strict=True))
        if not compiled.positional:  # psycopg: named parameters
            names = [name for name, *_ in compiled.binds]
            parameters = [dict(zip(names, values, strict=True)) for values in parameters]
        cursor = _cursor(connection)
        try:
            if dialect.name != "sqlite":
                cursor.executemany(compiled.many_sql, parameters)
                return
            (cache,) = cursor.execute("PRAGMA cache_size").fetchone()
            cursor.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
            try:
                cursor.executemany(compiled.many_sql, parameters)
            finally:
                cursor.execute(f"PRAGMA cache_size = {cache}")
        finally:
            cursor.close()


class PreparedRead:
    """A SELECT compiled once per dialect, for the bind names ``keys``; its rows are named
    tuples with the statement's column keys as fields, each value as ``Connection.execute``
    gives it (SQLAlchemy's result processor of the column's type, chosen on the first run from
    the driver's description of the column, as SQLAlchemy chooses it)."""

    def __init__(self, statement: SelectBase, keys: Sequence[str]) -> None:
        self._statement = statement
        self._keys = list(keys)
        self._row: Any = namedtuple(  # type: ignore[misc]  # the fields are the statement's
            "PreparedRow", list(statement.selected_columns.keys())
        )
        self._compiled: dict[str, tuple[str, bool, Binds]] = {}
        self._processors: dict[str, list[Callable[[Any], Any] | None]] = {}

    def first(self, connection: Connection, values: Mapping[str, Any]) -> Any:
        """The first row for ``values`` (one per key), or None; read in the connection's
        open transaction, if any. Raises ``KeyError`` for a missing value."""
        dialect = connection.dialect
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            sql = self._statement.compile(dialect=dialect)
            binds = _binds(sql, dialect, self._keys)
            compiled = self._compiled[dialect.name] = (sql.string, dialect.positional, binds)
        text, positional, binds = compiled
        cursor = _cursor(connection)
        try:
            cursor.execute(text, _parameters(binds, positional, values))
            row = cursor.fetchone()
            processors = self._processors.get(dialect.name)
            if processors is None:
                processors = self._processors[dialect.name] = [
                    column.type.dialect_impl(dialect).result_processor(dialect, described[1])
                    for column, described in zip(
                        self._statement.selected_columns, cursor.description or (), strict=True
                    )
                ]
        finally:
            cursor.close()
        if row is None:
            return None
        return self._row._make(
            [
                value if process is None else process(value)
                for process, value in zip(processors, row, strict=True)
            ]
        )


def _cursor(connection: Connection) -> DBAPICursor:
    """A new DBAPI cursor on ``connection``'s DBAPI connection, inside its open transaction.
    Raises ``sqlalchemy.exc.ResourceClosedError`` once the connection is closed."""
    dbapi = connection.connection.dbapi_connection
    if dbapi is None:  # the pool has released or invalidated it
        raise ResourceClosedError("this connection is closed")
    return dbapi.cursor()


def _converted(column: Sequence[Any], process: Callable[[Any], Any], repeated: bool) -> list[Any]:
    """``process`` applied to every value of ``column``; for a ``repeated`` column, once per
    distinct value (by equality, a list by its items)."""
    if not repeated:
        return list(map(process, column))
    try:
        distinct = {value: process(value) for value in set(column)}
    except TypeError:  # unhashable values (lists)
        return list(map(_cached(process), column))
    return list(map(distinct.__getitem__, column))


def _cached(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``process`` for values that repeat: each distinct one (a list by its items) converted
    once."""
    cache: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        key = (type(value), tuple(value)) if isinstance(value, list | tuple) else value
        if key not in cache:
            cache[key] = process(value)
        return cache[key]

    return convert


@dataclass(frozen=True)
class _Compiled:
    """SQL text for one dialect (``sql`` for one row, with ``RETURNING`` the new id when
    ``returns``; ``many_sql`` for ``executemany``, without) and its :data:`Binds`."""

    sql: str
    many_sql: str
    positional: bool
    binds: Binds
    returns: bool
