"""The native deck format (``docs/deck-format.md``) as an import source."""

from __future__ import annotations

from trainer.content.parser import parse_deck
from trainer.importers.imported import ImportedDeck
from trainer.importers.text import decode_text


def read_native(data: bytes, path: str) -> ImportedDeck:
    """Parse a TOML deck file's bytes; its ``topic`` and ``name`` come along.

    Raises :class:`~trainer.errors.DeckError` with every problem of the file.
    """
    deck = parse_deck(decode_text(data, path), path)
    return ImportedDeck(path=path, cards=deck.cards, name=deck.name, topic=deck.topic)
