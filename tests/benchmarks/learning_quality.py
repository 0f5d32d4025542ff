"""Learning quality (issue 11): trainer's optimizer beside Anki's on the same review history.

A history is a review-log CSV in the form the FSRS optimizers read and Anki's FSRS helper
exports (``card_id,review_time,review_rating,review_state,review_duration``: card id, epoch
milliseconds, rating 1-4, state 0 new, 1 learning, 2 review, 3 relearning, milliseconds taken;
rows with rating 0, manual entries, are left out), named by ``TRAINER_BENCH_REVLOG``. trainer's
side builds its training items from it as ``trainer optimize`` does (learner days from a 4 am
UTC rollover, :func:`trainer.scheduling.optimizer.training_set`) and fits
(:func:`~trainer.scheduling.optimizer.fit`); Anki's side (``anki_side.py fsrs-params``, run by
the Python in ``TRAINER_BENCH_ANKI_PYTHON``) loads the same rows into a new collection's revlog
and runs Anki's own ``compute_fsrs_params`` over it. Both fitted parameter sets are then scored
by the same evaluator on trainer's items: log loss and RMSE (bins), with each side's fit time
(median of the runs) and the ratios. Each side's parameters are those it would put in force:
both keep the current ones (here FSRS-6's defaults) when the fit predicts no better. Targets:
trainer's log loss no worse than Anki's, its fit at most 1.2 times as long.

Run as ``python -m tests.benchmarks.learning_quality [--runs N]`` (``make bench`` runs it);
without the history or Anki's Python it prints one line saying what is skipped. ``--simulate
PATH CARDS`` writes a simulated history (FSRS-6 defaults with a learner who recalls with the
scheduler's own retrievability) for trying the benchmark out; its figures say nothing about real
learning.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import fsrs_rs_python as fsrs_rs

from trainer.scheduling.adapter import Scheduler
from trainer.scheduling.days import DayClock
from trainer.scheduling.optimizer import LoggedRating, TrainingSet, fit, training_set
from trainer.store.memory import Memory
from trainer.store.models import CardState, Rating
from trainer.store.settings import Settings

REVLOG = "TRAINER_BENCH_REVLOG"
ANKI_PYTHON = "TRAINER_BENCH_ANKI_PYTHON"
ANKI_SIDE = Path(__file__).with_name("anki_side.py")
#: Learner days of the history: Anki's default rollover (4 am), in UTC.
CLOCK = DayClock(rollover_hour=4, zone=UTC)


def read_history(path: Path) -> list[LoggedRating]:
    """The rated rows of the CSV at ``path`` as trainer's optimizer reads its log, by card and
    then by time. Raises ``ValueError`` naming the line of a row it cannot read."""
    rows = []
    with path.open(newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            try:
                rating = int(row["review_rating"])
                if rating == 0:
                    continue
                at = datetime.fromtimestamp(int(row["review_time"]) / 1000, UTC)
                state = CardState(int(row["review_state"]))
                rows.append(
                    LoggedRating(int(row["card_id"]), rating, at, CLOCK.day_of(at), state, 0, 0)
                )
            except (KeyError, ValueError) as exc:
                raise ValueError(f"{path}:{number}: {exc}") from None
    rows.sort(key=lambda r: (r.card_id, r.reviewed_at))
    return rows


def trainer_fit(log: list[LoggedRating]) -> tuple[float, list[float], TrainingSet]:
    """Seconds to build the items and fit, the parameters ``trainer optimize`` would apply
    (empty: it keeps the defaults, which predict no worse), and the items."""
    started = time.perf_counter()
    training = training_set(log)
    fitted = fit(training, (), 1)
    kept = list(fitted.parameters) if fitted.better else []
    return time.perf_counter() - started, kept, training


def anki_fit(python: str, path: Path) -> tuple[float, list[float]]:
    """Seconds Anki's ``compute_fsrs_params`` took over the history, and its parameters (empty:
    it keeps the current ones, here the defaults, as they predict no worse)."""
    done = subprocess.run(
        [python, str(ANKI_SIDE), "fsrs-params", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return float(result["seconds"]), [float(p) for p in result["params"]]


def score(parameters: list[float], training: TrainingSet) -> tuple[float, float]:
    """(log loss, RMSE in bins) of ``parameters`` (empty: FSRS-6's defaults) on
    ``training``'s items."""
    metrics = fsrs_rs.FSRS(parameters).evaluate(training.items)
    return float(metrics.log_loss), float(metrics.rmse_bins)


def simulate(path: Path, cards: int, seed: int = 7) -> int:
    """Write a simulated history of ``cards`` cards (about a year of reviews each, recalled
    with the scheduler's retrievability) to ``path``; the number of rows."""
    rng = random.Random(seed)
    scheduler = Scheduler(Settings())
    start = datetime(2025, 1, 1, 9, tzinfo=UTC)
    rows = []
    for card_id in range(1, cards + 1):
        memory = Memory()
        now = start + timedelta(days=rng.randrange(60), minutes=rng.randrange(600))
        while now < start + timedelta(days=420):
            if memory.state == CardState.REVIEW and memory.last_review_day and memory.due_day:
                elapsed = (memory.due_day - memory.last_review_day).days
                recall = scheduler.retrievability(memory.stability_days or 1, elapsed)
            else:
                recall = 0.8
            rating = (
                Rating.AGAIN
                if rng.random() > recall
                else rng.choice([Rating.HARD, Rating.GOOD, Rating.GOOD, Rating.GOOD, Rating.EASY])
            )
            state = int(memory.state)
            memory = scheduler.review(card_id, memory, rating, now, CLOCK).memory
            millis = int(now.timestamp() * 1000)
            rows.append((card_id, millis, int(rating), state, rng.randrange(2000, 15000)))
            if memory.due_day is not None:
                now = CLOCK.day_start(memory.due_day) + timedelta(minutes=rng.randrange(300, 900))
            else:
                now = (memory.due_at or now) + timedelta(minutes=1)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["card_id", "review_time", "review_rating", "review_state", "review_duration"]
        )
        writer.writerows(rows)
    return len(rows)


def report(runs: int = 3) -> None:
    """Print the comparison, or one line saying what is skipped."""
    name = os.environ.get(REVLOG)
    if not name or not Path(name).is_file():
        print(
            f"learning quality skipped: set {REVLOG} to a review-log CSV"
            " (see tests/benchmarks/learning_quality.py)"
        )
        return
    path = Path(name)
    log = read_history(path)
    ours = [trainer_fit(log) for _ in range(runs)]
    _, parameters, training = ours[-1]
    loss, rmse = score(parameters, training)
    ours_time = statistics.median(s for s, _, _ in ours)
    print(
        f"learning quality on {path.name}: {len(log):,} reviews, {len(training.items):,} items,"
        f" {training.reviews:,} reviews used"
    )
    kept = "" if parameters else " (kept the defaults)"
    print(f"  trainer: log loss {loss:.4f}, RMSE {rmse:.4f}, fit {ours_time:.2f} s{kept}")
    python = os.environ.get(ANKI_PYTHON)
    if not python:
        print(f"  Anki side skipped: set {ANKI_PYTHON} to a Python that has the anki package")
        return
    theirs = [anki_fit(python, path) for _ in range(runs)]
    anki_time = statistics.median(s for s, _ in theirs)
    anki_loss, anki_rmse = score(theirs[-1][1], training)
    kept = "" if theirs[-1][1] else " (kept the defaults)"
    print(f"  Anki:    log loss {anki_loss:.4f}, RMSE {anki_rmse:.4f}, fit {anki_time:.2f} s{kept}")
    print(
        f"  trainer - Anki log loss {loss - anki_loss:+.4f} (target <= 0);"
        f" fit time ratio {ours_time / anki_time:.2f}x (target <= 1.2x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.learning_quality")
    parser.add_argument("--runs", type=int, default=3, help="fits per side (median time)")
    parser.add_argument(
        "--simulate", nargs=2, metavar=("PATH", "CARDS"), help="write a simulated history"
    )
    args = parser.parse_args()
    if args.simulate:
        print(f"{simulate(Path(args.simulate[0]), int(args.simulate[1])):,} rows written")
        return
    report(args.runs)


if __name__ == "__main__":
    main()
