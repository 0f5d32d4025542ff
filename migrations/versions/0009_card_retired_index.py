"""an index of cards by active flag

The review queue counts a learner's due review cards from their memory rows alone, then takes
away those whose card is retired; this index finds the retired cards (few) without reading the
card table. Nothing else changes.

Revision ID: 0009_card_retired_index
Revises: 0008_suspend
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009_card_retired_index"
down_revision: str | None = "0008_suspend"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_card_retired", "card", ["active", "deck_id"])


def downgrade() -> None:
    op.drop_index("ix_card_retired", table_name="card")
