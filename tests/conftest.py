"""Shared fixtures. Tests never touch the learner's real data: TRAINER_DB points into tmp_path,
and they study as the learner ``tester`` (TRAINER_LEARNER). When
``TRAINER_TEST_DATABASE_URL`` names a PostgreSQL server (``make test`` starts one with
``.ci/postgres``), TRAINER_DB is a schema of that server made for the test and dropped after it."""

from __future__ import annotations

import gc
import itertools
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from trainer.cli.main import cli
from trainer.content.builtin_sync import sync_builtin
from trainer.importers.store import media_folder
from trainer.scheduling.days import DayClock
from trainer.store.db import create_db_engine, current_revision, database_url, open_database
from trainer.store.learners import learner_for_write
from trainer.store.memory import StoredMemory, read_memory
from trainer.store.models import Base, Card, CardMemory
from trainer.store.settings import Settings
from trainer.study.session import ReviewSession

# Property tests judge behaviour, never speed (speed lives in the benchmarks): no per-example
# deadline, which a loaded machine or CI runner would otherwise turn into a failure.
hypothesis_settings.register_profile("trainer", deadline=None)
hypothesis_settings.load_profile("trainer")

#: A fixed instant: Sunday 2026-11-29 10:00 UTC, learner day 2026-11-29 with a 4 am rollover.
NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)

#: The learner tests study as (TRAINER_LEARNER), and the id the ``factory`` fixture gives them.
LEARNER_NAME = "tester"
LEARNER = 1

#: The fsrs release the recorded figures (stabilities, intervals, days) were taken from. Another
#: release may compute other numbers: re-record them with it, then change this and the pin of
#: fsrs in pyproject.toml together.
FSRS_RECORDED = "6.3.2"
#: Marks a test whose expected values were recorded from fsrs rather than from an outside
#: reference: it runs only against the release they were recorded with.
recorded_with_fsrs = pytest.mark.skipif(
    version("fsrs") != FSRS_RECORDED,
    reason=f"values recorded with fsrs {FSRS_RECORDED}, fsrs {version('fsrs')} is installed:"
    " re-record them and update FSRS_RECORDED in tests/conftest.py",
)


#: The PostgreSQL server the suite runs on: a URL whose user may create schemas and databases
#: (``.ci/postgres`` sets it). Unset: the suite runs on SQLite files.
SERVER_URL = os.environ.get("TRAINER_TEST_DATABASE_URL") or None


def sqlite_only(reason: str) -> pytest.MarkDecorator:
    """Marks a test of something only SQLite has (a file, its permissions, its journal): it
    is skipped in the PostgreSQL run, with ``reason``."""
    return pytest.mark.skipif(SERVER_URL is not None, reason=f"SQLite only: {reason}")


_schemas = itertools.count()


@pytest.fixture(scope="session")
def _server() -> Iterator[Engine | None]:
    """An autocommit connection pool to :data:`SERVER_URL`, or None on SQLite."""
    if SERVER_URL is None:
        yield None
        return
    admin = create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
    yield admin
    admin.dispose()


def server_database(admin: Engine, name: str) -> str:
    """A new, empty schema ``name`` on the server and the URL of the server database with that
    schema as its search path (each test gets its own, so tests on the server stay apart
    without the cost of a database each)."""
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {name}"))
    url = make_url(SERVER_URL or "").update_query_dict({"options": f"-csearch_path={name}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture
def database(tmp_path: Path, _server: Engine | None) -> Iterator[str]:
    """Where the test's database is (``--db``/``TRAINER_DB``): the file ``trainer.db`` in
    ``tmp_path``, or a schema of its own on the PostgreSQL server, dropped afterwards."""
    if _server is None:
        yield str(tmp_path / "trainer.db")
        return
    name = f"t_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{next(_schemas)}"
    yield server_database(_server, name)
    with _server.connect() as connection:
        connection.execute(text("SET lock_timeout = '5s'"))  # a connection a test left open
        connection.execute(text(f"DROP SCHEMA {name} CASCADE"))


@pytest.fixture(autouse=True)
def _isolated(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _server: Engine | None
) -> None:
    monkeypatch.setenv("TRAINER_DB", database)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # compiled templates
    if _server is not None:  # media of a server database go to the user data folder
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("TRAINER_LEARNER", LEARNER_NAME)
    monkeypatch.delenv("TRAINER_NOW", raising=False)
    monkeypatch.setenv("TZ", "UTC")


#: The :class:`ReviewSession` objects the running test has made and not yet closed.
_sessions: list[ReviewSession] = []


def close_sessions() -> None:
    """Close every :class:`ReviewSession` the running test made, as the commands close theirs:
    a session holds two connections, which must go back to their engine's pool before it is
    disposed (a server's connection left open warns when collected, and may hold up dropping
    the test's schema)."""
    while _sessions:
        _sessions.pop().close()


@pytest.fixture(autouse=True)
def _sessions_closed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Keeps track of the sessions a test makes, for :func:`close_sessions`; any still open
    are closed when the test ends (a fixture that disposes an engine closes them first)."""
    setup = ReviewSession.__init__

    def tracked(session: ReviewSession, *args: Any, **kwargs: Any) -> None:
        setup(session, *args, **kwargs)
        _sessions.append(session)

    monkeypatch.setattr(ReviewSession, "__init__", tracked)
    yield
    close_sessions()
    if SERVER_URL is not None:  # a server connection the test left open warns now, in its test
        gc.collect()


def cli_run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    """Run ``trainer ARGS`` in this process at :data:`NOW` (``TRAINER_NOW``), with ``input`` on
    standard input: (exit code, standard output, standard error)."""
    result = CliRunner().invoke(cli, list(args), env={"TRAINER_NOW": NOW.isoformat()}, input=input)
    return result.exit_code, result.stdout, result.stderr


def sql(database: str, statement: str, **params: Any) -> list[tuple[Any, ...]]:
    """Run ``statement`` (SQLAlchemy ``text``, ``:name`` parameters) on the database at
    ``database`` in a transaction of its own, committed; its rows, [] for a statement without."""
    engine = create_db_engine(database_url(database))
    try:
        with engine.begin() as connection:
            result = connection.execute(text(statement), params)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def database_exists(database: str) -> bool:
    """Whether the test's database has been made: its SQLite file, or on the server any
    trainer table in its schema."""
    if SERVER_URL is None:
        return Path(database).exists()
    engine = create_db_engine(database_url(database))
    try:
        return current_revision(engine) is not None
    finally:
        engine.dispose()


def database_state(database: str) -> bytes | dict[str, list[tuple[Any, ...]]]:
    """What a command that only reads must leave as it was: the SQLite file's bytes (any write
    changes them), or on the server every row of every trainer table, in primary-key order."""
    if SERVER_URL is None:
        return Path(database).read_bytes()
    engine = create_db_engine(database_url(database))
    try:
        with engine.connect() as connection:
            return {
                table.name: [
                    tuple(row)
                    for row in connection.execute(
                        table.select().order_by(*table.primary_key.columns)
                    )
                ]
                for table in Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()


@pytest.fixture
def media_dir(database: str) -> Path:
    """Where media imported into the test's database go (:func:`media_folder`)."""
    return media_folder(database)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """The SQLite file of a test about SQLite files (on SQLite it is :func:`database`)."""
    return tmp_path / "trainer.db"


@pytest.fixture
def factory(database: str) -> Iterator[sessionmaker[Session]]:
    """ORM sessions on a migrated database that holds only the learner ``tester``
    (:data:`LEARNER`)."""
    engine = open_database(database)
    with engine.begin() as conn:
        assert learner_for_write(conn, LEARNER_NAME, NOW) == LEARNER
    yield sessionmaker(engine, expire_on_commit=False)
    close_sessions()
    engine.dispose()


def engine_of(factory: sessionmaker[Session]) -> Engine:
    """The engine behind a session factory (ReviewSession works on engines)."""
    engine = factory.kw["bind"]
    assert isinstance(engine, Engine)
    return engine


def stored(factory: sessionmaker[Session], card_id: int, learner: int = LEARNER) -> StoredMemory:
    """A learner's memory row of a card as stored (a new card's when they have none)."""
    with factory() as db:
        return read_memory(db.connection(), learner, card_id)


def memory_row(db: Session, card: Card, learner: int = LEARNER) -> CardMemory:
    """The learner's memory row of ``card`` in ``db``, made (new, flushed) when they have
    none, for a test to set a memory state."""
    row = db.get(CardMemory, (learner, card.id))
    if row is None:
        row = CardMemory(learner_id=learner, card_id=card.id, state=0, reps=0, lapses=0)
        db.add(row)
        db.flush()
    return row


@pytest.fixture
def loaded(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """A database holding the built-in roadmap and decks."""
    with factory.begin() as db:
        sync_builtin(db)
    return factory


@pytest.fixture
def clock() -> DayClock:
    return DayClock(rollover_hour=4, zone=ZoneInfo("UTC"))


@pytest.fixture
def settings() -> Settings:
    return Settings()
