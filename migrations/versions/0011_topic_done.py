"""done topics, kept

A topic a learner has done stays done: ``topic_done`` holds one row per learner and done topic
with the learner day it was first done. The upgrade backfills it from each learner's review
log with their own mastery thresholds (``mastery_stability_days``, default 21 days;
``topic_done_share``, default 0.9): every rating leaves its card mastered or not (its stability
after the rating against the threshold); a topic's first done day is the first learner day at
whose end the share of its active, unsuspended cards mastered reached the threshold, counted
against the cards it has now (how many cards it had on a past day is not recorded). A topic
that meets the rule now although its log never shows it (memory brought in without history)
gets the day the migration runs (its UTC date). The downgrade drops the table.

Revision ID: 0011_topic_done
Revises: 0010_leech
Create Date: 2026-12-06
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0011_topic_done"
down_revision: str | None = "0010_leech"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The mastery settings' defaults (trainer.store.settings), written out so this migration keeps
#: doing what it did whatever the app's code becomes.
DEFAULTS = {"mastery_stability_days": 21.0, "topic_done_share": 0.9}

META = sa.MetaData()
CARD = sa.Table(
    "card",
    META,
    sa.Column("id", sa.Integer),
    sa.Column("deck_id", sa.Integer),
    sa.Column("active", sa.Boolean),
)
DECK = sa.Table("deck", META, sa.Column("id", sa.Integer), sa.Column("topic_id", sa.Integer))
MEMORY = sa.Table(
    "card_memory",
    META,
    sa.Column("learner_id", sa.Integer),
    sa.Column("card_id", sa.Integer),
    sa.Column("stability_days", sa.Float),
    sa.Column("suspended", sa.Boolean),
)
LOG = sa.Table(
    "review_log",
    META,
    sa.Column("id", sa.Integer),
    sa.Column("learner_id", sa.Integer),
    sa.Column("card_id", sa.Integer),
    sa.Column("reviewed_at", sa.DateTime),
    sa.Column("review_day", sa.Date),
    sa.Column("stability_days", sa.Float),
)
SETTING = sa.Table(
    "learner_setting",
    META,
    sa.Column("learner_id", sa.Integer),
    sa.Column("key", sa.String),
    sa.Column("value", sa.Text),
)
LEARNER = sa.Table("learner", META, sa.Column("id", sa.Integer))


def upgrade() -> None:
    done = op.create_table(
        "topic_done",
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("done_day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learner.id"], name=op.f("fk_topic_done_learner_id_learner")
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"], ["topic.id"], name=op.f("fk_topic_done_topic_id_topic")
        ),
        sa.PrimaryKeyConstraint("learner_id", "topic_id", name=op.f("pk_topic_done")),
    )
    conn = op.get_bind()
    today = datetime.now(UTC).date()
    for learner_id in conn.scalars(sa.select(LEARNER.c.id)).all():
        rows = [
            {"learner_id": learner_id, "topic_id": topic_id, "done_day": day}
            for topic_id, day in _done_days(conn, learner_id, today).items()
        ]
        if rows:
            conn.execute(done.insert(), rows)


def _done_days(conn: sa.Connection, learner_id: int, today: date) -> dict[int, date]:
    """Learner ``learner_id``'s done topics (by id) and the learner day each was first done."""
    settings = dict(DEFAULTS)
    for key, value in conn.execute(
        sa.select(SETTING.c.key, SETTING.c.value).where(
            SETTING.c.learner_id == learner_id, SETTING.c.key.in_(list(DEFAULTS))
        )
    ):
        settings[key] = float(json.loads(value))
    threshold, share = settings["mastery_stability_days"], settings["topic_done_share"]
    memory = sa.and_(MEMORY.c.card_id == CARD.c.id, MEMORY.c.learner_id == learner_id)
    counted = (
        sa.select(CARD.c.id, DECK.c.topic_id, MEMORY.c.stability_days)
        .join(DECK, DECK.c.id == CARD.c.deck_id)
        .outerjoin(MEMORY, memory)
        .where(
            DECK.c.topic_id.is_not(None),
            CARD.c.active.is_(True),
            sa.func.coalesce(MEMORY.c.suspended, sa.false()).is_(False),
        )
    )
    topic_of: dict[int, int] = {}
    cards: dict[int, int] = defaultdict(int)
    mastered_now: dict[int, int] = defaultdict(int)
    for card_id, topic_id, stability in conn.execute(counted):
        topic_of[card_id] = topic_id
        cards[topic_id] += 1
        mastered_now[topic_id] += stability is not None and stability >= threshold
    # per topic and learner day: how the count of mastered cards changed
    changes: dict[int, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    was: dict[int, bool] = {}
    log = (
        sa.select(LOG.c.card_id, LOG.c.review_day, LOG.c.stability_days)
        .where(LOG.c.learner_id == learner_id)
        .order_by(LOG.c.card_id, LOG.c.reviewed_at, LOG.c.id)
    )
    for card_id, day, stability in conn.execute(log):
        topic_id = topic_of.get(card_id)
        if topic_id is None:
            continue
        now = stability is not None and stability >= threshold
        if now != was.get(card_id, False):
            changes[topic_id][day] += 1 if now else -1
        was[card_id] = now
    result: dict[int, date] = {}
    for topic_id, by_day in changes.items():
        mastered = 0
        for day in sorted(by_day):
            mastered += by_day[day]
            if cards[topic_id] and mastered >= share * cards[topic_id]:
                result[topic_id] = day
                break
    for topic_id, total in cards.items():
        if topic_id not in result and total and mastered_now[topic_id] >= share * total:
            result[topic_id] = today
    return result


def downgrade() -> None:
    op.drop_table("topic_done")
