"""``trainer decks``: the deck list as aligned lines, or as JSON."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from rich.cells import cell_len

from trainer.study.deck_list import FIGURES, DeckCounts
from trainer.visible import visible

#: Width of each figure's column.
COLUMN = 9


def decks_json(decks: list[DeckCounts]) -> list[dict[str, Any]]:
    """The ``decks --json`` document: one object per deck, in list order, with the fields of
    :class:`DeckCounts`."""
    return [asdict(deck) for deck in decks]


def decks_lines(decks: list[DeckCounts]) -> list[str]:
    """A header, then the roadmap's decks and the extra decks (indented under their parent,
    by the last part of their name), one aligned line each."""
    roadmap = [deck for deck in decks if deck.topic is not None]
    extra = [deck for deck in decks if deck.topic is None]
    label = {id(deck): visible(deck.name) for deck in roadmap}
    label |= {
        id(deck): "  " * deck.depth + visible(deck.name.rsplit("::", 1)[-1]) for deck in extra
    }
    width = max((cell_len(text) for text in label.values()), default=4)

    def padded(text: str) -> str:  # to ``width`` terminal cells: wide characters count twice
        return text + " " * (width - cell_len(text))

    header = padded("deck") + "".join(name.rjust(COLUMN) for name in FIGURES)
    lines = [header]
    for title, group in (("Roadmap", roadmap), ("Extra decks", extra)):
        if group:
            lines.append(title)
            for deck in group:
                figures = "".join(str(getattr(deck, name)).rjust(COLUMN) for name in FIGURES)
                lines.append(padded(label[id(deck)]) + figures)
    return lines
