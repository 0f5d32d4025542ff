"""The SQLAlchemy 2.x data model. Alembic (``migrations/``) owns the schema built from it.

Units are in the column names: ``*_at`` are aware UTC datetimes, ``*_day`` are learner days (the
local calendar date of the day that began at the learner's day rollover hour), ``*_days`` are
durations in days, ``*_ms`` in milliseconds.
"""

from __future__ import annotations

import enum
import re
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql import ColumnElement

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime stored as a naive UTC timestamp.

    SQLite returns naive datetimes even for ``DateTime(timezone=True)`` and fsrs rejects naive
    ones, so this type converts on the way in (raising ``ValueError`` for a naive value) and
    re-attaches UTC on the way out. Pattern from pypi/warehouse ``TZDateTime``.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: trainer stores aware UTC datetimes")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class CardState(enum.IntEnum):
    """A card's learning state; 1-3 are ``fsrs.State``'s values, 0 is a card never reviewed."""

    NEW = 0
    LEARNING = 1
    REVIEW = 2
    RELEARNING = 3


class Rating(enum.IntEnum):
    """The learner's answer to a card, as FSRS and Anki number them."""

    AGAIN = 1
    HARD = 2
    GOOD = 3
    EASY = 4


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # SQLAlchemy reads this class attribute as declared; it is never mutated.
    type_annotation_map = {datetime: UTCDateTime(), date: Date(), dict[str, Any]: JSON()}


class Section(Base):
    """A roadmap section (``## Title`` in ``decks/roadmap.md``), ordered by ``position``."""

    __tablename__ = "section"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)

    topics: Mapped[list[Topic]] = relationship(back_populates="section", order_by="Topic.position")


class Topic(Base):
    """A roadmap topic, with the subtopics named in its parentheses (a JSON list of titles)."""

    __tablename__ = "topic"

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id"), index=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    subtopics: Mapped[list[str]] = mapped_column(JSON, default=list)

    section: Mapped[Section] = relationship(back_populates="topics")


class Learner(Base):
    """A person who studies: everything of theirs (memory state, review log, settings, per-deck
    allowances and parameters) is keyed by ``learner.id``; content (sections, topics, decks,
    cards) is shared. ``name`` is unique (``--learner``; by default the operating-system user
    name), ``created_at`` when their first write made the row (aware UTC)."""

    __tablename__ = "learner"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime]


class Deck(Base):
    """A set of cards: a roadmap topic's built-in deck, or a stand-alone imported deck.

    ``source`` is ``"builtin"`` for decks loaded from ``decks/``; ``topic_id`` is set when the
    deck's cards count toward that topic's mastery. ``name`` is the whole path of the deck in
    Anki's form (``Rocks::Igneous``), ``parent_id`` the deck one level up (None at the top);
    ``slug`` is unique (a built-in deck's is its topic's). A learner's own allowance and FSRS
    parameters for a deck are in :class:`LearnerDeck`.
    """

    __tablename__ = "deck"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True, index=True)
    source: Mapped[str] = mapped_column(String(20))
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("deck.id"), index=True)

    topic: Mapped[Topic | None] = relationship()


class LearnerDeck(Base):
    """A learner's own values for one deck. ``new_cards_per_day`` is a top-level stand-alone
    deck's own daily allowance of new cards (None: the ``deck_new_cards_per_day`` setting).
    ``fsrs_parameters`` are the deck's own 21 FSRS-6 parameters, as an imported Anki deck
    brings them to the learner who imported it (None: it has none)."""

    __tablename__ = "learner_deck"

    learner_id: Mapped[int] = mapped_column(ForeignKey("learner.id"), primary_key=True)
    deck_id: Mapped[int] = mapped_column(ForeignKey("deck.id"), primary_key=True)
    new_cards_per_day: Mapped[int | None] = mapped_column(Integer)
    fsrs_parameters: Mapped[list[float] | None] = mapped_column(JSON)


#: The ending of a card key that names one card of a note: ``#cN`` (cloze number N) or ``#N``
#: (the note's Nth card template, N >= 2: the reverse of a reversed note is ``#2``).
_CARD_OF_NOTE = re.compile(r"#c?[0-9]+$")


def note_of(key: str) -> str:
    """The key of the note card ``key`` belongs to: the key without its ``#cN`` or ``#N``
    ending (a cloze deletion, a further card template), else the key itself. The cards of one
    deck with the same note key are siblings (see :mod:`trainer.study.siblings`)."""
    return _CARD_OF_NOTE.sub("", key)


def _note_of_inserted(context: Any) -> str:
    return note_of(context.get_current_parameters()["key"])


class Card(Base):
    """One reviewable card, shared by every learner (their memory of it is a
    :class:`CardMemory`).

    ``key`` is the card's stable id in its deck file (``id``, or ``id#cN`` for cloze number N);
    ``note`` the key of the note it is a card of (:func:`note_of`, set from ``key`` on insert):
    the deletions of one cloze, the two cards of a reversed pair and the cards of one imported
    Anki note share it (NULL for a card inserted outside trainer: it has no siblings). Retired
    cards (``active`` false) keep their history but are never shown.
    """

    __tablename__ = "card"
    # ix_card_active lets a join from a learner's memory rows read a card's deck and active flag
    # without the wide card row (SQLite picks it for lookups by id); ix_card_deck_active
    # drives the per-deck counts of the mastery queries; ix_card_retired finds the few retired
    # cards, which the queue's due count takes away. See tests/benchmarks.
    __table_args__ = (
        UniqueConstraint("deck_id", "key"),
        Index("ix_card_active", "id", "active", "deck_id"),
        Index("ix_card_deck_active", "deck_id", "active"),
        Index("ix_card_deck_note", "deck_id", "note"),
        Index("ix_card_retired", "active", "deck_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    deck_id: Mapped[int] = mapped_column(ForeignKey("deck.id"))
    key: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(String(200), default=_note_of_inserted)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    front: Mapped[str] = mapped_column(Text)
    back: Mapped[str] = mapped_column(Text)
    accepted: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    docs_url: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    deck: Mapped[Deck] = relationship()


class CardMemory(Base):
    """One learner's FSRS memory state of one card; no row means the card is new to them, so a
    new learner costs no rows.

    ``state`` is a :class:`CardState` (a row can hold NEW: a new card buried, or reset by
    ``trainer check``); ``step`` the index into the (re)learning steps. ``due_at`` is when a
    learning or relearning card's step ends (UTC); ``due_day`` is the learner day a review card
    falls due. ``buried_until_day`` hides the card from this learner before that day;
    ``suspended`` hides it until they unsuspend it (Anki's suspend), and leaves it out of their
    mastery. ``leech`` marks a card they keep forgetting (Anki's leech tag, per learner here;
    see :mod:`trainer.study.leeches`).
    """

    __tablename__ = "card_memory"
    # The queue and mastery queries read only these indexes and the primary key (on SQLite the
    # table is stored by its primary key, WITHOUT ROWID, so a learner's row of a card is one
    # lookup), never the wide card rows: see tests/benchmarks.
    __table_args__ = (
        Index(
            "ix_card_memory_queue_review",
            "learner_id",
            "state",
            "due_day",
            "buried_until_day",
            "suspended",
        ),
        Index(
            "ix_card_memory_queue_learning",
            "learner_id",
            "state",
            "due_at",
            "buried_until_day",
            "suspended",
        ),
        Index("ix_card_memory_card_id", "card_id"),
        {"sqlite_with_rowid": False},
    )

    learner_id: Mapped[int] = mapped_column(ForeignKey("learner.id"), primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"), primary_key=True)
    state: Mapped[int] = mapped_column(Integer, default=CardState.NEW)
    step: Mapped[int | None] = mapped_column(Integer)
    stability_days: Mapped[float | None] = mapped_column(Float)
    difficulty: Mapped[float | None] = mapped_column(Float)
    due_at: Mapped[datetime | None]
    due_day: Mapped[date | None]
    last_review_at: Mapped[datetime | None]
    last_review_day: Mapped[date | None]
    reps: Mapped[int] = mapped_column(Integer, default=0)
    lapses: Mapped[int] = mapped_column(Integer, default=0)
    buried_until_day: Mapped[date | None]
    suspended: Mapped[bool] = mapped_column(Boolean, server_default=false())
    leech: Mapped[bool] = mapped_column(Boolean, server_default=false())


#: A review-log row's ``kind``: a rating the learner gave, or a card put into review by a
#: passed ``trainer skip`` (as if first answered Easy; the optimizer leaves these out).
REVIEW = "review"
SKIP = "skip"


class ReviewLog(Base):
    """One rating of one card by one learner: what they answered, when, and what it did to the
    card.

    ``state_before`` is the card's :class:`CardState` when it was shown (Anki's review kind);
    ``stability_days``, ``difficulty``, ``state`` and ``interval_days`` (0 for a learning step)
    are the card's values after the rating. ``elapsed_days`` counts learner days since the
    previous review (None for a first review). ``kind`` is :data:`REVIEW` for a rating the
    learner gave, :data:`SKIP` for a card a passed ``trainer skip`` put into review.
    """

    __tablename__ = "review_log"
    # The day index covers the per-day counts (today's limits, the reports' history): see
    # tests/benchmarks.
    __table_args__ = (
        Index("ix_review_log_card_id_reviewed_at", "learner_id", "card_id", "reviewed_at"),
        Index(
            "ix_review_log_day_activity",
            "learner_id",
            "review_day",
            "state_before",
            "elapsed_days",
            "rating",
            "card_id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learner.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"))
    rating: Mapped[int] = mapped_column(Integer)
    reviewed_at: Mapped[datetime]
    review_day: Mapped[date]
    duration_ms: Mapped[int] = mapped_column(Integer)
    state_before: Mapped[int] = mapped_column(Integer)
    elapsed_days: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[int] = mapped_column(Integer)
    stability_days: Mapped[float] = mapped_column(Float)
    difficulty: Mapped[float] = mapped_column(Float)
    interval_days: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10), server_default=REVIEW)


def given_rating() -> ColumnElement[bool]:
    """SQL: a review-log row is a rating the learner gave (kind :data:`REVIEW`), not a card a
    passed ``trainer skip`` put into review (:data:`SKIP`). Daily limits, the optimizer and
    every count of reviews, new cards started, time and retention count only these."""
    return ReviewLog.kind != SKIP


class Setting(Base):
    """One value the database keeps for itself, not for a learner (the built-in decks'
    fingerprint), JSON-encoded."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class TopicDone(Base):
    """A roadmap topic a learner has done, and the learner day it first met the mastery rule
    (``trainer.study.mastery``). A row is never removed by later forgetting: a done topic stays
    done (and may need a refresh); migration ``0011_topic_done`` backfilled the rows from the
    review log."""

    __tablename__ = "topic_done"

    learner_id: Mapped[int] = mapped_column(ForeignKey("learner.id"), primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topic.id"), primary_key=True)
    done_day: Mapped[date] = mapped_column(Date)


class LearnerSetting(Base):
    """One learner setting (see ``trainer.store.settings``), its value JSON-encoded."""

    __tablename__ = "learner_setting"

    learner_id: Mapped[int] = mapped_column(ForeignKey("learner.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
