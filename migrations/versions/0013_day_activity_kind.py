"""the day index covers a rating's kind

``ix_review_log_day_activity`` (learner, learner day, state before, elapsed days, rating, card)
gains ``kind`` at its end, so every count over a learner's days of ratings given (kind not
``skip``: the reports' history and 30-day figures, today's limits) reads the index alone instead
of each row's table page. The index is rebuilt; no row changes. The downgrade rebuilds it as
it was.

Revision ID: 0013_day_activity_kind
Revises: 0012_card_edit
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013_day_activity_kind"
down_revision: str | None = "0012_card_edit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_review_log_day_activity"
COLUMNS = ["learner_id", "review_day", "state_before", "elapsed_days", "rating", "card_id"]


def upgrade() -> None:
    op.drop_index(NAME, table_name="review_log")
    op.create_index(NAME, "review_log", [*COLUMNS, "kind"])


def downgrade() -> None:
    op.drop_index(NAME, table_name="review_log")
    op.create_index(NAME, "review_log", COLUMNS)
