"""Shared fixtures. Tests never touch the learner's real data: TRAINER_DB points into tmp_path,
and they study as the learner ``tester`` (TRAINER_LEARNER)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from trainer.content.builtin_sync import sync_builtin
from trainer.scheduling.days import DayClock
from trainer.store.db import open_database
from trainer.store.learners import learner_for_write
from trainer.store.memory import StoredMemory, read_memory
from trainer.store.models import Card, CardMemory
from trainer.store.settings import Settings

# Property tests judge behaviour, never speed (speed lives in the benchmarks): no per-example
# deadline, which a loaded machine or CI runner would otherwise turn into a failure.
hypothesis_settings.register_profile("trainer", deadline=None)
hypothesis_settings.load_profile("trainer")

#: A fixed instant: Sunday 2026-11-29 10:00 UTC, learner day 2026-11-29 with a 4 am rollover.
NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)

#: The learner tests study as (TRAINER_LEARNER), and the id the ``factory`` fixture gives them.
LEARNER_NAME = "tester"
LEARNER = 1

#: The fsrs release the recorded figures (stabilities, intervals, days) were taken from. Another
#: release may compute other numbers: re-record them with it, then change this and the pin of
#: fsrs in pyproject.toml together.
FSRS_RECORDED = "6.3.2"
#: Marks a test whose expected values were recorded from fsrs rather than from an outside
#: reference: it runs only against the release they were recorded with.
recorded_with_fsrs = pytest.mark.skipif(
    version("fsrs") != FSRS_RECORDED,
    reason=f"values recorded with fsrs {FSRS_RECORDED}, fsrs {version('fsrs')} is installed:"
    " re-record them and update FSRS_RECORDED in tests/conftest.py",
)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINER_DB", str(tmp_path / "trainer.db"))
    monkeypatch.setenv("TRAINER_LEARNER", LEARNER_NAME)
    monkeypatch.delenv("TRAINER_NOW", raising=False)
    monkeypatch.setenv("TZ", "UTC")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "trainer.db"


@pytest.fixture
def factory(db_path: Path) -> Iterator[sessionmaker[Session]]:
    """ORM sessions on a migrated database that holds only the learner ``tester``
    (:data:`LEARNER`)."""
    engine = open_database(str(db_path))
    with engine.begin() as conn:
        assert learner_for_write(conn, LEARNER_NAME, NOW) == LEARNER
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


def engine_of(factory: sessionmaker[Session]) -> Engine:
    """The engine behind a session factory (ReviewSession works on engines)."""
    engine = factory.kw["bind"]
    assert isinstance(engine, Engine)
    return engine


def stored(factory: sessionmaker[Session], card_id: int, learner: int = LEARNER) -> StoredMemory:
    """A learner's memory row of a card as stored (a new card's when they have none)."""
    with factory() as db:
        return read_memory(db.connection(), learner, card_id)


def memory_row(db: Session, card: Card, learner: int = LEARNER) -> CardMemory:
    """The learner's memory row of ``card`` in ``db``, made (new, flushed) when they have
    none, for a test to set a memory state."""
    row = db.get(CardMemory, (learner, card.id))
    if row is None:
        row = CardMemory(learner_id=learner, card_id=card.id, state=0, reps=0, lapses=0)
        db.add(row)
        db.flush()
    return row


@pytest.fixture
def loaded(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """A database holding the built-in roadmap and decks."""
    with factory.begin() as db:
        sync_builtin(db)
    return factory


@pytest.fixture
def clock() -> DayClock:
    return DayClock(rollover_hour=4, zone=ZoneInfo("UTC"))


@pytest.fixture
def settings() -> Settings:
    return Settings()
