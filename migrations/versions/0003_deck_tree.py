"""decks as a tree, with slugs and their own new-card allowance

Anki's deck hierarchy (``A::B::C``) is kept: each deck gets ``parent_id`` (the deck one level
up), a unique ``slug`` and ``new_cards_per_day`` (a stand-alone deck's own allowance, None for
the setting's default). Existing decks keep their ids, names, cards and review logs: a built-in
deck's slug is its topic's; every other deck's is its name's slug (``-2``, ``-3``... added when
taken), and a deck named ``A::B`` gets the missing deck ``A`` as its parent.

The slug rule is written out here, not imported, so this migration keeps doing what it did
whatever the app's code becomes.

Revision ID: 0003_deck_tree
Revises: 0002_mastery_reports
Create Date: 2026-12-06
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_deck_tree"
down_revision: str | None = "0002_mastery_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARENT_FK = "fk_deck_parent_id_deck"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "deck"


def upgrade() -> None:
    # Columns are added in place (SQLite's ADD COLUMN), not by copying the table: a copy would
    # drop the table that every card refers to. The empty default only lets NOT NULL be added.
    slug = sa.Column("slug", sa.String(length=200), nullable=False, server_default="")
    op.add_column("deck", slug)
    op.add_column("deck", sa.Column("new_cards_per_day", sa.Integer(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":  # Alembic adds no constraint there: SQL does
        op.execute(
            "ALTER TABLE deck ADD COLUMN parent_id INTEGER"
            f" CONSTRAINT {PARENT_FK} REFERENCES deck (id)"
        )
    else:
        op.add_column("deck", sa.Column("parent_id", sa.Integer(), nullable=True))
        op.create_foreign_key(PARENT_FK, "deck", "deck", ["parent_id"], ["id"])
    conn = op.get_bind()
    decks = sa.table(
        "deck",
        sa.column("id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("slug", sa.String),
        sa.column("source", sa.String),
        sa.column("topic_id", sa.Integer),
        sa.column("parent_id", sa.Integer),
    )
    topics = sa.table("topic", sa.column("id", sa.Integer), sa.column("slug", sa.String))
    topic_slugs = dict(conn.execute(sa.select(topics.c.id, topics.c.slug)).all())
    rows = conn.execute(
        sa.select(decks.c.id, decks.c.name, decks.c.source, decks.c.topic_id).order_by(decks.c.id)
    ).all()
    ids = {name: deck_id for deck_id, name, _source, _topic in rows}
    taken: set[str] = set()

    def unique(base: str) -> str:
        slug, number = base, 1
        while slug in taken:
            number += 1
            slug = f"{base}-{number}"
        taken.add(slug)
        return slug

    builtin = [(i, topic_slugs[t]) for i, _n, s, t in rows if s == "builtin" and t in topic_slugs]
    slugs = {deck_id: unique(slug) for deck_id, slug in builtin}
    for deck_id, name, _source, _topic in rows:
        if deck_id not in slugs:
            slugs[deck_id] = unique(_slug(name))
    parents: dict[int, int] = {}
    for deck_id, name, _source, _topic in rows:
        parts = name.split("::")
        child = deck_id
        for depth in range(len(parts) - 1, 0, -1):
            parent_name = "::".join(parts[:depth])
            parent = ids.get(parent_name)
            created = parent is None
            if parent is None:
                values = {"name": parent_name, "slug": unique(_slug(parent_name))}
                conn.execute(sa.insert(decks).values(source="import", **values))
                named = sa.select(decks.c.id).where(decks.c.name == parent_name)
                parent = int(conn.execute(named).scalar_one())
                ids[parent_name] = parent
            parents[child] = parent
            if not created:
                break
            child = parent
    for deck_id, slug in slugs.items():
        values = {"slug": slug, "parent_id": parents.get(deck_id)}
        conn.execute(sa.update(decks).where(decks.c.id == deck_id).values(**values))
    for child, parent in parents.items():
        if child not in slugs:
            conn.execute(sa.update(decks).where(decks.c.id == child).values(parent_id=parent))
    op.create_index("ix_deck_slug", "deck", ["slug"], unique=True)
    op.create_index("ix_deck_parent_id", "deck", ["parent_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_deck_parent_id", "deck")
    op.drop_index("ix_deck_slug", "deck")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(PARENT_FK, "deck", type_="foreignkey")
    op.drop_column("deck", "parent_id")  # SQLite (3.35+) drops a column with its reference
    op.drop_column("deck", "new_cards_per_day")
    op.drop_column("deck", "slug")
