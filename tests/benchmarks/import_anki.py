"""Importing a generated 10,000-card Anki package with its review log, next to Anki's importer.

The package is written by genanki (a collection of the v2 scheduler, one deck of Basic notes)
with a review log added by SQLite: each card has a run of learning steps, reviews at growing
intervals and now and then a lapse and its relearning step, about 65,000 rows in all, and is
a review card. The trainer side is the whole of ``trainer import PACKAGE --with-history`` for
one file after start-up: unpacking and reading the package, rendering the cards, rebuilding
every card's FSRS state from its log, storing cards and review log, the commit. Anki's side is
``Collection.import_anki_package`` with its scheduling, into an empty collection, timed inside
its own process (:mod:`.anki_side`); it needs the ``anki`` package, which is never a dependency
of trainer: ``make bench-anki`` makes a virtual environment that has it and names its Python in
``TRAINER_BENCH_ANKI_PYTHON``; without that variable ``make bench`` skips Anki's side with a
message. The two run in turn, run after run, so both see the same machine.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import genanki

from tests.benchmarks.import_csv import time_one_import
from tests.fixtures.anki.legacy import edit_collection

CARDS = 10_000
SEED = 11
#: The environment variable naming a Python that has the ``anki`` package.
ANKI_PYTHON = "TRAINER_BENCH_ANKI_PYTHON"
DAY_MS = 86_400_000
#: Anki's side, run by the Python in :data:`ANKI_PYTHON`.
ANKI_SIDE = Path(__file__).with_name("anki_side.py")


def write_package(path: Path) -> int:
    """Write the package (see the module docstring); returns its review-log rows."""
    deck = genanki.Deck(1_900_000_001, "Bench::Anki")
    for number in range(CARDS):
        fields = [f"What does item <b>{number}</b> stand for?", f"Answer {number}<br>in two lines"]
        deck.add_note(genanki.Note(model=genanki.BASIC_MODEL, fields=fields, guid=f"b{number}"))
    genanki.Package(deck).write_to_file(str(path))
    rows: list[tuple[int, ...]] = []
    edit_collection(path, lambda db: rows.extend(_add_history(db)))
    return len(rows)


def _add_history(db: sqlite3.Connection) -> list[tuple[int, ...]]:
    rng = random.Random(SEED)
    conf = json.loads(db.execute("SELECT conf FROM col").fetchone()[0])
    db.execute("UPDATE col SET conf = ?", (json.dumps({**conf, "schedVer": 2}),))
    revlog: list[tuple[int, ...]] = []
    schedules: list[tuple[int, ...]] = []
    start = 1_700_000_000_000
    card_ids = [card_id for (card_id,) in db.execute("SELECT id FROM cards ORDER BY id")]
    for index, card_id in enumerate(card_ids):  # times of one card end in its index (ms)
        at = start + rng.randrange(300) * DAY_MS + index
        rows = [(at, 3, -600, 0, 0), (at + 600_000, 3, 1, 0, 0)]
        interval, lapses = 1, 0
        for _ in range(rng.randint(0, 8)):
            at += interval * DAY_MS + rng.randrange(360) * 10_000
            if rng.random() < 0.12:
                lapses += 1
                rows.append((at, 1, -600, 2100, 1))
                interval = max(1, interval // 3)
                rows.append((at + 600_000, 3, interval, 2100, 2))
            else:
                interval = round(interval * rng.uniform(1.8, 3.0))
                rows.append((at, rng.choice([2, 3, 3, 3, 4]), interval, 2500, 1))
        for row_at, ease, ivl, factor, kind in rows:
            revlog.append((row_at, card_id, ease, ivl, factor, rng.randrange(2000, 20000), kind))
        schedules.append((2, 2, 800 + rng.randrange(60), interval, len(rows), lapses, card_id))
    db.executemany(
        "INSERT INTO revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type)"
        " VALUES (?, ?, -1, ?, ?, 0, ?, ?, ?)",
        revlog,
    )
    db.executemany(
        "UPDATE cards SET type = ?, queue = ?, due = ?, ivl = ?, factor = 2500, reps = ?,"
        " lapses = ? WHERE id = ?",
        schedules,
    )
    return revlog


def time_anki(python: str, command: str, *args: str | Path | int) -> Any:
    """The JSON result of :mod:`.anki_side`'s ``command`` run by ``python``, e.g. the seconds
    Anki's importer takes for a package (``time_anki(python, "apkg", package)``)."""
    result = subprocess.run(
        [python, str(ANKI_SIDE), command, *map(str, args)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout)


def measure(folder: Path, runs: int = 5) -> tuple[list[float], list[float] | None, int, str]:
    """Write the package, then (trainer seconds, Anki seconds or None, review-log rows,
    a note on the Anki side)."""
    package = folder / "bench-anki.apkg"
    rows = write_package(package)
    python = os.environ.get(ANKI_PYTHON)
    note = f"Anki side: {python}"
    if not python or not Path(python).is_file():
        note = f"Anki side skipped: set {ANKI_PYTHON} to a Python that has the anki package"
        python = None
    trainer: list[float] = []
    anki: list[float] = []
    with tempfile.TemporaryDirectory(prefix="trainer-bench-anki-", dir=folder) as work:
        for run in range(runs):
            database = Path(work) / f"anki-import-{run}.db"
            trainer.append(time_one_import(package, database, with_history=True))
            if python:
                anki.append(time_anki(python, "apkg", package))
    return trainer, anki or None, rows, note
