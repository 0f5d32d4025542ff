"""``make bench-pg``: many learners rating at once against one PostgreSQL server, with faults.

Run under ``.ci/postgres`` (which ``make bench-pg`` does, with a durable server):
``python -m tests.benchmarks.load_pg [--clients 50] [--ratings 40]``. Each client is a process
on this machine with a learner of its own, all in one database, and studies through
:class:`~trainer.study.session.ReviewSession`, the code ``trainer review`` runs: next card,
rating, commit, next. After each committed rating it writes the card and the time to its own
ledger file (flushed), so the ledger is what the client was told was committed.

Two runs: a calm one, then one in which clients are killed (SIGKILL) at random moments and
restarted, and the server is restarted (``pg_ctl restart -m fast``) in the middle. A client
whose rating fails because the server went away starts a new session and goes on. Printed:
ratings per second, median and p99 latency of a rating (the commit included), and, from the
review log against the ledgers: lost ratings (in a ledger, not in the log; must be 0), doubled
ratings (one card rated twice at one time; must be 0), and ratings committed but not in a
ledger (the client died or lost the server between the commit and the ledger line; at most
one per kill or restart).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from multiprocessing.synchronize import Event
from pathlib import Path

from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from trainer.content.builtin_sync import sync_builtin
from trainer.errors import DatabaseError
from trainer.scheduling.days import DayClock
from trainer.store.db import open_database
from trainer.store.learners import learner_for_write
from trainer.store.models import Rating
from trainer.store.settings import Settings
from trainer.study.queue import Focus
from trainer.study.session import ReviewSession

#: New cards a learner may take in a day in the benchmark: more than any client rates.
NEW_CARDS = 1000


def load_url(base: str) -> str:
    """The URL of the benchmark's schema on the server at ``base``."""
    options = {"options": "-csearch_path=load"}
    return make_url(base).update_query_dict(options).render_as_string(hide_password=False)


def prepare(base: str, clients: int) -> list[int]:
    """A fresh schema, migrated and loaded with the built-in roadmap, and ``clients``
    learners in it; their ids."""
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS load CASCADE"))
        connection.execute(text("CREATE SCHEMA load"))
    admin.dispose()
    engine = open_database(load_url(base))
    with Session(engine) as db, db.begin():
        sync_builtin(db)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        ids = [learner_for_write(connection, f"learner-{n}", now) for n in range(clients)]
    engine.dispose()
    return ids


def client(base: str, learner: int, ratings: int, ledger: Path, start: Event) -> None:
    """Rate ``ratings`` cards Good as learner ``learner``, one committed rating at a time;
    after each, append ``card_id reviewed_at latency_s`` to ``ledger``. A session broken by the
    server going away is replaced by a new one."""
    settings = Settings(new_cards_per_day=NEW_CARDS)
    clock = DayClock.from_settings(settings)
    done = sum(1 for _ in ledger.open()) if ledger.exists() else 0
    engine: Engine | None = None
    start.wait()
    with ledger.open("a", buffering=1) as out:
        while done < ratings:
            try:
                if engine is None:
                    engine = open_database(load_url(base))
                now = datetime.now(UTC)
                with ReviewSession(
                    engine, learner, settings, clock, Focus(), now, new_cards=NEW_CARDS
                ) as session:
                    while done < ratings:
                        shown = session.next_card(datetime.now(UTC))
                        if shown is None:
                            return
                        began = time.perf_counter()
                        outcome = session.rate(shown, Rating.GOOD, datetime.now(UTC), 1000)
                        took = time.perf_counter() - began
                        if outcome is not None:
                            at = outcome.memory.last_review_at
                            assert at is not None
                            out.write(f"{shown.card_id} {at.isoformat()} {took:.6f}\n")
                            done += 1
            except (DBAPIError, DatabaseError):
                time.sleep(0.2)  # the server is restarting: a new session, as a learner would


def logged(base: str, learner: int) -> list[tuple[int, str]]:
    """Learner ``learner``'s review log as (card id, reviewed at ISO 8601)."""
    engine = open_database(load_url(base))
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT card_id, reviewed_at FROM review_log WHERE learner_id = :id"),
            {"id": learner},
        )
        found = [(card, at.replace(tzinfo=UTC).isoformat()) for card, at in rows]
    engine.dispose()
    return found


def restart_server() -> None:
    """Restart the server ``.ci/postgres`` started (fast shutdown: sessions are cut off)."""
    as_user = shlex.split(os.environ.get("TRAINER_TEST_PG_AS", ""))
    pg_ctl = Path(os.environ["TRAINER_TEST_PG_BIN"]) / "pg_ctl"
    data = os.environ["TRAINER_TEST_PG_DATA"]
    subprocess.run(
        [*as_user, str(pg_ctl), "-D", data, "-m", "fast", "-w", "-s", "restart"],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def run(base: str, clients: int, ratings: int, faults: bool, folder: Path) -> dict[str, float]:
    """One run; its figures."""
    learners = prepare(base, clients)
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    ledgers = [folder / f"ledger-{faults}-{learner}.txt" for learner in range(clients)]

    def spawn(learner: int) -> multiprocessing.process.BaseProcess:
        process = context.Process(
            target=client, args=(base, learners[learner], ratings, ledgers[learner], start)
        )
        process.start()
        return process

    processes = [spawn(learner) for learner in range(clients)]
    time.sleep(3)  # all imported and waiting
    began = time.perf_counter()
    start.set()
    kills = restarts = 0
    if faults:
        chance = random.Random(13)
        deadline = time.monotonic() + 600
        restarted = False
        while any(p.is_alive() for p in processes) and time.monotonic() < deadline:
            time.sleep(chance.uniform(0.05, 0.3))
            total = sum(1 for ledger in ledgers if ledger.exists() for _ in ledger.open())
            if not restarted and total >= clients * ratings // 2:
                restart_server()
                restarted, restarts = True, 1
            victim = chance.randrange(clients)
            if processes[victim].is_alive() and kills < clients:
                processes[victim].kill()
                processes[victim].join()
                kills += 1
                processes[victim] = spawn(victim)  # the learner starts trainer again
    for process in processes:
        process.join(600)
    elapsed = time.perf_counter() - began
    latencies, lost, doubled, unacknowledged, committed = [], 0, 0, 0, 0
    for learner in range(clients):
        told = [line.split() for line in ledgers[learner].read_text().splitlines()]
        latencies += [float(took) for _card, _at, took in told]
        told_set = {(int(card), at) for card, at, _took in told}
        found = logged(base, learners[learner])
        counts = Counter(found)
        doubled += sum(n - 1 for n in counts.values() if n > 1)
        lost += len(told_set - set(counts))
        unacknowledged += len(set(counts) - told_set)
        committed += len(found)
    latencies.sort()
    return {
        "ratings": committed,
        "seconds": elapsed,
        "per_second": committed / elapsed,
        "median_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "lost": lost,
        "doubled": doubled,
        "unacknowledged": unacknowledged,
        "kills": kills,
        "restarts": restarts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--ratings", type=int, default=40, help="ratings per client")
    args = parser.parse_args()
    base = os.environ.get("TRAINER_TEST_DATABASE_URL")
    if not base:
        sys.exit("run under .ci/postgres (make bench-pg): TRAINER_TEST_DATABASE_URL is not set")
    with tempfile.TemporaryDirectory() as folder:
        for faults in (False, True):
            figures = run(base, args.clients, args.ratings, faults, Path(folder))
            name = "kills and a server restart" if faults else "calm"
            print(
                f"{args.clients} learners, {name}: {figures['ratings']:.0f} ratings in"
                f" {figures['seconds']:.1f} s = {figures['per_second']:.0f}/s; latency median"
                f" {figures['median_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms; lost"
                f" {figures['lost']:.0f}, doubled {figures['doubled']:.0f}, committed without"
                f" a ledger line {figures['unacknowledged']:.0f} ({figures['kills']:.0f} kills,"
                f" {figures['restarts']:.0f} server restarts)"
            )


if __name__ == "__main__":
    main()
