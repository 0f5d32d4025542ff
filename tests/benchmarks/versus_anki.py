"""``make bench-anki``: trainer beside Anki's Rust core, the two interleaved in one run.

Run as ``python -m tests.benchmarks.versus_anki [--rounds N] [--metric NAME ...]`` (each
``--metric`` one metric to run, the default all) with ``TRAINER_BENCH_ANKI_PYTHON`` naming a
Python that has the ``anki`` package (``make bench-anki`` makes that virtual environment).
Both systems work on equivalent collections: the 100,000-card benchmark database
(:mod:`.dataset`: every card a review card due today, 1,000,000 review-log rows) and an Anki
collection built from it (:func:`.anki_side.build`: one Basic note per card, the same due days,
FSRS stability and difficulty, and review log). Each metric runs ROUNDS rounds; a round measures
trainer and Anki once each, one after the other, the first of the two alternating, so drift of
the machine falls on both.

The metrics (seconds; each system measured inside its own process unless said otherwise):

- ``rating_full``/``rating_normal``: rate a card Good (committed) and have the next card ready,
  SQLite at ``synchronous = FULL`` / ``NORMAL`` (both in WAL mode; trainer's ``durability``
  setting ``full`` / ``normal``); :data:`RATINGS` per round.
  trainer: ``ReviewSession.rate`` + ``next_card``; Anki: ``answer_card`` + ``get_queued_cards``.
- ``queue_build_100k``: the first queue of a session over the 100,000 due cards. trainer:
  ``ReviewQueue.build``; Anki: the first ``get_queued_cards`` after opening (its queue stops at
  its highest review limit, 9,999 cards).
- ``status``: the whole process ``trainer status``, against an Anki process that opens the
  collection, fetches the first card and renders its question.
- ``first_card``: the whole process ``trainer review`` showing the first card and quitting on
  ``q``, against the same Anki process.
- ``apkg_history_import``: :mod:`.import_anki` (a 10,000-card package, ~65,000 review-log rows).
- ``csv_import_100k``: :mod:`.import_csv`'s 100,000-row CSV into a new database / collection.

Prints each metric's medians, the range of the per-round medians, the ratio trainer/Anki of the
medians and its target from issue 12, and writes them to ``bench-anki.json`` as
``{"METRIC": {"trainer": s, "anki": s, "ratio": x, "n": runs}}`` (n: the samples behind each
median). Exits 0: benchmarks report, they do not fail builds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from tests.benchmarks import dataset, import_anki, import_csv, measure
from trainer.store.db import create_db_engine, open_database, set_durability
from trainer.store.settings import DURABILITIES

#: Ratings per round of the rating metrics, after :data:`WARMUP` untimed ones.
RATINGS = 200
WARMUP = 20
#: trainer/Anki ratio each metric should stay at or under (issue 12).
TARGETS = {
    "rating_full": 1.2,
    "rating_normal": 1.5,
    "queue_build_100k": 1.0,
    "status": 0.7,
    "first_card": 1.0,
    "apkg_history_import": 1.5,
    "csv_import_100k": 1.0,
}


@dataclass
class Side:
    """One system's samples of a metric (seconds), and the median of each round."""

    samples: list[float] = field(default_factory=list)
    rounds: list[float] = field(default_factory=list)

    def add(self, samples: list[float]) -> None:
        self.samples += samples
        self.rounds.append(statistics.median(samples))

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


@dataclass
class Metric:
    """A metric's two sides; ``trainer``/``anki`` measure one round each."""

    name: str
    trainer: Callable[[], list[float]]
    anki: Callable[[], list[float]]
    sides: dict[str, Side] = field(default_factory=lambda: {"trainer": Side(), "anki": Side()})

    def run(self, rounds: int) -> None:
        """``rounds`` rounds, the side measured first alternating."""
        order = [("trainer", self.trainer), ("anki", self.anki)]
        for number in range(rounds):
            for side, measure_round in order if number % 2 == 0 else order[::-1]:
                self.sides[side].add(measure_round())

    @property
    def ratio(self) -> float:
        return self.sides["trainer"].median / self.sides["anki"].median


def _ms(seconds: float) -> str:
    value = seconds * 1000
    return f"{value:.3f}" if value < 10 else f"{value:.1f}" if value < 100 else f"{value:.0f}"


def _cell(side: Side) -> str:
    """A side's median and the range of its round medians, in milliseconds."""
    return f"{_ms(side.median)} [{_ms(min(side.rounds))}-{_ms(max(side.rounds))}]"


def print_table(metrics: list[Metric]) -> None:
    """One line per metric: medians with their round ranges (ms), ratio, target."""
    print(f"{'metric':<20} {'n':>5} {'trainer ms [range]':>26} {'Anki ms [range]':>26}", end="")
    print(f" {'ratio':>7} {'target':>7}")
    for metric in metrics:
        trainer, anki = metric.sides["trainer"], metric.sides["anki"]
        target = TARGETS[metric.name]
        line = (
            f"{metric.name:<20} {len(trainer.samples):>5} {_cell(trainer):>26} {_cell(anki):>26}"
            f" {metric.ratio:>6.2f}x {target:>6.2f}x"
        )
        print(line + ("  OVER TARGET" if metric.ratio > target else ""))


def figures(metrics: list[Metric]) -> dict[str, dict[str, float]]:
    """The ``bench-anki.json`` content (see the module docstring)."""
    return {
        metric.name: {
            "trainer": metric.sides["trainer"].median,
            "anki": metric.sides["anki"].median,
            "ratio": metric.ratio,
            "n": len(metric.sides["trainer"].samples),
        }
        for metric in metrics
    }


def anki_collection(python: str, trainer_db: Path) -> Path:
    """The Anki collection mirroring ``trainer_db``, cached beside it (keyed by its name and
    today's date, as Anki's due days count from the real today); stale ones are deleted."""
    stamp = time.strftime("%Y-%m-%d")
    path = trainer_db.with_name(f"anki-{trainer_db.stem}-{stamp}.anki2")
    if path.exists():
        return path
    for stale in trainer_db.parent.glob("anki-*"):
        stale.unlink()
    partial = path.with_name(path.name + ".partial")
    today = measure.CLOCK.day_of(measure.NOW).isoformat()
    import_anki.time_anki(python, "build", trainer_db, today, partial)
    os.replace(partial, path)
    return path


def time_process(argv: list[str | Path]) -> float:
    """Wall seconds of the process ``argv``, its output discarded; fails on a non-zero exit."""
    start = time.perf_counter()
    subprocess.run([str(arg) for arg in argv], stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def rating_engine(path: Path, durability: str) -> Engine:
    """An engine on the trainer database ``path`` with the ``durability`` setting's value."""
    engine = create_db_engine(f"sqlite:///{path}")
    set_durability(engine, durability)
    return engine


def build_metrics(python: str, folder: Path, cached: Path, names: list[str]) -> list[Metric]:
    """The metrics of the module docstring named in ``names`` (in the order given), on working
    copies in ``folder``; the import sources are written only when an import metric is named."""
    trainer_db = dataset.working_copy(cached, folder)
    collection = folder / "collection.anki2"
    shutil.copyfile(anki_collection(python, cached), collection)
    open_database(str(trainer_db)).dispose()
    side: list[str | Path] = [python, import_anki.ANKI_SIDE]
    db = ["--db", str(trainer_db)]
    # each system builds its queue on copies of its own: the rating metrics' ratings take
    # cards out of today's due reviews and use up today's review limit, whatever order the
    # metrics run in
    queue_folder = folder / "queue"
    queue_folder.mkdir()
    queue_db, queue_collection = trainer_db, collection
    if "queue_build_100k" in names:
        queue_db = dataset.working_copy(cached, queue_folder)
        open_database(str(queue_db)).dispose()
        queue_collection = queue_folder / collection.name
        shutil.copyfile(collection, queue_collection)
    queue_engine = rating_engine(queue_db, "full")
    ratings = {durability: rating_engine(trainer_db, durability) for durability in DURABILITIES}

    def trainer_rating(durability: str) -> list[float]:
        return measure.time_rating(ratings[durability], iterations=RATINGS, warmup=WARMUP)[0]

    def anki_rating(sync: str) -> list[float]:
        result: list[float] = import_anki.time_anki(
            python, "rating", collection, sync, WARMUP, RATINGS
        )
        return result

    package = folder / "bench-anki.apkg"
    if "apkg_history_import" in names:
        import_anki.write_package(package)
    csv_path = folder / "bench-deck.csv"
    if "csv_import_100k" in names:
        import_csv.write_csv(csv_path)
    imports = folder / "imports"
    imports.mkdir()

    def trainer_import(source: Path, with_history: bool) -> list[float]:
        database = Path(tempfile.mkdtemp(dir=imports)) / "import.db"
        return [import_csv.time_one_import(source, database, with_history=with_history)]

    # the built-in deck check, the page cache, the bytecode of every module either command
    # imports, the day's backup before a review's first write
    measure.time_command([*db, "status"], runs=0)
    measure.time_command([*db, "review"], runs=0, keys="q")
    metrics = [
        Metric(
            "queue_build_100k",
            lambda: measure.time_queue_build(queue_engine, runs=1),
            lambda: [import_anki.time_anki(python, "queue", queue_collection)],
        ),
        Metric(
            "status",
            lambda: measure.time_command([*db, "status"], runs=1, warmups=0),
            lambda: [time_process([*side, "first", collection])],
        ),
        Metric(
            "first_card",
            lambda: measure.time_command([*db, "review"], runs=1, warmups=0, keys="q"),
            lambda: [time_process([*side, "first", collection])],
        ),
        Metric("rating_full", lambda: trainer_rating("full"), lambda: anki_rating("full")),
        Metric("rating_normal", lambda: trainer_rating("normal"), lambda: anki_rating("normal")),
        Metric(
            "apkg_history_import",
            lambda: trainer_import(package, with_history=True),
            lambda: [import_anki.time_anki(python, "apkg", package)],
        ),
        Metric(
            "csv_import_100k",
            lambda: trainer_import(csv_path, with_history=False),
            lambda: [import_anki.time_anki(python, "csv", csv_path)],
        ),
    ]
    by_name = {metric.name: metric for metric in metrics}
    return [by_name[name] for name in names]


def main() -> None:
    """Parse the options, run every metric, print the table, write ``bench-anki.json``."""
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.versus_anki")
    parser.add_argument("--rounds", type=int, default=7, help="rounds per metric (default 7)")
    parser.add_argument("--out", default="bench-anki.json", help="where the JSON goes")
    parser.add_argument(
        "--metric",
        action="append",
        choices=list(TARGETS),
        help="run only this metric (repeat for several; default: all)",
    )
    options = parser.parse_args()
    python = os.environ.get(import_anki.ANKI_PYTHON)
    if not python or not Path(python).is_file():
        print(
            f"set {import_anki.ANKI_PYTHON} to a Python that has the anki package (make bench-anki)"
        )
        sys.exit(2)
    started = time.perf_counter()
    cached, _ = dataset.cached_database(measure.CLOCK.day_of(measure.NOW), measure.CLOCK)
    with tempfile.TemporaryDirectory(prefix="trainer-bench-anki-") as folder:
        metrics = build_metrics(python, Path(folder), cached, options.metric or list(TARGETS))
        for metric in metrics:
            metric.run(options.rounds)
    version = subprocess.run(
        [python, "-c", "import anki.buildinfo as b; print(b.version)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(
        f"trainer beside Anki {version}: {dataset.CARDS:,} review cards all due,"
        f" {dataset.REVIEW_LOGS:,} review-log rows; {options.rounds} rounds;"
        f" {os.cpu_count()} CPUs; {time.perf_counter() - started:.0f} s\n"
    )
    print_table(metrics)
    Path(options.out).write_text(json.dumps(figures(metrics), indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten to {options.out}")


if __name__ == "__main__":
    main()
