"""Reading the roadmap and deck files into plain values (pure: no database, no output).

The formats are specified in ``docs/deck-format.md``. Every problem found in a file is gathered
and raised together as one :class:`~trainer.errors.DeckError` of
:class:`~trainer.errors.Problem` values.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from dataclasses import dataclass
from typing import Any

from trainer.content.cloze import (
    MARKDOWN,
    ClozeError,
    Node,
    cloze_numbers,
    markdown_code,
    parse_cloze,
    render_cloze,
)
from trainer.errors import DeckError, Problem
from trainer.store.lookup import card_tag, slugify

KINDS = ("basic", "cloze", "output", "typed", "choice")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_MULTI_LINE_OPENING = re.compile(r"=\s*(\"\"\"|''')(.*)$")
OUTPUT_PROMPT = "What does this code print?"

_COMMON_KEYS = {"id", "kind", "tags", "docs", "covers"}
_KIND_KEYS: dict[str, tuple[set[str], set[str]]] = {
    # kind: (required keys, optional keys) besides the common ones
    "basic": ({"front", "back"}, set()),
    "cloze": ({"text"}, {"back"}),
    "output": ({"code", "output"}, {"front", "back"}),
    "typed": ({"front", "answer"}, {"accept", "back"}),
    "choice": ({"front", "choices", "answer"}, {"back"}),
}
_DECK_KEYS = {"topic", "name", "coverage", "card"}
_COVERAGE_KEYS = {"id", "point", "source"}


@dataclass(frozen=True)
class TopicSpec:
    """One roadmap topic: ``- [ ] Title (Subtopic, ...)`` at ``line`` of the roadmap."""

    slug: str
    title: str
    subtopics: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class SectionSpec:
    """One roadmap section (a ``## Title`` heading) with its topics in roadmap order."""

    slug: str
    title: str
    topics: tuple[TopicSpec, ...]


@dataclass(frozen=True)
class CardSpec:
    """One reviewable card as read from a deck file.

    ``front`` and ``back`` are the Markdown the review shows. ``accepted`` holds the answers a
    typed card takes (canonical first), a choice card's right letter (``("b",)``), empty for
    other kinds. ``code``/``output`` keep an output
    card's program and its expected standard output so tests can run them.

    Where the card came from: ``line`` is the 1-based file line it starts on (a deck file's
    ``[[card]]`` header, a Markdown card's first line, a CSV row), None for a source without
    lines; ``note_id`` is the Anki note it was rendered from, None for other sources.
    ``covers`` holds the ids of the deck's coverage points the card teaches (deck files only).
    """

    key: str
    kind: str
    front: str
    back: str
    tags: tuple[str, ...] = ()
    docs: str | None = None
    accepted: tuple[str, ...] = ()
    code: str | None = None
    output: str | None = None
    line: int | None = None
    note_id: int | None = None
    covers: tuple[str, ...] = ()


@dataclass(frozen=True)
class CoveragePoint:
    """One point of a deck's must-know list: a ``[[coverage]]`` table at ``line`` of its file.

    ``key`` is the id cards name in ``covers``; ``point`` says what a learner must know;
    ``source`` is the ``https://`` page it rests on (None only outside the built-in decks).
    """

    key: str
    point: str
    source: str | None
    line: int


@dataclass(frozen=True)
class DeckSpec:
    """A parsed deck file: ``topic`` slug or stand-alone ``name``, cards in file order, and the
    topic's must-know list (``coverage``, in file order; empty when the file has none)."""

    path: str
    topic: str | None
    name: str | None
    cards: tuple[CardSpec, ...]
    coverage: tuple[CoveragePoint, ...] = ()


def parse_roadmap(text: str, path: str) -> tuple[SectionSpec, ...]:
    """Parse the roadmap checklist (``## Section`` headings, ``- [ ] Topic (a, b)`` lines).

    Raises :class:`DeckError` listing every malformed line, duplicate topic slug, topic outside a
    section or section without topics.
    """
    problems: list[Problem] = []
    sections: list[tuple[str, list[TopicSpec]]] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("## "):
            sections.append((line[3:].strip(), []))
        elif line.startswith("- "):
            match = re.fullmatch(r"- \[[ xX]\] (.+)", line)
            if match is None:
                problems.append(
                    Problem(path, number, "a topic line reads '- [ ] Title (subtopics)'")
                )
                continue
            if not sections:
                problems.append(
                    Problem(path, number, "topic before the first '## Section' heading")
                )
                continue
            title, subtopics = _split_subtopics(match.group(1).strip())
            slug = slugify(title)
            if slug in seen:
                problems.append(
                    Problem(path, number, f"topic '{slug}' already on line {seen[slug]}")
                )
                continue
            seen[slug] = number
            sections[-1][1].append(TopicSpec(slug, title, subtopics, number))
    for title, topics in sections:
        if not topics:
            problems.append(Problem(path, None, f"section '{title}' has no topics"))
    if not sections and not problems:
        problems.append(Problem(path, None, "no '## Section' headings found"))
    if problems:
        raise DeckError(problems)
    return tuple(SectionSpec(slugify(t), t, tuple(topics)) for t, topics in sections)


def _split_subtopics(text: str) -> tuple[str, tuple[str, ...]]:
    """Split ``Title (a, b)`` into ``("Title", ("a", "b"))``; only a trailing group counts."""
    if not text.endswith(")"):
        return text, ()
    depth = 0
    for index in range(len(text) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(text[index], 0)
        if depth == 0:
            inner = text[index + 1 : -1]
            subtopics = tuple(part.strip() for part in inner.split(",") if part.strip())
            return text[:index].strip(), subtopics
    return text, ()


def parse_deck(text: str, path: str, *, builtin: bool = False) -> DeckSpec:
    """Parse one deck file's text (see ``docs/deck-format.md``).

    ``builtin`` makes ``topic``, each card's ``docs`` link and each coverage point's ``source``
    required, as they are in ``decks/``. Raises :class:`DeckError` with every problem of the
    file, in line order.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DeckError([_toml_problem(path, exc)]) from None
    positions = _table_positions(text, "card")
    lines = text.splitlines()
    problems: list[Problem] = []

    for key in sorted(set(data) - _DECK_KEYS):
        problems.append(Problem(path, _top_key_line(text, key), f"unknown key '{key}'"))
    topic = data.get("topic")
    name = data.get("name")
    if topic is not None and not (isinstance(topic, str) and SLUG_RE.match(topic)):
        problems.append(Problem(path, _top_key_line(text, "topic"), "'topic' must be a topic slug"))
        topic = None
    if name is not None and not (isinstance(name, str) and name.strip()):
        problems.append(Problem(path, _top_key_line(text, "name"), "'name' must be non-empty text"))
        name = None
    if builtin and "topic" not in data:
        problems.append(Problem(path, 1, "a built-in deck needs 'topic = \"<topic slug>\"'"))

    coverage = _parse_coverage(data, text, builtin, problems, path)
    raw_points = data.get("coverage")
    # Every id a [[coverage]] table declares, valid point or not: a card naming one is right.
    point_ids = (
        {raw.get("id") for raw in raw_points if isinstance(raw, dict)}
        if isinstance(raw_points, list)
        else set()
    )
    raw_cards = data.get("card", [])
    if not isinstance(raw_cards, list):
        line = _top_key_line(text, "card")
        problems.append(Problem(path, line, "'card' must be [[card]] tables"))
        raw_cards = []
    cards: list[CardSpec] = []
    siblings: list[CardSpec] = []
    seen_ids: dict[str, int] = {}
    for index, raw in enumerate(raw_cards):
        header, key_lines = positions[index] if index < len(positions) else (1, {})
        card_id = raw.get("id") if isinstance(raw, dict) else None
        if isinstance(card_id, str) and card_id in seen_ids:
            problems.append(
                Problem(
                    path,
                    key_lines.get("id", header),
                    f"duplicate id '{card_id}' (first on line {seen_ids[card_id]})",
                )
            )
            continue
        if isinstance(card_id, str):
            seen_ids[card_id] = header
        card_problems: list[tuple[int, str]] = []
        spec = _parse_card(raw, header, key_lines, builtin, point_ids, card_problems, lines)
        problems.extend(Problem(path, line, message) for line, message in card_problems)
        if spec is None:
            continue
        cards.append(spec)
        if spec.kind == "cloze":
            siblings.extend(_more_cloze_cards(raw, spec))
    if problems:
        raise DeckError(sorted(problems, key=lambda problem: problem.line or 0))
    # A note's second and later cloze cards go to the end of the deck, so the answer of one
    # is not shown right before its sibling asks for it.
    return DeckSpec(path, topic, name, (*cards, *siblings), coverage)


#: The id a card table read by :func:`parse_card_table` is given (it has none of its own).
EDITED_ID = "card"


def parse_card_table(text: str, path: str, *, builtin: bool = False) -> tuple[CardSpec, ...]:
    """Parse one ``[[card]]`` table without its ``id`` (``trainer edit``: the id stays the
    card's): the cards it makes, keyed as if its id were :data:`EDITED_ID` (a cloze table's
    cards ``card#c1``, ``card#c2``, ...). Validated as a card of a deck file is (``builtin``:
    as in ``decks/``, a ``docs`` link required); it may name no coverage point in ``covers``.

    Raises :class:`DeckError` with every problem, in line order: TOML that cannot be read,
    keys outside the table, no table or more than one, an ``id``, and the card's own problems.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DeckError([_toml_problem(path, exc)]) from None
    problems: list[Problem] = []
    for key in sorted(set(data) - {"card"}):
        message = f"unknown key '{key}': an edit is one [[card]] table"
        problems.append(Problem(path, _top_key_line(text, key), message))
    raw_cards = data.get("card", [])
    positions = _table_positions(text, "card")
    if not isinstance(raw_cards, list) or len(raw_cards) != 1 or len(positions) != 1:
        line = positions[1][0] if len(positions) > 1 else 1
        problems.append(Problem(path, line, "an edit is one [[card]] table"))
        raise DeckError(sorted(problems, key=lambda problem: problem.line or 0))
    raw = raw_cards[0]
    header, key_lines = positions[0]
    if "id" in raw:
        message = "leave 'id' out: an edit keeps the card's id"
        problems.append(Problem(path, key_lines.get("id", header), message))
    raw = {**raw, "id": EDITED_ID}
    card_problems: list[tuple[int, str]] = []
    spec = _parse_card(raw, header, key_lines, builtin, set(), card_problems, text.splitlines())
    problems.extend(Problem(path, line, message) for line, message in card_problems)
    if problems or spec is None:
        raise DeckError(sorted(problems, key=lambda problem: problem.line or 0))
    return (spec, *(_more_cloze_cards(raw, spec) if spec.kind == "cloze" else ()))


def card_source(text: str, card_id: str) -> str | None:
    """The lines of the ``[[card]]`` table whose id is ``card_id`` in the deck file ``text``,
    as written, without its ``id`` and ``covers`` keys (``trainer edit`` offers a built-in card
    this way: an edit keeps the id and names no coverage point) nor the comment lines after its
    last key (they head what follows); None when no table has it.

    Raises ``tomllib.TOMLDecodeError`` for a file that is not TOML."""
    tables = tomllib.loads(text).get("card", [])
    ids = [raw.get("id") if isinstance(raw, dict) else None for raw in tables]
    if card_id not in ids:
        return None
    header, key_lines = _table_positions(text, "card")[ids.index(card_id)]
    lines = text.splitlines()
    end = next((n for n, line in _scan(text) if n > header and re.match(r"\s*\[", line)), None)
    body = lines[header - 1 : (end or len(lines) + 1) - 1]
    dropped = {key_lines["id"] - header} if "id" in key_lines else set()
    if "covers" in key_lines:  # a list of ids: it ends where its brackets balance
        start = key_lines["covers"] - header
        depth = 0
        for index in range(start, len(body)):
            dropped.add(index)
            depth += body[index].count("[") - body[index].count("]")
            if depth <= 0:
                break
    kept = [(header + index, line) for index, line in enumerate(body) if index not in dropped]
    # blank and comment lines after its last key: a comment there heads what follows
    outside = {number for number, _ in _scan(text)}
    while kept and (
        not kept[-1][1].strip() or (kept[-1][0] in outside and kept[-1][1].lstrip()[:1] == "#")
    ):
        kept.pop()
    return "\n".join(line for _, line in kept) + "\n"


def _parse_coverage(
    data: dict[str, Any], text: str, builtin: bool, problems: list[Problem], path: str
) -> tuple[CoveragePoint, ...]:
    """Validate the ``[[coverage]]`` tables; append their problems, return the valid points."""
    raw_points = data.get("coverage", [])
    if not (isinstance(raw_points, list) and all(isinstance(raw, dict) for raw in raw_points)):
        line = _top_key_line(text, "coverage")
        problems.append(Problem(path, line, "'coverage' must be [[coverage]] tables"))
        return ()
    positions = _table_positions(text, "coverage")
    points: list[CoveragePoint] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_points):
        # An inline array of tables has no [[coverage]] headers: its problems go on its line.
        inline: tuple[int, dict[str, int]] = (_top_key_line(text, "coverage"), {})
        header, key_lines = positions[index] if index < len(positions) else inline
        found: list[tuple[int, str]] = []
        for name in sorted(set(raw) - _COVERAGE_KEYS):
            found.append(
                (key_lines.get(name, header), f"unknown key '{name}' for a coverage point")
            )
        key = raw.get("id")
        if not isinstance(key, str) or not SLUG_RE.match(key):
            message = "coverage point needs an 'id' of lower-case letters, digits and '-'"
            found.append((key_lines.get("id", header), message))
        elif key in seen:
            message = f"duplicate coverage id '{key}' (first on line {seen[key]})"
            found.append((key_lines.get("id", header), message))
        else:
            seen[key] = header
        point = raw.get("point")
        if point is None:
            found.append((header, "coverage point needs 'point'"))
        elif not isinstance(point, str) or not point.strip():
            found.append((key_lines.get("point", header), "'point' must be non-empty text"))
        source = raw.get("source")
        if source is None and builtin:
            found.append((header, "coverage point needs a 'source' link to the page it rests on"))
        elif source is not None and not (
            isinstance(source, str) and re.match(r"https://\S+$", source)
        ):
            found.append((key_lines.get("source", header), "'source' must be one https:// link"))
        problems.extend(Problem(path, line, message) for line, message in found)
        if not found:
            points.append(CoveragePoint(str(key), str(point).strip(), source, header))
    return tuple(points)


def _parse_card(
    raw: Any,
    header: int,
    key_lines: dict[str, int],
    builtin: bool,
    point_ids: set[Any],
    problems: list[tuple[int, str]],
    lines: list[str],
) -> CardSpec | None:
    """Validate one ``[[card]]`` table; append ``(line, message)`` problems, or return the card.

    ``point_ids`` holds the ids of the file's ``[[coverage]]`` tables, which ``covers`` may name.

    A cloze card returns its first cloze number; the parser adds the others.
    """

    def at(key: str) -> int:
        return key_lines.get(key, header)

    if not isinstance(raw, dict):
        problems.append((header, "a card must be a table"))
        return None
    card_id = raw.get("id")
    if not isinstance(card_id, str) or not SLUG_RE.match(card_id):
        problems.append((at("id"), "card needs an 'id' of lower-case letters, digits and '-'"))
    kind = raw.get("kind", "basic")
    if kind not in KINDS:
        problems.append((at("kind"), f"unknown kind {kind!r}; use one of {', '.join(KINDS)}"))
        return None
    required, optional = _KIND_KEYS[kind]
    allowed = _COMMON_KEYS | required | optional
    for key in sorted(set(raw) - allowed):
        problems.append((at(key), f"unknown key '{key}' for a {kind} card"))
    for key in sorted(required - set(raw)):
        problems.append((header, f"{kind} card needs '{key}'"))
    for key in sorted((required | optional) & set(raw) - {"accept", "choices"}):
        value = raw[key]
        if not isinstance(value, str) or not value.strip():
            problems.append((at(key), f"'{key}' must be non-empty text"))
    for key in ("accept", "choices", "tags", "covers"):
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            problems.append((at(key), f"'{key}' must be a list of non-empty strings"))
    tags = raw.get("tags", [])
    if isinstance(tags, list):
        for tag in tags:
            if not isinstance(tag, str) or not tag.strip():
                continue
            if builtin and not SLUG_RE.match(tag):
                problems.append((at("tags"), f"tag {tag!r}: use lower-case letters, digits, '-'"))
            elif not builtin and card_tag(tag) != tag:
                fix = f"write it {card_tag(tag)!r}" if card_tag(tag) else "use letters or digits"
                problems.append((at("tags"), f"tag {tag!r}: {fix}"))
    covers = raw.get("covers", [])
    if isinstance(covers, list) and all(isinstance(point, str) for point in covers):
        for point in sorted(p for p, n in Counter(covers).items() if n > 1):
            problems.append((at("covers"), f"'covers' names '{point}' twice"))
        for point in dict.fromkeys(covers):
            if point.strip() and point not in point_ids:
                message = f"'covers' names '{point}', which no [[coverage]] point has as its id"
                problems.append((at("covers"), message))
    docs = raw.get("docs")
    if docs is None and builtin:
        problems.append((header, "card needs a 'docs' link to the page it rests on"))
    elif docs is not None and not (isinstance(docs, str) and re.match(r"https://\S+$", docs)):
        problems.append((at("docs"), "'docs' must be one https:// link"))
    if problems:
        return None

    extra = raw.get("back", "").strip()
    accepted: tuple[str, ...] = ()
    if kind == "basic":
        front, back = raw["front"].strip(), raw["back"].strip()
    elif kind == "cloze":
        text = raw["text"].strip()
        try:
            nodes = parse_cloze(text, code=markdown_code(text))
        except ClozeError as exc:
            problems.append((_cloze_error_line(raw["text"], exc, at("text"), lines), exc.message))
            return None
        numbers = cloze_numbers(nodes)
        if not numbers:
            problems.append((at("text"), "cloze 'text' has no {{c1::...}} deletion"))
            return None
        return _cloze_card(raw, nodes, numbers[0], header)
    elif kind == "output":
        prompt = raw.get("front", OUTPUT_PROMPT).strip()
        front = f"{prompt}\n\n```python\n{raw['code'].strip(chr(10))}\n```"
        back = _join(f"```text\n{raw['output'].rstrip(chr(10))}\n```", extra)
    elif kind == "typed":
        front = raw["front"].strip()
        accepted = (raw["answer"].strip(), *(a.strip() for a in raw.get("accept", [])))
        back = _join(f"**{accepted[0]}**", extra)
    else:  # choice
        choices = [c.strip() for c in raw["choices"]]
        answer = raw["answer"].strip()
        if not 2 <= len(choices) <= 6:
            problems.append((at("choices"), "'choices' needs 2 to 6 options"))
        if len(set(choices)) != len(choices):
            problems.append((at("choices"), "'choices' has the same option twice"))
        if answer not in choices:
            problems.append((at("answer"), "'answer' must be one of 'choices', exactly"))
        if problems:
            return None
        letters = "abcdef"
        listing = "\n".join(f"- {letters[i]}) {c}" for i, c in enumerate(choices))
        front = f"{raw['front'].strip()}\n\n{listing}"
        accepted = (letters[choices.index(answer)],)
        back = _join(f"**{accepted[0]}) {answer}**", extra)
    return CardSpec(
        key=str(card_id),
        kind=kind,
        front=front,
        back=back,
        tags=tuple(tags),
        docs=docs,
        accepted=accepted,
        code=raw.get("code") if kind == "output" else None,
        output=raw.get("output") if kind == "output" else None,
        line=header,
        covers=tuple(covers),
    )


def _cloze_card(
    raw: dict[str, Any], nodes: tuple[Node, ...], number: int, header: int | None
) -> CardSpec:
    """Build the card for cloze ``number`` of a validated cloze table whose text is ``nodes``."""
    front, back = render_cloze(nodes, number, MARKDOWN)
    return CardSpec(
        key=f"{raw['id']}#c{number}",
        kind="cloze",
        front=front,
        back=_join(back, raw.get("back", "").strip()),
        tags=tuple(raw.get("tags", [])),
        docs=raw.get("docs"),
        line=header,
        covers=tuple(raw.get("covers", [])),
    )


def _more_cloze_cards(raw: dict[str, Any], first: CardSpec) -> list[CardSpec]:
    text = raw["text"].strip()
    nodes = parse_cloze(text, code=markdown_code(text))
    return [_cloze_card(raw, nodes, n, first.line) for n in cloze_numbers(nodes)[1:]]


def _cloze_error_line(value: str, error: ClozeError, line: int, lines: list[str]) -> int:
    """The file line of a cloze error in the ``text`` value set on ``line``, counted through
    a multi-line string (TOML drops a line break right after its opening quotes)."""
    opening = _MULTI_LINE_OPENING.search(lines[line - 1]) if line <= len(lines) else None
    if opening is None:
        return line
    skipped = len(value) - len(value.lstrip())
    below = 0 if opening.group(2).strip() else 1
    return line + below + value[: skipped + error.offset].count("\n")


def _join(*parts: str) -> str:
    return "\n\n".join(p for p in parts if p)


def _toml_problem(path: str, exc: tomllib.TOMLDecodeError) -> Problem:
    """Turn tomllib's ``msg (at line L, column C)`` into ``msg (column C)`` on line L (Python
    3.11's error keeps the position only in its text)."""
    match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
    if match is None:
        return Problem(path, 1, str(exc))
    message = str(exc)[: match.start()].strip()
    return Problem(path, int(match.group(1)), f"{message} (column {match.group(2)})")


def _scan(text: str) -> list[tuple[int, str]]:
    """Yield ``(line number, line)`` for lines that start outside a TOML multi-line string."""
    lines: list[tuple[int, str]] = []
    open_quote: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if open_quote is None:
            lines.append((number, line))
        for match in re.finditer(r'"""|\'\'\'', line):
            quote = match.group(0)
            if open_quote is None:
                open_quote = quote
            elif quote == open_quote:
                open_quote = None
    return lines


def _table_positions(text: str, name: str) -> list[tuple[int, dict[str, int]]]:
    """Line of each ``[[name]]`` header and of the keys set inside it, in file order."""
    positions: list[tuple[int, dict[str, int]]] = []
    inside = False
    for number, line in _scan(text):
        if re.match(r"\s*\[", line):
            inside = re.match(rf"\s*\[\[\s*{re.escape(name)}\s*\]\]", line) is not None
            if inside:
                positions.append((number, {}))
        elif inside and (match := re.match(r"\s*([A-Za-z0-9_-]+)\s*=", line)):
            positions[-1][1].setdefault(match.group(1), number)
    return positions


def _top_key_line(text: str, key: str) -> int:
    for number, line in _scan(text):
        if re.match(r"\s*\[", line):
            break
        if re.match(rf"\s*{re.escape(key)}\s*=", line):
            return number
    return 1
