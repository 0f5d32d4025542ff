"""Rendering an Anki card's question and answer from its note type's templates (pure).

Anki's template language (Anki manual, "Card Templates" and "Field Replacements"):
``{{Field}}``; filters applied right to left, ``{{text:Field}}``, ``{{hint:Field}}``,
``{{cloze:Field}}``, ``{{type:Field}}``, ``{{type:cloze:Field}}``, the Japanese reading filters
``{{kanji:Field}}``, ``{{kana:Field}}`` and ``{{furigana:Field}}`` (:func:`_ruby`; others,
such as an add-on's ``edit``, show the field as is);
sections ``{{#Field}}...{{/Field}}`` shown when the field is not empty and
``{{^Field}}...{{/Field}}`` when it is (empty as Anki counts it,
:func:`~trainer.importers.notes.field_is_empty`: a picture alone is not empty); the
special fields ``FrontSide``, ``Tags``, ``Deck``, ``Subdeck``, ``Card``, ``Type``. The answer
is what follows ``<hr id=answer>`` when the back template has one, and ``FrontSide`` renders
empty in it, so the question is not shown twice.
:func:`render_answer_side` renders the whole answer side as Anki shows it, ``FrontSide`` being
the rendered question (rslib ``template.rs``): the back of a card whose back template adds
nothing to its front. Templates are only read, never run: scripts in them are dropped by the
HTML cleaning.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from trainer.content.cloze import cloze_answers, render_cloze
from trainer.importers.html_text import html_to_plain
from trainer.importers.notes import HTML_CLOZE, field_is_empty, parse_html_cloze

_TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_ANSWER_RULE = re.compile(r"<hr[^>]*\bid\s*=\s*[\"']?answer\b[^>]*>", re.IGNORECASE)
#: A reading as Anki's ruby filters find it (rslib ``template_filters.rs``): an optional space
#: before the base, the base a run of characters that are neither a space nor ``>``, then the
#: reading in square brackets, up to the first ``]``.
_READING = re.compile(r" ?([^ >]+?)\[(.+?)\]")


@dataclass(frozen=True)
class RenderedCard:
    """A card's question and answer HTML, and the answer to type for a type-in card."""

    question: str
    answer: str
    typed_answer: str | None


@dataclass
class _Context:
    fields: Mapping[str, str]
    cloze_number: int
    answer_side: bool
    typed: list[str]
    front_side: str = ""


def render_card(
    question_template: str,
    answer_template: str,
    fields: Mapping[str, str],
    cloze_number: int,
) -> RenderedCard:
    """Render one card. ``fields`` holds the note's fields and the special fields (``Tags``,
    ``Deck``, ...); ``cloze_number`` is the card's cloze number (ordinal + 1) for cloze note
    types, 0 otherwise."""
    typed: list[str] = []
    question = _render(question_template, _Context(fields, cloze_number, False, typed))
    answer = _render(answer_template, _Context(fields, cloze_number, True, []))
    rule = _ANSWER_RULE.search(answer)
    if rule is not None:
        answer = answer[rule.end() :]
    return RenderedCard(question, answer, typed[0] if typed else None)


def render_answer_side(
    question_html: str,
    answer_template: str,
    fields: Mapping[str, str],
    cloze_number: int,
) -> str:
    """The whole answer side of a card as Anki shows it: ``answer_template`` rendered with
    ``{{FrontSide}}`` replaced by ``question_html`` (the card's rendered question, as rslib's
    ``template.rs`` does), without the ``<hr id=answer>`` rule itself. ``fields`` and
    ``cloze_number`` are those of :func:`render_card`. A back template of only
    ``{{FrontSide}}`` therefore gives the question again: Anki shows such a card with its
    question repeated on the answer side, and does not count it as an empty card (only an empty
    question makes one, rslib ``notetype/cardgen.rs``)."""
    context = _Context(fields, cloze_number, True, [], question_html)
    return _ANSWER_RULE.sub("", _render(answer_template, context))


@dataclass(frozen=True)
class _Tag:
    """One ``{{...}}`` of a template, parsed: ``kind`` is ``#`` or ``^`` (a section opens),
    ``/`` (one closes) or empty (a field replacement, with its filters as written)."""

    kind: str
    name: str
    filters: tuple[str, ...] = ()


@functools.lru_cache(maxsize=256)
def _compile(template: str) -> tuple[tuple[tuple[str, _Tag], ...], str]:
    """``template`` parsed once for all its cards: each tag with the text before it, and
    the text after the last tag."""
    parts: list[tuple[str, _Tag]] = []
    position = 0
    for match in _TAG.finditer(template):
        text = template[position : match.start()]
        position = match.end()
        tag = match.group(1).strip()
        if tag[:1] in ("#", "^", "/"):
            parts.append((text, _Tag(tag[0], tag[1:].strip())))
        else:
            *filters, name = [part.strip() for part in tag.split(":")]
            parts.append((text, _Tag("", name, tuple(filters))))
    return tuple(parts), template[position:]


def _render(template: str, context: _Context) -> str:
    out: list[str] = []
    sections: list[tuple[str, bool]] = []  # open sections: (field name, shown)
    hidden = 0  # open sections not shown
    parts, tail = _compile(template)
    for text, tag in parts:
        if not hidden:
            out.append(text)
        if tag.kind in ("#", "^"):
            value = _field(context, tag.name)
            shown = (not field_is_empty(value)) != (tag.kind == "^")
            sections.append((tag.name, shown))
            hidden += not shown
        elif tag.kind == "/":
            if any(open_name == tag.name for open_name, _ in sections):
                while sections:
                    name, shown = sections.pop()
                    hidden -= not shown
                    if name == tag.name:
                        break
        elif not hidden:
            out.append(_replacement(tag, context))
    if not hidden:
        out.append(tail)
    return "".join(out)


def _field(context: _Context, name: str) -> str:
    if name in context.fields:
        return context.fields[name]
    folded = name.casefold()
    return next((v for k, v in context.fields.items() if k.casefold() == folded), "")


def _replacement(tag: _Tag, context: _Context) -> str:
    """The text for ``{{filters:Field}}``; ``FrontSide`` renders as ``context.front_side``
    (see module doc)."""
    if tag.name == "FrontSide" and not tag.filters:
        return context.front_side
    value = _field(context, tag.name)
    filters = [f.split(" ", 1)[0].lower() for f in tag.filters]
    if "type" in filters:
        if not context.answer_side:
            if "cloze" in filters:
                answers = cloze_answers(parse_html_cloze(value), context.cloze_number)
                context.typed.append(", ".join(html_to_plain(a) for a in answers))
            else:
                context.typed.append(html_to_plain(value))
        return ""
    for name_of_filter in reversed(filters):
        if name_of_filter == "cloze":
            question, answer = render_cloze(
                parse_html_cloze(value), context.cloze_number, HTML_CLOZE
            )
            value = answer if context.answer_side else question
        elif name_of_filter == "text":
            value = html_to_plain(value)
        elif name_of_filter in _RUBY:
            value = _ruby(value, name_of_filter)
    return value


#: What each ruby filter shows of a base and its reading.
_RUBY: dict[str, Callable[[str, str], str]] = {
    "kanji": lambda base, _reading: base,
    "kana": lambda _base, reading: reading,
    "furigana": lambda base, reading: f"{base}({reading})",
}


def _ruby(text_html: str, name: str) -> str:
    """A field's readings written ``base[reading]`` (Japanese furigana, as Anki's "Japanese
    support" and Yomitan write them) shown by Anki's ruby filter ``name``: ``kanji`` keeps the
    base, ``kana`` the reading, ``furigana`` both as ``base(reading)`` (a terminal has no
    ruby text above the line). As in Anki (rslib ``template_filters.rs``): ``&nbsp;`` counts
    as a space, the one space before a base is dropped (it only separates the base from the
    text before), the base runs back to the last space or ``>``, a ``[sound:...]`` is left
    as it is. ``' 日本[にほん]の'`` gives ``'日本の'``, ``'にほんの'``, ``'日本(にほん)の'``.
    """
    shown = _RUBY[name]

    def replace(match: re.Match[str]) -> str:
        base, reading = match.groups()
        return match[0] if reading.startswith("sound:") else shown(base, reading)

    return _READING.sub(replace, text_html.replace("&nbsp;", " "))
