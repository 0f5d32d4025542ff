"""the kind of a review-log row

``review_log.kind`` tells a rating the learner gave (``review``) from a card that a passed
``trainer skip`` put into review as if first answered Easy (``skip``); the optimizer leaves the
latter out. Existing rows are ratings and get ``review`` (the column's default). The downgrade
drops the column and with it what tells the two apart.

Revision ID: 0007_review_kind
Revises: 0006_card_note
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_review_kind"
down_revision: str | None = "0006_card_note"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # In place (SQLite's ADD COLUMN with a default fills every existing row).
    op.add_column(
        "review_log",
        sa.Column("kind", sa.String(length=10), server_default="review", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("review_log", "kind")
