"""Cloze deletions: one reading and one rendering for every source of cloze cards (pure).

Syntax (Anki manual, "Cloze deletion"): ``{{c1::hidden}}``, ``{{c1::hidden::hint}}``, one
deletion in several cards ``{{c1,2::hidden}}``, and deletions nested in deletions
``{{c1::outer {{c2::inner}} text}}``. The native deck format, Markdown notes, CSV/TSV text
exports and Anki packages are all read by :func:`parse_cloze` and rendered by
:func:`render_cloze`, so a cloze card looks the same whatever file it came from:

- card N's question shows each of its deletions as ``[...]`` (or ``[hint]``) and every other
  deletion's text;
- its answer shows the whole text with card N's deletions in bold; where one of them sits in
  code (a code span or block, or HTML ``<code>``/``<pre>``), bold cannot show there, so the
  answer starts with card N's deletions in bold.

Our own formats (``braces=True``): inside a deletion, a ``}`` that closes a ``{`` opened inside it
is text, so ``{{c1::{"a": {"b": 1}}}}`` hides ``{"a": {"b": 1}}``; a ``::`` inside such braces
is text, not the hint's start. Anki's files (``braces=False``) end a deletion at the first
``}}``, as Anki does (rslib ``cloze.rs``). Either way a deletion never closed is a
:class:`ClozeError`; a ``}}`` outside any deletion is plain text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

#: Deepest nesting of deletions. Anki ignores openings deeper than this (rslib ``cloze.rs``,
#: ``open_clozes.len() < 10``); our own formats report them.
MAX_DEPTH = 10

_TOKEN = re.compile(r"\{\{c([\d,]*\d[\d,]*)::|\}\}|::|[{}`~]")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_FENCE_END = re.compile(r" {0,3}(`{3,}|~{3,})[ \t]*")
_BACKTICKS = re.compile(r"`+")
_HTML_CODE = re.compile(r"<(code|pre)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


class ClozeError(Exception):
    """A cloze text that cannot be read: ``message`` says why, ``offset`` is the index in the
    text of the deletion's opening ``{{cN::`` (callers turn it into a line number)."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass(frozen=True)
class Deletion:
    """One ``{{cN::...}}``: the card numbers it belongs to, its content (text and nested
    deletions), its hint, and whether it sits inside code (where bold cannot show)."""

    numbers: frozenset[int]
    content: tuple[Node, ...]
    hint: str | None
    in_code: bool = False


Node = str | Deletion


@dataclass
class _Open:
    """A deletion being read: where its opening is, its numbers, what it holds so far."""

    start: int
    numbers: frozenset[int]
    nodes: list[Node]
    hint: str | None = None
    in_hint: bool = False
    braces: int = 0
    had_braces: bool = False


def parse_cloze(
    text: str,
    *,
    braces: bool = True,
    literal: Sequence[tuple[int, int]] = (),
    code: Sequence[tuple[int, int]] = (),
) -> tuple[Node, ...]:
    """Split ``text`` into literal text and (possibly nested) deletions.

    ``braces`` chooses our formats' rule (a ``}`` closing a ``{`` opened inside a deletion is
    text) over Anki's (the first ``}}`` closes). ``literal`` holds ``(start, end)`` index ranges
    read as plain text whatever they hold (a Markdown note's code); ``code`` holds ranges that
    are code, so a deletion opening inside one is marked ``in_code`` and, with ``braces``, code
    that opens inside a deletion is its text as written (no ``::``, brace or ``}}`` in it
    counts). Both sorted, not overlapping.

    Raises :class:`ClozeError` for a deletion never closed and, with ``braces``, for deletions
    nested more than :data:`MAX_DEPTH` deep.
    """
    root: list[Node] = []
    stack: list[_Open] = []
    code_ends = dict(code) if braces else {}
    for start, end, is_literal in _segments(len(text), literal):
        if is_literal:
            _add_text(stack, root, text[start:end])
            continue
        position = start
        while (match := _TOKEN.search(text, position, end)) is not None:
            _add_text(stack, root, text[position : match.start()])
            position = match.end()
            token = match.group(0)
            top = stack[-1] if stack else None
            if match.group(1) is not None:
                if len(stack) >= MAX_DEPTH:
                    if braces:
                        message = f"cloze deletions nested more than {MAX_DEPTH} deep"
                        raise ClozeError(message, match.start())
                    continue  # Anki drops the opening
                if top is not None:
                    top.in_hint = False
                numbers = frozenset(int(n) for n in match.group(1).split(",") if n)
                stack.append(_Open(match.start(), numbers, []))
            elif top is None:
                _add_text(stack, root, token)
            elif token in "`~":  # code opening inside a deletion is its text, as written
                position = min(code_ends.get(match.start(), position), end)
                _add_text(stack, root, text[match.start() : position])
            elif braces and token == "{":
                top.braces += 1
                top.had_braces = True
                _add_text(stack, root, token)
            elif braces and top.braces and token in ("}", "}}"):
                top.braces -= 1
                _add_text(stack, root, "}")
                position = match.start() + 1
            elif token == "}}":
                stack.pop()
                in_code = any(low <= top.start < high for low, high in code)
                deletion = Deletion(top.numbers, _merged(top.nodes), top.hint, in_code)
                if stack:
                    stack[-1].in_hint = False
                    stack[-1].nodes.append(deletion)
                else:
                    root.append(deletion)
            elif token == "::" and not top.in_hint and not (braces and top.braces):
                top.hint, top.in_hint = "", True
            else:
                _add_text(stack, root, token)
        _add_text(stack, root, text[position:end])
    if stack:
        unclosed = stack[0]
        opening = text[unclosed.start : text.index("::", unclosed.start) + 2]
        why = ""
        if any(deletion.had_braces for deletion in stack):
            why = " (inside a deletion, each '{' needs its own '}' before the closing '}}')"
        message = f"cloze deletion '{opening}' is never closed with '}}}}'{why}"
        raise ClozeError(message, unclosed.start)
    return _merged(root)


def _segments(length: int, literal: Sequence[tuple[int, int]]) -> list[tuple[int, int, bool]]:
    """``(start, end, is_literal)`` pieces covering ``0..length`` in order."""
    pieces: list[tuple[int, int, bool]] = []
    position = 0
    for start, end in literal:
        if start > position:
            pieces.append((position, start, False))
        if end > max(start, position):
            pieces.append((max(start, position), end, True))
        position = max(position, end)
    if position < length:
        pieces.append((position, length, False))
    return pieces


def _add_text(stack: list[_Open], root: list[Node], text: str) -> None:
    if not text:
        return
    if not stack:
        root.append(text)
    elif stack[-1].in_hint:
        stack[-1].hint = (stack[-1].hint or "") + text
    else:
        stack[-1].nodes.append(text)


def _merged(nodes: list[Node]) -> tuple[Node, ...]:
    """Adjacent text nodes joined into one."""
    out: list[Node] = []
    for node in nodes:
        if isinstance(node, str) and out and isinstance(out[-1], str):
            out[-1] += node
        else:
            out.append(node)
    return tuple(out)


def cloze_numbers(nodes: tuple[Node, ...]) -> list[int]:
    """The card numbers of every deletion, nested ones too, in ascending order (0 gives no
    card, as in Anki)."""
    found: set[int] = set()

    def walk(items: tuple[Node, ...]) -> None:
        for node in items:
            if isinstance(node, Deletion):
                found.update(node.numbers)
                walk(node.content)

    walk(nodes)
    return sorted(n for n in found if n > 0)


@dataclass(frozen=True)
class Markup:
    """How one kind of card text (Markdown or HTML) writes the parts of a rendered cloze.

    ``hidden(hint, in_code)`` stands for a hidden deletion (``[...]``/``[hint]``);
    ``revealed(text)`` marks a revealed deletion (bold); ``lead(parts)`` is the block that
    starts an answer whose deletions include some in code, from each deletion's
    ``(text, in_code)``, its separator from the text included.
    """

    hidden: Callable[[str | None, bool], str]
    revealed: Callable[[str], str]
    lead: Callable[[list[tuple[str, bool]]], str]


def render_cloze(nodes: tuple[Node, ...], number: int, markup: Markup) -> tuple[str, str]:
    """The question and answer text of card ``number`` (see the module docstring)."""

    def question(items: tuple[Node, ...]) -> str:
        parts = []
        for node in items:
            if isinstance(node, str):
                parts.append(node)
            elif number in node.numbers:
                parts.append(markup.hidden(node.hint, node.in_code))
            else:
                parts.append(question(node.content))
        return "".join(parts)

    def answer(items: tuple[Node, ...]) -> str:
        parts = []
        for node in items:
            if isinstance(node, str):
                parts.append(node)
            elif number not in node.numbers:
                parts.append(answer(node.content))
            elif node.in_code:
                parts.append(plain_text(node.content))
            else:
                parts.append(markup.revealed(plain_text(node.content)))
        return "".join(parts)

    revealed = _deletions_of(nodes, number)
    lead = ""
    if any(deletion.in_code for deletion in revealed):
        lead = markup.lead([(plain_text(d.content), d.in_code) for d in revealed])
    return question(nodes), lead + answer(nodes)


def plain_text(nodes: tuple[Node, ...]) -> str:
    """The text with every deletion shown as its content, unmarked."""
    return "".join(node if isinstance(node, str) else plain_text(node.content) for node in nodes)


def _deletions_of(nodes: tuple[Node, ...], number: int) -> list[Deletion]:
    """Card ``number``'s outermost deletions, in text order."""
    found: list[Deletion] = []
    for node in nodes:
        if isinstance(node, Deletion):
            if number in node.numbers:
                found.append(node)
            else:
                found.extend(_deletions_of(node.content, number))
    return found


def cloze_answers(nodes: tuple[Node, ...], number: int) -> list[str]:
    """The text of card ``number``'s deletions (what a typed cloze expects), in order."""
    return [plain_text(deletion.content) for deletion in _deletions_of(nodes, number)]


def markdown_code(text: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` index ranges of Markdown code in ``text``: fenced code blocks
    (from the opening fence line to the closing one, or the end) and code spans (a run of
    backticks to the next run of the same length; a run with no such partner is text), as
    CommonMark defines them."""
    ranges: list[tuple[int, int]] = []
    offset = 0
    fence: str | None = None
    prose_start = 0
    for line in text.split("\n"):
        opening = _FENCE.match(line)
        if fence is None and opening:
            ranges.extend(_code_spans(text, prose_start, offset))
            fence, fence_start = opening.group(1), offset + opening.start(1)
        elif fence is not None and (closing := _FENCE_END.fullmatch(line.rstrip("\r"))):
            marker = closing.group(1)
            if marker[0] == fence[0] and len(marker) >= len(fence):
                end = min(offset + len(line) + 1, len(text))
                ranges.append((fence_start, end))
                fence, prose_start = None, end
        offset += len(line) + 1
    if fence is not None:
        ranges.append((fence_start, len(text)))
    else:
        ranges.extend(_code_spans(text, prose_start, len(text)))
    return sorted(ranges)


def _code_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Code spans between ``start`` and ``end``: a backtick run not escaped by a backslash
    opens one, which ends at the next run of the same length; without one it is text."""
    runs = []
    for match in _BACKTICKS.finditer(text, start, end):
        low, high = match.span()
        escapes = 0
        while low - escapes > 0 and text[low - escapes - 1] == "\\":
            escapes += 1
        runs.append((low, high, escapes % 2 == 1))
    spans = []
    index = 0
    while index < len(runs):
        low, high, escaped = runs[index]
        if escaped:
            low += 1  # the escaped backtick is text; the rest of the run may open a span
        width = high - low
        partner = next(
            (j for j in range(index + 1, len(runs)) if runs[j][1] - runs[j][0] == width), None
        )
        if width == 0 or partner is None:
            index += 1
            continue
        spans.append((low, runs[partner][1]))
        index = partner + 1
    return spans


def html_code(text: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` index ranges of ``<code>`` and ``<pre>`` elements in HTML."""
    return [(m.start(), m.end()) for m in _HTML_CODE.finditer(text)]


def _bold(text: str) -> str:
    """``text`` in Markdown bold, white space at its ends left outside the markers."""
    core = text.strip()
    if not core:
        return text
    start = text.index(core)
    return f"{text[:start]}**{core}**{text[start + len(core) :]}"


def code_span(text: str) -> str:
    """``text`` as one Markdown code span, fenced by more backticks than any run inside it."""
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


#: Cloze rendering for Markdown card text (native decks, Markdown notes): ``\\[...\\]`` so
#: a following ``(`` or ``[`` cannot make a link (plain ``[...]`` inside code, where a backslash
#: would show), bold for revealed text, and the lead line before a blank line.
MARKDOWN = Markup(
    hidden=lambda hint, in_code: f"[{hint or '...'}]" if in_code else f"\\[{hint or '...'}\\]",
    revealed=_bold,
    lead=lambda parts: (
        " · ".join(f"**{code_span(text)}**" if in_code else _bold(text) for text, in_code in parts)
        + "\n\n"
    ),
)
