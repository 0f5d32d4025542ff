"""The measurements: each returns wall times in seconds, taken with :func:`time.perf_counter`.

In-process figures use the app's own objects on the benchmark database (:mod:`.dataset`);
command figures run the installed ``trainer`` script as a subprocess, stdout to /dev/null.
Every measurement has a matching ``profile_*`` function printing cProfile's top entries.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.benchmarks.dataset import LEARNER, LEARNER_NAME
from trainer.reports.figures import build_report
from trainer.scheduling.days import DayClock
from trainer.store.db import reader
from trainer.store.models import Rating
from trainer.store.settings import Settings, load_settings
from trainer.study.queue import Focus, Limits, ReviewQueue
from trainer.study.session import ReviewSession, ShownCard

#: The fixed instant every measurement runs at, and the learner clock it is read with.
NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
CLOCK = DayClock(rollover_hour=4, zone=ZoneInfo("UTC"))
#: Large enough that the whole 100,000-card backlog is in today's queue.
REVIEWS_PER_DAY = 100_000
TRAINER = Path(sys.executable).with_name("trainer")


def _limits(settings: Settings) -> Limits:
    """The daily limits as a fresh day leaves them."""
    return Limits(settings.new_cards_per_day, settings.reviews_per_day)


def bench_settings(engine: Engine) -> Settings:
    """The stored settings with :data:`REVIEWS_PER_DAY`."""
    with Session(engine) as db:
        return replace(load_settings(db, LEARNER), reviews_per_day=REVIEWS_PER_DAY)


def time_queue_build(engine: Engine, runs: int) -> list[float]:
    """``ReviewQueue.build`` for the whole collection (counting the due cards and reading the
    first page); checks every due card is counted in the queue."""
    settings = bench_settings(engine)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        with reader(engine, snapshot=True) as conn:  # as ReviewSession builds it
            queue = ReviewQueue.build(
                conn, lambda: reader(engine), LEARNER, _limits(settings), CLOCK, NOW
            )
        times.append(time.perf_counter() - start)
        assert queue.counts()["review"] == REVIEWS_PER_DAY, queue.counts()
    return times


def _rate_and_next(session: ReviewSession, shown: ShownCard) -> tuple[ShownCard, float, float]:
    """Rate ``shown`` Good (committed) and fetch the next card; the times of both calls."""
    start = time.perf_counter()
    session.rate(shown, Rating.GOOD, NOW, 5000)
    rated = time.perf_counter()
    following = session.next_card(NOW)
    ready = time.perf_counter()
    assert following is not None and following.lane == "review"
    return following, rated - start, ready - rated


def _open_session(engine: Engine) -> tuple[ReviewSession, ShownCard]:
    """A review session over the whole collection at :data:`NOW`, and its first card."""
    session = ReviewSession(engine, LEARNER, bench_settings(engine), CLOCK, Focus(), NOW)
    shown = session.next_card(NOW)
    assert shown is not None
    return session, shown


def time_rating(
    engine: Engine, iterations: int, warmup: int = 20
) -> tuple[list[float], list[float], list[float]]:
    """Rating to next card ready, as (total, ``rate()``, ``next_card()``) times per iteration,
    after ``warmup`` untimed iterations. Each rating is committed before the next card."""
    session, shown = _open_session(engine)
    totals, rates, nexts = [], [], []
    for number in range(warmup + iterations):
        shown, rate_s, next_s = _rate_and_next(session, shown)
        if number >= warmup:
            totals.append(rate_s + next_s)
            rates.append(rate_s)
            nexts.append(next_s)
    return totals, rates, nexts


def time_report_build(engine: Engine, runs: int) -> list[float]:
    """``build_report`` for the whole collection: every figure any report format shows."""
    settings = bench_settings(engine)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        with reader(engine, snapshot=True) as conn:
            report = build_report(conn, LEARNER, settings, CLOCK, NOW)
        times.append(time.perf_counter() - start)
        assert report.totals.cards == REVIEWS_PER_DAY, report.totals
    return times


def profile_report_build(engine: Engine, runs: int = 3) -> None:
    """Profile ``runs`` report builds."""
    settings = bench_settings(engine)

    def one() -> None:
        with reader(engine, snapshot=True) as conn:
            build_report(conn, LEARNER, settings, CLOCK, NOW)

    profile_calls("build_report", one, runs)


#: Where ``trainer`` subprocesses keep the bytecode of the modules they import (Python's
#: ``PYTHONPYCACHEPREFIX``), written by a command's first run and read by every later one.
BYTECODE = Path(tempfile.gettempdir()) / "trainer-bench-bytecode"


def command_env() -> dict[str, str]:
    """The environment for ``trainer`` subprocesses: the fixed :data:`NOW`, the benchmark's
    learner, and modules run from cached bytecode (:data:`BYTECODE`), as an installed
    ``trainer`` runs (pip compiles a package's modules as it installs them, and so it did
    Anki's), also where ``PYTHONDONTWRITEBYTECODE`` is set: without it, every start compiled
    trainer's sources anew (about 0.1 s of ``trainer status``)."""
    env = {**os.environ, "TRAINER_NOW": NOW.isoformat(), "TRAINER_LEARNER": LEARNER_NAME}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return {**env, "PYTHONPYCACHEPREFIX": str(BYTECODE)}


def time_command(args: list[str], runs: int, warmups: int = 1, keys: str = "") -> list[float]:
    """Wall time of ``trainer ARGS`` after ``warmups`` untimed runs, with ``keys`` on its stdin
    (e.g. ``"q"`` ends ``trainer review`` after its first card); fails on a non-zero exit."""
    env, times = command_env(), []
    for number in range(warmups + runs):
        start = time.perf_counter()
        subprocess.run(
            [str(TRAINER), *args],
            input=keys.encode(),
            stdout=subprocess.DEVNULL,
            env=env,
            check=True,
        )
        if number >= warmups:
            times.append(time.perf_counter() - start)
    return times


def print_profile(profile: cProfile.Profile | str, title: str, limit: int = 25) -> None:
    """cProfile's top ``limit`` entries by cumulative time, then by own time."""
    print(f"\n=== profile: {title}")
    stats = pstats.Stats(profile, stream=sys.stdout).strip_dirs()
    stats.sort_stats("cumulative").print_stats(limit)
    stats.sort_stats("tottime").print_stats(limit // 2)


def profile_calls(title: str, call: Callable[[], object], repeat: int) -> None:
    """Profile ``repeat`` calls of ``call``."""
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(repeat):
        call()
    profile.disable()
    print_profile(profile, f"{title} (x{repeat})")


def profile_rating(engine: Engine, iterations: int = 300) -> None:
    """Profile ``iterations`` rounds of rate + next card."""
    session, shown = _open_session(engine)
    state = {"shown": shown}

    def one() -> None:
        state["shown"] = _rate_and_next(session, state["shown"])[0]

    profile_calls("rating -> next card ready", one, iterations)


def profile_queue_build(engine: Engine, runs: int = 5) -> None:
    """Profile ``runs`` queue builds."""
    settings = bench_settings(engine)

    def one() -> None:
        with reader(engine, snapshot=True) as conn:
            ReviewQueue.build(conn, lambda: reader(engine), LEARNER, _limits(settings), CLOCK, NOW)

    profile_calls("ReviewQueue.build, 100k due", one, runs)


def profile_command(args: list[str]) -> None:
    """Profile one ``trainer ARGS`` run in a subprocess (``python -m cProfile``)."""
    with tempfile.TemporaryDirectory() as folder:
        out = str(Path(folder) / "command.prof")
        subprocess.run(
            [sys.executable, "-m", "cProfile", "-o", out, "-m", "trainer", *args],
            stdout=subprocess.DEVNULL,
            env=command_env(),
            check=True,
        )
        print_profile(out, "trainer " + " ".join(args))
