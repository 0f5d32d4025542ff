"""The schema as SQLAlchemy Core tables: what every query is written against. Alembic
(``migrations/``) owns the schema built from :data:`metadata`; the ORM classes of
:mod:`trainer.store.models` are mapped onto these tables, for the few commands that load rows as
objects. Start-up reads through these tables alone, so ``trainer status`` and ``trainer review``
never import the ORM.

Units are in the column names: ``*_at`` are aware UTC datetimes (:class:`UTCDateTime`), ``*_day``
are learner days (the local calendar date of the day that began at the learner's day rollover
hour), ``*_days`` are durations in days, ``*_ms`` in milliseconds. What each table holds is told
on its class in :mod:`trainer.store.models`.
"""

from __future__ import annotations

import enum
import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
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


#: A review-log row's ``kind``: a rating the learner gave, or a card put into review by a
#: passed ``trainer skip`` (as if first answered Easy; the optimizer leaves these out).
REVIEW = "review"
SKIP = "skip"

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


metadata = MetaData(naming_convention=NAMING_CONVENTION)

section = Table(
    "section",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(200), unique=True, nullable=False),
    Column("title", String(200), nullable=False),
    Column("position", Integer, nullable=False),
)

topic = Table(
    "topic",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("section_id", ForeignKey("section.id"), index=True, nullable=False),
    Column("slug", String(200), unique=True, nullable=False),
    Column("title", String(200), nullable=False),
    Column("position", Integer, nullable=False),
    Column("subtopics", JSON, default=list, nullable=False),
)

learner = Table(
    "learner",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), unique=True, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

deck = Table(
    "deck",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), unique=True, nullable=False),
    Column("slug", String(200), unique=True, index=True, nullable=False),
    Column("source", String(20), nullable=False),
    Column("topic_id", ForeignKey("topic.id"), index=True),
    Column("parent_id", ForeignKey("deck.id"), index=True),
)

learner_deck = Table(
    "learner_deck",
    metadata,
    Column("learner_id", ForeignKey("learner.id"), primary_key=True),
    Column("deck_id", ForeignKey("deck.id"), primary_key=True),
    Column("new_cards_per_day", Integer),
    Column("fsrs_parameters", JSON),
)

# ix_card_active lets a join from a learner's memory rows read a card's deck and active flag
# without the wide card row (SQLite picks it for lookups by id); ix_card_deck_active drives the
# per-deck counts of the mastery queries; ix_card_retired finds the few retired cards, which the
# queue's due count takes away. See tests/benchmarks.
card = Table(
    "card",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("deck_id", ForeignKey("deck.id"), nullable=False),
    Column("key", String(200), nullable=False),
    Column("note", String(200), default=_note_of_inserted),
    Column("position", Integer, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("front", Text, nullable=False),
    Column("back", Text, nullable=False),
    Column("accepted", JSON, default=list, nullable=False),
    Column("tags", JSON, default=list, nullable=False),
    Column("docs_url", String(500)),
    Column("active", Boolean, default=True, nullable=False),
    UniqueConstraint("deck_id", "key"),
    Index("ix_card_active", "id", "active", "deck_id"),
    Index("ix_card_deck_active", "deck_id", "active"),
    Index("ix_card_deck_note", "deck_id", "note"),
    Index("ix_card_retired", "active", "deck_id"),
)

# The queue and mastery queries read only these indexes and the primary key (on SQLite the
# table is stored by its primary key, WITHOUT ROWID, so a learner's row of a card is one
# lookup), never the wide card rows: see tests/benchmarks.
card_memory = Table(
    "card_memory",
    metadata,
    Column("learner_id", ForeignKey("learner.id"), primary_key=True),
    Column("card_id", ForeignKey("card.id"), primary_key=True),
    Column("state", Integer, default=CardState.NEW, nullable=False),
    Column("step", Integer),
    Column("stability_days", Float),
    Column("difficulty", Float),
    Column("due_at", UTCDateTime()),
    Column("due_day", Date()),
    Column("last_review_at", UTCDateTime()),
    Column("last_review_day", Date()),
    Column("reps", Integer, default=0, nullable=False),
    Column("lapses", Integer, default=0, nullable=False),
    Column("buried_until_day", Date()),
    Column("suspended", Boolean, server_default=false(), nullable=False),
    Column("leech", Boolean, server_default=false(), nullable=False),
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
    sqlite_with_rowid=False,
)

# A learner's own text of a card (trainer edit, e in the review; no ORM class: read and
# written by trainer.store.edits): the content columns of ``card`` that a deck file sets, as
# the parser made them from ``source`` (the [[card]] table the learner saved), shown to that
# learner instead of the card's; ``edited_at`` aware UTC. The card row itself stays as its deck
# has it, so a new version of the deck never overwrites the edit.
card_edit = Table(
    "card_edit",
    metadata,
    Column("learner_id", ForeignKey("learner.id"), primary_key=True),
    Column("card_id", ForeignKey("card.id"), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("front", Text, nullable=False),
    Column("back", Text, nullable=False),
    Column("accepted", JSON, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("docs_url", String(500)),
    Column("source", Text, nullable=False),
    Column("edited_at", UTCDateTime(), nullable=False),
    Index("ix_card_edit_card_id", "card_id"),
)

# The day index covers the per-day counts of ratings given (today's limits, the reports'
# history), kind included: see tests/benchmarks.
review_log = Table(
    "review_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("learner_id", ForeignKey("learner.id"), nullable=False),
    Column("card_id", ForeignKey("card.id"), nullable=False),
    Column("rating", Integer, nullable=False),
    Column("reviewed_at", UTCDateTime(), nullable=False),
    Column("review_day", Date(), nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("state_before", Integer, nullable=False),
    Column("elapsed_days", Integer),
    Column("state", Integer, nullable=False),
    Column("stability_days", Float, nullable=False),
    Column("difficulty", Float, nullable=False),
    Column("interval_days", Integer, nullable=False),
    Column("kind", String(10), server_default=REVIEW, nullable=False),
    Index("ix_review_log_card_id_reviewed_at", "learner_id", "card_id", "reviewed_at"),
    Index(
        "ix_review_log_day_activity",
        "learner_id",
        "review_day",
        "state_before",
        "elapsed_days",
        "rating",
        "card_id",
        "kind",
    ),
)


def given_rating() -> ColumnElement[bool]:
    """SQL: a review-log row is a rating the learner gave (kind :data:`REVIEW`), not a card a
    passed ``trainer skip`` put into review (:data:`SKIP`). Daily limits, the optimizer and
    every count of reviews, new cards started, time and retention count only these."""
    return review_log.c.kind != SKIP


setting = Table(
    "setting",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)

topic_done = Table(
    "topic_done",
    metadata,
    Column("learner_id", ForeignKey("learner.id"), primary_key=True),
    Column("topic_id", ForeignKey("topic.id"), primary_key=True),
    Column("done_day", Date, nullable=False),
)

learner_setting = Table(
    "learner_setting",
    metadata,
    Column("learner_id", ForeignKey("learner.id"), primary_key=True),
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)
