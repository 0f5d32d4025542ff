"""A learner's own text of a card (``card_edit`` rows, :class:`~trainer.store.models.CardEdit`):
the one place they are joined, read and written.

Everything that shows a card to a learner reads its content through :func:`shown` (their
edit's column where they have one, else the card's), after joining their edits with
:func:`with_edits`; a search that cannot join (the queue's lanes) asks :func:`shown_matches`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    delete,
    exists,
    func,
    insert,
    not_,
    or_,
    select,
)

from trainer.store import tables

#: The content columns an edit replaces, by name.
CONTENT = ("kind", "front", "back", "accepted", "tags", "docs_url")


def edit_on(learner_id: int | ColumnElement[Any]) -> ColumnElement[bool]:
    """The join condition of a card with learner ``learner_id``'s edit of it (an id, or a
    bound parameter)."""
    return and_(
        tables.card_edit.c.card_id == tables.card.c.id,
        tables.card_edit.c.learner_id == learner_id,
    )


def with_edits(query: Select[Any], learner_id: int | ColumnElement[Any]) -> Select[Any]:
    """``query`` (over ``card``) LEFT JOIN learner ``learner_id``'s edits, for :func:`shown`."""
    return query.outerjoin(tables.card_edit, edit_on(learner_id))


def shown(name: str) -> ColumnElement[Any]:
    """SQL, over :func:`with_edits`: content column ``name`` (one of :data:`CONTENT`) as the
    learner sees it (their edit's, else the card's), labelled ``name``."""
    return func.coalesce(tables.card_edit.c[name], tables.card.c[name]).label(name)


def is_edited() -> ColumnElement[bool]:
    """SQL, over :func:`with_edits`: the learner has edited the card."""
    return tables.card_edit.c.card_id.is_not(None)


def shown_matches(
    learner_id: int, test: Callable[[Any], ColumnElement[bool]]
) -> ColumnElement[bool]:
    """SQL on a card alone (no join): ``test`` holds for the card's content as learner
    ``learner_id`` sees it. ``test`` takes the columns (``.front``, ``.back``, ``.tags`` ...)
    of the table to test, the learner's edit or the card."""
    edit = tables.card_edit.alias("own_edit")  # the query around may join the edits too
    own = and_(edit.c.card_id == tables.card.c.id, edit.c.learner_id == learner_id)
    return or_(
        exists().where(own, test(edit.c)),
        and_(not_(exists().where(own)), test(tables.card.c)),
    )


def edited_card(learner_id: int) -> ColumnElement[bool]:
    """SQL on a card alone (no join): learner ``learner_id`` has edited it."""
    edit = tables.card_edit.alias("own_edit")  # the query around may join the edits too
    return exists().where(edit.c.card_id == tables.card.c.id, edit.c.learner_id == learner_id)


@dataclass(frozen=True)
class Edit:
    """A learner's edit of a card: its content (``kind``, ``front``, ``back``, ``accepted``
    answers, ``tags``, ``docs_url``), the ``source`` they saved and when (aware UTC)."""

    kind: str
    front: str
    back: str
    accepted: tuple[str, ...]
    tags: tuple[str, ...]
    docs_url: str | None
    source: str
    edited_at: datetime


def read_edits(conn: Connection, learner_id: int, card_ids: Collection[int]) -> dict[int, Edit]:
    """Learner ``learner_id``'s edits of the cards ``card_ids``, by card id (a card they have
    not edited is left out)."""
    edit = tables.card_edit.c
    rows = conn.execute(
        select(edit.card_id, *(edit[name] for name in CONTENT), edit.source, edit.edited_at).where(
            edit.learner_id == learner_id, edit.card_id.in_(card_ids)
        )
    )
    return {
        row.card_id: Edit(
            row.kind,
            row.front,
            row.back,
            tuple(row.accepted),
            tuple(row.tags),
            row.docs_url,
            row.source,
            row.edited_at,
        )
        for row in rows
    }


def put_edits(conn: Connection, learner_id: int, edits: dict[int, Edit | None]) -> None:
    """Make learner ``learner_id``'s edits of the cards in ``edits`` exactly these (None: no
    edit, the card's own text), in the caller's transaction."""
    table = tables.card_edit
    conn.execute(
        delete(table).where(table.c.learner_id == learner_id, table.c.card_id.in_(list(edits)))
    )
    rows = [
        {
            "learner_id": learner_id,
            "card_id": card_id,
            "kind": edit.kind,
            "front": edit.front,
            "back": edit.back,
            "accepted": list(edit.accepted),
            "tags": list(edit.tags),
            "docs_url": edit.docs_url,
            "source": edit.source,
            "edited_at": edit.edited_at,
        }
        for card_id, edit in edits.items()
        if edit is not None
    ]
    if rows:
        conn.execute(insert(table), rows)
