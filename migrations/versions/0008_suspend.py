"""suspended cards

A learner can suspend a card (Anki's suspend): ``card_memory.suspended``, false for every
existing row, so nothing a learner had is suspended after the upgrade. The two queue indexes
get the column at their end, so the queue still reads only them. The downgrade drops the column
(suspended cards come back into the queue).

Revision ID: 0008_suspend
Revises: 0007_review_kind
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_suspend"
down_revision: str | None = "0007_review_kind"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The queue indexes of card_memory, without the new column at their end.
QUEUE_INDEXES = {
    "ix_card_memory_queue_review": ["learner_id", "state", "due_day", "buried_until_day"],
    "ix_card_memory_queue_learning": ["learner_id", "state", "due_at", "buried_until_day"],
}


def upgrade() -> None:
    # In place (SQLite's ADD COLUMN with a constant default), not by copying the table.
    op.add_column(
        "card_memory",
        sa.Column("suspended", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    for name, columns in QUEUE_INDEXES.items():
        op.drop_index(name, "card_memory")
        op.create_index(name, "card_memory", [*columns, "suspended"])


def downgrade() -> None:
    for name, columns in QUEUE_INDEXES.items():
        op.drop_index(name, "card_memory")
        op.create_index(name, "card_memory", columns)
    with op.batch_alter_table("card_memory") as batch:
        batch.drop_column("suspended")
