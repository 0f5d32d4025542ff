"""0005_learners moves a single-learner database into the multi-learner model with nothing lost,
and back."""

from __future__ import annotations

import getpass
import json
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, text

from trainer.store.db import alembic_config, create_db_engine

MEMORY = (
    "state, step, stability_days, difficulty, due_at, due_day, last_review_at,"
    " last_review_day, reps, lapses, buried_until_day"
)
LOG = (
    "id, card_id, rating, reviewed_at, review_day, duration_ms, state_before, elapsed_days,"
    " state, stability_days, difficulty, interval_days"
)
SETTINGS = {
    "builtin_decks_fingerprint": '"abc123"',
    "desired_retention": '"0.85"',
    "new_cards_per_day": '"7"',
    "timezone": '"Europe/Berlin"',
}


def _fill(engine: Engine) -> None:
    """A 0004 database with a history: 400 cards in every state (buried ones too), their
    review logs, settings and per-deck values."""
    rng = random.Random(13)
    start = datetime(2026, 9, 1, 8, 30)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO section VALUES (1, 'web', 'Web', 0)"))
        conn.execute(text("INSERT INTO topic VALUES (1, 1, 'http', 'HTTP', 0, '[]')"))
        decks = [
            (1, "HTTP", "http", "builtin", 1, None, None),
            (2, "Rocks", "rocks", "import", None, 7, json.dumps([0.2] * 21)),
            (3, "Spanish", "spanish", "import", None, None, json.dumps([0.5] * 21)),
            (4, "German", "german", "import", None, 3, None),
        ]
        for deck in decks:
            conn.execute(
                text(
                    "INSERT INTO deck (id, name, slug, source, topic_id, new_cards_per_day,"
                    " fsrs_parameters) VALUES (:a, :b, :c, :d, :e, :f, :g)"
                ),
                dict(zip("abcdefg", deck, strict=True)),
            )
        log_id = 0
        for card_id in range(1, 401):
            state = card_id % 4
            reps = 0 if state == 0 else rng.randint(1, 9)
            reviewed = start + timedelta(days=rng.randint(0, 80), seconds=rng.randint(0, 9999))
            values: dict[str, Any] = {
                "id": card_id,
                "deck": card_id % 4 + 1,
                "key": f"k{card_id}",
                "active": card_id % 17 != 0,
                "state": state,
                "step": {0: None, 1: rng.randint(0, 1), 2: None, 3: 0}[state],
                "stability": None if state == 0 else round(rng.uniform(0.1, 90), 6),
                "difficulty": None if state == 0 else round(rng.uniform(1, 10), 6),
                "due_at": None if state in (0, 2) else reviewed + timedelta(minutes=10),
                "due_day": None if state != 2 else (reviewed + timedelta(days=9)).date(),
                "last_at": None if state == 0 else reviewed,
                "last_day": None if state == 0 else reviewed.date(),
                "reps": reps,
                "lapses": 0 if state == 0 else rng.randint(0, 3),
                "buried": date(2026, 12, 1) if card_id % 9 == 0 else None,
            }
            conn.execute(
                text(
                    "INSERT INTO card (id, deck_id, key, position, kind, front, back, accepted,"
                    f" tags, docs_url, active, {MEMORY}) VALUES (:id, :deck, :key, 0, 'basic',"
                    " 'Q', 'A', '[]', '[]', NULL, :active, :state, :step, :stability,"
                    " :difficulty, :due_at, :due_day, :last_at, :last_day, :reps, :lapses,"
                    " :buried)"
                ),
                values,
            )
            for n in range(reps):
                log_id += 1
                at = reviewed - timedelta(days=reps - n, minutes=n)
                conn.execute(
                    text(
                        f"INSERT INTO review_log ({LOG}) VALUES (:id, :card, :rating, :at, :day,"
                        " :ms, :before, :elapsed, :state, :s, :d, :ivl)"
                    ),
                    {
                        "id": log_id,
                        "card": card_id,
                        "rating": rng.randint(1, 4),
                        "at": at,
                        "day": at.date(),
                        "ms": rng.randint(0, 60000),
                        "before": 0 if n == 0 else rng.randint(1, 3),
                        "elapsed": None if n == 0 else 1,
                        "state": rng.randint(1, 3),
                        "s": rng.uniform(0.1, 50),
                        "d": rng.uniform(1, 10),
                        "ivl": rng.randint(0, 30),
                    },
                )
        for key, value in SETTINGS.items():
            conn.execute(text("INSERT INTO setting VALUES (:k, :v)"), {"k": key, "v": value})


@pytest.fixture
def at_0004(tmp_path: Path) -> Iterator[tuple[Engine, Any]]:
    """A new database at revision 0004 (the last single-learner schema), and its Alembic
    config."""
    engine = create_db_engine(f"sqlite:///{tmp_path / 'x.db'}")
    config = alembic_config(engine)
    command.upgrade(config, "0004_deck_fsrs_parameters")
    yield engine, config
    engine.dispose()


def _rows(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(sql))]


def test_single_learner_database_migrates_with_nothing_lost_and_back(
    at_0004: tuple[Engine, Any],
) -> None:
    engine, config = at_0004
    _fill(engine)
    cards = _rows(engine, f"SELECT id, {MEMORY} FROM card ORDER BY id")
    logs = _rows(engine, f"SELECT {LOG} FROM review_log ORDER BY id")
    decks = _rows(engine, "SELECT id, new_cards_per_day, fsrs_parameters FROM deck ORDER BY id")
    settings = _rows(engine, "SELECT key, value FROM setting ORDER BY key")
    assert {card[1] for card in cards} == {0, 1, 2, 3}
    assert len(logs) > 800
    assert sum(card[-1] is not None for card in cards) == 44  # buried

    command.upgrade(config, "head")  # 0005_learners, and the later ones change nothing here
    command.check(config)
    assert _rows(engine, "SELECT id, name FROM learner") == [(1, getpass.getuser())]
    memory = ", ".join(
        f"coalesce(m.{name}, 0)" if name in ("state", "reps", "lapses") else f"m.{name}"
        for name in MEMORY.replace(" ", "").split(",")
    )
    moved = _rows(
        engine,
        f"SELECT c.id, {memory} FROM card c"
        " LEFT JOIN card_memory m ON m.card_id = c.id AND m.learner_id = 1 ORDER BY c.id",
    )
    assert moved == cards
    # A card that was new and not buried has no row: a new card costs nothing.
    unstudied = [c[0] for c in cards if c[1] == 0 and c[-1] is None]
    assert _rows(engine, "SELECT count(*) FROM card_memory") == [(400 - len(unstudied),)]
    log_columns = LOG.replace("id, card_id", "r.id, r.card_id")
    assert _rows(engine, f"SELECT {log_columns} FROM review_log r ORDER BY id") == logs
    assert _rows(engine, "SELECT DISTINCT learner_id FROM review_log") == [(1,)]
    assert _rows(engine, "SELECT key, value FROM setting") == [
        ("builtin_decks_fingerprint", '"abc123"')
    ]
    assert _rows(
        engine, "SELECT key, value FROM learner_setting WHERE learner_id = 1 ORDER BY key"
    ) == [s for s in settings if s[0] != "builtin_decks_fingerprint"]
    assert _rows(
        engine,
        "SELECT deck_id, new_cards_per_day, fsrs_parameters FROM learner_deck"
        " WHERE learner_id = 1 ORDER BY deck_id",
    ) == [d for d in decks if d[1] is not None or d[2] is not None]

    command.downgrade(config, "0004_deck_fsrs_parameters")
    assert _rows(engine, f"SELECT id, {MEMORY} FROM card ORDER BY id") == cards
    assert _rows(engine, f"SELECT {LOG} FROM review_log ORDER BY id") == logs
    assert _rows(engine, "SELECT key, value FROM setting ORDER BY key") == settings
    assert _rows(engine, "SELECT id, new_cards_per_day, fsrs_parameters FROM deck") == decks


def test_a_database_without_history_gets_no_learner(at_0004: tuple[Engine, Any]) -> None:
    engine, config = at_0004
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO setting VALUES ('builtin_decks_fingerprint', '\"x\"')"))
    command.upgrade(config, "head")
    assert _rows(engine, "SELECT count(*) FROM learner") == [(0,)]


def test_downgrade_refuses_two_learners(at_0004: tuple[Engine, Any]) -> None:
    engine, config = at_0004
    command.upgrade(config, "head")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO learner VALUES (1, 'ann', '2026-01-01 00:00:00')"))
        conn.execute(text("INSERT INTO learner VALUES (2, 'bob', '2026-01-01 00:00:00')"))
    with pytest.raises(RuntimeError, match="the database has 2 learners"):
        command.downgrade(config, "0004_deck_fsrs_parameters")


def test_suspend_upgrade_keeps_every_memory_row_and_suspends_none(
    at_0004: tuple[Engine, Any],
) -> None:
    """0008_suspend on a database full of history: every memory and review log row as it
    was, none suspended; the downgrade drops the column and keeps the rest."""
    engine, config = at_0004
    _fill(engine)
    command.upgrade(config, "0007_review_kind")
    memory = _rows(engine, f"SELECT learner_id, card_id, {MEMORY} FROM card_memory ORDER BY 2")
    logs = _rows(engine, f"SELECT {LOG} FROM review_log ORDER BY id")
    assert len(memory) > 300
    command.upgrade(config, "0008_suspend")
    after = f"SELECT learner_id, card_id, {MEMORY} FROM card_memory ORDER BY 2"
    assert _rows(engine, after) == memory
    assert _rows(engine, f"SELECT {LOG} FROM review_log ORDER BY id") == logs
    assert _rows(engine, "SELECT DISTINCT suspended FROM card_memory") == [(0,)]
    with engine.begin() as conn:
        conn.execute(text("UPDATE card_memory SET suspended = 1 WHERE card_id < 50"))
    command.downgrade(config, "0007_review_kind")
    assert _rows(engine, after) == memory
    command.upgrade(config, "0008_suspend")
    assert _rows(engine, "SELECT DISTINCT suspended FROM card_memory") == [(0,)]
    command.upgrade(config, "head")  # the later ones on top match the models
    command.check(config)


def test_leech_upgrade_marks_the_cards_at_eight_lapses_and_keeps_the_rest(
    at_0004: tuple[Engine, Any],
) -> None:
    """0010_leech on a database full of history: the rows with 8 lapses or more are marked
    leeches (none suspended), the others not; every memory and review log row as it was; the
    downgrade drops the column and keeps the rest."""
    engine, config = at_0004
    _fill(engine)
    command.upgrade(config, "0009_card_retired_index")
    with engine.begin() as conn:
        conn.execute(text("UPDATE card_memory SET lapses = card_id % 11 WHERE state = 2"))
    columns = f"learner_id, card_id, {MEMORY}, suspended"
    memory = _rows(engine, f"SELECT {columns} FROM card_memory ORDER BY 2")
    logs = _rows(engine, f"SELECT {LOG} FROM review_log ORDER BY id")
    command.upgrade(config, "0010_leech")
    assert _rows(engine, f"SELECT {columns} FROM card_memory ORDER BY 2") == memory
    assert _rows(engine, f"SELECT {LOG} FROM review_log ORDER BY id") == logs
    leeches = _rows(engine, "SELECT card_id FROM card_memory WHERE leech ORDER BY 1")
    expected = [(row[1],) for row in memory if row[2] == 2 and row[1] % 11 >= 8]
    assert leeches == expected
    assert len(expected) == 27
    assert _rows(engine, "SELECT DISTINCT suspended FROM card_memory") == [(0,)]
    command.downgrade(config, "0009_card_retired_index")
    assert _rows(engine, f"SELECT {columns} FROM card_memory ORDER BY 2") == memory


def test_topic_done_upgrade_backfills_the_first_done_day_from_the_history(
    at_0004: tuple[Engine, Any],
) -> None:
    """0011_topic_done on a database full of history: a topic whose log shows it done once is
    done since that day though it is not now, one done now without a log since the migration
    day, the others not; every other row as it was."""
    engine, config = at_0004
    _fill(engine)
    command.upgrade(config, "0010_leech")
    (learner,) = _rows(engine, "SELECT id FROM learner")[0]
    day = date(2026, 10, 1)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO topic VALUES (2, 1, 'tcp', 'TCP', 1, '[]'),"
                " (3, 1, 'udp', 'UDP', 2, '[]')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO deck (id, name, slug, source, topic_id) VALUES"
                " (5, 'TCP', 'tcp', 'builtin', 2), (6, 'UDP', 'udp', 'builtin', 3)"
            )
        )
        cards = {1001: 5, 1002: 5, 1003: 5, 1004: 5, 1005: 6, 1006: 6}
        for card_id, deck_id in cards.items():
            conn.execute(
                text(
                    "INSERT INTO card (id, deck_id, key, note, position, kind, front, back,"
                    " accepted, tags, active) VALUES (:id, :deck, :key, :key, 0, 'basic', 'Q',"
                    " 'A', '[]', '[]', 1)"
                ),
                {"id": card_id, "deck": deck_id, "key": f"t{card_id}"},
            )
        # tcp: 4 cards, 4 needed (90%): the 4th mastered on day+3; then card 1001 lapses
        history = [(1001, 0, 25.0), (1002, 0, 30.0), (1003, 1, 22.0), (1004, 2, 5.0),
                   (1004, 3, 40.0), (1001, 5, 3.0)]  # fmt: skip
        for n, (card_id, offset, stability) in enumerate(history, start=10_000):
            at = datetime.combine(day + timedelta(days=offset), datetime.min.time())
            conn.execute(
                text(
                    f"INSERT INTO review_log (learner_id, {LOG}, kind) VALUES (:learner, :id,"
                    " :card, 3, :at, :day, 0, 2, 1, 2, :s, 5.0, 1, 'review')"
                ),
                {
                    "learner": learner,
                    "id": n,
                    "card": card_id,
                    "at": at,
                    "day": at.date(),
                    "s": stability,
                },
            )
        last = {1001: 3.0, 1002: 30.0, 1003: 22.0, 1004: 40.0, 1005: 50.0, 1006: 50.0}
        for card_id, stability in last.items():  # udp: both mastered, with no log
            conn.execute(
                text(
                    "INSERT INTO card_memory (learner_id, card_id, state, stability_days,"
                    " difficulty, due_day, last_review_day, reps, lapses, suspended) VALUES"
                    " (:learner, :card, 2, :s, 5.0, :due, :last, 1, 0, 0)"
                ),
                {
                    "learner": learner,
                    "card": card_id,
                    "s": stability,
                    "due": day + timedelta(days=60),
                    "last": day + timedelta(days=5),
                },
            )
    logs = _rows(engine, f"SELECT {LOG} FROM review_log ORDER BY id")
    memory = _rows(engine, f"SELECT learner_id, card_id, {MEMORY} FROM card_memory ORDER BY 2")
    command.upgrade(config, "0011_topic_done")
    today = datetime.now(UTC).date()
    assert _rows(engine, "SELECT learner_id, topic_id, done_day FROM topic_done ORDER BY 2") == [
        (learner, 2, (day + timedelta(days=3)).isoformat()),
        (learner, 3, today.isoformat()),
    ]
    assert _rows(engine, f"SELECT {LOG} FROM review_log ORDER BY id") == logs
    assert (
        _rows(engine, f"SELECT learner_id, card_id, {MEMORY} FROM card_memory ORDER BY 2") == memory
    )
    command.downgrade(config, "0010_leech")
    assert ("topic_done",) not in _rows(
        engine, "SELECT name FROM sqlite_master WHERE type = 'table'"
    )
    command.upgrade(config, "head")
    command.check(config)
