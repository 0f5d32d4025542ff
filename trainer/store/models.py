"""The ORM classes, mapped onto the Core tables of :mod:`trainer.store.tables` (the schema, and
what queries are written against): for the commands that load or add rows as objects. Importing
this module sets up SQLAlchemy's ORM, which start-up never needs.

Units are in the column names: ``*_at`` are aware UTC datetimes, ``*_day`` are learner days (the
local calendar date of the day that began at the learner's day rollover hour), ``*_days`` are
durations in days, ``*_ms`` in milliseconds.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import FromClause
from sqlalchemy.orm import DeclarativeBase, Mapped, relationship

from trainer.store import tables
from trainer.store.tables import (
    REVIEW,
    SKIP,
    CardState,
    Rating,
    UTCDateTime,
    given_rating,
    note_of,
)

__all__ = ["REVIEW", "SKIP", "CardState", "Rating", "UTCDateTime", "given_rating", "note_of"]


class Base(DeclarativeBase):
    metadata = tables.metadata


class Section(Base):
    """A roadmap section (``## Title`` in ``decks/roadmap.md``), ordered by ``position``."""

    __table__: ClassVar[FromClause] = tables.section

    id: Mapped[int]
    slug: Mapped[str]
    title: Mapped[str]
    position: Mapped[int]

    topics: Mapped[list[Topic]] = relationship(back_populates="section", order_by="Topic.position")


class Topic(Base):
    """A roadmap topic, with the subtopics named in its parentheses (a JSON list of titles)."""

    __table__: ClassVar[FromClause] = tables.topic

    id: Mapped[int]
    section_id: Mapped[int]
    slug: Mapped[str]
    title: Mapped[str]
    position: Mapped[int]
    subtopics: Mapped[list[str]]

    section: Mapped[Section] = relationship(back_populates="topics")


class Learner(Base):
    """A person who studies: everything of theirs (memory state, review log, settings, per-deck
    allowances and parameters) is keyed by ``learner.id``; content (sections, topics, decks,
    cards) is shared. ``name`` is unique (``--learner``; by default the operating-system user
    name), ``created_at`` when their first write made the row (aware UTC)."""

    __table__: ClassVar[FromClause] = tables.learner

    id: Mapped[int]
    name: Mapped[str]
    created_at: Mapped[datetime]


class Deck(Base):
    """A set of cards: a roadmap topic's built-in deck, or a stand-alone imported deck.

    ``source`` is ``"builtin"`` for decks loaded from ``decks/``; ``topic_id`` is set when the
    deck's cards count toward that topic's mastery. ``name`` is the whole path of the deck in
    Anki's form (``Rocks::Igneous``), ``parent_id`` the deck one level up (None at the top);
    ``slug`` is unique (a built-in deck's is its topic's). A learner's own allowance and FSRS
    parameters for a deck are in :class:`LearnerDeck`.
    """

    __table__: ClassVar[FromClause] = tables.deck

    id: Mapped[int]
    name: Mapped[str]
    slug: Mapped[str]
    source: Mapped[str]
    topic_id: Mapped[int | None]
    parent_id: Mapped[int | None]

    topic: Mapped[Topic | None] = relationship()


class LearnerDeck(Base):
    """A learner's own values for one deck. ``new_cards_per_day`` is a top-level stand-alone
    deck's own daily allowance of new cards (None: the ``deck_new_cards_per_day`` setting).
    ``fsrs_parameters`` are the deck's own 21 FSRS-6 parameters, as an imported Anki deck
    brings them to the learner who imported it (None: it has none)."""

    __table__: ClassVar[FromClause] = tables.learner_deck

    learner_id: Mapped[int]
    deck_id: Mapped[int]
    new_cards_per_day: Mapped[int | None]
    fsrs_parameters: Mapped[list[float] | None]


class Card(Base):
    """One reviewable card, shared by every learner (their memory of it is a
    :class:`CardMemory`).

    ``key`` is the card's stable id in its deck file (``id``, or ``id#cN`` for cloze number N);
    ``note`` the key of the note it is a card of (:func:`note_of`, set from ``key`` on insert):
    the deletions of one cloze, the two cards of a reversed pair and the cards of one imported
    Anki note share it (NULL for a card inserted outside trainer: it has no siblings). Retired
    cards (``active`` false) keep their history but are never shown.
    """

    __table__: ClassVar[FromClause] = tables.card

    id: Mapped[int]
    deck_id: Mapped[int]
    key: Mapped[str]
    note: Mapped[str | None]
    position: Mapped[int]
    kind: Mapped[str]
    front: Mapped[str]
    back: Mapped[str]
    accepted: Mapped[list[str]]
    tags: Mapped[list[str]]
    docs_url: Mapped[str | None]
    active: Mapped[bool]

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

    __table__: ClassVar[FromClause] = tables.card_memory

    learner_id: Mapped[int]
    card_id: Mapped[int]
    state: Mapped[int]
    step: Mapped[int | None]
    stability_days: Mapped[float | None]
    difficulty: Mapped[float | None]
    due_at: Mapped[datetime | None]
    due_day: Mapped[date | None]
    last_review_at: Mapped[datetime | None]
    last_review_day: Mapped[date | None]
    reps: Mapped[int]
    lapses: Mapped[int]
    buried_until_day: Mapped[date | None]
    suspended: Mapped[bool]
    leech: Mapped[bool]


class ReviewLog(Base):
    """One rating of one card by one learner: what they answered, when, and what it did to the
    card.

    ``state_before`` is the card's :class:`CardState` when it was shown (Anki's review kind);
    ``stability_days``, ``difficulty``, ``state`` and ``interval_days`` (0 for a learning step)
    are the card's values after the rating. ``elapsed_days`` counts learner days since the
    previous review (None for a first review). ``kind`` is :data:`REVIEW` for a rating the
    learner gave, :data:`SKIP` for a card a passed ``trainer skip`` put into review.
    """

    __table__: ClassVar[FromClause] = tables.review_log

    id: Mapped[int]
    learner_id: Mapped[int]
    card_id: Mapped[int]
    rating: Mapped[int]
    reviewed_at: Mapped[datetime]
    review_day: Mapped[date]
    duration_ms: Mapped[int]
    state_before: Mapped[int]
    elapsed_days: Mapped[int | None]
    state: Mapped[int]
    stability_days: Mapped[float]
    difficulty: Mapped[float]
    interval_days: Mapped[int]
    kind: Mapped[str]


class Setting(Base):
    """One value the database keeps for itself, not for a learner (the built-in decks'
    fingerprint), JSON-encoded."""

    __table__: ClassVar[FromClause] = tables.setting

    key: Mapped[str]
    value: Mapped[str]


class TopicDone(Base):
    """A roadmap topic a learner has done, and the learner day it first met the mastery rule
    (``trainer.study.mastery``). A row is never removed by later forgetting: a done topic stays
    done (and may need a refresh); migration ``0011_topic_done`` backfilled the rows from the
    review log."""

    __table__: ClassVar[FromClause] = tables.topic_done

    learner_id: Mapped[int]
    topic_id: Mapped[int]
    done_day: Mapped[date]


class LearnerSetting(Base):
    """One learner setting (see ``trainer.store.settings``), its value JSON-encoded."""

    __table__: ClassVar[FromClause] = tables.learner_setting

    learner_id: Mapped[int]
    key: Mapped[str]
    value: Mapped[str]
