"""Loading built-in decks: first load, idempotent reloads, edits keep history, all or nothing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from conftest import LEARNER, NOW
from trainer.content.builtin_sync import (
    builtin_change,
    read_builtin,
    sync_builtin,
    upsert_cards,
)
from trainer.content.parser import CardSpec
from trainer.errors import DeckError, Problem
from trainer.store.db import open_database
from trainer.store.models import Card, CardMemory, Deck, ReviewLog, Section, Topic
from trainer.store.resources import DECKS_DIR

DECK = """topic = "{topic}"

[[card]]
id = "one"
docs = "https://docs.python.org/3/"
front = "Q1"
back = "A1"

[[card]]
id = "two"
docs = "https://docs.python.org/3/"
front = "Q2"
back = "A2"
"""


@pytest.fixture
def decks(tmp_path: Path) -> Path:
    """A copy of the roadmap with one small deck file."""
    folder = tmp_path / "decks"
    (folder / "01-basics").mkdir(parents=True)
    shutil.copy(DECKS_DIR / "roadmap.md", folder / "roadmap.md")
    (folder / "01-basics" / "algorithms.toml").write_text(DECK.format(topic="algorithms"))
    return folder


def _cards(factory: sessionmaker[Session]) -> dict[str, tuple[str, bool]]:
    with factory() as db:
        return {c.key: (c.front, c.active) for c in db.scalars(select(Card))}


def test_the_shipped_decks_load_with_every_topic(factory: sessionmaker[Session]) -> None:
    with factory.begin() as db:
        counts = sync_builtin(db)
        assert counts is not None and counts.added > 57 and counts.updated == 0
        assert db.scalar(select(func.count(Section.id))) == 11
        assert db.scalar(select(func.count(Topic.id))) == 57
    with factory.begin() as db:
        assert sync_builtin(db) is None  # unchanged files: nothing parsed


def test_reloading_changed_files_updates_in_place_and_keeps_history(
    factory: sessionmaker[Session], decks: Path
) -> None:
    with factory.begin() as db:
        sync_builtin(db, decks)
        first = db.scalars(select(Card).where(Card.key == "one")).one()
        db.add(CardMemory(learner_id=LEARNER, card_id=first.id, reps=5))
        db.add(
            ReviewLog(
                learner_id=LEARNER,
                card_id=first.id,
                rating=3,
                reviewed_at=NOW,
                review_day=NOW.date(),
                duration_ms=1,
                state_before=0,
                state=1,
                stability_days=1.0,
                difficulty=5.0,
                interval_days=0,
            )
        )
        first_id = first.id
    path = decks / "01-basics" / "algorithms.toml"
    path.write_text(
        path.read_text()
        .replace('front = "Q1"', 'front = "Q1, reworded"')
        .replace('[[card]]\nid = "two"', '[[card]]\nid = "three"')
    )
    with factory.begin() as db:
        counts = sync_builtin(db, decks)
    assert counts is not None
    assert (counts.added, counts.updated, counts.unchanged, counts.retired) == (1, 1, 0, 1)
    assert _cards(factory) == {
        "one": ("Q1, reworded", True),
        "two": ("Q2", False),
        "three": ("Q2", True),
    }
    with factory() as db:
        kept = db.get_one(CardMemory, (LEARNER, first_id))
        assert kept.reps == 5 and db.scalar(select(func.count(ReviewLog.id))) == 1


def _age(folder: Path, seconds: float) -> None:
    """Set every file under ``folder`` back ``seconds`` in modification time."""
    for path in folder.rglob("*.*"):
        info = path.stat()
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns - int(seconds * 1e9)))


def _fronts(factory: sessionmaker[Session]) -> dict[str, str]:
    return {key: front for key, (front, _) in _cards(factory).items()}


def _load_aged(factory: sessionmaker[Session], decks: Path) -> Path:
    """Load ``decks`` with files a minute old; return the deck file."""
    _age(decks, 60)
    with factory.begin() as db:
        sync_builtin(db, decks)
    return decks / "01-basics" / "algorithms.toml"


def test_an_edit_that_keeps_the_size_is_loaded(factory: sessionmaker[Session], decks: Path) -> None:
    path = _load_aged(factory, decks)
    path.write_text(path.read_text().replace('front = "Q1"', 'front = "Q7"'))
    _age(path.parent, 10)  # older than the racy window, newer than the load
    with factory.begin() as db:
        counts = sync_builtin(db, decks)
    assert counts is not None and (counts.updated, counts.unchanged) == (1, 1)
    assert _fronts(factory) == {"one": "Q7", "two": "Q2"}


def test_files_with_their_recorded_sizes_and_times_are_not_read(
    factory: sessionmaker[Session], decks: Path
) -> None:
    path = _load_aged(factory, decks)
    info = path.stat()
    path.write_text(path.read_text().replace('front = "Q1"', 'front = "Q7"'))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))  # as a copy keeping times would
    with factory.begin() as db:
        assert builtin_change(db.connection(), decks) is None
        assert sync_builtin(db, decks) is None
    assert _fronts(factory) == {"one": "Q1", "two": "Q2"}


def test_new_times_on_the_same_bytes_are_recorded_without_loading(
    factory: sessionmaker[Session], decks: Path
) -> None:
    _load_aged(factory, decks)
    _age(decks, -30)  # touched, as a fresh checkout does
    with factory.begin() as db:
        stamps = builtin_change(db.connection(), decks)
        assert stamps is not None and stamps.stats is not None
        assert sync_builtin(db, decks) is None
        assert builtin_change(db.connection(), decks) is None


def test_files_modified_just_now_are_always_read(
    factory: sessionmaker[Session], decks: Path
) -> None:
    with factory.begin() as db:
        sync_builtin(db, decks)
        stamps = builtin_change(db.connection(), decks)
        assert stamps is not None and stamps.stats is None


def test_a_card_that_returns_comes_back_with_its_history(
    factory: sessionmaker[Session], decks: Path
) -> None:
    spec = [CardSpec("x", "basic", "Q", "A")]
    with factory.begin() as db:
        sync_builtin(db, decks)
        deck = db.scalars(select(Deck)).first()
        assert deck is not None
        upsert_cards(db, deck, spec)
        card_id = db.scalars(select(Card.id).where(Card.key == "x")).one()
        assert upsert_cards(db, deck, []).retired == 1
        counts = upsert_cards(db, deck, spec)
        assert (counts.added, counts.updated) == (0, 1)
        assert db.get_one(Card, card_id).active


def test_one_bad_file_loads_nothing_and_names_every_problem(
    factory: sessionmaker[Session], decks: Path
) -> None:
    (decks / "01-basics" / "bad.toml").write_text('topic = "nope"\n[[card]]\nid = "x"\n')
    (decks / "01-basics" / "dup.toml").write_text(DECK.format(topic="algorithms"))
    with factory.begin() as db, pytest.raises(DeckError) as caught:
        sync_builtin(db, decks)
    bad, dup = decks / "01-basics" / "bad.toml", decks / "01-basics" / "dup.toml"
    algorithms = decks / "01-basics" / "algorithms.toml"
    assert list(caught.value.problems) == [
        Problem(str(bad), 2, "basic card needs 'back'"),
        Problem(str(bad), 2, "basic card needs 'front'"),
        Problem(str(bad), 2, "card needs a 'docs' link to the page it rests on"),
        Problem(str(dup), 1, f"topic 'algorithms' already has {algorithms}"),
    ]
    with factory() as db:
        assert db.scalar(select(func.count(Section.id))) == 0


@settings(max_examples=60, deadline=None)
@given(
    st.permutations(["one", "two", "three", "four"]),
    st.integers(0, 4),
    st.permutations(["one", "two", "three", "four"]),
    st.integers(0, 4),
)
def test_loading_twice_changes_nothing(
    before: list[str], kept_before: int, order: list[str], keep: int
) -> None:
    """Whatever an earlier load left (other cards, another order), loading the same cards twice
    changes nothing the second time. Each example has a database of its own."""
    engine = open_database("sqlite://")
    factory = sessionmaker(engine)
    with factory.begin() as db:
        deck = Deck(name="prop", slug="prop", source="import")
        db.add(deck)
        db.flush()
        upsert_cards(
            db, deck, [CardSpec(key, "basic", f"Q {key}", "A") for key in before[:kept_before]]
        )
        specs = [CardSpec(key, "basic", f"Q {key}", "A") for key in order[:keep]]
        upsert_cards(db, deck, specs)
        again = upsert_cards(db, deck, specs)
        assert (again.added, again.updated, again.retired) == (0, 0, 0)
        assert again.unchanged == keep
        active = db.scalars(
            select(Card.key).where(Card.deck_id == deck.id, Card.active).order_by(Card.position)
        ).all()
        assert active == order[:keep]
    engine.dispose()


def test_read_builtin_parses_every_shipped_deck() -> None:
    sections, decks = read_builtin(DECKS_DIR)
    slugs = {t.slug for s in sections for t in s.topics}
    assert {d.topic for d in decks} <= slugs
