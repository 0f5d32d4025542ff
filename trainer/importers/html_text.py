r"""HTML fields to card text: the Markdown the review screen renders, reading as the field did.

Anki fields, and CSV fields exported with HTML, are HTML fragments. The review renders card text
as Markdown through rich, which drops raw HTML, so a field is converted before it is stored:

- entities are decoded; runs of white space collapse as a browser collapses them;
- ``<br>`` is a line break; ``div``, ``p``, headings, list items and table rows start lines;
- ``<b>``/``<strong>`` become ``**bold**``, ``<i>``/``<em>`` ``*italic*``; punctuation at
  either end moves outside the marks when a letter touches it from outside
  (``<b>Note:</b>text`` is ``**Note**:text``), as Markdown (CommonMark's flanking rules)
  would otherwise show the asterisks as written;
- ``<code>`` becomes a code span (a fenced code block when a ``<br>`` breaks it) and ``<pre>``
  a fenced code block (language from a ``language-X`` or ``lang-X`` class), its text kept
  exactly, ``<br>`` as a line break; the line-number gutter of a highlighted code table
  (Pygments' ``linenos``, other highlighters' ``gutter``/``lineno`` cells and spans) is left out;
- an element the field hides (``style="display: none"`` or ``visibility: hidden``, the
  ``hidden`` attribute) is left out with its content, as a browser shows nothing of it;
- an ordered list counts from its ``start`` (and an item's ``value``), zero included;
- ``<sup>``/``<sub>`` text is raised or lowered with Unicode's superscript and subscript
  characters when it has them all (``10⁶``, ``H₂O``), else written ``^(...)``/``_(...)``;
- math is shown as its TeX in a code span: MathJax ``\(...\)`` inline, ``\[...\]`` on a line of
  its own, and Anki's ``[$]...[/$]``, ``[$$]...[/$$]`` and ``[latex]...[/latex]`` the same way;
- ``<img src>``, ``<audio>``/``<video>`` sources and Anki's ``[sound:NAME]`` become
  ``[image: NAME]`` / ``[sound: NAME]`` (see :func:`media_token`);
- a link keeps its text, followed by its address when that differs;
- ``script``, ``style``, ``head`` and ``title`` are dropped with their content, every other tag
  is dropped and its text kept;
- literal text is escaped (``2 * 3``, ``<div>``, ``# not a heading``) so it shows as written.

Parsing uses the standard library's lenient :class:`html.parser.HTMLParser`.
"""

from __future__ import annotations

import re
import unicodedata
from html import unescape
from html.parser import HTMLParser

#: Characters that mean something to Markdown wherever they stand, escaped in literal text.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")
_MARKER_STARTS = frozenset("#+-=0123456789 ")
#: Line starts that Markdown reads as a heading, list item, quote or rule.
_LINE_START = re.compile(r"^([#+\-=])|^(\d+)([.)])")
_SPACE = re.compile(r"[ \t\n\r\f\v\xa0]+")
#: A tag without attributes (``<b>``, ``</div>``, ``<br/>``): closing slash, name, self-closing
#: slash.
PLAIN_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\s*(/?)>")
_SOUND = re.compile(r"\[sound:([^\]]+)\]")
_LANGUAGE = re.compile(r"\b(?:language|lang)-([A-Za-z0-9_+#-]+)")
#: Classes of a code table's line-number gutter (Pygments ``linenos``/``linenodiv``, Rouge and
#: CodeRay ``gutter``/``rouge-gutter``, highlight.js line-numbers ``hljs-ln-numbers``).
_GUTTER = re.compile(r"\b(?:linenos|linenodiv|lineno|gutter|rouge-gutter|hljs-ln-numbers)\b")
#: A style that hides its element: ``display: none`` or ``visibility: hidden`` (either may be
#: ``!important``).
_HIDDEN_STYLE = re.compile(
    r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden)\s*(?:!\s*important\s*)?(?:;|$)",
    re.IGNORECASE,
)
#: Math: (inline TeX, display TeX) of MathJax's and Anki's delimiters.
_MATH = re.compile(
    r"\\\((?P<inline>.+?)\\\)|\[\$\](?P<anki>.+?)\[/\$\]"
    r"|\\\[(?P<display>.+?)\\\]|\[\$\$\](?P<anki_display>.+?)\[/\$\$\]"
    r"|\[latex\](?P<latex>.+?)\[/latex\]",
    re.DOTALL | re.IGNORECASE,
)
_MATH_MARKS = ("\\(", "\\[", "[$", "[latex]", "[LATEX]", "[Latex]")

_DROPPED = {"script", "style", "head", "title", "template", "noscript"}
_VOID = {"br", "hr", "img", "source", "input", "wbr", "meta", "link", "col", "area", "embed"}
_BLOCKS = {
    "address", "article", "aside", "blockquote", "dd", "details", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "header", "main", "nav", "section",
    "summary", "table", "tbody", "thead", "tfoot", "center",
}  # fmt: skip
_PARAGRAPHS = {"p", "h1", "h2", "h3", "h4", "h5", "h6"}
_STRONG = {"b", "strong", "h1", "h2", "h3", "h4", "h5", "h6"}
_EMPHASIS = {"i", "em"}
#: Unicode's superscript and subscript forms (digits, signs, brackets and the letters that
#: have one), for ``<sup>`` and ``<sub>``.
_SCRIPT_TABLES = {
    "sup": str.maketrans("0123456789+-=()in", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁱⁿ"),
    "sub": str.maketrans("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ"),
}
_SCRIPTS = frozenset(_SCRIPT_TABLES)
_ESCAPED = re.compile(r"\\(.)")
#: The attribute values of a tag without attributes (most tags of a field).
_NO_ATTRIBUTES: dict[str, str] = {}


def escape_markdown(text: str) -> str:
    """``text`` with every character Markdown would act on escaped by a backslash.

    Only characters that can change how a line renders are escaped: ``\\ ` * _ [ ] < > | ~ &``
    anywhere, and a heading, list, quote or rule marker at the start of a line.
    """
    escaped = _SPECIAL.sub(r"\\\1", text) if _SPECIAL.search(text) else text
    if "\n" not in escaped:
        return _escape_line_start(escaped)
    return "\n".join(_escape_line_start(line) for line in escaped.split("\n"))


def _escape_line_start(line: str) -> str:
    if not line or line[0] not in _MARKER_STARTS:
        return line
    stripped = line.lstrip(" ")
    match = _LINE_START.match(stripped)
    if match is None:
        return line
    indent = line[: len(line) - len(stripped)]
    if match.group(1):
        return f"{indent}\\{stripped}"
    number = match.group(2)
    return f"{indent}{number}\\{stripped[len(number) :]}"


def media_token(kind: str, name: str) -> str:
    """The text standing for a media file in a card: ``[image: NAME]`` or ``[sound: NAME]``.

    ``kind`` is ``"image"`` or ``"sound"``; the result is escaped Markdown, so a renamed file can
    be rewritten in card text by replacing one token with another.
    """
    return escape_markdown(f"[{kind}: {name}]")


def html_to_card_text(html: str) -> str:
    """Convert one HTML field to card text (Markdown, see the module docstring). Never raises."""
    if ("\\" in html or "[" in html) and any(mark in html for mark in _MATH_MARKS):
        html = _MATH.sub(_math_as_code, html)
    if "<" not in html and "&" not in html and "[sound:" not in html:
        return escape_markdown(_collapse_space(html).strip())
    plain = _feed_plain_tags(html)
    if plain is not None:
        return plain.markdown()
    converter = _Converter()
    try:
        converter.feed(html)
        converter.close()
    except AssertionError:  # _markupbase rejects some "<![...]>" marked sections this way
        return html_to_card_text(html.replace("<!", "&lt;!"))
    return converter.markdown()


def _math_as_code(match: re.Match[str]) -> str:
    """A math span as HTML code: its TeX as plain text (tags dropped, entities read), inline
    for ``\\(...\\)`` and ``[$]``, on its own line for display math and ``[latex]``."""
    inline = match.group("inline") or match.group("anki")
    tex = html_to_plain(inline if inline is not None else match.group(match.lastgroup or 0))
    code = f"<code>{_escape_html(tex)}</code>"
    return code if inline is not None else f"<div>{code}</div>"


def _feed_plain_tags(html: str) -> _Markdown | None:
    """``html`` fed to a :class:`_Markdown` without the HTML parser when its only markup is
    tags without attributes (``<b>``, ``</div>``, ``<br/>``) outside ``script``/``style``,
    which is what most fields hold: it gets the very calls the parser would make. None for any
    other markup (nothing fed)."""
    # one pass of the pattern: text, then (closing slash, name, self-closing slash, text) per tag
    parts = PLAIN_TAG.split(html)
    names = [name.lower() for name in parts[2::4]]
    if len(names) != html.count("<") or not _DROPPED.isdisjoint(names):
        return None
    converter = _Markdown()
    handle_data = converter.handle_data
    if parts[0]:
        handle_data(unescape(parts[0]) if "&" in parts[0] else parts[0])
    for closing, name, self_closing, text in zip(
        parts[1::4], names, parts[3::4], parts[4::4], strict=True
    ):
        if closing:
            converter.handle_endtag(name)
        elif self_closing:
            converter.handle_startendtag(name, [])
        else:
            converter.handle_starttag(name, [])
        if text:
            handle_data(unescape(text) if "&" in text else text)
    return converter


def html_to_plain(html: str) -> str:
    """The text of an HTML field: tags dropped (``script``/``style`` with their content),
    entities decoded, white space collapsed. What Anki compares a typed answer with."""
    collector = _PlainText()
    try:
        collector.feed(html)
        collector.close()
    except AssertionError:  # see html_to_card_text
        return html_to_plain(html.replace("<!", "&lt;!"))
    return _SPACE.sub(" ", "".join(collector.parts)).strip()


def plain_to_card_text(text: str) -> str:
    """Plain text (a field without HTML) as card text: escaped, each line break shown.

    Most fields are one printable line (so with no white space but the space: every other
    ``str.isspace`` character is unprintable) that needs no escaping and no collapsing: no
    doubled space, no space at either end, no possible marker at the start, no Markdown-special
    character. They are returned as they are.
    """
    if (
        text.isprintable()
        and "  " not in text
        and text[:1] not in _MARKER_STARTS
        and text[-1:] != " "
        and _SPECIAL.search(text) is None
    ):
        return text
    return _plain_lines(text)


def _plain_lines(text: str) -> str:
    """:func:`plain_to_card_text` for any text: each line collapsed, escaped, and ended by a
    hard line break when another follows."""
    if "\n" not in text and "\r" not in text:
        return escape_markdown(_collapse_space(text).strip())
    out: list[str] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = _SPACE.sub(" ", raw).strip()
        if not line:
            if out and out[-1]:
                out.append("")
            continue
        if out and out[-1]:
            out[-1] += "\\"  # a hard line break, as the field showed one
        out.append(escape_markdown(line))
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


def _escape_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain_to_html(text: str) -> str:
    """Plain text (a CSV field without HTML) as an HTML fragment that shows the same.

    Used so cloze deletions are rendered on one representation; newlines become ``<br>``.
    """
    return _escape_html(text).replace("\r\n", "\n").replace("\n", "<br>")


class _PlainText(HTMLParser):
    """Collects the text of a fragment outside dropped elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.dropped = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.dropped += tag in _DROPPED
        if tag == "br":
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        self.dropped = max(self.dropped - (tag in _DROPPED), 0)

    def handle_data(self, data: str) -> None:
        if not self.dropped:
            self.parts.append(data)


class _Markdown:
    """Collects lines of Markdown from the calls an HTML parser makes while it walks a
    fragment (:class:`_Converter` is that parser; :func:`_feed_plain_tags` makes them
    itself)."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []  # (kind, text): text, item, fence, blank, rule
        self.current: list[str] = []
        self.item_marker: str | None = None
        self.dropped = 0  # depth inside script/style/...
        self.pre: list[str] | None = None
        self.pre_language = ""
        self.code: list[str] | None = None
        self.lists: list[list[int] | None] = []  # per open list: [counter], None for bullets
        self.scripts: list[tuple[str, int, int]] = []  # open <sup>/<sub>: (tag, line, piece)
        self.marks: list[tuple[str, int, int]] = []  # (marker, line count, piece index)
        self.link: tuple[str, int, int] | None = None
        self.cells = 0
        self.left_out: list[str] = []  # open tags of a hidden element or a line-number gutter
        self.touching: tuple[int, int] | None = None  # (line, piece) of marks ending in punctuation

    # Parser callbacks -------------------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs} if attrs else _NO_ATTRIBUTES
        if self.left_out or (values and _leaves_out(values)):
            if tag not in _VOID:
                self.left_out.append(tag)
                self.dropped += 1
        elif tag in _DROPPED:
            self.dropped += 1
        elif self.dropped:
            return
        elif self.pre is not None:
            if tag == "code":
                self.pre_language = self.pre_language or _language(values)
            elif tag == "br":
                self.pre.append("\n")
        elif self.code is not None and tag == "br":
            self.code.append("\n")
        elif tag == "pre":
            self._end_line()
            self.pre, self.pre_language = [], _language(values)
        elif tag == "code":
            self.code = []
        elif tag == "br":
            self._end_line(keep_empty=True)
        elif tag in _BLOCKS or tag in _PARAGRAPHS:
            self._end_line()
            if tag in _STRONG:
                self._open_mark("**")
        elif tag in ("ul", "ol", "menu"):
            self._end_line()
            ordered = tag == "ol"
            self.lists.append([_whole_number(values.get("start"), 1) - 1] if ordered else None)
        elif tag == "li":
            self._end_line()
            counter = self.lists[-1] if self.lists else None
            depth = "  " * max(len(self.lists) - 1, 0)
            if counter is None:
                self.item_marker = f"{depth}- "
            else:
                counter[0] = _whole_number(values.get("value"), counter[0] + 1)
                self.item_marker = f"{depth}{counter[0]}. "
        elif tag == "tr":
            self._end_line()
            self.cells = 0
        elif tag in ("td", "th"):
            if self.cells:
                self.current.append(" \\| ")
            self.cells += 1
        elif tag == "hr":
            self._end_line()
            self.lines.append(("rule", "---"))
        elif tag in _STRONG:
            self._open_mark("**")
        elif tag in _EMPHASIS:
            self._open_mark("*")
        elif tag == "img" and values.get("src"):
            self._piece(media_token("image", values["src"]))
        elif tag in ("audio", "video", "source") and values.get("src"):
            self._piece(media_token("sound", values["src"]))
        elif tag == "a" and values.get("href"):
            self.link = (values["href"], len(self.lines), len(self.current))
        elif tag == "rt":
            self._piece(" (")
        elif tag in _SCRIPTS:
            self.scripts.append((tag, len(self.lines), len(self.current)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "hr", "img", "source"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.left_out:
            if tag in self.left_out:
                while self.left_out.pop() != tag:
                    self.dropped -= 1
                self.dropped -= 1
        elif tag in _DROPPED:
            self.dropped = max(self.dropped - 1, 0)
        elif self.dropped:
            return
        elif tag == "pre" and self.pre is not None:
            self._end_pre()
        elif self.pre is not None:
            return
        elif tag == "code" and self.code is not None:
            code, self.code = "".join(self.code), None
            if "\n" in code.strip("\n"):  # broken into lines: a code block
                self._end_line()
                self.pre = [code]
                self._end_pre()
            else:
                self._piece(_code_span(_SPACE.sub(" ", code)))
        elif tag in _PARAGRAPHS:
            if tag in _STRONG:
                self._close_mark("**")
            self._end_line()
            self.lines.append(("blank", ""))
        elif tag in _BLOCKS or tag in ("li", "tr"):
            self._end_line()
        elif tag in ("ul", "ol", "menu"):
            self._end_line()
            if self.lists:
                self.lists.pop()
        elif tag in _STRONG:
            self._close_mark("**")
        elif tag in _EMPHASIS:
            self._close_mark("*")
        elif tag == "a" and self.link is not None:
            self._close_link()
        elif tag == "rt":
            self._piece(")")
        elif tag in _SCRIPTS:
            self._close_script(tag)

    def handle_data(self, data: str) -> None:
        if self.dropped:
            return
        if self.pre is not None:
            self.pre.append(data)
        elif self.code is not None:
            self.code.append(data)
        elif "[sound:" in data:
            for index, part in enumerate(_SOUND.split(data)):
                if index % 2:
                    self._piece(media_token("sound", part.strip()))
                else:
                    self._piece(escape_markdown(_collapse_space(part)))
        else:
            self._piece(escape_markdown(_collapse_space(data)))

    # Building lines ---------------------------------------------------------------------------

    def _piece(self, text: str) -> None:
        if text:
            if self.touching is not None:
                self._untouch(text[0])
            self.current.append(text)

    def _untouch(self, following: str) -> None:
        """Move the trailing punctuation of the marked piece :attr:`touching` outside its marks
        when ``following``, the next character on its line, is neither space nor punctuation:
        CommonMark ends emphasis after punctuation only before space or punctuation."""
        line, index = self.touching or (-1, -1)
        self.touching = None
        if line != len(self.lines) or index != len(self.current) - 1:
            return
        if following.isspace() or _punctuation(following):
            return
        piece = self.current[index]
        marker = "**" if piece.startswith("**") else "*"
        core = piece[len(marker) : -len(marker)]
        kept = core.rstrip(_loose_characters(core))
        self.current[index] = f"{marker}{kept}{marker}{core[len(kept) :]}" if kept else core

    def _end_line(self, keep_empty: bool = False) -> None:
        """Finish the current line; an empty one is kept only for ``<br>`` (a blank line)."""
        text = "".join(self.current).strip(" ")
        self.current, self.touching = [], None
        marker, self.item_marker = self.item_marker, None
        if marker is not None:
            self.lines.append(("item", marker + text))
        elif text:
            self.lines.append(("text", _escape_line_start(text)))
        elif keep_empty:
            self.lines.append(("blank", ""))

    def _open_mark(self, marker: str) -> None:
        self.marks.append((marker, len(self.lines), len(self.current)))

    def _opened_on_this_line(self, opened: list[tuple[str, int, int]], name: str) -> int | None:
        """Pop the innermost ``name`` (and whatever opened inside it) off ``opened``: the index
        in ``current`` where its text starts, or None when it is not open or its text no longer
        lies on the current line."""
        while opened:
            found, line, index = opened.pop()
            if found == name:
                break
        else:
            return None
        if line != len(self.lines) or index > len(self.current):
            return None
        return index

    def _close_mark(self, marker: str) -> None:
        """Wrap the text since the matching open tag in ``marker``, if it stayed on one line.

        Punctuation at the start moves before the marks when a letter comes right before them
        (CommonMark opens emphasis before punctuation only after space or punctuation); at the
        end, :meth:`_untouch` decides once the next character is known."""
        index = self._opened_on_this_line(self.marks, marker)
        if index is None:
            return
        inner = "".join(self.current[index:])
        core = inner.strip(" ")
        if not core or any(m == marker for m, _, _ in self.marks):
            return
        lead, trail = inner[: len(inner) - len(inner.lstrip(" "))], inner[len(inner.rstrip(" ")) :]
        if core[0] == "*" or (core[-1] == "*" and core[-2:-1] != "\\"):  # marks in marks
            self.current[index:] = [f"{lead}{marker}{core}{marker}{trail}"]
            self.touching = None
            return
        before = "".join(self.current[:index])[-1:]
        opening = ""
        if before == "*" and not lead:  # right after marks of ours
            earlier = self.current[index - 1]
            if not _marked(earlier, marker):  # other marks: one run of asterisks with them
                self.current[index:] = [f"{core}{trail}"]
                return
            index -= 1  # marks of its own kind: one run of them
            core = earlier[len(marker) : -len(marker)] + core
        elif not lead and before and not before.isspace() and not _punctuation(before):
            rest = core.lstrip(_loose_characters(core))
            opening, core = core[: len(core) - len(rest)], rest
        if not core:  # only punctuation: nothing left to mark
            self.current[index:] = [f"{lead}{opening}{trail}"]
            return
        pieces = [f"{lead}{opening}", f"{marker}{core}{marker}", trail]
        self.current[index:] = [piece for piece in pieces if piece]
        if not trail and _punctuation(core[-1]):
            self.touching = (len(self.lines), len(self.current) - 1)

    def _close_script(self, tag: str) -> None:
        """Show the text since the matching ``<sup>``/``<sub>`` raised or lowered: in Unicode's
        superscript/subscript characters when it has them all (``10⁶``, ``H₂O``), else as
        ``^(...)`` / ``_(...)``, so ``10<sup>6</sup>`` never reads as 106."""
        index = self._opened_on_this_line(self.scripts, tag)
        if index is None:
            return
        inner = "".join(self.current[index:]).strip(" ")
        if not inner:
            return
        table, raw = _SCRIPT_TABLES[tag], _ESCAPED.sub(r"\1", inner)
        if all(ord(character) in table for character in raw):
            shown = raw.translate(table)
        else:
            shown = f"{'^' if tag == 'sup' else escape_markdown('_')}({inner})"
        self.current[index:] = [shown]

    def _close_link(self) -> None:
        assert self.link is not None
        href, line, index = self.link
        self.link = None
        if line != len(self.lines) or not re.match(r"https?://", href):
            return
        text = "".join(self.current[index:]).strip()
        if text and text != escape_markdown(href):
            self._piece(f" ({escape_markdown(href)})")

    def _end_pre(self) -> None:
        assert self.pre is not None
        code = "".join(self.pre).strip("\n")
        self.pre = None
        if not code.strip():
            return
        fence = "`" * max(3, _longest_run(code, "`") + 1)
        self.lines.append(("fence", f"{fence}{self.pre_language}\n{code}\n{fence}"))

    def markdown(self) -> str:
        """The collected lines as Markdown: hard breaks between plain lines, blank lines
        around code blocks, lists and rules, never two blank lines in a row."""
        if self.pre is not None:
            self._end_pre()
        self._end_line()
        out: list[str] = []
        previous = "blank"
        for kind, text in self.lines:
            if kind == "blank":
                if previous != "blank":
                    out.append("")
                previous = "blank"
                continue
            if previous != "blank" and (kind != previous or kind in ("fence", "rule")):
                out.append("")
            elif kind == "text" and previous == "text":
                out[-1] += "\\"
            out.append(text)
            previous = kind
        while out and out[-1] == "":
            out.pop()
        return "\n".join(out)


class _Converter(_Markdown, HTMLParser):
    """:class:`_Markdown` fed by the standard library's parser."""

    def __init__(self) -> None:
        _Markdown.__init__(self)
        HTMLParser.__init__(self, convert_charrefs=True)


def _collapse_space(text: str) -> str:
    """``text`` with each run of white space (``_SPACE``) as one space; the regular expression
    runs only when there can be such a run (two spaces, or a character that is not printable:
    tabs, line breaks, no-break spaces), which most text of a field has not."""
    return _SPACE.sub(" ", text) if "  " in text or not text.isprintable() else text


def _whole_number(text: str | None, default: int) -> int:
    """``text`` as a whole number (HTML's ``start``/``value`` attributes), else ``default``."""
    try:
        return int((text or "").strip())
    except ValueError:
        return default


def _language(values: dict[str, str]) -> str:
    match = _LANGUAGE.search(values.get("class", ""))
    return match.group(1) if match else ""


def _longest_run(text: str, char: str) -> int:
    runs = re.findall(f"{re.escape(char)}+", text)
    return max((len(run) for run in runs), default=0)


def _code_span(code: str) -> str:
    """``code`` as an inline code span whose backtick fence is longer than any run inside."""
    if not code.strip():
        return escape_markdown(code)
    fence = "`" * (_longest_run(code, "`") + 1)
    pad = " " if code.startswith("`") or code.endswith("`") else ""
    return f"{fence}{pad}{code}{pad}{fence}"


def _leaves_out(values: dict[str, str]) -> bool:
    """Whether a tag's attributes leave its element out: hidden, or a line-number gutter."""
    return (
        "hidden" in values
        or ("style" in values and _HIDDEN_STYLE.search(values["style"]) is not None)
        or ("class" in values and _GUTTER.search(values["class"]) is not None)
    )


def _punctuation(character: str) -> bool:
    """CommonMark's punctuation: an ASCII punctuation character or any character of Unicode's
    punctuation (P) or symbol (S) categories."""
    return unicodedata.category(character)[0] in "PS"


def _loose_characters(text: str) -> str:
    """The characters of ``text`` that are punctuation or space: what may not stand just inside
    emphasis marks a letter touches from outside (for ``str.strip``)."""
    return "".join({char for char in text if char.isspace() or _punctuation(char)})


def _marked(piece: str, marker: str) -> bool:
    """Whether ``piece`` is text in ``marker`` marks (``**bold**``, ``*italic*``) as
    :meth:`_Markdown._close_mark` writes them."""
    inner = piece[len(marker) : -len(marker)]
    return (
        len(piece) > 2 * len(marker)
        and piece.startswith(marker)
        and piece.endswith(marker)
        and inner[:1] != "*"
        and inner[-1:] != "*"
    )
