"""a deck's own FSRS parameters

An imported Anki deck brings the FSRS parameters of its preset (``fsrsParams6``, or older sets
converted to FSRS-6's 21); they are kept on the deck as a JSON list of numbers, None for a deck
without its own. Existing decks keep everything and get None.

Revision ID: 0004_deck_fsrs_parameters
Revises: 0003_deck_tree
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_deck_fsrs_parameters"
down_revision: str | None = "0003_deck_tree"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # In place (SQLite's ADD COLUMN), not by copying the table every card refers to.
    op.add_column("deck", sa.Column("fsrs_parameters", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("deck", "fsrs_parameters")
