"""Siblings (cards of one note) wait until the next learner day once one of them is rated, when
the learner's bury settings say so, as Anki buries siblings."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from conftest import LEARNER, NOW, engine_of, stored
from trainer.content.builtin_sync import upsert_cards, upsert_roadmap
from trainer.content.parser import CardSpec, SectionSpec, TopicSpec, parse_deck
from trainer.scheduling.days import DayClock
from trainer.store.models import Card, CardMemory, Deck, Rating, note_of
from trainer.store.settings import Settings
from trainer.study.queue import Focus
from trainer.study.session import ReviewSession

DECK = """
topic = "t"

[[card]]
id = "gil"
kind = "cloze"
text = "The {{c1::GIL}} lets one thread run {{c2::bytecode}} at a time."

[[card]]
id = "wraps"
front = "Why use functools.wraps?"
back = "It copies the name."
"""


@pytest.fixture
def cloze(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """One topic whose deck holds a two-deletion cloze (gil#c1, gil#c2) and a basic card, and
    an extra deck with a reversed pair (r, r#2)."""
    with factory.begin() as db:
        topics = upsert_roadmap(db, (SectionSpec("s", "S", (TopicSpec("t", "T", (), 1),)),))
        deck = Deck(name="T", slug="t", source="builtin", topic_id=topics["t"].id)
        pair = Deck(name="Pair", slug="pair", source="import")
        db.add_all([deck, pair])
        db.flush()
        upsert_cards(db, deck, parse_deck(DECK, "t.toml").cards)
        upsert_cards(
            db, pair, [CardSpec("r", "basic", "Q", "A"), CardSpec("r#2", "basic", "A", "Q")]
        )
    return factory


def _ids(factory: sessionmaker[Session]) -> dict[str, int]:
    with factory() as db:
        return {key: card_id for card_id, key in db.execute(select(Card.id, Card.key))}


def _session(
    factory: sessionmaker[Session], clock: DayClock, now: datetime = NOW, **changes: bool
) -> ReviewSession:
    settings = Settings(**changes)  # type: ignore[arg-type]
    return ReviewSession(engine_of(factory), LEARNER, settings, clock, Focus(), now)


def _rate_all(
    session: ReviewSession, factory: sessionmaker[Session], now: datetime = NOW
) -> list[str]:
    """Rate Easy every card the session shows at ``now``; their keys in order."""
    keys = {card_id: key for key, card_id in _ids(factory).items()}
    shown_keys = []
    while (shown := session.next_card(now)) is not None:
        shown_keys.append(keys[shown.card_id])
        session.rate(shown, Rating.EASY, now, 1000)
    return shown_keys


def test_note_keys() -> None:
    assert [note_of(k) for k in ("gil#c1", "gil#c12", "r#2", "r", "a#b", "x#c")] == [
        "gil",
        "gil",
        "r",
        "r",
        "a#b",
        "x#c",
    ]


def test_a_rated_deletion_buries_the_other_until_tomorrow(
    cloze: sessionmaker[Session], clock: DayClock
) -> None:
    session = _session(cloze, clock, bury_new_siblings=True)
    assert session.counts() == {"new": 5, "learning": 0, "review": 0}
    shown = session.next_card(NOW)
    assert shown is not None and shown.card_id == _ids(cloze)["gil#c1"]
    session.rate(shown, Rating.EASY, NOW, 1000)
    # gil#c2 left the queue without using the day's allowance of new cards
    assert session.counts() == {"new": 3, "learning": 0, "review": 0}
    today = clock.day_of(NOW)
    buried = stored(cloze, _ids(cloze)["gil#c2"])
    assert (buried.buried_until_day, buried.memory.reps) == (today + timedelta(days=1), 0)
    # the reversed pair too: one of them today
    assert _rate_all(session, cloze) == ["r", "wraps"]
    tomorrow = NOW + timedelta(days=1)
    assert _rate_all(_session(cloze, clock, tomorrow, bury_new_siblings=True), cloze, tomorrow) == [
        "gil#c2",
        "r#2",
    ]


def test_siblings_come_the_same_day_with_burying_off_as_by_default(
    cloze: sessionmaker[Session], clock: DayClock
) -> None:
    assert (Settings().bury_new_siblings, Settings().bury_review_siblings) == (False, False)
    assert _rate_all(_session(cloze, clock), cloze) == ["gil#c1", "r", "wraps", "r#2", "gil#c2"]


def test_undo_brings_the_buried_sibling_back(cloze: sessionmaker[Session], clock: DayClock) -> None:
    session = _session(cloze, clock, bury_new_siblings=True)
    shown = session.next_card(NOW)
    assert shown is not None
    session.rate(shown, Rating.GOOD, NOW, 1000)
    assert session.undo()
    sibling = stored(cloze, _ids(cloze)["gil#c2"])
    assert (sibling.exists, sibling.buried_until_day) == (False, None)
    assert session.counts() == {"new": 5, "learning": 0, "review": 0}
    again = session.next_card(NOW)
    assert again is not None and again.card_id == shown.card_id
    session.rate(again, Rating.GOOD, NOW, 1000)
    assert _rate_all(session, cloze) == ["r", "wraps", "gil#c1"]  # its step, in learn-ahead


def _make_reviews(factory: sessionmaker[Session], clock: DayClock, due: date) -> None:
    """Every card a review card due on learner day ``due`` (rated Easy, then moved)."""
    session = _session(factory, clock, NOW - timedelta(days=30))
    _rate_all(session, factory, NOW - timedelta(days=30))
    with factory.begin() as db:
        for row in db.scalars(select(CardMemory)):
            row.due_day = due


def test_review_siblings_bury_after_a_review_not_after_a_new_card(
    cloze: sessionmaker[Session], clock: DayClock
) -> None:
    ids = _ids(cloze)
    _make_reviews(cloze, clock, clock.day_of(NOW))
    session = _session(cloze, clock, bury_review_siblings=True)
    assert session.counts() == {"new": 0, "learning": 0, "review": 5}
    assert _rate_all(session, cloze) == ["gil#c1", "wraps", "r"]
    assert stored(cloze, ids["r#2"]).buried_until_day == clock.day_of(NOW) + timedelta(days=1)


def test_a_new_card_does_not_bury_its_review_sibling(
    cloze: sessionmaker[Session], clock: DayClock
) -> None:
    ids = _ids(cloze)
    _make_reviews(cloze, clock, clock.day_of(NOW) + timedelta(days=1))
    with cloze.begin() as db:
        db.delete(db.get_one(CardMemory, (LEARNER, ids["gil#c2"])))  # new again
    session = _session(cloze, clock, bury_review_siblings=True, bury_new_siblings=True)
    assert _rate_all(session, cloze) == ["gil#c2"]
    assert stored(cloze, ids["gil#c1"]).buried_until_day is None
