"""Backups: the backup API copy, restoring exactly, never mixing two databases, what is kept,
and the automatic backups (daily, before an upgrade, before an import)."""

from __future__ import annotations

import gc
import shutil
import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy import text

from conftest import sqlite_only
from trainer.cli.main import cli
from trainer.errors import DatabaseError
from trainer.store.backup import NOT_A_BACKUP, Backup, list_backups, make_backup, prune, restore
from trainer.store.db import alembic_config, create_db_engine, database_url, open_database

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)

#: The commands' backups are of the SQLite file the test's TRAINER_DB names; a server database
#: refuses them (the last test).
backs_up_the_file = sqlite_only("backups are SQLite's online backup API copying the file")


def run(*args: str, now: datetime = NOW, input: str | None = None) -> tuple[int, str, str]:
    env = {"TRAINER_NOW": now.isoformat()}
    result = CliRunner().invoke(cli, list(args), env=env, input=input)
    return result.exit_code, result.stdout, result.stderr


def dump(path: Path) -> list[str]:
    """Every statement that rebuilds the database at ``path``: its whole content."""
    with closing(sqlite3.connect(path)) as conn:
        return list(conn.iterdump())


@pytest.fixture
def live(db_path: Path) -> Path:
    """A database with a table whose rows sit in the write-ahead log, not yet in the file."""
    engine = open_database(str(db_path))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
        conn.execute(text("INSERT INTO notes (body) VALUES ('before the backup')"))
    engine.dispose()
    with closing(sqlite3.connect(db_path)) as conn:
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        conn.execute("INSERT INTO notes (body) VALUES ('in the log only')")
        conn.commit()
        assert db_path.with_name("trainer.db-wal").stat().st_size > 0
        conn.execute("PRAGMA wal_autocheckpoint = 0")
    return db_path


def test_restoring_a_backup_gives_back_exactly_the_database_it_was_made_from(
    live: Path,
) -> None:
    with closing(sqlite3.connect(live)) as reader:  # a session still has it open meanwhile
        reader.execute("SELECT count(*) FROM notes").fetchone()
        made = make_backup(live, NOW, "manual")
    before = dump(live)
    assert "INSERT INTO \"notes\" VALUES(2,'in the log only');" in before
    with closing(sqlite3.connect(live)) as conn:
        conn.execute("INSERT INTO notes (body) VALUES ('after the backup')")
        conn.execute("DELETE FROM notes WHERE id = 1")
        conn.commit()
    changed = dump(live)
    saved = restore(live, made.path, NOW + timedelta(hours=1))
    assert dump(live) == before
    assert not live.with_name("trainer.db-wal").exists()  # no log of the other database left
    assert [p.name for p in live.parent.iterdir() if "restore" in p.name] == []
    assert isinstance(saved, Backup) and saved.kind == "restore"
    unpacked = live.with_name("saved.db")
    restore(unpacked, saved.path, NOW)
    assert dump(unpacked) == changed  # the replaced database was kept whole


def test_a_restore_while_another_session_has_the_database_open_changes_nothing(
    live: Path,
) -> None:
    made = make_backup(live, NOW, "manual")
    with closing(sqlite3.connect(live)) as conn:
        conn.execute("INSERT INTO notes (body) VALUES ('after')")
        conn.commit()
        conn.execute("BEGIN")
        conn.execute("SELECT count(*) FROM notes").fetchone()  # a read in progress
        before = dump(live)
        with pytest.raises(DatabaseError) as raised:
            restore(live, made.path, NOW)
        conn.rollback()
    assert str(raised.value) == (
        f"database {live} is open in another trainer session: close it, then restore"
    )
    assert dump(live) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a database at all" * 100, NOT_A_BACKUP),
        (b"\x28\xb5\x2f\xfd" + b"\x00" * 50, NOT_A_BACKUP),  # zstandard's magic, then junk
        (None, NOT_A_BACKUP),  # a real backup cut in half
    ],
)
def test_a_file_that_is_no_backup_is_refused_and_nothing_changes(
    live: Path, tmp_path: Path, content: bytes | None, message: str
) -> None:
    bad = tmp_path / "bad.db.zst"
    if content is None:
        whole = make_backup(live, NOW, "manual").path.read_bytes()
        content = whole[: len(whole) // 2]
        shutil.rmtree(live.parent / "backups")
    bad.write_bytes(content)
    before = dump(live)
    with pytest.raises(DatabaseError) as raised:
        restore(live, bad, NOW)
    assert str(raised.value) == f"backup {bad}: {message}"
    assert dump(live) == before
    assert list_backups(live) == []  # refused before the current one was even backed up
    assert [p.name for p in live.parent.iterdir() if "restore" in p.name] == []


def _stamp(path: Path, made_at: datetime, kind: str = "daily") -> Path:
    folder = path.parent / "backups"
    folder.mkdir(exist_ok=True)
    name = folder / f"{path.stem}-{made_at:%Y%m%dT%H%M%SZ}-{kind}.db.zst"
    name.write_bytes(b"x")
    return name


def test_prune_keeps_today_the_newest_of_each_recent_day_and_one_a_week(tmp_path: Path) -> None:
    database = tmp_path / "trainer.db"
    start = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)  # a Wednesday
    made = [_stamp(database, start + timedelta(days=n)) for n in range(400)]
    evening = [_stamp(database, start + timedelta(days=n, hours=12), "import") for n in range(400)]
    other = tmp_path / "backups" / "other-20250101T090000Z-daily.db.zst"
    other.write_bytes(b"x")
    now = start + timedelta(days=399, hours=13)
    deleted = prune(database, 30, 52, lambda at: at.date(), now)
    kept = {backup.path for backup in list_backups(database)}
    assert kept.isdisjoint(deleted)
    today = {made[399], evening[399]}
    daily = set(evening[369:399])  # the newest of each of the 30 days before today
    # the newest of each of the 52 ISO weeks: the Sunday evening, and this week's today
    weeks = {
        evening[n]
        for n in range(399)
        if (start + timedelta(days=n)).isoweekday() == 7
        and start.date() + timedelta(days=n) > now.date() - timedelta(weeks=52)
    }
    assert kept == today | daily | set(list(sorted(weeks))[-51:])
    assert other.exists()


def test_prune_by_learner_day_counts_a_backup_after_midnight_as_the_day_before(
    tmp_path: Path,
) -> None:
    database = tmp_path / "trainer.db"
    late = _stamp(database, datetime(2026, 11, 28, 2, 0, tzinfo=UTC))  # learner day 27th
    early = _stamp(database, datetime(2026, 11, 27, 20, 0, tzinfo=UTC))

    def day_of(at: datetime) -> date:
        return (at - timedelta(hours=4)).date()

    prune(database, 1, 0, day_of, NOW)
    assert [b.path for b in list_backups(database)] == [late]
    assert not early.exists()


# -- the commands and the automatic backups ------------------------------------------------------


@backs_up_the_file
def test_backup_and_list_say_where_each_backup_is(db_path: Path) -> None:
    assert run("backup") == (1, "", f"Error: no database at {db_path} yet: nothing to back up\n")
    assert run("status")[0] == 0  # made the database: no backup of a new one
    assert run("backup", "--list") == (0, f"No backups yet in {db_path.parent / 'backups'}.\n", "")
    code, out, _ = run("backup")
    manual = db_path.parent / "backups" / "trainer-20261129T100000Z-manual.db.zst"
    size = manual.stat().st_size
    assert (code, out) == (0, f"Backed up to {manual} ({size / 1e3:,.1f} KB).\n")
    assert run("backup", "--list") == (
        0,
        f"2026-11-29 10:00  manual     {size / 1e3:,.1f} KB  {manual}\n",
        "",
    )


@backs_up_the_file
def test_the_first_write_of_each_learner_day_backs_up_once(db_path: Path) -> None:
    run("status")
    run("config", "new_cards_per_day", "15", now=NOW + timedelta(minutes=5))
    run("config", "new_cards_per_day", "16", now=NOW + timedelta(minutes=6))
    assert [b.kind for b in list_backups(db_path)] == ["daily"]
    run("check", now=NOW + timedelta(hours=17, minutes=59))  # 03:59 next morning: same day
    run("check", now=NOW + timedelta(hours=18))  # 04:00: the next learner day, a repair pass
    run("check", now=NOW + timedelta(hours=19))
    assert [b.made_at for b in list_backups(db_path)] == [
        NOW + timedelta(minutes=5),
        NOW + timedelta(hours=18),
    ]


@backs_up_the_file
def test_a_command_that_only_reads_never_backs_up(db_path: Path) -> None:
    run("status")
    for day in range(3):
        later = NOW + timedelta(days=day, minutes=5)
        for args in (["status"], ["cards", "is:new", "--limit", "1"], ["report"], ["stats"]):
            assert run(*args, now=later)[0] == 0
        assert run("config", "new_cards_per_day", now=later)[0] == 0
        assert run("backup", "--list", now=later) == (
            0,
            f"No backups yet in {db_path.with_name('backups')}.\n",
            "",
        )
    run("config", "new_cards_per_day", "15", now=NOW + timedelta(days=3))
    assert [b.kind for b in list_backups(db_path)] == ["daily"]


@backs_up_the_file
def test_an_import_backs_up_before_it_writes_and_a_dry_run_does_not(
    db_path: Path, tmp_path: Path
) -> None:
    run("status")
    deck = tmp_path / "spanish.csv"
    deck.write_text("hola,hello\n")
    assert run("import", str(deck), "--dry-run")[0] == 0
    assert list_backups(db_path) == []
    assert run("import", str(deck))[0] == 0
    kinds = [b.kind for b in list_backups(db_path)]
    assert kinds == ["daily", "import"]
    imported = list_backups(db_path)[1]
    restored = tmp_path / "restored.db"
    restore(restored, imported.path, NOW)
    with closing(sqlite3.connect(restored)) as conn:
        assert conn.execute("SELECT count(*) FROM card WHERE front = 'hola'").fetchone() == (0,)


@backs_up_the_file
def test_a_schema_upgrade_backs_the_old_database_up_first(db_path: Path) -> None:
    engine = create_db_engine(database_url(str(db_path)))
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003_deck_tree")
    engine.dispose()
    old = dump(db_path)
    assert run("status")[0] == 0
    [made] = list_backups(db_path)
    assert made.kind == "migration"
    restored = db_path.with_name("old.db")
    restore(restored, made.path, NOW)
    assert dump(restored) == old


@backs_up_the_file
def test_restore_asks_first_and_backs_up_the_current_database(db_path: Path) -> None:
    run("status")
    made: Backup = make_backup(db_path, NOW, "manual")
    assert run("restore", str(made.path), input="n\n") == (
        0,
        f"Replace the database {db_path} by the backup {made.path}? It is backed up first"
        " [y/N]: n\nNothing restored.\n",
        "",
    )
    gc.collect()  # the in-process commands' engines let go of their connections
    code, out, _ = run("restore", str(made.path), "--yes", now=NOW + timedelta(minutes=1))
    saved = db_path.parent / "backups" / "trainer-20261129T100100Z-restore.db.zst"
    assert (code, out) == (
        0,
        f"Restored {made.path} into {db_path}.\nThe database it replaced is in {saved}.\n",
    )


def test_a_server_database_is_backed_up_by_the_server_s_tools() -> None:
    result = CliRunner().invoke(cli, ["--db", "postgresql://localhost/trainer", "backup"])
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: backups are made for SQLite database files; back up a server database"
        " (PostgreSQL) with the server's own tools, e.g. pg_dump\n",
    )


@backs_up_the_file
def test_a_learner_who_studies_every_day_keeps_the_backup_of_each_day(db_path: Path) -> None:
    days = [datetime(2026, 11, day, 10, 0, tzinfo=UTC) for day in range(1, 9)]
    for now in days:
        assert run("review", now=now, input=" 3q")[0] == 0
    # the first review made the database: there was none to back up; each later day's first
    # write backed it up, each backup kept on its own learner day
    assert [(b.made_at, b.kind) for b in list_backups(db_path)] == [
        (now, "daily") for now in days[1:]
    ]


def _damaged(database: Path) -> bytes:
    """``database``'s bytes with every page after the first two overwritten: SQLite reads its
    header and schema but finds its tables' pages damaged."""
    with closing(sqlite3.connect(database)) as conn:
        conn.execute("PRAGMA journal_mode = DELETE")  # the whole database in the one file
    content = bytearray(database.read_bytes())
    page = int.from_bytes(content[16:18], "big")
    content[2 * page :] = b"\xff" * (len(content) - 2 * page)
    return bytes(content)


@backs_up_the_file
@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda path: b"not a database at all" * 500, "file is not a database"),
        (_damaged, "database disk image is malformed"),
    ],
)
def test_restore_over_a_damaged_database_moves_it_aside_unopened(
    db_path: Path, damage: Callable[[Path], bytes], reason: str
) -> None:
    run("status")
    gc.collect()
    made = make_backup(db_path, NOW, "manual")
    good = dump(db_path)
    damaged = damage(db_path)
    db_path.write_bytes(damaged)
    db_path.with_name("trainer.db-wal").unlink(missing_ok=True)
    db_path.with_name("trainer.db-shm").unlink(missing_ok=True)
    code, out, err = run("restore", str(made.path), "--yes", now=NOW + timedelta(minutes=1))
    aside = db_path.with_name("trainer-20261129T100100Z-damaged.db")
    assert (code, out, err) == (
        0,
        f"Restored {made.path} into {db_path}.\n"
        f"The database it replaced could not be read ({reason}): kept as it was in {aside}.\n",
        "",
    )
    assert aside.read_bytes() == damaged
    assert dump(db_path) == good
    assert [b.kind for b in list_backups(db_path)] == ["manual"]  # the damaged one is no backup


@backs_up_the_file
def test_restore_without_a_database_puts_the_backup_in_its_place(db_path: Path) -> None:
    run("status")
    gc.collect()
    made = make_backup(db_path, NOW, "manual")
    good = dump(db_path)
    for path in db_path.parent.glob("trainer.db*"):
        path.unlink()
    assert run("restore", str(made.path), "--yes") == (
        0,
        f"Restored {made.path} into {db_path}.\n",
        "",
    )
    assert dump(db_path) == good
    db_path.unlink()
    db_path.with_name("trainer.db-wal").write_bytes(b"a log of another database")
    code, out, _ = run("restore", str(made.path), "--yes", now=NOW + timedelta(minutes=1))
    aside = db_path.with_name("trainer-20261129T100100Z-damaged.db-wal")
    assert (code, out) == (
        0,
        f"Restored {made.path} into {db_path}.\n"
        "The database it replaced could not be read (a log left without its database):"
        f" kept as it was in {aside}.\n",
    )
    assert aside.read_bytes() == b"a log of another database"
    assert not db_path.with_name("trainer.db-wal").exists()
    assert dump(db_path) == good


@backs_up_the_file
def test_backup_list_without_a_readable_database_lists_the_folder_beside_it(
    db_path: Path,
) -> None:
    folder = db_path.parent / "backups"
    assert run("backup", "--list") == (0, f"No backups yet in {folder}.\n", "")
    run("status")
    gc.collect()
    made = make_backup(db_path, NOW, "manual")
    listed = f"2026-11-29 10:00  manual     {made.size / 1e3:,.1f} KB  {made.path}\n"
    db_path.write_bytes(b"not a database at all" * 500)
    assert run("backup", "--list") == (0, listed, "")
    db_path.unlink()
    assert run("backup", "--list") == (0, listed, "")
