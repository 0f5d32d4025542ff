"""The benchmark database: 100,000 review cards, all due, and 1,000,000 review-log rows.

The schema comes from the app's own path (:func:`trainer.store.db.open_database` runs the Alembic
migrations, :func:`trainer.content.builtin_sync.sync_builtin` loads the roadmap, decks and
built-in cards);
the bulk rows are then written with plain ``sqlite3`` ``executemany`` in one transaction, with
values formatted exactly as SQLAlchemy's SQLite types store them. The built-in cards are turned
into review cards too and copied (same decks, text and kinds, new keys) up to :data:`CARDS`, so
every card in the database is a review card due today, for the one learner
:data:`LEARNER_NAME` (id :data:`LEARNER`).

The file is cached in the temp dir under a name keyed by :data:`DATASET_VERSION`, the day, and
the fingerprints of the built-in decks and the migrations (a changed deck retires the copied
cards on the next start, a changed migration may change the schema);
callers work on a copy, see :func:`working_copy`. Every ``trainer`` start re-imports changed
built-in decks and so retires the copies: :func:`active_cards` tells whether that happened.
"""

from __future__ import annotations

import math
import os
import random
import shutil
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Date, DateTime
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from trainer.content.builtin_sync import builtin_files, fingerprint, sync_builtin
from trainer.scheduling.days import DayClock
from trainer.store.db import open_database
from trainer.store.models import CardState, Rating
from trainer.store.resources import DECKS_DIR, MIGRATIONS_DIR

#: Bump when the generated data changes, so a stale cached file is not reused.
DATASET_VERSION = 2
#: The learner whose memory rows, review log and settings the database holds, and their id.
LEARNER_NAME = "bench"
LEARNER = 1
CARDS = 100_000
REVIEW_LOGS = 1_000_000
#: How far back the review log goes, in learner days.
HISTORY_DAYS = 730
SEED = 20260601


def _stored_as(type_: TypeEngine[Any]) -> Callable[[Any], str]:
    """The function turning a value into the text SQLAlchemy's SQLite dialect stores for it."""
    dialect = sqlite.dialect()
    process = type_.dialect_impl(dialect).bind_processor(dialect)
    assert process is not None
    return process


_DATE = _stored_as(Date())
_DATETIME = _stored_as(DateTime())


def cached_database(today: date, clock: DayClock) -> tuple[Path, bool]:
    """The path of the generated database for learner day ``today``, and whether it had to be
    generated now (other versions in the cache folder are then deleted)."""
    migrations = sorted(MIGRATIONS_DIR.glob("versions/*.py"))
    stamp = fingerprint(builtin_files(DECKS_DIR), DECKS_DIR)[:8]
    stamp += "-" + fingerprint(migrations, MIGRATIONS_DIR)[:8]
    folder = Path(tempfile.gettempdir()) / "trainer-bench"
    folder.mkdir(exist_ok=True)
    path = folder / f"bench-v{DATASET_VERSION}-{today.isoformat()}-{stamp}.db"
    if path.exists():
        return path, False
    for stale in folder.glob("bench-*"):
        stale.unlink()
    partial = path.with_suffix(".partial")
    generate(partial, today, clock)
    os.replace(partial, path)
    return path, True


def active_cards(path: Path) -> int:
    """Active cards in the database at ``path``: fewer than :data:`CARDS` once a start of the
    app saw changed built-in decks and retired the copies."""
    connection = sqlite3.connect(path)
    try:
        return int(connection.execute("SELECT count(*) FROM card WHERE active").fetchone()[0])
    finally:
        connection.close()


def working_copy(source: Path, folder: Path) -> Path:
    """Copy the cached database into ``folder`` (benchmarks write ratings into it)."""
    target = folder / "trainer.db"
    shutil.copyfile(source, target)
    return target


def generate(path: Path, today: date, clock: DayClock) -> None:
    """Create the database at ``path``: migrated schema, roadmap and built-in decks, then the
    bulk cards and review log. Learner days are ``clock``'s; settings pin the same clock."""
    engine = open_database(str(path))
    with Session(engine) as db, db.begin():
        sync_builtin(db)
    engine.dispose()
    rng = random.Random(SEED)
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode = DELETE")  # new pages need no journal
        connection.execute("PRAGMA synchronous = OFF")
        connection.execute("PRAGMA cache_size = -262144")
        connection.execute("BEGIN")
        connection.execute(
            "INSERT INTO learner (id, name, created_at) VALUES (?, ?, ?)",
            (LEARNER, LEARNER_NAME, _DATETIME(clock.day_start(today).replace(tzinfo=None))),
        )
        _store_settings(connection, clock)
        _add_card_copies(connection)
        log_card_ids = [1 + int(rng.random() * CARDS) for _ in range(REVIEW_LOGS)]
        _set_memories(connection, rng, today, clock, Counter(log_card_ids))
        _add_review_log(connection, rng, today, clock, log_card_ids)
        connection.execute("COMMIT")
        connection.execute("PRAGMA journal_mode = WAL")  # as the app leaves it
    finally:
        connection.close()


def _store_settings(connection: sqlite3.Connection, clock: DayClock) -> None:
    """Pin the learner's clock (time zone, rollover) so ``trainer status`` is reproducible."""
    zone = str(clock.zone) if clock.zone else ""
    connection.executemany(
        "INSERT OR REPLACE INTO learner_setting (learner_id, key, value) VALUES (?, ?, ?)",
        [
            (LEARNER, "timezone", f'"{zone}"'),
            (LEARNER, "day_rollover_hour", f'"{clock.rollover_hour}"'),
        ],
    )


def _add_card_copies(connection: sqlite3.Connection) -> None:
    """Copy the built-in cards round-robin (deck, kind, text) until there are :data:`CARDS`."""
    builtin = connection.execute(
        "SELECT deck_id, key, kind, front, back, accepted, tags, docs_url FROM card ORDER BY id"
    ).fetchall()
    rows = []
    for number in range(CARDS - len(builtin)):
        deck_id, key, kind, front, back, accepted, tags, docs_url = builtin[number % len(builtin)]
        key = f"{key}-bench-{number}"
        rows.append((deck_id, key, 1000 + number, kind, front, back, accepted, tags, docs_url))
    connection.executemany(
        "INSERT INTO card (deck_id, key, position, kind, front, back, accepted, tags, docs_url,"
        " active) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
        rows,
    )
    assert connection.execute("SELECT count(*), max(id) FROM card").fetchone() == (CARDS, CARDS)


def _set_memories(
    connection: sqlite3.Connection,
    rng: random.Random,
    today: date,
    clock: DayClock,
    reps: Counter[int],
) -> None:
    """Make every card a review card due today or overdue (up to a few weeks), with a stability
    spread like a mature collection (median ~30 days), difficulty around 5.5, and the interval
    it was last given ending on its due day."""
    uniform, gauss, exp = rng.random, rng.gauss, math.exp
    rows = []
    for card_id in range(1, CARDS + 1):
        stability = min(max(exp(gauss(math.log(30), 1.2)), 0.5), 3650.0)
        difficulty = min(max(gauss(5.5, 1.8), 1.0), 10.0)
        due_day = today - timedelta(days=min(int(rng.expovariate(1 / 4)), 60))
        interval = min(max(1, round(stability * (0.8 + 0.4 * uniform()))), HISTORY_DAYS - 60)
        last_day = due_day - timedelta(days=interval)
        last_at = clock.day_start(last_day) + timedelta(seconds=int(uniform() * 16 * 3600))
        card_reps = max(reps[card_id], 1)
        rows.append(
            (
                LEARNER,
                card_id,
                int(CardState.REVIEW),
                stability,
                difficulty,
                _DATETIME(clock.day_start(due_day).replace(tzinfo=None)),
                _DATE(due_day),
                _DATETIME(last_at.replace(tzinfo=None)),
                _DATE(last_day),
                card_reps,
                int(card_reps * 0.16 * uniform()),  # lapses: ~8% of reviews
            )
        )
    connection.executemany(
        "INSERT INTO card_memory (learner_id, card_id, state, stability_days, difficulty,"
        " due_at, due_day, last_review_at, last_review_day, reps, lapses)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def _add_review_log(
    connection: sqlite3.Connection,
    rng: random.Random,
    today: date,
    clock: DayClock,
    card_ids: list[int],
) -> None:
    """One row per entry of ``card_ids``, on days spread over the last :data:`HISTORY_DAYS`
    (before today), inserted in time order as a real log grows. Mostly Good ratings of review
    cards; Again on a review card relearns it. The log's indexes are dropped during the insert
    and rebuilt from their stored ``CREATE INDEX`` statements (a sort instead of 3M B-tree
    inserts)."""
    uniform, gauss, exp = rng.random, rng.gauss, math.exp
    log_6s, log_20 = math.log(6000), math.log(20)
    days_back = sorted((1 + int(uniform() * HISTORY_DAYS) for _ in card_ids), reverse=True)
    ratings = rng.choices(list(Rating), weights=[10, 5, 75, 10], k=len(card_ids))
    befores = rng.choices(list(CardState), weights=[8, 8, 80, 4], k=len(card_ids))
    # Learner days start at the rollover hour; reviews fall in the 18 hours after it.
    first = clock.day_start(today).replace(tzinfo=None)
    times = [_DATETIME(first + timedelta(seconds=s))[10:] for s in range(18 * 3600)]
    day_texts = {back: _DATE(today - timedelta(days=back)) for back in set(days_back)}

    def rows() -> Iterator[tuple[object, ...]]:
        columns = zip(card_ids, days_back, ratings, befores, strict=True)
        for card_id, back, rating, before in columns:
            learning = rating == Rating.AGAIN or (
                before != CardState.REVIEW and rating == Rating.HARD
            )
            if learning:
                after = CardState.RELEARNING if before == CardState.REVIEW else CardState.LEARNING
                interval = 0
            else:
                after, interval = CardState.REVIEW, max(1, int(exp(gauss(log_20, 1.1))))
            yield (
                LEARNER,
                card_id,
                int(rating),
                day_texts[back] + times[int(uniform() * len(times))],
                day_texts[back],
                int(exp(gauss(log_6s, 0.6))),
                int(before),
                None if before == CardState.NEW else int(uniform() * 60),
                int(after),
                min(max(exp(gauss(log_20, 1.2)), 0.1), 3650.0),
                min(max(gauss(5.5, 1.8), 1.0), 10.0),
                interval,
            )

    indexes = connection.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'review_log'"
        " AND sql IS NOT NULL"
    ).fetchall()
    for name, _sql in indexes:
        connection.execute(f'DROP INDEX "{name}"')
    connection.executemany(
        "INSERT INTO review_log (learner_id, card_id, rating, reviewed_at, review_day,"
        " duration_ms, state_before, elapsed_days, state, stability_days, difficulty,"
        " interval_days) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows(),
    )
    for _name, sql in indexes:
        connection.execute(sql)
