"""Cards written back out in the native format (``docs/deck-format.md``), the parser's inverse:
``trainer edit`` opens a card as the ``[[card]]`` table that makes it, and the parser's round
trip property test writes whole decks.

``parse_deck(write_deck(deck))`` gives ``deck`` again (card and coverage point ``line`` numbers
aside) for decks of basic, typed, choice and output cards: their source fields are recovered
from the card's text exactly as :mod:`trainer.content.parser` composed it (an output card's
program and expected output from its code blocks when the card does not carry them). A cloze
card keeps only its rendered text, so it cannot be written back. TOML is written by
``tomli-w``, multi-line text as multi-line strings so it reads well in an editor and a diff
(unless some text holds a carriage return).
"""

from __future__ import annotations

import re
from typing import Any

import tomli_w

from trainer.content.parser import OUTPUT_PROMPT, CardSpec, DeckSpec

#: An output card's front and back as the parser composes them: the prompt and the program,
#: the expected output and what follows it.
_OUTPUT_FRONT = re.compile(r"(?s)(.*)\n\n```python\n(.*)\n```")
_OUTPUT_BACK = re.compile(r"(?s)```text\n(.*?)\n```(?:\n\n(.*))?")
#: A choice card's front: the question, a blank line, one ``- a) option`` line per option.
_CHOICE_FRONT = re.compile(r"(?s)(.*)\n\n((?:- [a-f]\) .*)(?:\n- [a-f]\) .*)*)")


def write_deck(deck: DeckSpec) -> str:
    """The TOML text of ``deck``. Raises ``ValueError`` for a card it cannot write back (a
    cloze card, or one whose text the parser did not compose)."""
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
    document["card"] = [{"id": card.key, **card_table(card)} for card in deck.cards]
    return _dumps(document)


def write_table(table: dict[str, Any]) -> str:
    """One ``[[card]]`` table (its keys in the order given) as TOML text, under its header
    (tomli-w would write a short one inline, as ``card = [{...}]``)."""
    return "[[card]]\n" + _dumps(table)


def _dumps(document: dict[str, Any]) -> str:
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


def card_table(card: CardSpec) -> dict[str, Any]:
    """The keys of the ``[[card]]`` table that makes ``card``, all but its ``id``: ``kind``
    (when not basic), ``tags``, ``docs``, ``covers``, then the kind's text fields.

    Raises ``ValueError`` for a cloze card and for a card whose text the parser did not
    compose (an output card's front without its code block, say)."""
    table: dict[str, Any] = {}
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
        _add_extra(table, card.back, f"**{card.accepted[0]}**", card.key)
    elif card.kind == "output":
        _output(table, card)
    elif card.kind == "choice" and card.accepted:
        _choice(table, card)
    else:
        raise ValueError(f"card {card.key}: a {card.kind} card cannot be written back")
    return table


def _output(table: dict[str, Any], card: CardSpec) -> None:
    front = _OUTPUT_FRONT.fullmatch(card.front)
    back = _OUTPUT_BACK.fullmatch(card.back)
    if front is None or back is None:
        raise ValueError(f"card {card.key}: not a prompt and its code, then its output")
    code = card.code if card.code is not None else front.group(2)
    output = card.output if card.output is not None else back.group(1)
    if front.group(2) != code.strip("\n") or back.group(1) != output.rstrip("\n"):
        raise ValueError(f"card {card.key}: its code blocks are not its code and output")
    if front.group(1) != OUTPUT_PROMPT:
        table["front"] = front.group(1)
    table["code"], table["output"] = code, output
    if back.group(2):
        table["back"] = back.group(2)


def _choice(table: dict[str, Any], card: CardSpec) -> None:
    front = _CHOICE_FRONT.fullmatch(card.front)
    if front is None:
        raise ValueError(f"card {card.key}: front is not a question and its options")
    choices = [line[len("- a) ") :] for line in front.group(2).split("\n")]
    letter = card.accepted[0]
    index = "abcdef".find(letter)
    if not 0 <= index < len(choices):
        raise ValueError(f"card {card.key}: no option {letter!r}")
    table["front"], table["choices"], table["answer"] = front.group(1), choices, choices[index]
    _add_extra(table, card.back, f"**{letter}) {choices[index]}**", card.key)


def _add_extra(table: dict[str, Any], back: str, composed: str, key: str) -> None:
    """Set ``back`` to what follows the part the parser composed (``composed``), if any."""
    if back == composed:
        return
    if not back.startswith(composed + "\n\n"):
        raise ValueError(f"card {key}: back does not start with {composed!r}")
    table["back"] = back[len(composed) + 2 :]
