"""leech marks

A learner's card becomes a leech when a lapse brings it to their ``leech_lapses`` setting, and
again every half of it after (Anki's rule, see :mod:`trainer.study.leeches`):
``card_memory.leech`` holds the mark. The upgrade marks every row that already has 8 lapses or
more (the default threshold: no learner could set another before this revision), so the
leeches the reports counted before stay leeches; it suspends none of them (a card is
suspended when it turns leech in a review, not by an upgrade). The downgrade drops the
column.

Revision ID: 0010_leech
Revises: 0009_card_retired_index
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_leech"
down_revision: str | None = "0009_card_retired_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Anki's default leech threshold (deck options, Lapses), the ``leech_lapses`` default.
DEFAULT_LEECH_LAPSES = 8


def upgrade() -> None:
    op.add_column(
        "card_memory",
        sa.Column("leech", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    memory = sa.table("card_memory", sa.column("lapses", sa.Integer), sa.column("leech"))
    op.execute(
        memory.update().where(memory.c.lapses >= DEFAULT_LEECH_LAPSES).values(leech=sa.true())
    )


def downgrade() -> None:
    with op.batch_alter_table("card_memory") as batch:
        batch.drop_column("leech")
