"""the note a card belongs to

Each card gets ``note``, the key of the note it is a card of (its key without a ``#cN`` or
``#N`` ending: the deletions of one cloze, a reversed pair, the cards of an imported Anki
note), and an index on ``(deck_id, note)`` for finding a card's siblings. Existing cards get it
from their keys; nothing else changes. A card inserted without one (by hand, outside trainer)
has no siblings. The downgrade drops both.

Revision ID: 0006_card_note
Revises: 0005_learners
Create Date: 2026-12-06
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_card_note"
down_revision: str | None = "0005_learners"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: trainer.store.models.note_of's rule, written out so this migration keeps doing what it did.
CARD_OF_NOTE = re.compile(r"#c?[0-9]+$")


def upgrade() -> None:
    # In place (SQLite's ADD COLUMN), not by copying the table memory rows and logs refer to.
    op.add_column("card", sa.Column("note", sa.String(length=200), nullable=True))
    card = sa.table("card", sa.column("id", sa.Integer()), sa.column("key", sa.String()))
    conn = op.get_bind()
    rows = conn.execute(sa.select(card.c.id, card.c.key)).all()
    notes = [{"card": card_id, "note": CARD_OF_NOTE.sub("", key)} for card_id, key in rows]
    if notes:
        conn.execute(sa.text("UPDATE card SET note = :note WHERE id = :card"), notes)
    op.create_index("ix_card_deck_note", "card", ["deck_id", "note"])


def downgrade() -> None:
    op.drop_index("ix_card_deck_note", "card")
    op.drop_column("card", "note")
