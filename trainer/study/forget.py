"""Forgetting cards (Anki's Forget, ``trainer reset``): a learner's cards back to new, their
review history kept."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Connection, delete, func, select

from trainer.store.models import CardMemory, CardState


def cards_to_forget(conn: Connection, learner_id: int, card_ids: Collection[int]) -> int:
    """How many of ``card_ids`` learner ``learner_id`` has started (past new): what
    :func:`forget_cards` would put back to new."""
    started = select(func.count()).where(
        CardMemory.learner_id == learner_id,
        CardMemory.card_id.in_(card_ids),
        CardMemory.state != CardState.NEW,
    )
    return conn.scalar(started) or 0


def forget_cards(conn: Connection, learner_id: int, card_ids: Collection[int]) -> int:
    """Put ``card_ids`` back to new for learner ``learner_id``, as Anki's Forget does: their
    memory rows (state, stability, difficulty, due, reps, lapses, a bury) are deleted, so each
    card is new to them again and its next rating counts as a new card's; their review log
    rows stay. No commit. Returns how many cards were past new."""
    started = cards_to_forget(conn, learner_id, card_ids)
    conn.execute(
        delete(CardMemory).where(
            CardMemory.learner_id == learner_id, CardMemory.card_id.in_(card_ids)
        )
    )
    return started
