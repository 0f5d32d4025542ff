"""Burying siblings: the other cards of a rated card's note wait until the next learner day.

Siblings are the active cards of one deck with the same note key
(:func:`~trainer.store.tables.note_of`): the deletions of one cloze, the two cards of a reversed
pair, the cards of one imported Anki note. As Anki does when a card is answered
(rslib/src/scheduler/answering/mod.rs ``maybe_bury_siblings``, and
scheduler/bury_and_suspend.rs ``bury_siblings``): with ``bury_new_siblings`` its new siblings,
with ``bury_review_siblings`` its siblings in the review state, are buried until the next
learner day; review siblings only when the rated card was not new, since the day's reviews are
gathered before its new cards (Anki's ``exclude_earlier_gathered_queues``). Siblings in a
learning step and siblings already buried past today are left alone. Both settings are off by
default, as in Anki.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Connection, bindparam

from trainer.store import tables
from trainer.store.memory import (
    MEMORY_COLUMNS,
    StoredMemory,
    forget_memory,
    learner_cards,
    memory_of,
    put_memory,
)
from trainer.store.settings import Settings
from trainer.store.tables import CardState

_RATED = tables.card.alias()
#: The active siblings of card ``card_id`` with learner ``learner_id``'s memory rows of them,
#: found through ``ix_card_deck_note``.
_SIBLINGS = (
    learner_cards(
        bindparam("learner_id"),
        tables.card.c.id,
        tables.card.c.deck_id,
        tables.card_memory.c.card_id.label("has_row"),
        tables.card_memory.c.buried_until_day,
        *MEMORY_COLUMNS,
    )
    .join(
        _RATED, (_RATED.c.deck_id == tables.card.c.deck_id) & (_RATED.c.note == tables.card.c.note)
    )
    .where(
        _RATED.c.id == bindparam("card_id"),
        tables.card.c.id != _RATED.c.id,
        tables.card.c.active.is_(True),
    )
    .order_by(tables.card.c.id)
)


@dataclass(frozen=True)
class Sibling:
    """A sibling a rating buried: its card and deck ids and the learner's row of it as it was
    before (to undo the burial)."""

    card_id: int
    deck_id: int
    before: StoredMemory


def bury_siblings(
    conn: Connection,
    learner_id: int,
    card_id: int,
    rated_state: CardState,
    settings: Settings,
    today: date,
) -> list[Sibling]:
    """Bury, until the learner day after ``today``, the siblings of card ``card_id`` that
    learner ``learner_id``'s ``settings`` bury after a rating of it in ``rated_state`` (its
    state when shown), in the connection's open transaction; return them, by card id.

    Nothing is read when both settings are off.
    """
    bury_new = settings.bury_new_siblings
    bury_reviews = settings.bury_review_siblings and rated_state != CardState.NEW
    if not (bury_new or bury_reviews):
        return []
    tomorrow = today + timedelta(days=1)
    buried = []
    for row in conn.execute(_SIBLINGS, {"learner_id": learner_id, "card_id": card_id}):
        if row.buried_until_day is not None and row.buried_until_day > today:
            continue
        memory = memory_of(row)
        new = memory.state == CardState.NEW
        if (new and bury_new) or (memory.state == CardState.REVIEW and bury_reviews):
            before = StoredMemory(memory, row.buried_until_day, exists=row.has_row is not None)
            put_memory(conn, learner_id, row.id, memory, tomorrow, before.exists)
            buried.append(Sibling(row.id, row.deck_id, before))
    return buried


def unbury_siblings(conn: Connection, learner_id: int, siblings: list[Sibling]) -> None:
    """Put learner ``learner_id``'s rows of ``siblings`` back as they were before
    :func:`bury_siblings` buried them (a row it made is deleted), in the connection's open
    transaction."""
    for sibling in siblings:
        before = sibling.before
        if before.exists:
            put_memory(
                conn, learner_id, sibling.card_id, before.memory, before.buried_until_day, True
            )
        else:
            forget_memory(conn, learner_id, sibling.card_id)
