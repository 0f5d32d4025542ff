"""Editing a card (``trainer edit``, ``e`` in the review): the card as a ``[[card]]`` table of
the deck format to edit, and the saved table read by the one parser
(:func:`~trainer.content.parser.parse_card_table`) into the learner's own text of the card.

An edit is the learner's own (a ``card_edit`` row, :mod:`trainer.store.edits`): cards are
shared by every learner on a database, so the card itself and everyone else's view of it stay
as the deck has them, and a new version of the deck (a built-in deck update, a re-import)
never overwrites the edit. The card keeps its id, memory state and review history.

The table offered is the learner's last saved one; else, for a built-in card, its table in the
shipped deck file (without ``id`` and ``covers``, which an edit cannot change); else the table
written back from the card's text (:mod:`trainer.content.deck_writer`; an imported cloze card
cannot be). A cloze table makes all the cards of its note: saving it edits each of them (as
Anki's note editor does), and it may neither add a cloze number nor drop one a card of the
note has (Anki would leave that card empty).

A table the parser refuses is offered again by :func:`rejected_text`: the learner's text under
a comment line with the error, so nothing they typed is lost (as ``crontab -e`` does).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from trainer.content.deck_writer import card_table, write_table
from trainer.content.parser import EDITED_ID, CardSpec, card_source, parse_card_table
from trainer.errors import DeckError, TrainerError
from trainer.store import tables
from trainer.store.edits import Edit, put_edits, read_edits
from trainer.store.resources import DECKS_DIR
from trainer.store.tables import note_of

#: How the comment line :func:`rejected_text` puts on top of a refused table begins.
REJECTED = "# Not saved: "


class RefusedEdit(TrainerError):
    """A table :func:`save_edit` refuses: ``edit of card ID, line N: what``, with the card
    ``card_id``, the ``line`` (N, a line of the text saved) and ``what`` is wrong."""

    def __init__(self, card_id: int, line: int, what: str) -> None:
        super().__init__(f"edit of card {card_id}, line {line}: {what}")
        self.line, self.what = line, what


@dataclass(frozen=True)
class EditedCard:
    """The card being edited: its ``id``, ``key`` in its deck, whether its deck is a
    ``builtin`` one, its ``topic`` (slug, None for an extra deck) and the active cards of its
    note (``siblings``, itself included: key to id)."""

    id: int
    key: str
    builtin: bool
    topic: str | None
    siblings: dict[str, int]


@dataclass(frozen=True)
class Saved:
    """What saving an edit changed: the ids of the cards it changed and each one's edit before
    (None: it had none), to undo it with :func:`restore_edits`."""

    card_ids: tuple[int, ...]
    before: dict[int, Edit | None]


def read_card(conn: Connection, card_id: int) -> EditedCard:
    """The active card ``card_id`` to edit.

    Raises :class:`TrainerError` when no active card has that id."""
    card, deck = tables.card.c, tables.deck.c
    row = conn.execute(
        select(card.key, card.note, card.deck_id, deck.source, tables.topic.c.slug)
        .join(tables.deck, card.deck_id == deck.id)
        .outerjoin(tables.topic, deck.topic_id == tables.topic.c.id)
        .where(card.id == card_id, card.active.is_(True))
    ).first()
    if row is None:
        raise TrainerError(f"no card {card_id} (trainer cards lists them)")
    note = row.note if row.note is not None else note_of(row.key)
    found = conn.execute(
        select(card.key, card.id).where(
            card.deck_id == row.deck_id, card.note == note, card.active.is_(True)
        )
    )
    siblings = {key: sibling for key, sibling in found}
    siblings[row.key] = card_id
    return EditedCard(card_id, row.key, row.source == "builtin", row.slug, siblings)


def edit_text(conn: Connection, learner_id: int, card: EditedCard) -> str:
    """The text to edit card ``card`` in: a comment line naming it, then its ``[[card]]``
    table (see the module docstring for which).

    Raises :class:`TrainerError` for an imported cloze card the learner has not edited (its
    note's text is not kept)."""
    head = (
        f"# Card {card.id} ({card.topic or 'extra deck'}: {card.key}). Saved, this is your text"
        " of it; an empty file changes nothing.\n"
    )
    edit = read_edits(conn, learner_id, [card.id]).get(card.id)
    if edit is not None:
        return edit.source
    shipped = _shipped_table(card) if card.builtin and card.topic else None
    if shipped is not None:
        return head + shipped
    kind, front, back, accepted, tags, docs = _own_content(conn, [card.id])[card.id]
    spec = CardSpec(card.key, kind, front, back, tags, docs, accepted)
    try:
        return head + write_table(card_table(spec))
    except ValueError:
        raise TrainerError(
            f"card {card.id} is a {kind} card whose deck file is not kept: change it in"
            " its file and import it again"
        ) from None


def _shipped_table(card: EditedCard, decks_dir: Path = DECKS_DIR) -> str | None:
    """The ``[[card]]`` table of the built-in card ``card`` as its shipped deck file has it
    (:func:`~trainer.content.parser.card_source`); None when the file no longer has it."""
    # the deck file of a topic is named for it; any other file is read only if that fails
    files = sorted(decks_dir.glob("*/*.toml"), key=lambda path: path.stem != card.topic)
    for path in files:
        text = path.read_text(encoding="utf-8")
        if tomllib.loads(text).get("topic") == card.topic:
            return card_source(text, note_of(card.key))
    return None


def save_edit(
    conn: Connection, learner_id: int, card: EditedCard, text: str, now: datetime
) -> Saved | None:
    """Store ``text``, the table the learner saved, as their text of ``card`` (and of the
    other cards of its note that a cloze table makes) at ``now`` (aware UTC), in the caller's
    transaction, without the comment line :func:`rejected_text` put on top. None when nothing
    changes: an empty text, or one that makes the cards as the
    learner sees them now. A card whose new text is the card's own loses its edit.

    Raises :class:`RefusedEdit` ``edit of card ID, line N: what is wrong`` (N a line of
    ``text``) for a table the parser refuses, or one that adds a cloze number or drops one a
    card of the note has."""
    if not text.strip():
        return None
    try:
        specs = parse_card_table(text, "edit", builtin=card.builtin)
    except DeckError as exc:
        first = exc.problems[0]
        more = len(exc.problems) - 1
        also = f" (and {more} more problem{'s' * (more != 1)})" if more else ""
        raise RefusedEdit(card.id, first.line or 1, first.message + also) from None
    targets: dict[int, CardSpec] = {}
    note = note_of(card.key)
    for spec in specs:
        key = card.key if spec.key == EDITED_ID else note + spec.key.removeprefix(EDITED_ID)
        if key not in card.siblings:
            raise RefusedEdit(
                card.id,
                spec.line or 1,
                f"{key} would be a new card; an edit changes the cards there are",
            )
        targets[card.siblings[key]] = spec
    for key, sibling in sorted(card.siblings.items(), key=lambda item: item[1] != card.id):
        if sibling not in targets:
            raise RefusedEdit(
                card.id,
                specs[0].line or 1,
                f"the table no longer makes card {sibling} ({key}); an edit changes the cards"
                " there are",
            )
    kept, _ = _without_refusal(text)
    before = read_edits(conn, learner_id, list(targets))
    own = _own_content(conn, list(targets))
    after: dict[int, Edit | None] = {}
    for card_id, spec in targets.items():
        content = (spec.kind, spec.front, spec.back, spec.accepted, spec.tags, spec.docs)
        seen = before.get(card_id)
        if (_content(seen) if seen else own[card_id]) == content:
            continue
        after[card_id] = None if own[card_id] == content else Edit(*content, kept, now)
    if not after:
        return None
    put_edits(conn, learner_id, after)
    return Saved(tuple(after), {card_id: before.get(card_id) for card_id in after})


def rejected_text(text: str, refused: RefusedEdit) -> str:
    """``text``, a table :func:`save_edit` refused, to edit again: a comment line
    ``# Not saved: line N: what is wrong`` on top (the parser ignores comments; N counts that
    line), in place of the one an earlier refusal put there."""
    text, had = _without_refusal(text)
    line = refused.line + (not had)
    return f"{REJECTED}line {line}: {' '.join(refused.what.split())}\n{text}"


def _without_refusal(text: str) -> tuple[str, bool]:
    """``text`` without the comment line :func:`rejected_text` put on top, and whether it
    had one."""
    first, _, rest = text.partition("\n")
    return (rest, True) if first.startswith(REJECTED) else (text, False)


def revert_edit(conn: Connection, learner_id: int, card: EditedCard) -> Saved:
    """Take back learner ``learner_id``'s edit of ``card`` and of the other cards of its note
    (one edit makes them all), in the caller's transaction: they see the deck's text again.

    Raises :class:`TrainerError` when they have no edit of ``card``."""
    before = read_edits(conn, learner_id, list(card.siblings.values()))
    if card.id not in before:
        raise TrainerError(f"card {card.id} has no edit of yours to revert")
    put_edits(conn, learner_id, dict.fromkeys(before))
    return Saved(tuple(before), dict(before))


def restore_edits(conn: Connection, learner_id: int, saved: Saved) -> None:
    """Undo ``saved``: put learner ``learner_id``'s edits of its cards back as they were, in the
    caller's transaction."""
    put_edits(conn, learner_id, dict(saved.before))


def _content(edit: Edit) -> tuple[object, ...]:
    return (edit.kind, edit.front, edit.back, edit.accepted, edit.tags, edit.docs_url)


def _own_content(conn: Connection, card_ids: list[int]) -> dict[int, tuple[Any, ...]]:
    """The cards' own content (as their deck has it), by id, as :func:`_content` gives it."""
    card = tables.card.c
    rows = conn.execute(
        select(
            card.id, card.kind, card.front, card.back, card.accepted, card.tags, card.docs_url
        ).where(card.id.in_(card_ids))
    )
    return {
        row.id: (row.kind, row.front, row.back, tuple(row.accepted), tuple(row.tags), row.docs_url)
        for row in rows
    }
