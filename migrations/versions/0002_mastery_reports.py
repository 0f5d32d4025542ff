"""covering indexes for the mastery reports

The reports (``trainer report``, ``trainer stats``) aggregate every active card per deck and
the review log per learner day; these indexes hold every column those queries read, so they
scan the indexes instead of the wide card rows and the review log table.

Revision ID: 0002_mastery_reports
Revises: 0001_initial
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002_mastery_reports"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROGRESS = ["deck_id", "active", "state", "stability_days", "due_day", "due_at", "buried_until_day"]
REPORTED = ["lapses", "last_review_day", "last_review_at"]
DAY_ACTIVITY = ["review_day", "state_before", "elapsed_days", "rating", "card_id"]


def upgrade() -> None:
    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.drop_index("ix_card_progress")
        batch_op.create_index("ix_card_progress", [*PROGRESS, *REPORTED], unique=False)
    with op.batch_alter_table("review_log", schema=None) as batch_op:
        batch_op.drop_index("ix_review_log_review_day")
        batch_op.create_index("ix_review_log_day_activity", DAY_ACTIVITY, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("review_log", schema=None) as batch_op:
        batch_op.drop_index("ix_review_log_day_activity")
        batch_op.create_index("ix_review_log_review_day", ["review_day"], unique=False)
    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.drop_index("ix_card_progress")
        batch_op.create_index("ix_card_progress", PROGRESS, unique=False)
