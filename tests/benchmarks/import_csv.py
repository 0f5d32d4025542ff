"""Importing a generated 100,000-row CSV, timed against a bare ``sqlite3`` insert of its rows.

Both sides write into a fresh database file with the app's pragmas (WAL, ``synchronous =
NORMAL``, foreign keys enforced) and the same ``card`` table, constraints and indexes (copied
from a migrated trainer database), in one transaction each. The import is the whole of
``trainer import``'s work for one file after start-up: reading and parsing the file, cleaning
its fields, the upsert, the commit. The baseline is one ``executemany`` of the very rows the
import stored. Peak memory is the maximum resident set size of a ``trainer import``
subprocess (start-up and built-in decks included).
"""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy.orm import Session

from tests.benchmarks.dataset import LEARNER_NAME
from tests.benchmarks.measure import NOW, TRAINER, command_env
from trainer.importers.detect import read_file
from trainer.importers.store import Target, import_deck
from trainer.scheduling.adapter import Scheduler
from trainer.scheduling.days import DayClock
from trainer.store.db import open_database
from trainer.store.learners import learner_for_write
from trainer.store.settings import Settings

ROWS = 100_000
SEED = 7
_WORDS = [
    *("list", "dict", "set", "tuple", "generator", "iterator", "context", "manager"),
    *("decorator", "closure", "coroutine", "descriptor", "metaclass", "slot", "property"),
    *("module", "package", "import", "bytecode", "frame", "thread", "process", "queue"),
    *("lock", "socket", "request", "response", "header", "cookie", "session", "token"),
    *("cache", "index", "query"),
]
_COLUMNS = "deck_id, key, position, kind, front, back, accepted, tags, docs_url, active"


def write_csv(path: Path, rows: int = ROWS) -> None:
    """A deck as spreadsheets export them: a header row, then question and answer; some
    answers carry HTML, commas, quotes or a line break."""
    rng = random.Random(SEED)
    lines = ["Question,Answer"]
    for number in range(rows):
        words = rng.choices(_WORDS, k=rng.randint(8, 16))
        question = f"What does the {' '.join(words[:3])} in example {number} do?"
        answer = " ".join(words[3:])
        kind = rng.random()
        if kind < 0.1:
            answer = f"It <b>{answer}</b><br>and more"
        elif kind < 0.2:
            answer = f'"{answer}, then ""{words[0]}"" again"'
        elif kind < 0.25:
            answer = f'"{answer}\nsecond line"'
        lines.append(f"{question},{answer}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def time_import(csv_path: Path, folder: Path, runs: int) -> tuple[list[float], list[float]]:
    """Seconds per run for the import and for the bare insert of the same rows, side by side."""
    imports, bare = [], []
    for run in range(runs):
        imports.append(time_one_import(csv_path, folder / f"import-{run}.db"))
        bare.append(_bare_insert(folder / f"import-{run}.db", folder / f"bare-{run}.db"))
    return imports, bare


def time_one_import(path: Path, database: Path, with_history: bool = False) -> float:
    """Seconds for ``trainer import PATH`` into the new database ``database`` after start-up:
    reading the file, storing it (deck ``bench``), the commit."""
    engine = open_database(str(database))
    with engine.begin() as conn:
        learner = learner_for_write(conn, LEARNER_NAME, NOW)
    start = time.perf_counter()
    imported = read_file(path, with_history=with_history)
    with Session(engine) as db:
        import_deck(
            db,
            imported,
            Target(deck="bench"),
            learner_id=learner,
            media_dir=None,
            scheduler=Scheduler(Settings()),
            clock=DayClock(4),
            now=NOW,
        )
        db.commit()
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed


def _bare_insert(source: Path, target: Path) -> float:
    """Copy the schema of ``card`` into a new file, then time inserting ``source``'s rows."""
    reader = sqlite3.connect(source)
    schema = [
        sql
        for (sql,) in reader.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'card' AND sql IS NOT NULL"
        )
    ]
    rows = reader.execute(f"SELECT {_COLUMNS} FROM card ORDER BY id").fetchall()
    reader.close()
    writer = sqlite3.connect(target, isolation_level=None)
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("PRAGMA synchronous = NORMAL")
    writer.execute("PRAGMA foreign_keys = ON")  # the table's constraints hold, as in the app
    writer.execute("CREATE TABLE deck (id INTEGER PRIMARY KEY)")
    writer.execute("INSERT INTO deck (id) VALUES (?)", (rows[0][0],))
    for sql in schema:
        writer.execute(sql)
    start = time.perf_counter()
    writer.execute("BEGIN")
    writer.executemany(f"INSERT INTO card ({_COLUMNS}) VALUES ({', '.join('?' * 10)})", rows)
    writer.execute("COMMIT")
    elapsed = time.perf_counter() - start
    writer.close()
    assert len(rows) == ROWS, len(rows)
    return elapsed


def peak_memory_mb(csv_path: Path, folder: Path) -> float:
    """Peak resident memory (MiB) of ``trainer import CSV`` into a new database, read by a
    wrapper process whose only child is that command (``ru_maxrss`` is KiB on Linux)."""
    env = {**command_env(), "TRAINER_DB": str(folder / "memory.db")}
    wrapper = (
        "import resource, subprocess, sys;"
        " subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL);"
        " print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    command = [str(TRAINER), "import", str(csv_path), "--deck", "bench"]
    result = subprocess.run(
        [sys.executable, "-c", wrapper, *command], env=env, check=True, capture_output=True
    )
    return int(result.stdout) / 1024


def measure(folder: Path, runs: int = 3) -> tuple[list[float], list[float], float]:
    """Write the CSV, then (import seconds, bare insert seconds, peak MiB)."""
    csv_path = folder / "bench-deck.csv"
    write_csv(csv_path)
    imports, bare = time_import(csv_path, folder, runs)
    return imports, bare, peak_memory_mb(csv_path, folder)
