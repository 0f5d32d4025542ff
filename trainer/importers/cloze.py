"""Cloze deletions as Anki writes them, for imported notes (pure).

Syntax (Anki manual, "Cloze deletion"): ``{{c1::hidden}}``, ``{{c1::hidden::hint}}``, one
deletion in several cards ``{{c1,2::hidden}}``, and deletions nested in deletions
``{{c1::outer {{c2::inner}}}}``. Card N hides its own deletions as ``[...]`` (or ``[hint]``)
and shows every other deletion's text; its answer shows card N's deletions highlighted. An
opening ``{{cN::`` never closed, or a stray ``}}``, is plain text, as in Anki.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_TOKEN = re.compile(r"\{\{c(\d+(?:,\d+)*)::|\}\}")


@dataclass(frozen=True)
class Deletion:
    """One ``{{cN::...}}``: the card numbers it belongs to, its content and its hint."""

    numbers: frozenset[int]
    content: tuple[Node, ...]
    hint: str | None


Node = str | Deletion


def parse_cloze(text: str) -> tuple[Node, ...]:
    """Split ``text`` into literal text and (possibly nested) deletions."""
    stack: list[tuple[str, frozenset[int], list[Node]]] = [("", frozenset(), [])]
    position = 0
    for match in _TOKEN.finditer(text):
        _append(stack[-1][2], text[position : match.start()])
        position = match.end()
        if match.group(1) is not None:
            numbers = frozenset(int(n) for n in match.group(1).split(","))
            stack.append((match.group(0), numbers, []))
        elif len(stack) > 1:
            _opening, numbers, nodes = stack.pop()
            content, hint = _split_hint(nodes)
            stack[-1][2].append(Deletion(numbers, content, hint))
        else:
            _append(stack[-1][2], match.group(0))
    _append(stack[-1][2], text[position:])
    while len(stack) > 1:  # unclosed: the opening is text again
        opening, _numbers, nodes = stack.pop()
        _append(stack[-1][2], opening)
        for node in nodes:
            if isinstance(node, str):
                _append(stack[-1][2], node)
            else:
                stack[-1][2].append(node)
    return tuple(stack[0][2])


def _append(nodes: list[Node], text: str) -> None:
    if not text:
        return
    if nodes and isinstance(nodes[-1], str):
        nodes[-1] += text
    else:
        nodes.append(text)


def _split_hint(nodes: list[Node]) -> tuple[tuple[Node, ...], str | None]:
    """Anki takes the hint from the deletion's last text: what follows its first ``::``."""
    if nodes and isinstance(nodes[-1], str) and "::" in nodes[-1]:
        text, hint = nodes[-1].split("::", 1)
        return (*nodes[:-1], *([text] if text else [])), hint
    return tuple(nodes), None


def cloze_numbers(nodes: tuple[Node, ...]) -> list[int]:
    """The card numbers of every deletion, nested ones too, in ascending order."""
    found: set[int] = set()

    def walk(items: tuple[Node, ...]) -> None:
        for node in items:
            if isinstance(node, Deletion):
                found.update(node.numbers)
                walk(node.content)

    walk(nodes)
    return sorted(n for n in found if n > 0)


def render_cloze(
    nodes: tuple[Node, ...],
    number: int,
    hide: Callable[[str | None], str],
    show: Callable[[str], str],
) -> tuple[str, str]:
    """The question and answer text of card ``number``.

    ``hide(hint)`` is what stands for a hidden deletion, ``show(text)`` wraps a revealed one.
    """

    def side(items: tuple[Node, ...], answer: bool) -> str:
        parts = []
        for node in items:
            if isinstance(node, str):
                parts.append(node)
            elif number not in node.numbers:
                parts.append(side(node.content, answer))
            elif answer:
                parts.append(show(side(node.content, answer)))
            else:
                parts.append(hide(node.hint))
        return "".join(parts)

    return side(nodes, False), side(nodes, True)


def cloze_answers(nodes: tuple[Node, ...], number: int) -> list[str]:
    """The text of card ``number``'s deletions (what a typed cloze expects), in order."""
    answers: list[str] = []
    for node in nodes:
        if isinstance(node, Deletion):
            if number in node.numbers:
                answers.append(render_cloze(node.content, number, lambda _h: "", str)[1])
            else:
                answers.extend(cloze_answers(node.content, number))
    return answers
