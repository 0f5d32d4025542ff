"""CSV and TSV files: spreadsheets, and Anki's "Notes in Plain Text" exports (pure).

Quoted fields may hold newlines, delimiters and doubled quotes (RFC 4180); a field that merely
starts with a quote is text, quotes and all (see :func:`split_rows`). A UTF-8 byte-order mark
and CRLF line ends are accepted.

Anki's header lines at the top of the file are understood (Anki manual, "Importing: Text files
-> File headers"): ``#separator:`` (``Tab``, ``Comma``, ``Semicolon``, ``Space``, ``Pipe``,
``Colon`` or the character itself), ``#html:true|false``, ``#tags:`` (added to every card),
``#columns:`` (column names), ``#deck:``, ``#notetype:``, and ``#notetype column:``,
``#deck column:``, ``#tags column:``, ``#guid column:`` (1-based column numbers). Other lines
starting with ``#`` at the top are comments.

Without ``#separator:`` (or a delimiter forced by ``--format``) the delimiter is the one of
tab, ``|``, ``;``, ``,`` and ``:`` that splits the first records, read as a CSV parser reads them,
into the most consistent number (at least two) of fields. Without
``#columns:``, a first row made only of column names (``Front``, ``Back``, ``Question``,
``Answer``, ...) names the columns. Without ``#html:``, a field is read as HTML when it holds a
known HTML tag or a character reference, and even then text in angle brackets that is not a
known tag (``<C-g>``) stays text.

Mapping: the first field column is the question (``Text`` of a cloze note), the second the
answer (``Back Extra`` of a cloze note), further field columns are added to the answer; for one
of Anki's stock note types (:data:`~trainer.importers.notes.STOCK_FIELD_COUNTS`) the columns
beyond its fields are left out, as Anki leaves them out. A note type whose name has "cloze"
gives one card per cloze number, "reverse" a second card from answer to question, "type" a
typed-answer card. One whose name has "optional" and "reverse" (Anki's "Basic (optional reversed
card)") takes its third field column as Add Reverse: never shown, and the reverse card is made
only when it is not empty (:func:`~trainer.importers.notes.field_is_empty`). Rows without a
question or an answer, and repeats of an earlier card, are skipped and counted.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.entities import html5
from itertools import islice
from operator import itemgetter

from trainer.content.cloze import ClozeError
from trainer.content.parser import CardSpec
from trainer.errors import DeckError, Problem
from trainer.importers.html_text import (
    PLAIN_TAG,
    html_to_card_text,
    html_to_plain,
    plain_to_card_text,
    plain_to_html,
)
from trainer.importers.imported import (
    ImportedDeck,
    SkipCounter,
    distinct_cards,
    problems_skipped,
)
from trainer.importers.notes import (
    STOCK_FIELD_COUNTS,
    anki_tags,
    basic_card,
    card_key,
    cloze_cards,
    field_is_empty,
    join_text,
    typed_card,
)
from trainer.importers.text import decode_text

SEPARATORS = {
    "tab": "\t",
    "comma": ",",
    "semicolon": ";",
    "space": " ",
    "pipe": "|",
    "colon": ":",
}
#: Delimiters tried when the file does not name one; the first wins a tie.
GUESSED = ("\t", "|", ";", ",", ":")
#: Rows looked at to guess the delimiter.
GUESS_ROWS = 200
_QUESTION_NAMES = {"front", "question", "q", "term", "word", "prompt", "text", "cloze"}
_ANSWER_NAMES = {"back", "answer", "a", "definition", "meaning", "response", "back extra"}
_META_NAMES = {"tags": "tags", "guid": "guid", "deck": "deck", "notetype": "notetype"}
_OTHER_NAMES = {
    "extra",
    "notes",
    "note",
    "hint",
    "example",
    "examples",
    "source",
    "note type",
    "type",
}
_HEADER = re.compile(r"#([A-Za-z ]+):(.*)")
#: Header keys whose value is one word; a spreadsheet may have appended delimiters to it.
_KNOWN_KEYS = {
    "separator", "html", "tags", "columns", "deck", "notetype", "notetype column",
    "deck column", "tags column", "guid column", "match scope", "if matches",
}  # fmt: skip
_ONE_WORD_KEYS = {
    "separator",
    "html",
    "notetype column",
    "deck column",
    "tags column",
    "guid column",
}
_TAG_CELL = re.compile(r"(?:[\w:/-]+(?:\s+[\w:/-]+)*)?")
#: HTML elements a field may hold (WHATWG HTML's element index, plus Anki's own). Text in
#: angle brackets naming anything else (``<C-g>``, ``<T>``) is not a tag and stays as text.
HTML_TAGS = frozenset({
    "a", "abbr", "address", "anki-mathjax", "area", "article", "aside", "audio", "b", "bdi",
    "bdo", "big", "blockquote", "body", "br", "button", "canvas", "caption", "center", "cite",
    "code", "col", "colgroup", "data", "dd", "del", "details", "dfn", "div", "dl", "dt", "em",
    "embed", "figcaption", "figure", "font", "footer", "form", "h1", "h2", "h3", "h4", "h5",
    "h6", "head", "header", "hr", "html", "i", "iframe", "img", "input", "ins", "kbd", "label",
    "legend", "li", "link", "main", "map", "mark", "math", "meta", "nav", "noscript", "object",
    "ol", "optgroup", "option", "p", "picture", "pre", "q", "rp", "rt", "ruby", "s", "samp",
    "script", "section", "select", "small", "source", "span", "strike", "strong", "style",
    "sub", "summary", "sup", "svg", "table", "tbody", "td", "template", "textarea", "tfoot",
    "th", "thead", "title", "tr", "track", "tt", "u", "ul", "var", "video", "wbr"
})  # fmt: skip
_TAG_BODY = (
    r"(?:/?(?:" + "|".join(sorted(HTML_TAGS, key=len, reverse=True)) + r")"
    r"(?:\s+[a-zA-Z_:@][-\w:.@]*(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'=<>`]+))?)*\s*/?>"
    r"|!--)"
)
_REAL_TAG = re.compile("<" + _TAG_BODY, re.IGNORECASE)
_NOT_A_TAG = re.compile("<(?!" + _TAG_BODY + ")", re.IGNORECASE)
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|([A-Za-z][A-Za-z0-9]{1,31}));")


@dataclass
class _Layout:
    """What the header lines (or a header row) say about the columns; numbers are 0-based."""

    delimiter: str | None = None
    html: bool | None = None
    tags: tuple[str, ...] = ()
    names: list[str] | None = None
    deck: str | None = None
    notetype: str = ""
    columns: dict[str, int] = field(default_factory=dict)  # notetype, deck, tags, guid
    header_lines: int = 0
    comments: int = 0  # comment lines and header lines of unknown keys
    names_line: str | None = None  # the #columns: value, split once the delimiter is known
    #: by number of fields in a row: what takes its question, answer and further fields
    picks: dict[int, Callable[[list[str]], tuple[str, ...]]] = field(default_factory=dict)


def read_delimited(data: bytes, path: str, delimiter: str | None = None) -> ImportedDeck:
    """Read a CSV/TSV file's bytes; ``delimiter`` forces one unless a ``#separator:`` header
    names another (``"\\t"`` for ``--format tsv``, ``","`` for ``--format csv``).

    A row whose cloze deletion is never closed is left out, counted and named in a warning on
    its line. Raises :class:`DeckError` naming the file and line for text that is not UTF-8, a
    bad header value, or such rows when the file has no other card.
    """
    text = decode_text(data, path)
    layout = _read_header(text, path)
    body = text.split("\n", layout.header_lines)[-1] if layout.header_lines else text
    chosen = layout.delimiter or delimiter or _guess_delimiter(body)
    if layout.names_line is not None:
        layout.names = [name.strip() for name in layout.names_line.split(chosen)]
    body_rows = split_rows(body, chosen, layout.header_lines)
    first = next(body_rows, None)
    if first is not None and layout.names is None and _is_header_row(first[1]):
        layout.names = [cell.strip() for cell in first[1]]
        first = None
    if layout.names is not None:
        _columns_from_names(layout)
    every_row = list(_chain(first, body_rows))
    rows = [(line, fields) for line, fields in every_row if not fields[0].startswith("#")]
    layout.comments += len(every_row) - len(rows)
    if layout.names is None and not layout.columns:
        tags_column = _trailing_tags(rows)
        if tags_column is not None:
            layout.columns["tags"] = tags_column
    skips = SkipCounter()
    placed: list[tuple[CardSpec, str]] = []
    deck = layout.deck
    problems: list[Problem] = []
    deck_column = "deck" in layout.columns
    for line, row in rows:
        try:
            row_cards = _row_cards(row, line, layout, skips)
        except ClozeError as exc:
            problems.append(Problem(path, line, exc.message))
            continue
        row_deck = _cell(row, layout, "deck") if deck_column else ""
        placed += [(card, row_deck) for card in row_cards]
        deck = deck or row_deck or None
    if problems and not placed:
        raise DeckError(problems)
    skipped_rows = problems_skipped(problems, skips)
    kept = distinct_cards(placed, skips)
    return ImportedDeck(
        path=path,
        cards=tuple(card for card, _ in kept),
        skipped=skips.total,
        skip_reasons=skips.phrases(),
        name=deck,
        card_decks={card.key: card_deck for card, card_deck in kept if card_deck},
        comment_lines=layout.comments,
        warnings=skipped_rows + _ragged_rows(rows),
    )


def _ragged_rows(rows: list[tuple[int, list[str]]], shown: int = 10) -> tuple[str, ...]:
    """A warning naming the rows whose number of fields differs from most rows' (the first
    ``shown`` of them by line), or none when every row has as many fields."""
    counts = Counter(len(fields) for _line, fields in rows)
    if len(counts) < 2:
        return ()
    usual = counts.most_common(1)[0][0]
    odd = [(line, len(fields)) for line, fields in rows if len(fields) != usual]
    listed = ", ".join(f"line {line} has {count}" for line, count in odd[:shown])
    more = f" and {len(odd) - shown} more" if len(odd) > shown else ""
    return (f"rows disagree on their number of fields: most have {usual}; {listed}{more}",)


def _chain(
    first: tuple[int, list[str]] | None, rows: Iterator[tuple[int, list[str]]]
) -> Iterator[tuple[int, list[str]]]:
    if first is not None:
        yield first
    yield from rows


def _read_header(text: str, path: str) -> _Layout:
    """Parse Anki's ``#key:value`` lines at the top of the file."""
    layout = _Layout()
    problems: list[Problem] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if number == 1 and line.startswith("tags:"):  # Anki's historic first line
            layout.tags, layout.header_lines = anki_tags(line[len("tags:") :]), 1
            continue
        if not line.startswith("#"):
            break
        layout.header_lines = number
        match = _HEADER.fullmatch(line.rstrip("\r"))
        if match is None or match.group(1).strip().lower() not in _KNOWN_KEYS:
            layout.comments += 1
            continue
        key, value = match.group(1).strip().lower(), match.group(2).strip()
        if key in _ONE_WORD_KEYS:
            value = _one_word(value)
        if key == "separator":
            layout.delimiter = SEPARATORS.get(value.lower(), value if len(value) == 1 else None)
            if layout.delimiter is None or layout.delimiter in '"\r\n':
                message = (
                    f"unknown #separator {value!r}; use Tab, Comma, Semicolon, Space, Pipe,"
                    " Colon or one character"
                )
                problems.append(Problem(path, number, message))
        elif key == "html":
            if value.lower() not in ("true", "false"):
                problems.append(
                    Problem(path, number, f"#html must be true or false, not {value!r}")
                )
            layout.html = value.lower() == "true"
        elif key == "tags":
            layout.tags = anki_tags(value)
        elif key == "columns":
            layout.names_line = value or None
        elif key == "deck":
            layout.deck = value or None
        elif key == "notetype":
            layout.notetype = value
        elif key.endswith(" column") and key[: -len(" column")] in _META_NAMES:
            if not value.isdigit() or int(value) < 1:
                message = f"#{key} must be a column number from 1, not {value!r}"
                problems.append(Problem(path, number, message))
            else:
                layout.columns[_META_NAMES[key[: -len(" column")]]] = int(value) - 1
    if problems:
        raise DeckError(problems)
    return layout


def _one_word(value: str) -> str:
    """A one-word header value without what a spreadsheet appended: ``tab,,,`` is ``tab``,
    ``3\t\t`` is ``3`` and ``,`` stays ``,`` (the first character is always kept), as Anki
    reads these values."""
    for index, char in enumerate(value[1:], start=1):
        if not char.isalnum():
            return value[:index]
    return value


def _trailing_tags(rows: list[tuple[int, list[str]]]) -> int | None:
    """The index of the last column when every row has the same three or more fields and
    every cell of that column is empty or Anki tags (words joined by ``_ - :: /``, no
    sentence punctuation), as an older Anki "Notes in Plain Text" export writes them without a
    header; Anki reads the column after a note type's fields as its tags."""
    lengths = {len(fields) for _line, fields in rows}
    if len(lengths) != 1 or (length := lengths.pop()) < 3:
        return None
    if all(_TAG_CELL.fullmatch(fields[-1].strip()) for _line, fields in rows):
        return length - 1
    return None


def _guess_delimiter(body: str) -> str:
    """The delimiter of :data:`GUESSED` that splits the first :data:`GUESS_ROWS` records of
    ``body`` most consistently: the most records with one same number (two or more) of fields,
    less the records with any other number; on a tie, the first in :data:`GUESSED`; a comma when
    none splits any record.

    Records are read as a CSV parser reads them (:func:`_guess_records`), so the separators
    inside quoted fields, which may span lines, are not counted; one ragged row, a row of
    commas or an empty field does not outvote a tab that splits every other row alike. (Anki
    takes the first of tab, pipe, semicolon, colon and comma found anywhere in the file's first
    8 KiB, which a single comma in a tab file, or a colon in a quoted field, defeats.)
    """
    records = list(islice(_guess_records(body), GUESS_ROWS))
    best, best_score = ",", -len(records)  # below any delimiter that splits a record
    for candidate in GUESSED:
        counts = Counter(found[candidate] for found in records if found[candidate])
        if counts:
            alike = counts.most_common(1)[0][1]
            score = alike - (len(records) - alike)
            if score > best_score:
                best, best_score = candidate, score
    return best


#: A quoted field that ends at any delimiter of :data:`GUESSED` or a line end; a run of text
#: holding no delimiter or line break.
_GUESS_QUOTED = re.compile(r'"[^"]*(?:""[^"]*)*"(?=[\t|;,:]|\r|\n|\Z)')
_GUESS_TEXT = re.compile(r"[^\t|;,:\r\n]+")


def _guess_records(body: str) -> Iterator[Counter[str]]:
    """For each non-blank record of ``body``, how many of each :data:`GUESSED` delimiter it
    holds outside quoted fields.

    A quote starting a line or following a delimiter opens a quoted field (holding delimiters,
    line breaks and doubled quotes) when a lone quote followed by a delimiter or a line end
    closes it, as RFC 4180 reads it whichever delimiter the file uses; any other quote is text,
    as in :func:`split_rows`, so a stray quote does not swallow the records after it.
    """
    found: Counter[str] = Counter()
    position, end, field_start, text = 0, len(body), True, False
    while position < end:
        char = body[position]
        if char in "\r\n":  # a line end: LF, CRLF or a lone CR, as in :func:`split_rows`
            if text:
                yield found
            found, field_start, text = Counter(), True, False
            position += 2 if body.startswith("\r\n", position) else 1
            continue
        if char in GUESSED:
            found[char] += 1
            field_start = True
            position += 1
            continue
        match = _GUESS_QUOTED.match(body, position) if field_start and char == '"' else None
        if match is None:
            match = _GUESS_TEXT.match(body, position)
            assert match is not None  # ``char`` is no delimiter nor line break
        text = text or not match.group().isspace()
        field_start = False
        position = match.end()
    if text:
        yield found


def split_rows(body: str, delimiter: str, offset: int) -> Iterator[tuple[int, list[str]]]:
    """``(line of the row's start, fields)`` for every row of ``body``, whose first line is line
    ``offset + 1`` of the file; blank lines are left out.

    A field is quoted (RFC 4180: it may hold delimiters, line breaks and doubled quotes) only
    when its closing quote is followed by the delimiter or the end of the line; any other field,
    including one that merely starts with a quote, is taken as written up to the next delimiter.
    So a stray quote never swallows the rows after it nor refuses the file.

    A line without a carriage return in which no field starts with a quote (most lines) is
    split at its delimiters as it is; any other row is read field by field (:func:`_row_at`).
    """
    patterns = _field_patterns(delimiter)
    opening = delimiter + '"'
    position, line, end = 0, offset + 1, len(body)
    while position < end:
        start = line
        stop = body.find("\n", position)
        if stop < 0:
            stop = end
        text = body[position:stop]
        if text.endswith("\r"):
            text = text[:-1]
        if "\r" in text or text.startswith('"') or opening in text:
            fields, position, line = _row_at(body, position, line, delimiter, patterns)
        else:
            fields, position, line = text.split(delimiter), stop + 1, line + 1
        if "".join(fields).strip():
            yield start, fields


def _row_at(
    body: str,
    position: int,
    line: int,
    delimiter: str,
    patterns: tuple[re.Pattern[str], re.Pattern[str]],
) -> tuple[list[str], int, int]:
    """The fields of the row of ``body`` starting at ``position`` (on ``line``), read field by
    field with :func:`_field_patterns`, the position after the row and the line it ends on."""
    quoted, literal = patterns
    fields = []
    while True:
        match = quoted.match(body, position) if body.startswith('"', position) else None
        if match is not None:
            fields.append(match.group(1).replace('""', '"'))
            line += match.group(0).count("\n")
        else:
            match = literal.match(body, position)
            assert match is not None  # the pattern matches the empty string
            fields.append(match.group(0))
        position = match.end()
        if body.startswith(delimiter, position):
            position += len(delimiter)
            continue
        position += 2 if body.startswith("\r\n", position) else 1
        return fields, position, line + 1


def _field_patterns(delimiter: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """A quoted field (its content as group 1) and a field taken as written."""
    escaped = re.escape(delimiter)
    return (
        re.compile(rf'"([^"]*(?:""[^"]*)*)"(?={escaped}|\r|\n|\Z)'),
        re.compile(rf"[^{escaped}\r\n]*"),
    )


def _is_header_row(cells: list[str]) -> bool:
    known = _QUESTION_NAMES | _ANSWER_NAMES | set(_META_NAMES) | _OTHER_NAMES
    names = [cell.strip().lower() for cell in cells]
    return (
        len(names) >= 2
        and all(name in known for name in names if name)
        and any(name in _QUESTION_NAMES for name in names)
    )


def _columns_from_names(layout: _Layout) -> None:
    """Meta columns from ``#columns:`` names (``Tags``, ``GUID``, ...) not given by number."""
    assert layout.names is not None
    for index, name in enumerate(layout.names):
        role = _META_NAMES.get(name.lower().replace(" ", ""))
        if role is not None:
            layout.columns.setdefault(role, index)


def _field_values(row: list[str], layout: _Layout) -> tuple[str, ...]:
    """The question field, the answer field and any further fields of ``row`` (an empty
    question or answer where the row has no column for it)."""
    pick = layout.picks.get(len(row))
    if pick is None:
        pick = layout.picks[len(row)] = _pick(*_plan(len(row), layout))
    return pick(row)


def _pick(
    question: int | None, answer: int | None, rest: list[int]
) -> Callable[[list[str]], tuple[str, ...]]:
    """A function taking the fields of a :func:`_plan` out of a row, in its order."""
    if question is not None and answer is not None:
        return itemgetter(question, answer, *rest)
    return lambda row: (
        row[question] if question is not None else "",
        row[answer] if answer is not None else "",
        *(row[i] for i in rest),
    )


def _plan(length: int, layout: _Layout) -> tuple[int | None, int | None, list[int]]:
    """Which columns of a ``length``-field row hold the question, the answer and the rest."""
    meta = set(layout.columns.values())
    indexes = [i for i in range(length) if i not in meta]
    if layout.names is not None:
        named = [(i, layout.names[i].lower()) for i in indexes if i < len(layout.names)]
        question = next((i for i, n in named if n in _QUESTION_NAMES), None)
        answer = next((i for i, n in named if n in _ANSWER_NAMES), None)
        if question is not None and answer is not None:
            return question, answer, [i for i in indexes if i not in (question, answer)]
    padded: list[int | None] = [*indexes, None, None]
    return padded[0], padded[1], indexes[2:]


def _cell(row: list[str], layout: _Layout, role: str) -> str:
    index = layout.columns.get(role)
    return row[index].strip() if index is not None and index < len(row) else ""


def _row_cards(row: list[str], line: int, layout: _Layout, skips: SkipCounter) -> list[CardSpec]:
    """The cards one row gives (none, with a counted skip, for an incomplete row)."""
    fields = _field_values(row, layout)
    html = [_is_html(v) for v in fields] if layout.html is None else [layout.html] * len(fields)
    if True in html:
        fields = tuple(_tags_as_text(v) if h else v for v, h in zip(fields, html, strict=True))
    question, answer = fields[0], fields[1]
    tags, guid, notetype = layout.tags, None, layout.notetype.lower()
    if layout.columns:
        tags += anki_tags(_cell(row, layout, "tags"))
        guid = _cell(row, layout, "guid") or None
        notetype = (_cell(row, layout, "notetype") or layout.notetype).lower()
    stock_fields = STOCK_FIELD_COUNTS.get(notetype)
    if stock_fields is not None:
        fields, html = fields[:stock_fields], html[:stock_fields]
    if "cloze" in notetype:
        text = question if html[0] else plain_to_html(question)
        cards = cloze_cards(guid, text, _text(answer, html[1]), tags, line)
        if not cards:
            skips.skip("no cloze deletion")
        return cards
    front = _text(question, html[0])
    if "type" in notetype:
        typed = typed_card(guid, front, _plain(answer, html[1]), tags, line)
        if typed is None:
            skips.skip("no question or answer")
        return [typed] if typed else []
    add_reverse = True  # an optional reversed note type's Add Reverse field is not empty
    if "optional" in notetype and "revers" in notetype:
        flag, flag_html = (fields[2], html[2]) if len(fields) > 2 else ("", False)
        add_reverse = not field_is_empty(flag) if flag_html else bool(flag.strip())
        fields, html = fields[:2] + fields[3:], html[:2] + html[3:]
    if len(fields) == 2:  # join_text of the answer alone is the answer
        back = _text(answer, html[1])
    else:
        back = join_text(*map(_text, fields[1:], html[1:]))
    card = basic_card(guid, front, back, tags, line)
    if card is None:
        skips.skip("no question or answer")
        return []
    if "revers" not in notetype or not add_reverse:
        return [card]
    reverse = basic_card(card_key(card.key, 1), back, front, tags, line)
    return [card] if reverse is None else [card, reverse]


def _is_html(value: str) -> bool:
    """Whether a field holds real HTML: a tag of :data:`HTML_TAGS` written as HTML writes it,
    or a character reference (``&amp;``, ``&#39;``); ``a<b && b>c`` and ``<C-g>`` do not."""
    if "<" in value and _REAL_TAG.search(value):
        return True
    return "&" in value and any(
        match.group(1) is None or f"{match.group(1)};" in html5 for match in _ENTITY.finditer(value)
    )


def _tags_as_text(html: str) -> str:
    """``html`` with every ``<`` that does not open a known tag or a comment escaped, so an
    unknown tag such as ``<C-g>`` shows as written instead of being dropped.

    When every ``<`` opens a known tag without attributes (``<b>``, ``</div>``, ``<br/>``),
    which :data:`_TAG_BODY` always reads as a tag, nothing is escaped and ``html`` is returned
    without trying the many names of :data:`_NOT_A_TAG` at each one.
    """
    if "<" not in html:
        return html
    tags = PLAIN_TAG.findall(html)
    if len(tags) == html.count("<") and all(name.lower() in HTML_TAGS for _, name, _ in tags):
        return html
    return _NOT_A_TAG.sub("&lt;", html)


def _text(value: str, html: bool) -> str:
    return html_to_card_text(value) if html else plain_to_card_text(value)


def _plain(value: str, html: bool) -> str:
    return html_to_plain(value) if html else " ".join(value.split())
