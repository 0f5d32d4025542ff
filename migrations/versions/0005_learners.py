"""many learners on one database

Content (sections, topics, decks, cards) stays shared; what belongs to a person moves to rows
of theirs: a card's memory state and burial to ``card_memory`` (one row per learner and card;
no row: the card is new to them), the review log gets ``learner_id``, settings move to
``learner_setting`` (``setting`` keeps the database's own values: the built-in decks'
fingerprint), a deck's new-card allowance and FSRS parameters to ``learner_deck``.

An existing database's state becomes the state of one learner named after the operating-system
user (``getpass.getuser()``, the default of ``--learner``), with nothing lost: every card whose
memory columns are not a new card's gets a memory row with the same values, every review log
row gets that learner. A database with nothing of a person in it gets no learner. The
downgrade moves one learner's state back and refuses a database with more than one.

Revision ID: 0005_learners
Revises: 0004_deck_fsrs_parameters
Create Date: 2026-12-06
"""

from __future__ import annotations

import getpass
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0005_learners"
down_revision: str | None = "0004_deck_fsrs_parameters"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The database's own setting (trainer.content.builtin_sync.FINGERPRINT_KEY), written out so
#: this migration keeps doing what it did whatever the app's code becomes.
FINGERPRINT_KEY = "builtin_decks_fingerprint"

#: The memory columns that move from ``card`` to ``card_memory``: name, type, nullable.
MEMORY: list[tuple[str, sa.types.TypeEngine[object], bool]] = [
    ("state", sa.Integer(), False),
    ("step", sa.Integer(), True),
    ("stability_days", sa.Float(), True),
    ("difficulty", sa.Float(), True),
    ("due_at", sa.DateTime(), True),
    ("due_day", sa.Date(), True),
    ("last_review_at", sa.DateTime(), True),
    ("last_review_day", sa.Date(), True),
    ("reps", sa.Integer(), False),
    ("lapses", sa.Integer(), False),
    ("buried_until_day", sa.Date(), True),
]
#: A new card's values of the columns that are not NULL then.
NEW_CARD = {"state": 0, "reps": 0, "lapses": 0}

#: The 0004 card indexes (with 0002's reported columns) and their replacements.
OLD_CARD_INDEXES = {
    "ix_card_queue_review": ["state", "due_day", "active", "buried_until_day", "deck_id"],
    "ix_card_queue_learning": ["state", "due_at", "active", "buried_until_day", "deck_id"],
    "ix_card_progress": [
        "deck_id",
        "active",
        "state",
        "stability_days",
        "due_day",
        "due_at",
        "buried_until_day",
        "lapses",
        "last_review_day",
        "last_review_at",
    ],
}
NEW_CARD_INDEXES = {
    "ix_card_active": ["id", "active", "deck_id"],
    "ix_card_deck_active": ["deck_id", "active"],
}
OLD_LOG_INDEXES = {
    "ix_review_log_card_id_reviewed_at": ["card_id", "reviewed_at"],
    "ix_review_log_day_activity": [
        "review_day",
        "state_before",
        "elapsed_days",
        "rating",
        "card_id",
    ],
}
NEW_LOG_INDEXES = {name: ["learner_id", *columns] for name, columns in OLD_LOG_INDEXES.items()}
LOG_LEARNER_FK = "fk_review_log_learner_id_learner"


def _table(name: str, /, **columns: sa.types.TypeEngine[Any]) -> sa.TableClause:
    """A lightweight table ``name`` with ``columns`` (name: type), as this migration sees it."""
    return sa.table(name, *(sa.column(column, kind) for column, kind in columns.items()))


def _card_table() -> sa.TableClause:
    return _table("card", id=sa.Integer(), **{name: kind for name, kind, _null in MEMORY})


def _tables() -> tuple[sa.TableClause, ...]:
    memory = {name: kind for name, kind, _nullable in MEMORY}
    ids = {"learner_id": sa.Integer()}
    per_deck = {"new_cards_per_day": sa.Integer(), "fsrs_parameters": sa.JSON()}
    return (
        _table("learner", id=sa.Integer(), name=sa.String(), created_at=sa.DateTime()),
        _table("card_memory", **ids, card_id=sa.Integer(), **memory),
        _table("setting", key=sa.String(), value=sa.Text()),
        _table("learner_setting", **ids, key=sa.String(), value=sa.Text()),
        _table("deck", id=sa.Integer(), **per_deck),
        _table("learner_deck", **ids, deck_id=sa.Integer(), **per_deck),
    )


def upgrade() -> None:
    op.create_table(
        "learner",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learner")),
        sa.UniqueConstraint("name", name=op.f("uq_learner_name")),
    )
    op.create_table(
        "card_memory",
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        *(sa.Column(name, kind, nullable=nullable) for name, kind, nullable in MEMORY),
        sa.ForeignKeyConstraint(["card_id"], ["card.id"], name=op.f("fk_card_memory_card_id_card")),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learner.id"], name=op.f("fk_card_memory_learner_id_learner")
        ),
        sa.PrimaryKeyConstraint("learner_id", "card_id", name=op.f("pk_card_memory")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_card_memory_queue_review",
        "card_memory",
        ["learner_id", "state", "due_day", "buried_until_day"],
    )
    op.create_index(
        "ix_card_memory_queue_learning",
        "card_memory",
        ["learner_id", "state", "due_at", "buried_until_day"],
    )
    op.create_index("ix_card_memory_card_id", "card_memory", ["card_id"])
    op.create_table(
        "learner_setting",
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learner.id"], name=op.f("fk_learner_setting_learner_id_learner")
        ),
        sa.PrimaryKeyConstraint("learner_id", "key", name=op.f("pk_learner_setting")),
    )
    op.create_table(
        "learner_deck",
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("deck_id", sa.Integer(), nullable=False),
        sa.Column("new_cards_per_day", sa.Integer(), nullable=True),
        sa.Column("fsrs_parameters", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["deck_id"], ["deck.id"], name=op.f("fk_learner_deck_deck_id_deck")
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learner.id"], name=op.f("fk_learner_deck_learner_id_learner")
        ),
        sa.PrimaryKeyConstraint("learner_id", "deck_id", name=op.f("pk_learner_deck")),
    )
    learner_id = _move_to_learner()
    # The review log gets its learner: added in place, filled, then made NOT NULL with its
    # reference (SQLite copies the table for that; nothing refers to review_log).
    for name in OLD_LOG_INDEXES:
        op.drop_index(name, "review_log")
    op.add_column("review_log", sa.Column("learner_id", sa.Integer(), nullable=True))
    if learner_id is not None:
        log = sa.table("review_log", sa.column("learner_id", sa.Integer()))
        op.execute(sa.update(log).values(learner_id=learner_id))
    with op.batch_alter_table("review_log") as batch:
        batch.alter_column("learner_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key(LOG_LEARNER_FK, "learner", ["learner_id"], ["id"])
    for name, columns in NEW_LOG_INDEXES.items():
        op.create_index(name, "review_log", columns)
    # Card and deck columns are dropped in place (SQLite 3.35+ ALTER TABLE DROP COLUMN): a
    # copy would drop the tables that cards, memory rows and review logs refer to.
    for name in OLD_CARD_INDEXES:
        op.drop_index(name, "card")
    for name, _kind, _nullable in MEMORY:
        op.drop_column("card", name)
    for name, columns in NEW_CARD_INDEXES.items():
        op.create_index(name, "card", columns)
    op.drop_column("deck", "fsrs_parameters")
    op.drop_column("deck", "new_cards_per_day")


def _move_to_learner() -> int | None:
    """Make the one learner and move the card, setting and deck state to them; their id, or
    None when the database holds nothing of a person (then no learner is made)."""
    conn = op.get_bind()
    learner, memory, setting, learner_setting, deck, learner_deck = _tables()
    card = _card_table()
    studied = sa.or_(
        *(
            card.c[name] != NEW_CARD[name] if name in NEW_CARD else card.c[name].is_not(None)
            for name, _kind, _nullable in MEMORY
        )
    )
    own_settings = setting.c.key != FINGERPRINT_KEY
    own_decks = sa.or_(deck.c.new_cards_per_day.is_not(None), deck.c.fsrs_parameters.is_not(None))
    logged = sa.table("review_log", sa.column("id", sa.Integer()))
    found = [
        conn.execute(sa.select(sa.literal(1)).select_from(table).where(condition).limit(1)).first()
        for table, condition in (
            (card, studied),
            (setting, own_settings),
            (deck, own_decks),
            (logged, sa.true()),
        )
    ]
    if not any(found):
        return None
    now = datetime.now(UTC).replace(tzinfo=None)
    conn.execute(sa.insert(learner).values(name=_user_name(), created_at=now))
    learner_id = int(conn.execute(sa.select(sa.func.max(learner.c.id))).scalar_one())
    me = sa.literal(learner_id, sa.Integer())
    names = [name for name, _kind, _nullable in MEMORY]
    conn.execute(
        sa.insert(memory).from_select(
            ["learner_id", "card_id", *names],
            sa.select(me, card.c.id, *(card.c[name] for name in names)).where(studied),
        )
    )
    conn.execute(
        sa.insert(learner_setting).from_select(
            ["learner_id", "key", "value"],
            sa.select(me, setting.c.key, setting.c.value).where(own_settings),
        )
    )
    conn.execute(sa.delete(setting).where(own_settings))
    conn.execute(
        sa.insert(learner_deck).from_select(
            ["learner_id", "deck_id", "new_cards_per_day", "fsrs_parameters"],
            sa.select(me, deck.c.id, deck.c.new_cards_per_day, deck.c.fsrs_parameters).where(
                own_decks
            ),
        )
    )
    return learner_id


def _user_name() -> str:
    """The operating-system user name, as ``--learner`` defaults to it."""
    try:
        return getpass.getuser()[:100] or "learner"
    except (OSError, KeyError):
        return "learner"


def downgrade() -> None:
    conn = op.get_bind()
    learner = _tables()[0]
    learners = conn.execute(sa.select(learner.c.id).order_by(learner.c.id)).scalars().all()
    if len(learners) > 1:
        raise RuntimeError(
            f"cannot downgrade below 0005_learners: the database has {len(learners)} learners"
            " and the older schema holds one"
        )
    op.add_column("deck", sa.Column("new_cards_per_day", sa.Integer(), nullable=True))
    op.add_column("deck", sa.Column("fsrs_parameters", sa.JSON(), nullable=True))
    for name, kind, nullable in MEMORY:
        default = None if nullable else str(NEW_CARD[name])
        op.add_column("card", sa.Column(name, kind, nullable=nullable, server_default=default))
    for name in NEW_CARD_INDEXES:
        op.drop_index(name, "card")
    for name, columns in OLD_CARD_INDEXES.items():
        op.create_index(name, "card", columns)
    if learners:
        _move_from_learner(learners[0])
    for name in NEW_LOG_INDEXES:
        op.drop_index(name, "review_log")
    with op.batch_alter_table("review_log") as batch:
        batch.drop_constraint(LOG_LEARNER_FK, type_="foreignkey")
        batch.drop_column("learner_id")
    for name, columns in OLD_LOG_INDEXES.items():
        op.create_index(name, "review_log", columns)
    op.drop_table("learner_deck")
    op.drop_table("learner_setting")
    op.drop_index("ix_card_memory_card_id", "card_memory")
    op.drop_index("ix_card_memory_queue_learning", "card_memory")
    op.drop_index("ix_card_memory_queue_review", "card_memory")
    op.drop_table("card_memory")
    op.drop_table("learner")


def _move_from_learner(learner_id: int) -> None:
    """Put learner ``learner_id``'s card, setting and deck state back on the shared rows."""
    conn = op.get_bind()
    _learner, memory, setting, learner_setting, deck, learner_deck = _tables()
    card = _card_table()
    row = sa.and_(memory.c.learner_id == learner_id, memory.c.card_id == card.c.id)
    _copy_back(card, memory, row, [name for name, _kind, _nullable in MEMORY])
    conn.execute(
        sa.insert(setting).from_select(
            ["key", "value"],
            sa.select(learner_setting.c.key, learner_setting.c.value).where(
                learner_setting.c.learner_id == learner_id
            ),
        )
    )
    own = sa.and_(learner_deck.c.learner_id == learner_id, learner_deck.c.deck_id == deck.c.id)
    _copy_back(deck, learner_deck, own, ["new_cards_per_day", "fsrs_parameters"])


def _copy_back(
    target: sa.TableClause, source: sa.TableClause, row: sa.ColumnElement[bool], names: list[str]
) -> None:
    """Set the columns ``names`` of each ``target`` row that has a ``source`` row (matched by
    ``row``) to that row's values."""
    values = {name: sa.select(source.c[name]).where(row).scalar_subquery() for name in names}
    op.execute(sa.update(target).where(sa.exists().where(row)).values(values))
