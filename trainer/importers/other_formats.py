"""Recognising files that are not decks trainer reads, by their content (pure).

People hand ``trainer import`` whatever their other tools keep: JSON or YAML exports, org-mode
and Logseq notes, other programs' SQLite databases, spreadsheets, archives, PDFs and pictures.
Read as CSV or Markdown such a file becomes dozens of junk cards, so it is refused instead, with
one line saying what it is. :func:`other_format` looks at the bytes (magic numbers, then the
text's shape), never only at the name: a JSON file named ``.csv`` is still JSON.

What counts as a sign of each format:

- magic numbers of binary files (SQLite, PDF, pictures, compressed files, office documents);
  a zip archive without an Anki collection in it; a NUL byte in text that is not UTF-16;
- JSON: the text parses as a JSON object or array, or starts as one (``{"key":``, ``[{``), as
  a long file or JSON Lines do;
- org-mode: a ``#+KEYWORD:`` line (``#+TITLE:``, ``#+BEGIN_SRC``) or a ``:PROPERTIES:`` drawer;
  or the ``.org`` extension;
- Logseq: markup only Logseq writes (``id:: <uuid>``, ``collapsed:: true``, ``card-...::``
  properties, a ``#card`` block, a ``((uuid))`` block reference), or a page opening with
  ``key:: value`` page properties followed only by outline bullets;
- YAML: the ``.yaml``/``.yml`` extension, a ``%YAML`` directive, or a text of only ``key:``,
  ``key: value``, ``- item`` and indented lines in which some key opens a nested block (but
  not a ``.md`` note that opens with front matter: its ``# headings`` are not YAML comments);
- markup documents: an XML declaration (``<?xml``, as SuperMemo's and Mnemosyne's exports
  open), the ``.xml`` extension, a ``<!DOCTYPE html>`` or ``<html>`` (a web page), a text
  whose first line is only an opening tag and last line only its closing tag
  (``<deck>`` ... ``</deck>``), or RTF (``{\\rtf``). HTML in the fields of a CSV file or in
  a Markdown note (``<div align="center">`` ... ``</div>`` above its cards) is not this.
"""

from __future__ import annotations

import io
import json
import re
import sqlite3
import zipfile
from contextlib import closing
from pathlib import Path

from trainer.importers.text import UTF16_BOMS, head_text

#: What trainer does read, for the message refusing anything else.
READABLE = (
    "trainer reads native decks (.toml), CSV/TSV (Anki text exports too), Markdown"
    " (Q:/A:, Obsidian), Anki packages (.apkg, .colpkg) and collections (.anki2, .anki21,"
    " .anki21b)"
)
#: Tables every Anki collection has.
ANKI_TABLES = frozenset({"col", "notes", "cards"})
_MAGIC = (
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"RIFF", "a RIFF media file (WebP, WAV or AVI)"),
    (b"ID3", "an MP3 audio file"),
    (b"OggS", "an Ogg media file"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"\x28\xb5\x2f\xfd", "a zstd-compressed file"),
    (b"BZh", "a bzip2-compressed file"),
    (b"\xfd7zXZ\x00", "an xz-compressed file"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office document (.xls, .doc)"),
    (b"\x7fELF", "a program (ELF)"),
    (b"MZ", "a Windows program"),
)
_SQLITE = b"SQLite format 3\x00"
_ZSTD = b"\x28\xb5\x2f\xfd"
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_ANKI_MEMBERS = ("collection.anki21b", "collection.anki21", "collection.anki2")
_OFFICE = {
    "xl/": "an Excel workbook (save it as CSV)",
    "word/": "a Word document",
    "ppt/": "a PowerPoint presentation",
}
#: ``{"key":``, ``[{`` or ``[[`` and a JSON value; not TOML's ``[[card]]`` table header.
_JSON_START = re.compile(r'\{\s*"[^"\n]*"\s*:|\[\s*(?:\{|\[\s*[-\d"\[{\]])')
_ORG = re.compile(r"^[ \t]*(?:#\+[A-Za-z_]+:|#\+(?:BEGIN|begin)_\w+|:PROPERTIES:[ \t]*$)", re.M)
_LOGSEQ_ONLY = re.compile(
    r"^[ \t]*(?:- )?(?:id:: [0-9a-f]{8}-[0-9a-f]{4}-|collapsed:: (?:true|false)\b|card-[a-z-]+:: )"
    r"|^[ \t]*- .*#card\b|\(\([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f-]+\)\)",
    re.M,
)
_LOGSEQ_PROPERTY = re.compile(r"[ \t]*(?:- )?[a-z0-9_-]+:: \S.*")
_BULLET = re.compile(r"[ \t]*-(?: .*)?")
_YAML_LINE = re.compile(r"[ \t]*(?:#.*|---|\.\.\.|- .*|-|[\w\"'][^:#]*:(?: .*)?)")
_YAML_KEY = re.compile(r"[\w\"'][^:#]*:(?: .*)?")
_CARD_KEYS = re.compile(r"[QCA]:(?: .*)?")
_HTML_PAGE = re.compile(r"<!DOCTYPE\s+html\b|<html[\s>]", re.I)
#: A document that is one element: a first line that is only its opening tag (``<deck>``,
#: ``<root version="2">``) and a last line that is only its closing tag.
_ONE_ELEMENT = re.compile(
    r"<([A-Za-z_][\w.:-]*)(?:\s[^<>]*)?(?<!/)>[ \t]*\n.*\n[ \t]*</\1\s*>", re.S
)


def other_format(path: Path, head: bytes) -> str | None:
    """What the file at ``path`` (its first bytes ``head``, or all of a small file) is when it
    is not a deck trainer reads (``"a JSON file"``), else None.

    None does not promise a deck: a file that may be one is left to the format readers. A
    SQLite database is opened read-only to see whether it is an Anki collection.
    """
    binary = _binary_kind(path, head)
    if binary is not None or head.startswith((*_ZIP, _SQLITE)):
        return binary
    text = head_text(head)
    suffix = path.suffix.lower()
    if _is_json(text):
        return "a JSON file"
    markup = "an XML file" if suffix == ".xml" else _markup_kind(text)
    if markup is not None:
        return markup
    if suffix == ".org" or _ORG.search(text):
        return "an org-mode file"
    if _is_logseq(text):
        return "a Logseq page"
    if suffix in (".yaml", ".yml") or (_is_yaml(text) and not _is_note(suffix, text)):
        return "a YAML file"
    return None


#: A Markdown note's front matter: its first line ``---``, then a line ``---`` closing it.
_FRONT_MATTER = re.compile(r"\A(?:\ufeff)?---[ \t]*\r?\n(?:.*\r?\n)*?---[ \t]*(?:\r?\n|\Z)")


def _is_note(suffix: str, text: str) -> bool:
    """A Markdown file (by its extension) that opens with front matter: an Obsidian note, whose
    ``# headings`` after the front matter only look like YAML comments."""
    return suffix in (".md", ".markdown") and _FRONT_MATTER.match(text) is not None


def _binary_kind(path: Path, head: bytes) -> str | None:
    if head.startswith(_SQLITE):
        return _sqlite_kind(path)
    if head.startswith(_ZIP):
        return _zip_kind(path)
    if head.startswith(_ZSTD) and path.suffix.lower() == ".anki21b":
        return None  # a raw collection of current Anki, zstd-compressed
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if b"\x00" in head and not head.startswith(UTF16_BOMS):
        return "a binary file"
    return None


def _sqlite_kind(path: Path) -> str | None:
    """None for an Anki collection, else what the database is."""
    try:
        # immutable: nothing (not even a WAL index) is written beside the file
        uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
        with closing(sqlite3.connect(uri, uri=True)) as db:
            tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    except sqlite3.Error:
        return "a damaged SQLite database"
    if tables >= ANKI_TABLES:
        return None
    return "a SQLite database that is not an Anki collection"


def _zip_kind(path: Path) -> str | None:
    """None for an archive holding an Anki collection, else what the archive is."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None  # damaged: the Anki reader says how
    if any(name in _ANKI_MEMBERS for name in names):
        return None
    for folder, kind in _OFFICE.items():
        if any(name.startswith(folder) for name in names):
            return kind
    if "mimetype" in names or "content.xml" in names:
        return "an OpenDocument file (save a spreadsheet as CSV)"
    return "a zip archive that is not an Anki package"


def _is_json(text: str) -> bool:
    """The text parses as a JSON object or array, or starts like one (``{"key":`` or ``[{``,
    as a file longer than the head does)."""
    stripped = text.strip()
    if not stripped.startswith(("{", "[")):
        return False
    if _JSON_START.match(stripped):
        return True
    try:
        return isinstance(json.loads(stripped), dict | list)
    except ValueError:
        return False


def _markup_kind(text: str) -> str | None:
    """What markup document the text is (see the module docstring), or None."""
    stripped = text.strip()
    if stripped.startswith("{\\rtf"):
        return "an RTF document"
    if _HTML_PAGE.match(stripped):
        return "a web page (HTML)"
    if stripped.startswith("<?xml") or _ONE_ELEMENT.fullmatch(stripped):
        return "an XML file"
    return None


def _content_lines(text: str) -> list[str]:
    return [line.rstrip("\r") for line in io.StringIO(text) if line.strip()]


def _is_logseq(text: str) -> bool:
    """Logseq-only markup, or an outline page opening with ``key:: value`` page properties,
    with no ``::`` except in such properties (an Obsidian ``question::answer`` list is not)."""
    if _LOGSEQ_ONLY.search(text):
        return True
    lines = [line.rstrip("\n") for line in _content_lines(text)]
    if not lines or lines[0].startswith("-") or not _LOGSEQ_PROPERTY.fullmatch(lines[0]):
        return False
    return all(
        _LOGSEQ_PROPERTY.fullmatch(line) or (_BULLET.fullmatch(line) and "::" not in line)
        for line in lines
    )


def _is_yaml(text: str) -> bool:
    lines = [line.rstrip("\n") for line in _content_lines(text)]
    if text.startswith("%YAML"):
        return True
    if not lines or not all(_YAML_LINE.fullmatch(line) for line in lines):
        return False
    if any(_CARD_KEYS.fullmatch(line) for line in lines):
        return False  # Q:/A:/C: lines are Markdown cards
    return any(
        _YAML_KEY.fullmatch(line)
        and line.rstrip().endswith(":")
        and (following[:1] in (" ", "\t") or following.startswith("- "))
        for line, following in zip(lines, [*lines[1:], ""], strict=True)
    )
