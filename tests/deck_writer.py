"""A test helper: a deck written back out in the native format (``docs/deck-format.md``), the
parser's inverse, for the round-trip property test.

``parse_deck(write_deck(deck))`` gives ``deck`` again (card and coverage point ``line`` numbers
aside) for decks of
basic, typed and output cards: their source fields are recovered from the parsed card exactly as
:mod:`trainer.content.parser` composed them. Cloze and choice cards keep only their rendered
text, so they cannot be written back. TOML is written by ``tomli-w``, multi-line text as multi-line
strings so the file reads well in a diff (unless some text holds a carriage return).
"""

from __future__ import annotations

from typing import Any

import tomli_w

from trainer.content.parser import OUTPUT_PROMPT, CardSpec, DeckSpec


def write_deck(deck: DeckSpec) -> str:
    """The TOML text of ``deck``. Raises ``ValueError`` for a card it cannot write back (a
    cloze or choice card, or one whose text the parser did not compose)."""
    document: dict[str, Any] = {}
    if deck.topic is not None:
        document["topic"] = deck.topic
    if deck.name is not None:
        document["name"] = deck.name
    if deck.coverage:
        document["coverage"] = [
            {"id": p.key, "point": p.point} | ({"source": p.source} if p.source else {})
            for p in deck.coverage
        ]
    document["card"] = [_card_table(card) for card in deck.cards]
    # A TOML reader may turn CRLF in a multi-line string into LF (tomllib does), so text with
    # a carriage return is written as escaped one-line strings.
    multiline = not any("\r" in value for value in _strings(document))
    return tomli_w.dumps(document, multiline_strings=multiline)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def _card_table(card: CardSpec) -> dict[str, Any]:
    table: dict[str, Any] = {"id": card.key}
    if card.kind != "basic":
        table["kind"] = card.kind
    if card.tags:
        table["tags"] = list(card.tags)
    if card.docs is not None:
        table["docs"] = card.docs
    if card.covers:
        table["covers"] = list(card.covers)
    if card.kind == "basic":
        table["front"], table["back"] = card.front, card.back
    elif card.kind == "typed" and card.accepted:
        table["front"], table["answer"] = card.front, card.accepted[0]
        if len(card.accepted) > 1:
            table["accept"] = list(card.accepted[1:])
        _add_extra(table, card.back, f"**{card.accepted[0]}**")
    elif card.kind == "output" and card.code is not None and card.output is not None:
        block = f"\n\n```python\n{card.code.strip(chr(10))}\n```"
        if not card.front.endswith(block):
            raise ValueError(f"card {card.key}: front is not a prompt and its code block")
        if card.front[: -len(block)] != OUTPUT_PROMPT:
            table["front"] = card.front[: -len(block)]
        table["code"], table["output"] = card.code, card.output
        _add_extra(table, card.back, f"```text\n{card.output.rstrip(chr(10))}\n```")
    else:
        raise ValueError(f"card {card.key}: a {card.kind} card cannot be written back")
    return table


def _add_extra(table: dict[str, Any], back: str, composed: str) -> None:
    """Set ``back`` to what follows the part the parser composed (``composed``), if any."""
    if back == composed:
        return
    if not back.startswith(composed + "\n\n"):
        raise ValueError(f"card {table['id']}: back does not start with {composed!r}")
    table["back"] = back[len(composed) + 2 :]
