"""Running on a PostgreSQL server: URLs are shown without their password, a server that cannot
be used is one line, and two trainers upgrading one new database at once do not collide.

The tests that need a server run in the PostgreSQL run of ``make test`` (``.ci/postgres``)."""

from __future__ import annotations

import multiprocessing
import os
import threading
from datetime import UTC, datetime
from multiprocessing.synchronize import Barrier

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine, make_url, text

from conftest import SERVER_URL, server_database
from trainer.cli.main import cli
from trainer.store.db import (
    SCHEMA_HEAD,
    current_revision,
    database_url,
    open_database,
    shown_location,
)
from trainer.store.learners import learner_for_write

needs_server = pytest.mark.skipif(
    SERVER_URL is None, reason="needs a PostgreSQL server (TRAINER_TEST_DATABASE_URL)"
)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


@given(
    password=st.text(st.characters(exclude_categories=["Cs"], exclude_characters="@/"), min_size=1)
)
def test_a_url_is_shown_without_its_password(password: str) -> None:
    url = make_url("postgresql+psycopg://learner@db.example:5432/trainer").set(password=password)
    text_url = url.render_as_string(hide_password=False)
    assert shown_location(text_url) == "postgresql+psycopg://learner:***@db.example:5432/trainer"
    unparsable = text_url.replace(":5432", ":port")  # a port that is not a number
    assert shown_location(unparsable) == "postgresql+psycopg://learner:***@db.example:port/trainer"


def test_a_plain_postgresql_url_gets_psycopg_and_a_path_is_shown_as_it_is() -> None:
    assert database_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    assert database_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert shown_location("/home/ann/trainer.db") == "/home/ann/trainer.db"


@pytest.mark.parametrize(
    ("url", "said"),
    [
        (
            "postgresql+psycopg://ann:s3cret@127.0.0.1:1/trainer",
            "database postgresql+psycopg://ann:***@127.0.0.1:1/trainer: cannot reach the server"
            " at 127.0.0.1:1 (is it running, and does it accept connections from here?)",
        ),
        (
            "postgresql://ann:s3cret@127.0.0.1:nine/trainer",
            "database URL postgresql://ann:***@127.0.0.1:nine/trainer: not a file path or a URL"
            " such as postgresql+psycopg://user@host/dbname",
        ),
        (
            "mysql+pymysql://ann:s3cret@127.0.0.1/trainer",
            "database URL mysql+pymysql://ann:***@127.0.0.1/trainer: its driver is not"
            " installed (for PostgreSQL: pip install 'trainer[postgres]', and use"
            " postgresql+psycopg://)",
        ),
    ],
)
def test_an_unusable_url_is_one_line_without_the_password(url: str, said: str) -> None:
    assert run("--db", url, "status") == (1, f"Error: {said}\n")


@needs_server
@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"password": "wrong"}, 'password authentication failed for user "trainer"'),
        ({"username": "nobody_here"}, 'password authentication failed for user "nobody_here"'),
        ({"database": "no_such_db"}, 'database "no_such_db" does not exist'),
    ],
)
def test_a_refused_connection_is_one_line_in_the_servers_words(
    change: dict[str, str], said: str
) -> None:
    url = make_url(SERVER_URL or "").set(
        username=change.get("username"),
        password=change.get("password"),
        database=change.get("database"),
    )
    shown = url.render_as_string(hide_password=True)
    code, output = run("--db", url.render_as_string(hide_password=False), "status")
    assert (code, output) == (
        1,
        f"Error: database {shown}: the server refused the connection: {said}\n",
    )
    assert "wrong" not in output.replace("nobody_here", "")


def _upgrade(location: str, ready: Barrier) -> None:
    ready.wait()  # both processes have imported trainer: they start upgrading together
    open_database(location).dispose()


@needs_server
def test_two_upgrades_of_one_new_database_at_once_make_one_schema() -> None:
    admin = create_engine(SERVER_URL or "", isolation_level="AUTOCOMMIT")
    name = f"upgrade_{os.getpid()}"
    location = server_database(admin, name)
    try:
        context = multiprocessing.get_context("spawn")
        ready = context.Barrier(2)
        upgrades = [context.Process(target=_upgrade, args=(location, ready)) for _ in range(2)]
        for process in upgrades:
            process.start()
        for process in upgrades:
            process.join(60)
        assert [process.exitcode for process in upgrades] == [0, 0]
        engine = open_database(location)
        assert current_revision(engine) == SCHEMA_HEAD
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
        engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {name} CASCADE"))
        admin.dispose()


@needs_server
def test_two_sessions_making_one_new_learner_at_once_make_one_row() -> None:
    admin = create_engine(SERVER_URL or "", isolation_level="AUTOCOMMIT")
    name = f"learner_{os.getpid()}"
    location = server_database(admin, name)
    engine = open_database(location)
    try:
        first, second = engine.connect(), engine.connect()
        first.begin()
        made = learner_for_write(first, "ann", datetime(2026, 12, 6, tzinfo=UTC))
        found: list[int] = []
        # The second session's insert waits on the first's uncommitted row, then does nothing.
        waiting = threading.Thread(
            target=lambda: found.append(
                learner_for_write(second, "ann", datetime(2026, 12, 6, 1, tzinfo=UTC))
            )
        )
        second.begin()
        waiting.start()
        waiting.join(1)
        assert waiting.is_alive()
        first.commit()
        waiting.join(30)
        second.commit()
        assert found == [made]
        assert second.scalar(text("SELECT count(*) FROM learner WHERE name = 'ann'")) == 1
        first.close()
        second.close()
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {name} CASCADE"))
        admin.dispose()
