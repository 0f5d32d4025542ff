"""A database the storage will not write: read-only files and folders, a full disk.

Tests run as root, whom file permissions do not stop; trainer honours a file or folder without
write permission bits all the same, so these tests exercise the read-only path as any user.
"""

from __future__ import annotations

import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from conftest import sqlite_only
from trainer.cli.main import cli
from trainer.store import db as store_db

pytestmark = sqlite_only("file permissions, a full disk and SQLite's result codes")

NOW = "2026-11-29T10:00:00+00:00"
CSV = "What is a dict?,A mapping\nWhat is a list?,A sequence\n"


def run(*args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), input=input, env={"TRAINER_NOW": NOW})
    return result.exit_code, result.output


def _ratings(db_path: Path) -> list[int]:
    with sqlite3.connect(f"{db_path.as_uri()}?mode=ro", uri=True) as conn:
        return [rating for (rating,) in conn.execute("SELECT rating FROM review_log ORDER BY id")]


@pytest.fixture
def read_only_db(db_path: Path) -> Iterator[Path]:
    """The ``db_path`` database after two ratings, checkpointed, its file and folder made
    read-only (write bits removed) for the test, and writable again after it."""
    assert run("review", input=" 3 3q")[0] == 0
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for extra in db_path.parent.glob(f"{db_path.name}-*"):
        extra.unlink()
    db_path.chmod(0o444)
    db_path.parent.chmod(0o555)
    yield db_path
    db_path.parent.chmod(0o755)
    db_path.chmod(0o644)


def _folder(db_path: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(db_path.parent.iterdir())}


@pytest.mark.parametrize(
    "args", [["status"], ["status", "--json"], ["stats"], ["report"], ["decks"]]
)
def test_a_read_only_database_reads_as_a_writable_one(read_only_db: Path, args: list[str]) -> None:
    before = _folder(read_only_db)
    read_only = run(*args)
    assert _folder(read_only_db) == before  # nothing written, no -wal, -shm or journal beside it
    read_only_db.parent.chmod(0o755)
    read_only_db.chmod(0o644)
    assert read_only == run(*args)
    assert read_only[0] == 0


@pytest.mark.parametrize("mode", ["file", "folder"])
@pytest.mark.parametrize(
    "args, input",
    [
        (["review"], " 3q"),
        (["config", "new_cards_per_day", "5"], None),
        (["import", "IMPORT"], None),
    ],
)
def test_writing_to_a_read_only_database_is_one_line(
    read_only_db: Path, tmp_path: Path, mode: str, args: list[str], input: str | None
) -> None:
    deck = tmp_path.parent / f"{tmp_path.name}-python.csv"
    deck.write_text(CSV)
    if mode == "file":  # only the file is read-only; the folder is writable
        read_only_db.parent.chmod(0o755)
    else:  # only the folder is read-only
        read_only_db.chmod(0o644)
    before = _folder(read_only_db)
    code, output = run(*[str(deck) if arg == "IMPORT" else arg for arg in args], input=input)
    assert (code, output.splitlines()[-1]) == (
        1,
        f"Error: database {read_only_db}: database is read-only",
    )
    assert "Error" not in "".join(output.splitlines()[:-1])
    assert _folder(read_only_db) == before
    assert stat.S_IMODE(read_only_db.stat().st_mode) in (0o444, 0o644)


def test_a_full_disk_keeps_the_ratings_before_it(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's ``max_page_count`` caps the file one page above its packed size, so the first
    write that needs a second new page fails with ``SQLITE_FULL``, the error a full disk gives.
    The learner's memory rows and review log start in their tables' empty root pages, so it
    takes a few dozen ratings to fill them."""
    assert run("status")[0] == 0
    with sqlite3.connect(db_path) as conn:
        conn.execute("VACUUM")  # no free pages left to fill
    create = store_db.create_db_engine

    def capped(url: str) -> Any:
        engine = create(url)

        @event.listens_for(engine, "connect")
        def cap(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
            pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
            dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 1}")

        return engine

    monkeypatch.setattr(store_db, "create_db_engine", capped)
    code, output = run("review", "--new-cards", "200", input=" 3\n" * 400 + "q")
    assert (code, output.splitlines()[-1]) == (1, f"Error: database {db_path}: disk is full")
    monkeypatch.undo()
    kept = _ratings(db_path)
    # the 48 ratings that fitted, each committed as it was made (Again on two typed cards,
    # answered wrong)
    assert kept == [3] * 18 + [1] + [3] * 25 + [1] + [3] * 3
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        studied = conn.execute("SELECT count(DISTINCT card_id) FROM review_log").fetchone()
        assert (
            conn.execute("SELECT count(*) FROM card_memory WHERE state != 0").fetchone() == studied
        )


@pytest.mark.parametrize(
    "code, words",
    [
        (8, "database is read-only"),  # SQLITE_READONLY
        (1032, "database is read-only"),  # SQLITE_READONLY_DBMOVED
        (13, "disk is full"),  # SQLITE_FULL
        (10, "disk I/O error"),  # SQLITE_IOERR
        (778, "disk I/O error"),  # SQLITE_IOERR_WRITE
        (1, None),  # SQLITE_ERROR: not a storage fault
    ],
)
def test_storage_faults_by_sqlite_result_code(code: int, words: str | None) -> None:
    """The codes are SQLite's (sqlite.org/rescode.html); SQLAlchemy's wrapper maps the same."""
    error = sqlite3.OperationalError("some library text")
    error.sqlite_errorcode = code
    wrapped = OperationalError("UPDATE card SET due = ?", {}, error)
    for exc in (error, wrapped):
        found = store_db.storage_error(exc, "/x/trainer.db")
        assert (str(found) if found else None) == (
            f"database /x/trainer.db: {words}" if words else None
        )


def test_a_done_topic_found_in_a_read_only_database_is_shown_and_not_stored(
    db_path: Path,
) -> None:
    assert run("review", input=" 3q")[0] == 0
    with sqlite3.connect(db_path) as conn:  # the rated card's topic mastered, without history
        conn.execute(
            "INSERT OR REPLACE INTO card_memory (learner_id, card_id, state, stability_days,"
            " difficulty, due_day, last_review_day, reps, lapses, suspended, leech)"
            " SELECT 1, card.id, 2, 40.0, 5.0, '2027-01-10', '2026-11-29', 1, 0, 0, 0"
            " FROM card JOIN deck ON deck.id = card.deck_id WHERE deck.topic_id ="
            " (SELECT deck.topic_id FROM review_log JOIN card ON card.id = review_log.card_id"
            " JOIN deck ON deck.id = card.deck_id)"
        )
        conn.commit()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for extra in db_path.parent.glob(f"{db_path.name}-*"):
        extra.unlink()
    db_path.chmod(0o444)
    db_path.parent.chmod(0o555)
    before = _folder(db_path)
    read_only = run("report", "--format", "json")
    assert _folder(db_path) == before
    db_path.parent.chmod(0o755)
    db_path.chmod(0o644)
    assert read_only[0] == 0 and '"topics_done": 1' in read_only[1]
    assert run("report", "--format", "json") == read_only  # found again, stored this time
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT done_day FROM topic_done").fetchall() == [("2026-11-29",)]
