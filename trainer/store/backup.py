"""Backups of a SQLite database: made with SQLite's online backup API, compressed, kept for a
while, and restored without ever mixing two databases.

A backup is ``backups/STEM-YYYYMMDDTHHMMSSZ-KIND.db.zst`` beside the database file ``STEM.db``
(the time in UTC; ``KIND`` says why it was made: ``daily``, ``migration``, ``import``, ``manual``,
``restore``), a zstandard-compressed copy taken with the backup API, so a database in use (with
a write-ahead log) copies whole and consistent. :func:`prune` keeps every backup of the current
day, the newest of each of the last ``backups_daily`` days and the newest of each week for
``backups_weekly`` weeks, as Anki keeps daily and weekly backups.

:func:`restore` decompresses the backup into a temporary file beside the database, checks that
it is a whole trainer database, backs up the current one, switches the current one out of WAL
mode (which checkpoints its log into it and removes ``-wal`` and ``-shm``; it fails while
another connection has it open) and renames the temporary file over it, so the file is always
one database or the other, never a mix. A current database SQLite cannot read (damaged, or no
database) is not opened further: its files are moved aside unchanged, and a missing one is
simply replaced.

Server databases (PostgreSQL) are not backed up here: their own tools (``pg_dump``) are the way.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO

import zstandard

from trainer.errors import DatabaseError, UsageError
from trainer.store.db import copy_database, database_url

#: Why a backup was made, as its file name says.
KINDS = ("daily", "migration", "import", "manual", "restore")
#: The folder beside the database that holds its backups.
FOLDER = "backups"
SUFFIX = ".db.zst"
#: SQLite's result codes for a database another connection holds (sqlite.org/rescode.html).
SQLITE_BUSY, SQLITE_LOCKED = 5, 6
_STAMP = "%Y%m%dT%H%M%SZ"
_NAME = re.compile(r"(?P<stem>.+)-(?P<stamp>\d{8}T\d{6}Z)(?:-(?P<n>\d+))?-(?P<kind>[a-z]+)")


@dataclass(frozen=True)
class Backup:
    """One backup file: its ``path``, when it was made (aware UTC ``made_at``), why (``kind``,
    one of :data:`KINDS`) and its size in bytes."""

    path: Path
    made_at: datetime
    kind: str
    size: int


def sqlite_path(location: str) -> Path | None:
    """The SQLite file behind ``--db``/``TRAINER_DB`` ``location`` (which may not exist
    yet); None for a server database URL."""
    url = database_url(location)
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def sqlite_file(location: str, what: str) -> Path:
    """:func:`sqlite_path` of ``location``. Raises :class:`UsageError` for a server URL,
    saying its own tools back it up (``what`` names what is refused: "backups")."""
    path = sqlite_path(location)
    if path is None:
        raise UsageError(
            f"{what} are made for SQLite database files; back up a server database"
            " (PostgreSQL) with the server's own tools, e.g. pg_dump"
        )
    return path


def backup_folder(database: Path) -> Path:
    """Where the backups of ``database`` go: ``backups/`` beside it."""
    return database.parent / FOLDER


def list_backups(database: Path) -> list[Backup]:
    """The backups of ``database`` (files of other databases in the folder are left out),
    oldest first."""
    folder = backup_folder(database)
    found = []
    for path in folder.glob(f"*{SUFFIX}") if folder.is_dir() else ():
        match = _NAME.fullmatch(path.name.removesuffix(SUFFIX))
        if match is None or match["stem"] != database.stem or match["kind"] not in KINDS:
            continue
        made_at = datetime.strptime(match["stamp"], _STAMP).replace(tzinfo=UTC)
        found.append(Backup(path, made_at, match["kind"], path.stat().st_size))
    return sorted(found, key=lambda backup: (backup.made_at, backup.path.name))


def make_backup(database: Path, now: datetime, kind: str) -> Backup:
    """Back ``database`` up now (aware UTC ``now`` names the file) for reason ``kind``.

    The copy is taken with SQLite's backup API from a read-only connection into a temporary
    file, compressed with zstandard and renamed into place, so a backup file is always whole.
    Raises :class:`DatabaseError` naming the file when the database cannot be read or the
    backup cannot be written.
    """
    folder = backup_folder(database)
    stamp = now.astimezone(UTC).strftime(_STAMP)
    try:
        folder.mkdir(exist_ok=True)
        target = folder / f"{database.stem}-{stamp}-{kind}{SUFFIX}"
        number = 1
        while target.exists():
            number += 1
            target = folder / f"{database.stem}-{stamp}-{number}-{kind}{SUFFIX}"
        with tempfile.TemporaryDirectory(dir=folder, prefix=".backup-") as scratch:
            copy = Path(scratch) / "copy.db"
            copy_database(database, copy, str(database))
            packed = Path(scratch) / "copy.db.zst"
            with copy.open("rb") as source, packed.open("wb") as sink:
                zstandard.ZstdCompressor().copy_stream(source, sink)
            os.replace(packed, target)
    except OSError as exc:
        raise DatabaseError(f"backup of {database} into {folder}: {exc.strerror}") from None
    return Backup(target, now.astimezone(UTC).replace(microsecond=0), kind, target.stat().st_size)


def prune(
    database: Path,
    keep_days: int,
    keep_weeks: int,
    day_of: Callable[[datetime], date],
    now: datetime,
) -> list[Path]:
    """Delete the backups of ``database`` that are not kept; return the deleted paths.

    Kept: every backup of the learner day of ``now`` (``day_of`` gives a time's learner day),
    the newest of each of the ``keep_days`` latest days before it that have one, and the newest
    of each ISO week among the ``keep_weeks`` weeks up to ``now``.
    """
    backups = list_backups(database)
    kept = set(_kept(backups, keep_days, keep_weeks, day_of, day_of(now)))
    deleted = [backup.path for backup in backups if backup.path not in kept]
    for path in deleted:
        path.unlink(missing_ok=True)
    return deleted


def _kept(
    backups: list[Backup],
    keep_days: int,
    keep_weeks: int,
    day_of: Callable[[datetime], date],
    today: date,
) -> Iterable[Path]:
    days: dict[date, Path] = {}
    weeks: dict[tuple[int, int], Path] = {}
    first_week = today - timedelta(weeks=keep_weeks)
    for backup in reversed(backups):  # newest first: the first seen of a day or week is kept
        day = day_of(backup.made_at)
        if day >= today:
            yield backup.path
            continue
        if day not in days and len(days) < keep_days:
            days[day] = backup.path
        week = day.isocalendar()[:2]
        if day > first_week and week not in weeks and len(weeks) < keep_weeks:
            weeks[week] = backup.path
    yield from days.values()
    yield from weeks.values()


@dataclass(frozen=True)
class SetAside:
    """The files of a damaged database that a restore moved aside, byte for byte, instead of
    opening them: ``paths`` where they now are (the database file first, then its ``-wal``,
    ``-shm`` or ``-journal``, each named as SQLite expects beside it) and ``reason``, what SQLite
    said of the database."""

    paths: tuple[Path, ...]
    reason: str


def restore(database: Path, backup: Path, now: datetime) -> Backup | SetAside | None:
    """Replace ``database`` by the one in ``backup`` (a file :func:`make_backup` wrote, or any
    zstandard-compressed or plain trainer database) and return what became of the current one:
    its backup (kind ``restore``, made at aware UTC ``now``) when SQLite reads it whole; its
    files moved aside unopened (:class:`SetAside`, ``STEM-YYYYMMDDTHHMMSSZ-damaged.db`` beside
    it) when it is damaged or not a database (SQLite's ``quick_check``), or when a log is left
    there without its database; None when there was no database.

    ``backup`` is checked whole before anything is touched. Raises :class:`DatabaseError`
    naming the file, changing nothing, when ``backup`` is not a whole trainer database, the
    current database is open in another session or cannot be read for another reason.
    """
    incoming = database.with_name(f".{database.name}-restore")
    try:
        with incoming.open("wb") as handle:
            _unpack(backup, handle)
        _check_restorable(incoming, backup)
        replaced: Backup | SetAside | None = None
        if database.exists():
            reason = _damage(database)
            if reason is None:
                replaced = make_backup(database, now, "restore")
                _leave_wal(database)
            else:
                replaced = SetAside(_set_aside(database, now), reason)
        elif any(Path(f"{database}{ending}").exists() for ending in _LOGS):
            # a log without its database would be read into the restored one
            replaced = SetAside(_set_aside(database, now), "a log left without its database")
        os.replace(incoming, database)
    except OSError as exc:
        raise DatabaseError(f"restore of {backup}: {exc.strerror}") from None
    finally:
        incoming.unlink(missing_ok=True)
    return replaced


#: The files SQLite keeps beside a database ``X``: ``X-wal``, ``X-shm``, ``X-journal``.
_LOGS = ("-wal", "-shm", "-journal")
#: SQLite's result codes for a damaged file and for a file that is no database (rescode.html).
SQLITE_CORRUPT, SQLITE_NOTADB = 11, 26


def _damage(database: Path) -> str | None:
    """What SQLite says is wrong with ``database`` (read-only, ``PRAGMA quick_check``): its
    error for a damaged file or one that is no database, None when it reads whole. Raises
    :class:`DatabaseError` when another session holds it or it cannot be read otherwise."""
    try:
        uri = f"{database.as_uri()}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, timeout=0.5)) as conn:
            rows = conn.execute("PRAGMA quick_check").fetchall()
    except sqlite3.Error as exc:
        code = exc.sqlite_errorcode & 0xFF
        if code in (SQLITE_CORRUPT, SQLITE_NOTADB):
            return str(exc)
        if code in (SQLITE_BUSY, SQLITE_LOCKED):
            raise _in_use(database) from None
        raise DatabaseError(f"database {database}: {exc}") from None
    return None if rows == [("ok",)] else "database disk image is malformed"


def _set_aside(database: Path, now: datetime) -> tuple[Path, ...]:
    """Move ``database`` and its logs (those that exist) unopened to
    ``STEM-YYYYMMDDTHHMMSSZ-damaged.SUFFIX`` beside it (aware UTC ``now``; ``-2``, ``-3``... after
    the time when taken), each log keeping its ending; return where they went."""
    stamp = now.astimezone(UTC).strftime(_STAMP)
    endings = ("", *_LOGS)
    aside = database.with_name(f"{database.stem}-{stamp}-damaged{database.suffix}")
    number = 1
    while any(Path(f"{aside}{ending}").exists() for ending in endings):
        number += 1
        aside = database.with_name(f"{database.stem}-{stamp}-{number}-damaged{database.suffix}")
    moved = []
    for ending in endings:
        source = Path(f"{database}{ending}")
        if source.exists():
            os.replace(source, f"{aside}{ending}")
            moved.append(Path(f"{aside}{ending}"))
    return tuple(moved)


def _unpack(backup: Path, sink: IO[bytes]) -> None:
    """``backup``'s database written to the binary file ``sink``: decompressed when it is a
    zstandard stream, else copied as it is."""
    with backup.open("rb") as source:
        magic = source.read(4)
        source.seek(0)
        if magic != b"\x28\xb5\x2f\xfd":  # zstandard's frame magic number: else a plain file
            shutil.copyfileobj(source, sink)
            return
        try:
            zstandard.ZstdDecompressor().copy_stream(source, sink)
        except zstandard.ZstdError:
            raise DatabaseError(f"backup {backup}: {NOT_A_BACKUP}") from None


def _check_restorable(path: Path, backup: Path) -> None:
    """Raise :class:`DatabaseError` unless ``path`` is a whole trainer database (SQLite's
    ``integrity_check`` says ok and it has a schema revision); leave it in rollback-journal
    mode, with no ``-wal`` beside it, so the renamed file is complete by itself."""
    try:
        with closing(sqlite3.connect(path)) as conn:
            whole = conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            conn.execute("SELECT version_num FROM alembic_version").fetchone()
            conn.execute("PRAGMA journal_mode = DELETE")
    except sqlite3.Error:
        whole = False
    if not whole:
        raise DatabaseError(f"backup {backup}: {NOT_A_BACKUP}")


#: What a restore says of a file that does not hold a whole trainer database.
NOT_A_BACKUP = "not a whole trainer database (damaged, cut short, or another kind of file)"


def _leave_wal(database: Path) -> None:
    """Switch ``database`` to rollback-journal mode, which checkpoints its write-ahead log into
    it and removes the ``-wal`` and ``-shm`` files, so no log of it can be read into the
    database renamed over it. Raises :class:`DatabaseError` when another connection has it
    open (SQLite refuses the switch then)."""
    in_use = _in_use(database)
    try:
        with closing(sqlite3.connect(database, timeout=0.5)) as conn:
            mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode & 0xFF in (SQLITE_BUSY, SQLITE_LOCKED):
            raise in_use from None
        raise DatabaseError(f"database {database}: {exc}") from None
    if mode != ("delete",):
        raise in_use


def _in_use(database: Path) -> DatabaseError:
    """The error of a restore refused because another session has ``database`` open."""
    return DatabaseError(
        f"database {database} is open in another trainer session: close it, then restore"
    )
