"""Markdown notes with cards in them: Q/A blocks and Obsidian spaced-repetition syntax (pure).

Cards are found inside ordinary notes; headings, prose and code blocks that are not part of a
card are ignored. The front matter's ``tags`` (a YAML list or a string of tags) become every
card's tags. Card text stays Markdown; a line break inside a card's text shows as a line break
(as Obsidian shows it). Code (spans of any number of backticks, fenced blocks) is never cloze
text: a ``[...]``, ``==...==`` or ``{{c1::...}}`` inside it stays exactly as written.

- ``Q:`` (also as a heading, ``## Q:``) starts a question, which runs (blank lines included)
  to the line starting with ``A:``; the answer runs to the next blank line, or on past it into
  an indented line, a fenced code block or a ``$$`` maths block that follows; an ``A:`` line
  with nothing after it takes the block below it (past blank lines) as the answer. ``C:``
  starts a cloze text with ``[...]`` deletions (each one a card; a link ``[text](url)`` or
  ``[text][ref]`` and an Obsidian ``[[wikilink]]`` are not deletions) or Anki's
  ``{{c1::...}}``; it ends like an answer.
- Obsidian (the "Spaced Repetition" plugin's default syntax): ``question::answer`` on one line,
  ``question:::answer`` for a card both ways; a paragraph whose lines above a line ``?`` are the
  question and below it the answer (``??`` both ways; a side that is one list item loses its
  ``- `` marker); a paragraph with ``==highlights==`` is a cloze text, each highlight one card
  (a highlight starts and ends next to a character other than a space or ``=``, as Obsidian
  draws one, so ``==6== and ==8==`` are two). The plugin's ``<!--SR:...-->`` scheduling comments are
  dropped.
- A card may name its own stable id with an HTML comment anywhere in its text,
  ``<!-- id: NAME -->`` (letters, digits, ``_ . : -``): its key is then ``NAME`` (``NAME#cN``
  for cloze N) instead of one made from the question, so an edited question keeps the card's
  history. Renderers such as Obsidian hide the comment.

A ``Q:`` with no ``A:`` before the next card, heading or the end, and a card with an empty
side, are problems naming their line: the card is left out with a warning (the whole file is
refused only when no card is without a problem).
"""

from __future__ import annotations

import glob
import itertools
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

import yaml

from trainer.content.cloze import (
    MARKDOWN,
    ClozeError,
    cloze_numbers,
    markdown_code,
    parse_cloze,
    render_cloze,
)
from trainer.content.parser import CardSpec
from trainer.errors import DeckError, Problem
from trainer.importers.html_text import media_token
from trainer.importers.imported import (
    ImportedDeck,
    MediaFile,
    SkipCounter,
    distinct_cards,
    front_key,
    media_on_disk,
    problems_skipped,
)
from trainer.importers.notes import card_key, cloze_key
from trainer.importers.text import decode_text
from trainer.store.lookup import TAG_SEPARATOR, card_tag

#: A ``Q:`` or ``C:`` line, also written as a heading (``## Q: ...``).
_CARD_START = re.compile(r"(?:#{1,6}[ \t]+)?(Q|C):(?:\s+|$)(.*)")
_ANSWER = re.compile(r"A:(?:\s+|$)(.*)")
_HEADING = re.compile(r" {0,3}#{1,6}(?:\s|$)")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_SR_COMMENT = re.compile(r"\s*<!--SR:.*?-->")
#: A card's own stable id, an HTML comment Obsidian and other renderers hide.
_ID_COMMENT = re.compile(r"[ \t]*<!--\s*id:\s*([A-Za-z0-9_.:-]{1,100})\s*-->")
_LIST_MARKER = re.compile(r"\A\s*(?:[-*+]|\d+[.)])\s+")
_HIGHLIGHT = re.compile(r"==(?![\s=])([^\n]+?)(?<![\s=])==")
_OPENER = re.compile(r"\{\{c[\d,]*\d[\d,]*::")
_BRACKET = re.compile(r"(?<![\\!\[\]])\[([^\[\]\n]+)\](?![(\[:\]])")
#: The opening line of a display-maths block (``$$``), which an answer runs on into.
_MATH_BLOCK = re.compile(r" {0,3}\$\$")
#: A picture or sound a note embeds: Markdown's ``![alt](source "title")`` or Obsidian's
#: ``![[name]]`` (``![[name|300]]``).
_EMBED = re.compile(r"(!\[[^\]\n]*\]\([^)\n]*\)|!\[\[[^\]\n]+\]\])")
_EMBED_SOURCE = re.compile(r"!\[[^\]\n]*\]\(\s*(?:<([^>\n]*)>|([^\s)]*))")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_SOUNDS = frozenset({".mp3", ".wav", ".ogg", ".oga", ".m4a", ".flac", ".opus", ".webm", ".mp4"})
_PICTURES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".bmp", ".avif"})
#: How many folders up from a note its Obsidian vault (a folder holding ``.obsidian``) is
#: looked for.
_VAULT_DEPTH = 8
_BLOCK_START = re.compile(r" {0,3}(?:[#>|]|[-*+]\s|\d+[.)]\s|`{3}|~{3})")


@dataclass(frozen=True)
class _Line:
    """One source line: its number, its text (no line end), and whether it is in a fence."""

    number: int
    text: str
    code: bool = False


def read_markdown(data: bytes, path: str) -> ImportedDeck:
    """Find the cards in a Markdown file's bytes.

    A card with a problem (a question without an answer, an empty question or answer, a broken
    cloze) is left out, counted and named in a warning on its line. Raises
    :class:`DeckError` with every problem, each on its line, when the file has no card without
    one.
    """
    lines = [line.rstrip("\r") for line in decode_text(data, path).split("\n")]
    reader = _Reader(path, lines)
    reader.read()
    if reader.problems and not reader.cards:
        raise DeckError(reader.problems)
    problems = problems_skipped(reader.problems, reader.skips)
    embeds = _Embeds(path)
    cards = [
        replace(card, front=embeds.tokens(card.front), back=embeds.tokens(card.back))
        for card, _ in distinct_cards(((c, "") for c in reader.cards), reader.skips)
    ]
    return ImportedDeck(
        path=path,
        cards=tuple(cards),
        skipped=reader.skips.total,
        skip_reasons=reader.skips.phrases(),
        media=tuple(embeds.media.values()),
        warnings=problems + embeds.warnings(),
    )


class _Embeds:
    """The pictures and sounds the cards of the note at ``path`` embed, outside code: each
    becomes the token ``[image: NAME]`` or ``[sound: NAME]`` (an address stays whole,
    ``[image: https://...]``), and a file found for it a media file of the import, as an Anki
    package's are. ``![](path)`` is looked up from the note's folder; Obsidian's ``![[name]]``
    there, then anywhere in the note's vault (the nearest folder above holding ``.obsidian``),
    as Obsidian finds it. An embed of another note, or of a file that
    is no picture or sound, stays as written."""

    def __init__(self, path: str) -> None:
        self.folder = Path(path).parent
        self.media: dict[str, MediaFile] = {}
        self.missing: list[str] = []

    def tokens(self, text: str) -> str:
        """``text`` with its embeds as tokens."""
        return _outside_code(text, _EMBED, self._token) if "![" in text else text

    def warnings(self) -> tuple[str, ...]:
        """One line naming the embedded files that were not found, if any."""
        if not self.missing:
            return ()
        names = ", ".join(dict.fromkeys(self.missing))
        return (f"embedded files not found beside it (shown by name only): {names}",)

    def _token(self, embed: str) -> str:
        obsidian = embed.startswith("![[")
        if obsidian:
            target = embed[3:-2].split("|")[0].split("#")[0].strip()
        else:
            found = _EMBED_SOURCE.match(embed)
            target = (found.group(1) or found.group(2) or "") if found else ""
        suffix = PurePosixPath(target).suffix.lower()
        if suffix not in _PICTURES | _SOUNDS:
            return embed
        kind = "sound" if suffix in _SOUNDS else "image"
        if _URL.match(target):
            return media_token(kind, target)
        relative = unquote(target).replace("\\", "/")
        name = PurePosixPath(relative).name
        if name not in self.media:
            file = self._find(relative, obsidian)
            if file is None:
                self.missing.append(name)
            else:
                self.media[name] = media_on_disk(file, name)
        return media_token(kind, name)

    def _find(self, relative: str, anywhere: bool) -> Path | None:
        beside = self.folder / relative
        if beside.is_file():
            return beside
        if not anywhere or self._vault is None:
            return None
        found = self._vault.rglob(glob.escape(PurePosixPath(relative).name))
        return next((file for file in sorted(found) if file.is_file()), None)

    @cached_property
    def _vault(self) -> Path | None:
        """The note's Obsidian vault: the nearest folder above it holding ``.obsidian``."""
        folder = self.folder.resolve()
        folders = [folder, *folder.parents][:_VAULT_DEPTH]
        return next((folder for folder in folders if (folder / ".obsidian").is_dir()), None)


class _Reader:
    """Walks the lines once, collecting cards and problems."""

    def __init__(self, path: str, lines: list[str]) -> None:
        self.path = path
        self.lines = lines
        self.cards: list[CardSpec] = []
        self.problems: list[Problem] = []
        self.skips = SkipCounter()
        self.tags: tuple[str, ...] = ()

    def read(self) -> None:
        index = self._after_front_matter()
        paragraph: list[_Line] = []
        while index < len(self.lines):
            text = self.lines[index]
            if _FENCE.match(text):
                end = self._fence_end(index)
                paragraph.extend(_Line(n + 1, self.lines[n], True) for n in range(index, end))
                index = end
            elif _CARD_START.match(text):
                self._paragraph(paragraph)
                paragraph = []
                index = self._qa_card(index)
            elif not text.strip() or _HEADING.match(text):
                self._paragraph(paragraph)
                paragraph = []
                index += 1
            else:
                paragraph.append(_Line(index + 1, text))
                index += 1
        self._paragraph(paragraph)

    def _after_front_matter(self) -> int:
        """Index after the YAML front matter, whose ``tags`` become every card's tags."""
        if self.lines and self.lines[0].strip() == "---":
            for index in range(1, len(self.lines)):
                if self.lines[index].strip() in ("---", "..."):
                    self.tags = _front_matter_tags("\n".join(self.lines[1:index]))
                    return index + 1
        return 0

    def _fence_end(self, start: int) -> int:
        """Index after the fenced block opening at ``start`` (the end of file if unclosed)."""
        opening = _FENCE.match(self.lines[start])
        assert opening is not None
        marker = opening.group(1)
        for index in range(start + 1, len(self.lines)):
            text = self.lines[index]
            closing = _FENCE.match(text)
            if (
                closing
                and closing.group(1).startswith(marker)
                and not text.strip().strip(marker[0])
            ):
                return index + 1
        return len(self.lines)

    # Q: / A: / C: ------------------------------------------------------------------------------

    def _qa_card(self, start: int) -> int:
        """Read the card starting at ``start``; return the index after it."""
        match = _CARD_START.match(self.lines[start])
        assert match is not None
        if match.group(1) == "C":
            end = self._answer_end(start + 1)
            self._cloze(start + 1, _side(match.group(2), self.lines[start + 1 : end]))
            return end
        index = start + 1
        while index < len(self.lines):
            text = self.lines[index]
            if _ANSWER.match(text):
                break
            if _CARD_START.match(text) or _HEADING.match(text):
                self._no_answer(start)
                return index
            index = self._fence_end(index) if _FENCE.match(text) else index + 1
        if index >= len(self.lines):
            self._no_answer(start)
            return index
        question = _side(match.group(2), self.lines[start + 1 : index]).strip()
        answer_match = _ANSWER.match(self.lines[index])
        assert answer_match is not None
        first = index + 1
        if not answer_match.group(1).strip():  # "A:" alone: the answer is the block below it
            while first < len(self.lines) and not self.lines[first].strip():
                first += 1
        end = self._answer_end(first)
        answer = _side(answer_match.group(1), self.lines[first:end]).strip()
        self._basic(start + 1, question, answer, reverse=False)
        return end

    def _no_answer(self, start: int) -> None:
        message = "'Q:' without an 'A:' line for its answer"
        self.problems.append(Problem(self.path, start + 1, message))

    def _answer_end(self, index: int) -> int:
        """Index after an answer (or cloze text) whose lines continue from ``index``."""
        while index < len(self.lines):
            text = self.lines[index]
            if _FENCE.match(text):
                index = self._fence_end(index)
            elif _CARD_START.match(text) or _HEADING.match(text):
                return index
            elif not text.strip():
                following = index + 1
                if following < len(self.lines) and (
                    _FENCE.match(self.lines[following])
                    or _MATH_BLOCK.match(self.lines[following])
                    or re.match(r"(?: {2,}|\t)\S", self.lines[following])
                ):
                    index = following
                else:
                    return index
            else:
                index += 1
        return index

    # Obsidian ---------------------------------------------------------------------------------

    def _paragraph(self, lines: list[_Line]) -> None:
        """The cards of one paragraph (a multi-line card, one-line cards or a cloze), if any."""
        if not lines:
            return
        for position, line in enumerate(lines):
            if not line.code and line.text.strip() in ("?", "??"):
                question = _unlisted([item.text for item in lines[:position]])
                answer = _unlisted([item.text for item in lines[position + 1 :]])
                reverse = line.text.strip() == "??"
                self._basic(lines[0].number, question.strip(), answer.strip(), reverse)
                return
        found = False
        for line in lines:
            if not line.code and (pair := _one_line_card(line.text)) is not None:
                question, answer, reverse = pair
                self._basic(line.number, question, answer, reverse)
                found = True
        if found:
            return
        text = "\n".join(line.text for line in lines)
        counter = itertools.count(1)
        clozed = _outside_code(
            text, _HIGHLIGHT, lambda hidden: f"{{{{c{next(counter)}::{hidden}}}}}"
        )
        if clozed != text:
            self._cloze(lines[0].number, clozed)

    # Building cards ---------------------------------------------------------------------------

    def _basic(self, line: int, question: str, answer: str, reverse: bool) -> None:
        card_id = _card_id(question) or _card_id(answer)
        question = _clean(_ID_COMMENT.sub("", question))
        answer = _clean(_ID_COMMENT.sub("", answer))
        if not question or not answer:
            side = "question" if not question else "answer"
            self.problems.append(Problem(self.path, line, f"card with an empty {side}"))
            return
        key = card_id or front_key(question)
        self.cards.append(CardSpec(key, "basic", question, answer, self.tags, line=line))
        if reverse:
            reverse_key = card_key(key, 1)
            self.cards.append(
                CardSpec(reverse_key, "basic", answer, question, self.tags, line=line)
            )

    def _cloze(self, line: int, text: str) -> None:
        card_id = _card_id(text)
        text = _clean(_ID_COMMENT.sub("", text))
        if not _OPENER.search(_masked(text)):
            counter = itertools.count(1)
            text = _outside_code(
                text, _BRACKET, lambda hidden: f"{{{{c{next(counter)}::{hidden}}}}}"
            )
        try:
            nodes = parse_cloze(text, literal=markdown_code(text))
        except ClozeError as exc:
            where = line + text[: exc.offset].count("\n")
            self.problems.append(Problem(self.path, where, exc.message))
            return
        numbers = cloze_numbers(nodes)
        if not numbers:
            self.skips.skip("cloze without a deletion")
            return
        base = card_id or front_key(text)
        for number in numbers:
            front, back = render_cloze(nodes, number, MARKDOWN)
            key = cloze_key(base, number)
            self.cards.append(CardSpec(key, "cloze", front, back, self.tags, line=line))


def _card_id(text: str) -> str | None:
    """The id a card gives itself with ``<!-- id: NAME -->``, if any."""
    match = _ID_COMMENT.search(text)
    return match.group(1) if match else None


def _one_line_card(text: str) -> tuple[str, str, bool] | None:
    """``question::answer`` or ``question:::answer`` outside inline code, else None."""
    masked = _masked(text)
    if "::" not in masked or _OPENER.search(masked):
        return None
    position = masked.find("::")
    if position < 0:
        return None
    reverse = masked.startswith(":::", position)
    question = _LIST_MARKER.sub("", text[:position], count=1)
    answer = text[position + (3 if reverse else 2) :]
    if not question.strip() or not answer.strip():
        return None
    return question.strip(), answer.strip(), reverse


def _side(first: str, rest: list[str]) -> str:
    """A card side: the text after ``Q:``/``A:``/``C:`` and the lines that continue it."""
    body = textwrap.dedent("\n".join(rest)).strip("\n")
    return "\n".join(part for part in (first.strip(), body) if part)


def _clean(text: str) -> str:
    """Drop scheduling comments; show each line break of plain text lines as a break."""
    lines = _SR_COMMENT.sub("", text).strip().split("\n")
    out: list[str] = []
    fenced = False
    for index, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
        elif (
            not fenced
            and index + 1 < len(lines)
            and _plain(line)
            and _plain(lines[index + 1])
            and not line.endswith(("\\", "  "))
        ):
            line += "\\"
        out.append(line)
    return "\n".join(out).strip()


def _plain(line: str) -> bool:
    return bool(line.strip()) and not _BLOCK_START.match(line)


def _masked(text: str) -> str:
    """``text`` with its Markdown code (spans and fenced blocks) blanked out, line breaks
    kept, so patterns found in it are never inside code."""
    out = list(text)
    for start, end in markdown_code(text):
        out[start:end] = ("\n" if char == "\n" else "\0" for char in text[start:end])
    return "".join(out)


def _outside_code(text: str, pattern: re.Pattern[str], replace: Callable[[str], str]) -> str:
    """``text`` with each match of ``pattern`` whose markers lie outside code replaced by
    ``replace`` of its group 1 as written (which may hold code, as ``==`x`==`` does); code
    stays exactly as written."""
    out: list[str] = []
    position = 0
    for match in pattern.finditer(_masked(text)):
        out.append(text[position : match.start()])
        out.append(replace(text[match.start(1) : match.end(1)]))
        position = match.end()
    out.append(text[position:])
    return "".join(out)


def _unlisted(lines: list[str]) -> str:
    """A side of a ``?`` card: a list marker before its only list item is dropped (the
    ``- Question`` of a note written as a list), a real list is kept."""
    if lines and _LIST_MARKER.match(lines[0]) and not any(map(_LIST_MARKER.match, lines[1:])):
        lines = [_LIST_MARKER.sub("", lines[0], count=1), *lines[1:]]
    return "\n".join(lines)


def _front_matter_tags(front_matter: str) -> tuple[str, ...]:
    """The card tags named by the front matter's ``tags`` (or ``tag``): a YAML list, or one
    string of tags separated by commas or spaces; a leading ``#`` and nesting (``a/b`` is
    ``a::b``, a tag under another as Anki writes it) as Obsidian writes them; each a
    :func:`~trainer.store.lookup.card_tag`. Front matter that is not valid YAML names no tags."""
    try:
        data = yaml.safe_load(front_matter)
    except yaml.YAMLError:
        return ()
    if not isinstance(data, dict):
        return ()
    value = data.get("tags", data.get("tag"))
    if isinstance(value, str):
        value = re.split(r"[,\s]+", value)
    if not isinstance(value, list):
        return ()
    tags = (
        card_tag(str(tag).lstrip("#").replace("/", TAG_SEPARATOR))
        for tag in value
        if tag is not None
    )
    return tuple(dict.fromkeys(tag for tag in tags if tag))
