"""Cards from a note's HTML fields: the card shapes Anki's stock note types give (pure).

A note has a base key (Anki's note GUID, a ``#guid column:`` value, or :func:`front_key` of its
front); its cards' keys follow :func:`card_key` and :func:`cloze_key`, so the same note keeps its
cards whether it arrives in an Anki package or in a text export.
"""

from __future__ import annotations

import re

from trainer.content.cloze import Markup, Node, cloze_numbers, html_code, parse_cloze, render_cloze
from trainer.content.parser import CardSpec
from trainer.importers.html_text import escape_markdown, html_to_card_text
from trainer.importers.imported import front_key
from trainer.store.lookup import card_tag

#: Anki's stock note types (rslib ``notetype/stock.rs``), by name in lower case: how many
#: fields each has (Front, Back; Add Reverse; Text, Back Extra). Anki's text import fills a
#: note's fields from the columns in order and leaves out columns beyond them.
STOCK_FIELD_COUNTS = {
    "basic": 2,
    "basic (and reversed card)": 2,
    "basic (optional reversed card)": 3,
    "basic (type in the answer)": 2,
    "cloze": 2,
}
#: What Anki counts as an empty field (rslib ``template.rs`` ``field_is_empty``): white space
#: and empty ``<br>``/``<div>`` tags only.
_EMPTY_FIELD = re.compile(r"(?:\s|</?(?:br|div) ?/?>)*", re.IGNORECASE)


def field_is_empty(text_html: str) -> bool:
    """Whether an HTML field is empty as Anki decides it for ``{{#Field}}`` sections and for
    which cards a note has: nothing but white space and ``<br>``/``<div>`` tags, so
    ``"<div><br></div>"`` is empty and ``"y"`` or ``"&nbsp;"`` is not."""
    return _EMPTY_FIELD.fullmatch(text_html) is not None


def card_key(base: str, ordinal: int) -> str:
    """Key of card ``ordinal`` (0-based template number) of a note: the base key for the first
    card, ``BASE#N`` (N = ordinal + 1) for the others (the reverse of a reversed note is #2)."""
    return base if ordinal == 0 else f"{base}#{ordinal + 1}"


def cloze_key(base: str, number: int) -> str:
    """Key of cloze card ``number`` of a note: ``BASE#cN``, as native cloze cards are keyed."""
    return f"{base}#c{number}"


def _html_lead(parts: list[tuple[str, bool]]) -> str:
    bold = (
        f"<b><code>{text}</code></b>" if in_code else f"<b>{text}</b>" for text, in_code in parts
    )
    return f"<p>{' · '.join(bold)}</p>"


#: Cloze rendering for HTML fields (Anki notes, CSV/TSV text exports), turned into card text
#: afterwards: ``[...]``/``[hint]``, ``<b>`` for revealed text, the lead as a paragraph.
HTML_CLOZE = Markup(
    hidden=lambda hint, _in_code: f"[{hint or '...'}]",
    revealed=lambda text: f"<b>{text}</b>",
    lead=_html_lead,
)


def parse_html_cloze(text_html: str) -> tuple[Node, ...]:
    """The deletions of an HTML field, read as Anki reads them (the first ``}}`` closes a
    deletion), ``<code>``/``<pre>`` marked as code. Raises
    :class:`~trainer.content.cloze.ClozeError` for a deletion never closed."""
    return parse_cloze(text_html, braces=False, code=html_code(text_html))


def join_text(*parts: str) -> str:
    """Card text parts separated by a blank line, empty parts left out."""
    return "\n\n".join(filter(None, parts))


def basic_card(
    key: str | None, front: str, back: str, tags: tuple[str, ...], line: int
) -> CardSpec | None:
    """A question/answer card from card text (keyed by its front when ``key`` is None), or
    None when a side is empty."""
    if not front or not back:
        return None
    return CardSpec(key or front_key(front), "basic", front, back, tags=tags, line=line)


def typed_card(
    key: str | None, front: str, answer: str, tags: tuple[str, ...], line: int
) -> CardSpec | None:
    """A type-in card: the learner types ``answer`` (plain text) to the card text ``front``;
    keyed by its front when ``key`` is None; None when a side is empty."""
    if not front or not answer:
        return None
    back = f"**{escape_markdown(answer)}**"
    key = key or front_key(front)
    return CardSpec(key, "typed", front, back, tags=tags, accepted=(answer,), line=line)


def cloze_cards(
    base: str | None, text_html: str, extra: str, tags: tuple[str, ...], line: int
) -> list[CardSpec]:
    """One card per cloze number in ``text_html`` (none if it has no deletion); the answer
    shows the text with that number's deletions in bold, then the card text ``extra``. The
    base key is :func:`front_key` of the cloze text when ``base`` is None. Raises
    :class:`~trainer.content.cloze.ClozeError` for a deletion never closed."""
    nodes = parse_html_cloze(text_html)
    base = base or front_key(html_to_card_text(text_html))
    cards = []
    for number in cloze_numbers(nodes):
        front, back = render_cloze(nodes, number, HTML_CLOZE)
        cards.append(
            CardSpec(
                key=cloze_key(base, number),
                kind="cloze",
                front=html_to_card_text(front),
                back=join_text(html_to_card_text(back), extra),
                tags=tags,
                line=line,
            )
        )
    return cards


def anki_tags(text: str) -> tuple[str, ...]:
    """Anki tags (separated by white space, ``::`` for hierarchy) as card tags
    (:func:`~trainer.store.lookup.card_tag`), each once."""
    return tuple(dict.fromkeys(tag for tag in map(card_tag, text.split()) if tag))
