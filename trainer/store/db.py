"""Opening the database: engine configuration, schema upgrade, and units of work.

The database is a SQLAlchemy URL; a plain path means SQLite, ``postgresql+psycopg://...`` a
PostgreSQL server (the ``postgres`` extra installs psycopg 3). Both engines are configured in one
place, :func:`create_db_engine`, which the app, ``migrations/env.py`` and the tests all use.
A URL is shown to the user only through :func:`shown_location`, which hides its password.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import sqlite3
import stat
from collections.abc import Callable
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Boolean, Connection, Engine, Integer, create_engine, event, make_url, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from trainer.errors import DatabaseError
from trainer.store.resources import MIGRATIONS_DIR

#: The Alembic head this code expects; ``tests/test_migrations.py`` checks it is the real head,
#: so a normal start needs no Alembic import to know the schema is current.
SCHEMA_HEAD = "0013_day_activity_kind"

#: How long a write waits for another session's write to finish, in milliseconds.
BUSY_TIMEOUT_MS = 10_000

#: How long connecting to a database server may take before it counts as unreachable, in
#: seconds (libpq's ``connect_timeout``).
CONNECT_TIMEOUT_S = 10

#: The key of the PostgreSQL advisory lock that serialises schema upgrades: two trainers
#: starting at once on a new server database upgrade one after the other. Any 64-bit number
#: no other program on the server uses; this one is "trainer" in ASCII.
UPGRADE_LOCK_KEY = 0x747261696E6572


#: SQLite's ``synchronous`` level for each value of the ``durability`` setting
#: (sqlite.org/pragma.html#pragma_synchronous, sqlite.org/wal.html#performance_considerations).
SYNCHRONOUS = {"full": "FULL", "normal": "NORMAL"}

#: The ``durability`` of each SQLite engine that :func:`set_durability` moved off ``full``.
_durability: WeakKeyDictionary[Engine, str] = WeakKeyDictionary()


def shown_location(location: str) -> str:
    """``location`` (a file path or a SQLAlchemy URL) as it may be shown to the user: a URL's
    password is replaced by ``***``, also in a URL SQLAlchemy cannot parse."""
    if "://" not in location:
        return location
    try:
        return make_url(location).render_as_string(hide_password=True)
    except (sa_exc.ArgumentError, ValueError):  # ValueError: a port that is not a number
        return re.sub(r"(://[^/@]*?:)[^/@]*@", r"\1***@", location)


def database_url(location: str) -> str:
    """Turn ``--db``/``TRAINER_DB`` (a file path or a SQLAlchemy URL) into a SQLAlchemy URL.

    A ``postgresql://`` URL without a driver gets psycopg 3's (``postgresql+psycopg://``), the
    one the ``postgres`` extra installs. Raises :class:`DatabaseError` when a SQLite path's
    folder does not exist or is a directory.
    """
    if location.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + location.split("://", 1)[1]
    if "://" in location:
        return location
    path = Path(location).expanduser()
    if path.is_dir():
        raise DatabaseError(f"database path {location}: is a directory, not a file")
    if not path.parent.is_dir():
        raise DatabaseError(f"database path {location}: folder {path.parent} does not exist")
    return f"sqlite:///{path.resolve()}"


#: SQLite's primary result codes (sqlite.org/rescode.html) that mean the storage refused a
#: write, and the words a user is told for each; extended codes share the low byte.
STORAGE_FAULTS = {8: "database is read-only", 10: "disk I/O error", 13: "disk is full"}


#: PostgreSQL error codes (SQLSTATE, postgresql.org/docs/current/errcodes-appendix.html) a
#: user can act on, and the words they are told for each.
SERVER_FAULTS = {
    "42501": "this user may not do that (grant it the rights the README lists)",
    "53300": "the server has too many connections open; try again later",
    "57P01": "the server was shut down while trainer was using it; try again",
    "57P03": "the server is starting up or shutting down; try again shortly",
}


def storage_error(exc: BaseException, location: str) -> DatabaseError | None:
    """The one-line :class:`DatabaseError`, naming ``location`` (password hidden), for a fault
    the user can act on; None for any other exception (a fault of trainer).

    SQLite: a read-only database, a full disk or an I/O error (``sqlite3`` errors, bare or
    wrapped by SQLAlchemy). PostgreSQL: missing rights, a full or stopping server
    (:data:`SERVER_FAULTS`), a connection the server refused (wrong password, unknown user or
    database: the server's words), and a server that cannot be reached or dropped the
    connection (psycopg's ``OperationalError`` without a SQLSTATE).
    """
    orig = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc
    where = f"database {shown_location(location)}"
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(orig, sqlite3.Error):
        if code is None or code & 0xFF not in STORAGE_FAULTS:
            return None
        return DatabaseError(f"{where}: {STORAGE_FAULTS[code & 0xFF]}")
    sqlstate = getattr(orig, "sqlstate", False)
    if sqlstate is False:  # not a psycopg error
        return None
    if sqlstate in SERVER_FAULTS:
        return DatabaseError(f"{where}: {SERVER_FAULTS[sqlstate]}")
    if sqlstate is None and type(orig).__name__ == "OperationalError":
        # libpq gives no SQLSTATE for a refused connection: the server's own words follow
        # "FATAL:" (e.g. password authentication failed for user "x", database "y" does not
        # exist); with none, the server was not reached or went away
        said = re.search(r"FATAL:\s+(.+)", str(orig))
        if said:
            return DatabaseError(f"{where}: the server refused the connection: {said[1]}")
        url = make_url(database_url(location))
        return DatabaseError(
            f"{where}: cannot reach the server at {url.host or 'localhost'}:{url.port or 5432}"
            " (is it running, and does it accept connections from here?)"
        )
    return None


def sqlite_read_only(url: str) -> bool:
    """Whether the SQLite file behind ``url`` exists and may not be written: the file or its
    folder is not writable for this process, or has no write permission bit at all (which
    root, whom permissions do not stop, is taken to honour too). False for other URLs."""
    if not url.startswith("sqlite:///"):
        return False
    path = Path(url.removeprefix("sqlite:///"))
    if not path.is_file():
        return False
    return any(
        not os.access(place, os.W_OK) or not stat.S_IMODE(place.stat().st_mode) & 0o222
        for place in (path, path.parent)
    )


def create_db_engine(url: str) -> Engine:
    """Create an engine; for SQLite, configure every connection (see :func:`_configure_sqlite`).

    PostgreSQL connections are checked before each use (``pool_pre_ping``, so a restarted
    server costs one reconnect, not an error), give up connecting after
    :data:`CONNECT_TIMEOUT_S` seconds, and run at READ COMMITTED: a rating locks its card's
    row (``SELECT ... FOR UPDATE``) before it re-reads it, so two sessions rating one card
    queue like SQLite's ``BEGIN IMMEDIATE`` writers, and the second sees the first's rating.

    A read-only SQLite file (:func:`sqlite_read_only`) is opened with SQLite's ``mode=ro``,
    so every write fails with ``SQLITE_READONLY``, and, when no write-ahead log is beside it,
    also ``immutable=1``, so that reading it creates no ``-shm``/``-wal`` file and takes no
    lock (nothing can change a file nobody may write). With a log beside it, SQLite must read
    the log, which needs its ``-shm`` index.
    """
    if sqlite_read_only(url):
        path = Path(url.removeprefix("sqlite:///"))
        query = "mode=ro" if path.with_name(f"{path.name}-wal").exists() else "mode=ro&immutable=1"
        uri = f"{path.as_uri()}?{query}"
        engine = create_engine(
            url, creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False)
        )
        _configure_sqlite(engine, read_only=True)
        return engine
    if make_url(url).get_backend_name() == "postgresql":
        return create_engine(
            url,
            pool_pre_ping=True,
            isolation_level="READ COMMITTED",
            connect_args={"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "trainer"},
        )
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, read_only=False)
    return engine


def set_durability(engine: Engine, durability: str) -> None:
    """Make ``engine``'s SQLite connections from now on commit with ``durability`` (a value of
    :data:`trainer.store.settings.DURABILITIES`): ``full`` (every engine starts so) fsyncs the
    write-ahead log on every commit, so a power cut loses no committed rating; ``normal`` keeps
    every commit through a crash of trainer, but a power cut or operating-system crash may lose
    the commits since the last checkpoint (never corrupting the file). Idle pooled connections
    are closed when the level changes. On PostgreSQL it does nothing: the server's own
    ``synchronous_commit`` decides (``on`` by default, which waits for the flush as ``full``).
    """
    if engine.dialect.name != "sqlite" or _durability.get(engine, "full") == durability:
        return
    _durability[engine] = durability
    engine.dispose()


def _configure_sqlite(engine: Engine, read_only: bool) -> None:
    """Foreign keys on, WAL with ``synchronous`` as :func:`set_durability` sets it (``FULL`` at
    first), a busy timeout, SQLAlchemy-run BEGIN, and ``power(x, y)`` (the reports'
    retrievability) where SQLite was built without it.

    pysqlite's own transaction handling is switched off (``isolation_level = None``) so
    that SQLAlchemy's BEGIN is the only one and rollbacks really roll back (SQLAlchemy docs,
    "Serializable isolation / Savepoints / Transactional DDL" for pysqlite).
    ``BEGIN IMMEDIATE`` takes the write lock up front, so two review sessions on one file
    queue for it instead of failing with ``SQLITE_BUSY`` when a read transaction tries to
    upgrade; :func:`reader` connections skip it. Nothing holds a transaction open while
    waiting for the learner. A ``read_only`` connection leaves the journal mode as the file
    has it (setting it would be a write).
    """

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not read_only:
            cursor.execute("PRAGMA journal_mode = WAL")
            synchronous = SYNCHRONOUS[_durability.get(engine, "full")]
            cursor.execute(f"PRAGMA synchronous = {synchronous}")
        try:  # SQLite has power() only when built with its math functions
            cursor.execute("SELECT power(2, 1)")
        except sqlite3.OperationalError:
            dbapi_connection.create_function("power", 2, math.pow, deterministic=True)
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("trainer_begin", "IMMEDIATE")
        if mode:  # straight to the driver: SQLAlchemy's execute costs more than the BEGIN;
            # a failure is then sqlite3's own error, which storage_error reads as a wrapped one
            connection.connection.driver_connection.execute(f"BEGIN {mode}")


def before_first_write(engine: Engine, action: Callable[[], None]) -> None:
    """Run ``action`` once, just before the first write transaction on the SQLite ``engine``
    begins: the first ``BEGIN IMMEDIATE`` (``engine.begin()``, an ORM ``Session``, a plain
    ``engine.connect()``), never for a :func:`reader` connection. Whatever ``action`` raises
    reaches the writer, whose transaction then does not start.
    """
    done = False

    def on_begin(connection: Any) -> None:
        nonlocal done
        mode = connection.get_execution_options().get("trainer_begin", "IMMEDIATE")
        if mode == "IMMEDIATE" and not done:
            done = True
            action()

    event.listen(engine, "begin", on_begin, insert=True)  # before the BEGIN is sent


def write_mark(conn: Connection) -> tuple[int, int] | None:
    """A mark of the database's contents, read in ``conn``'s open transaction: two marks of
    one connection are equal exactly when no connection, this one included, wrote to the
    database between them. Read inside a write transaction (no other writer can commit
    meanwhile), it lets what was counted in one transaction be kept for the next.

    On SQLite: (``PRAGMA data_version``, which changes when another connection, of any
    process, commits (sqlite.org/pragma.html#pragma_data_version); the rows this connection
    has inserted, updated or deleted, ``sqlite3_total_changes``). None on other engines, which
    offer no such mark: nothing counted may then be kept.
    """
    if conn.dialect.name != "sqlite":
        return None
    driver: Any = conn.connection.driver_connection  # sqlite3.Connection
    (version,) = driver.execute("PRAGMA data_version").fetchone()
    return int(version), int(driver.total_changes)


def write_mark_after(conn: Connection, mark: tuple[int, int] | None) -> tuple[int, int] | None:
    """:func:`write_mark` after writes of ``conn``'s own, in the write transaction in which
    :func:`write_mark` gave ``mark`` (None: None): no other connection can commit while this
    one holds SQLite's write lock, so only the connection's total changes move, read without
    running a statement."""
    if mark is None:
        return None
    driver: Any = conn.connection.driver_connection  # sqlite3.Connection
    return mark[0], int(driver.total_changes)


class days_between(FunctionElement[int]):  # named like the SQL function it stands for
    """``days_between(start, end)``: whole days from date ``start`` to date ``end`` (negative
    when ``end`` is earlier), in SQLite (``julianday``) and PostgreSQL (date subtraction)."""

    type = Integer()
    inherit_cache = True
    name = "days_between"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(julianday({end}) - julianday({start}) AS INTEGER)"


@compiles(days_between, "postgresql")
def _days_between_postgresql(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(CAST({end} AS DATE) - CAST({start} AS DATE))"


class not_below_zero(FunctionElement[int]):  # named for what it gives
    """``not_below_zero(days)``: a whole number of days, 0 when negative (NULL stays NULL),
    with ``days`` computed once: SQLite's two-argument ``max``; elsewhere a ``CASE``."""

    type = Integer()
    inherit_cache = True
    name = "not_below_zero"


@compiles(not_below_zero)
def _not_below_zero(element: not_below_zero, compiler: SQLCompiler, **kw: Any) -> str:
    (days,) = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CASE WHEN {days} < 0 THEN 0 ELSE {days} END"


@compiles(not_below_zero, "sqlite")
def _not_below_zero_sqlite(element: not_below_zero, compiler: SQLCompiler, **kw: Any) -> str:
    (days,) = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"max({days}, 0)"


class tag_like(FunctionElement[bool]):  # named like the SQL it stands for
    """``tag_like(tags, pattern)``: a JSON list of strings ``tags`` holds one whose lower case
    is LIKE ``pattern`` (``\\`` its escape character): SQLite ``json_each``, PostgreSQL
    ``json_array_elements_text``."""

    type = Boolean()
    inherit_cache = True
    name = "tag_like"


def _tag_like(element: tag_like, compiler: SQLCompiler, elements: str, **kw: Any) -> str:
    tags, pattern = (compiler.process(clause, **kw) for clause in element.clauses)
    return (
        f"EXISTS (SELECT 1 FROM {elements.format(tags)}"
        f" WHERE lower(tag.value) LIKE {pattern} ESCAPE '\\')"
    )


@compiles(tag_like, "sqlite")
def _tag_like_sqlite(element: tag_like, compiler: SQLCompiler, **kw: Any) -> str:
    return _tag_like(element, compiler, "json_each({}) AS tag", **kw)


@compiles(tag_like, "postgresql")
def _tag_like_postgresql(element: tag_like, compiler: SQLCompiler, **kw: Any) -> str:
    return _tag_like(
        element, compiler, "json_array_elements_text(CAST({} AS JSON)) AS tag(value)", **kw
    )


def reader(engine: Engine, snapshot: bool = False) -> Connection:
    """A connection for reads only, which takes no write lock on SQLite.

    With ``snapshot`` its statements share one read transaction (SQLite: ``BEGIN DEFERRED``;
    PostgreSQL: REPEATABLE READ, READ ONLY) and so agree with each other; without, each
    statement reads the latest commit on its own (PostgreSQL: autocommit).
    """
    connection = engine.connect()
    if engine.dialect.name == "postgresql":
        if snapshot:
            return connection.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        return connection.execution_options(isolation_level="AUTOCOMMIT")
    return connection.execution_options(trainer_begin="DEFERRED" if snapshot else "")


def sitting_connections(engine: Engine) -> tuple[Connection, Connection]:
    """The connections a study sitting holds, as (for reads, for writes); the writes take
    their transactions with ``begin()``, the reads run on the DBAPI cursor outside any
    (:class:`~trainer.store.prepared.PreparedRead`), so neither holds a transaction while the
    learner thinks.

    On SQLite the two are one connection: a read outside a transaction there takes no write
    lock, and a connection keeps its page cache across its own commits, while SQLite empties
    every other connection's cache when a commit changes the write-ahead log
    (sqlite.org/wal.html), so a second connection would read each card's pages from the file
    again after every rating. Elsewhere the reads get a :func:`reader` of their own.
    """
    writer = engine.connect()
    if engine.dialect.name == "sqlite":
        return writer, writer
    return reader(engine), writer


def derived_writer(engine: Engine) -> Connection:
    """A connection for a command that only reads to store rows derived from what it read
    (which any later read could derive again, so writing them loses nothing): on SQLite its
    transaction begins ``DEFERRED``, taking the write lock at its first write (or failing
    with ``SQLITE_BUSY`` when another connection wrote since it began), and so runs no
    :func:`before_first_write` action such as the daily backup; on PostgreSQL it is a plain
    connection.
    """
    connection = engine.connect()
    if engine.dialect.name == "sqlite":
        return connection.execution_options(trainer_begin="DEFERRED")
    return connection


def open_database(location: str, backup_at: datetime | None = None) -> Engine:
    """Open (creating if needed) the database at ``location`` and upgrade it to the current schema;
    with ``backup_at`` (aware UTC), an existing SQLite file that needs an upgrade is backed up
    first (:func:`trainer.store.backup.make_backup`, kind ``migration``).

    Returns the engine; callers own their transactions (``Session(engine)`` for ORM work,
    ``engine.begin()`` for Core). Raises :class:`DatabaseError` (one line, password hidden)
    for a URL that cannot be parsed or whose driver is missing, a file that is not a trainer
    database, one written by a newer trainer, and the faults :func:`storage_error` names.
    """
    url = database_url(location)
    shown = shown_location(location)
    try:
        engine = create_db_engine(url)
    except (sa_exc.ArgumentError, ValueError):
        raise DatabaseError(
            f"database URL {shown}: not a file path or a URL such as"
            " postgresql+psycopg://user@host/dbname"
        ) from None
    except (sa_exc.NoSuchModuleError, ImportError):
        raise DatabaseError(
            f"database URL {shown}: its driver is not installed (for PostgreSQL: pip install"
            " 'trainer[postgres]', and use postgresql+psycopg://)"
        ) from None
    try:
        upgrade(engine, backup_at)
    except sa_exc.DBAPIError as exc:
        engine.dispose()
        first = next(iter(str(exc.orig).strip().splitlines()), type(exc.orig).__name__)
        raise storage_error(exc, location) or DatabaseError(f"database {shown}: {first}") from None
    except BaseException:  # a file of a newer trainer, an interrupt: its connections closed too
        engine.dispose()
        raise
    return engine


def scratch_copy(location: str, folder: Path) -> str:
    """Where a dry run works: a copy, in ``folder``, of the SQLite database at ``location``
    (with SQLite's backup API when a write-ahead log is beside it, so a database in use copies
    whole), or a new file name there when there is no database yet. Nothing at ``location`` is
    written or created.

    A server database URL is returned as it is: a dry run there relies on rolling back.
    Raises :class:`DatabaseError` when the database cannot be read.
    """
    url = database_url(location)
    if not url.startswith("sqlite:///"):
        return location
    source = Path(url.removeprefix("sqlite:///"))
    copy = folder / "dry-run.db"
    if source.is_file() and not source.with_name(f"{source.name}-wal").exists():
        shutil.copyfile(source, copy)  # the file is the whole database; opening it would
        # leave -wal and -shm files beside it
    elif source.is_file():
        copy_database(source, copy, location)
    return str(copy)


def copy_database(source: Path, target: Path, location: str) -> None:
    """The SQLite database ``source`` copied page by page into the new file ``target`` with
    SQLite's online backup API, from a read-only connection: whole and consistent while other
    sessions use it (its write-ahead log included). Raises :class:`DatabaseError` naming
    ``location`` when it cannot be read."""
    try:
        with (
            closing(sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True)) as original,
            closing(sqlite3.connect(target)) as copy,
        ):
            original.backup(copy)
    except sqlite3.Error as exc:
        raise DatabaseError(f"database {location}: {exc}") from None


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at, or None for an empty database."""
    with engine.connect() as connection:
        # the connection's own schema only (PostgreSQL's search_path): a server database may
        # hold other schemas with trainer tables of their own
        has_table = engine.dialect.has_table(connection, "alembic_version")
        if not has_table:
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, backup_at: datetime | None = None) -> None:
    """Bring the schema to :data:`SCHEMA_HEAD` through Alembic, keeping all data; with
    ``backup_at`` (aware UTC), a writable SQLite file with a schema to upgrade is backed up
    first.

    Imports Alembic only when an upgrade is needed. Raises :class:`DatabaseError` when the
    database is at a revision this trainer does not know (written by a newer version).
    """
    revision = current_revision(engine)
    if revision == SCHEMA_HEAD:
        return
    url = engine.url.render_as_string()
    if backup_at is not None and revision is not None and engine.dialect.name == "sqlite":
        from trainer.store.backup import make_backup

        if not sqlite_read_only(url):
            make_backup(Path(url.removeprefix("sqlite:///")), backup_at, "migration")
    from alembic import command
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    config = alembic_config(engine)
    if revision is not None:
        try:
            ScriptDirectory.from_config(config).get_revision(revision)
        except CommandError:
            raise DatabaseError(
                f"database is at schema revision {revision!r}, newer than this trainer: upgrade"
                " trainer"
            ) from None
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":  # released at commit or rollback; the second
            # of two trainers waits here, then finds the schema current and changes nothing
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK_KEY}
            )
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def alembic_config(engine: Engine) -> Any:
    """An Alembic ``Config`` for the shipped ``migrations/`` scripts and this engine's URL."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["url"] = engine.url.render_as_string(hide_password=False)
    return config
