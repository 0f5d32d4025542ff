"""Leeches: the cards a learner keeps forgetting.

A lapse (a review card rated Again) that brings a card to the learner's ``leech_lapses``
lapses, or to any later count a whole number of half-thresholds past it, makes the card a
leech: it is marked for that learner (``card_memory.leech``, found by ``is:leech``) and, when
their ``leech_action`` is ``suspend``, suspended. This is Anki's rule (rslib, scheduler
``states/review.rs``, ``leech_threshold_met``): with the default threshold 8 a card turns leech
at 8, 12, 16... lapses; half of an odd threshold is rounded up (3: at 3, 5, 7...).
"""

from __future__ import annotations

from sqlalchemy import Connection

from trainer.store.memory import Marks, put_marks, read_marks
from trainer.store.settings import Settings


def turns_leech(lapses: int, threshold: int) -> bool:
    """Whether a lapse that leaves a card with ``lapses`` lapses makes it a leech under a
    ``threshold`` of lapses (at least 1): at the threshold and every ``ceil(threshold / 2)``
    lapses after it."""
    half = -(-threshold // 2)
    return lapses >= threshold and (lapses - threshold) % half == 0


def mark_leech(conn: Connection, learner_id: int, card_id: int, settings: Settings) -> Marks:
    """Mark learner ``learner_id``'s card ``card_id`` (whose row exists) a leech and, by their
    ``settings.leech_action``, suspend it, in the connection's open transaction. Returns the
    marks it had before, which undo the change (:func:`~trainer.store.memory.put_marks`)."""
    before = read_marks(conn, learner_id, card_id)
    suspend = before.suspended or settings.leech_action == "suspend"
    put_marks(conn, learner_id, card_id, Marks(leech=True, suspended=suspend))
    return before
