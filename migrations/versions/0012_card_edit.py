"""learners' own card text

``card_edit`` holds a learner's edit of a card (``trainer edit``, ``e`` in the review): the
card's content as the learner saved it, shown to them instead of the deck's, and the
``[[card]]`` table they saved. A table of its own, not columns of ``card``: cards are shared
by every learner, and a new version of a built-in deck rewrites ``card`` but never an edit.
The upgrade adds the empty table (no card was edited before this revision); the downgrade
drops it, and with it every edit.

Revision ID: 0012_card_edit
Revises: 0011_topic_done
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_card_edit"
down_revision: str | None = "0011_topic_done"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "card_edit",
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("front", sa.Text(), nullable=False),
        sa.Column("back", sa.Text(), nullable=False),
        sa.Column("accepted", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("docs_url", sa.String(length=500), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("edited_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["card_id"], ["card.id"], name=op.f("fk_card_edit_card_id_card")),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learner.id"], name=op.f("fk_card_edit_learner_id_learner")
        ),
        sa.PrimaryKeyConstraint("learner_id", "card_id", name=op.f("pk_card_edit")),
    )
    with op.batch_alter_table("card_edit") as batch:
        batch.create_index(batch.f("ix_card_edit_card_id"), ["card_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("card_edit") as batch:
        batch.drop_index(batch.f("ix_card_edit_card_id"))
    op.drop_table("card_edit")
