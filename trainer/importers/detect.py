"""Which format a file is in, and reading it with that format's reader.

Files in formats trainer does not read are refused first, by their content
(:mod:`~trainer.importers.other_formats`). Detection looks at the content first (a zip archive
is an Anki package), then the extension
(:data:`EXTENSIONS`), then the text: ``[[card]]`` tables are the native format, ``Q:``/``C:``
lines, ``question::answer`` or a lone ``?`` line make Markdown unless the text opens with
Anki's header lines or a tab splits every line (then ``::`` is an Anki tag), anything else is
read as delimited text.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from trainer.errors import DeckError, Problem
from trainer.importers.bulk import without_cycle_collection
from trainer.importers.text import head_text

if TYPE_CHECKING:
    from trainer.importers.imported import ImportedDeck

#: The values of ``trainer import --format``.
FORMATS = ("auto", "native", "csv", "tsv", "markdown", "apkg")
EXTENSIONS = {
    ".toml": "native",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".md": "markdown",
    ".markdown": "markdown",
    ".apkg": "apkg",
    ".colpkg": "apkg",
    ".anki2": "apkg",
    ".anki21": "apkg",
    ".anki21b": "apkg",
}
#: Largest text file read (bytes); Anki packages have their own limits.
MAX_TEXT_BYTES = 256 << 20
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_SQLITE_MAGIC = b"SQLite format 3\x00"
_NATIVE = re.compile(r"^\s*\[\[\s*card\s*\]\]", re.MULTILINE)
_INNER_TAB = re.compile(r"\S\t")
_ANKI_HEADER = re.compile(r"\ufeff?(?:#[A-Za-z ]+:|tags:)")
_MARKDOWN = re.compile(r"^(?:[QC]:\s|\?{1,2}\s*$)|::", re.MULTILINE)


def detect_format(path: Path, head: bytes) -> str:
    """The format of the file at ``path`` whose first bytes are ``head``."""
    if head.startswith((*_ZIP_MAGIC, _SQLITE_MAGIC)):  # a package, or a raw Anki collection
        return "apkg"
    by_extension = EXTENSIONS.get(path.suffix.lower())
    if by_extension is not None:
        return by_extension
    text = head_text(head)
    if _NATIVE.search(text):
        return "native"
    lines = [line for line in text.split("\n")[:50] if line.strip()]
    if _ANKI_HEADER.match(text) or all(_INNER_TAB.search(line) for line in lines):
        return "csv"  # Anki's header lines, or every line split by a tab
    if _MARKDOWN.search(text):
        return "markdown"
    return "csv"


@without_cycle_collection
def read_file(path: Path, file_format: str = "auto", with_history: bool = False) -> ImportedDeck:
    """Read ``path`` as ``file_format`` (``auto``: detected); see :data:`FORMATS`.

    ``with_history`` brings an Anki package's review log along (any other file gets a warning
    saying it has none). Each reader is imported when a file of its format is read, so
    ``trainer --help`` (which reads :data:`FORMATS`) loads none and a CSV file loads neither
    the Anki reader (protobuf) nor the Markdown one (YAML). Raises
    :class:`~trainer.errors.DeckError` for a file that cannot be read, and (``auto``) for a
    file in a format trainer does not read (JSON, YAML, org-mode, ...: see
    :mod:`~trainer.importers.other_formats`).
    """
    from trainer.importers.imported import media_beside
    from trainer.importers.other_formats import READABLE, other_format

    head = _read_bytes(path, 64 * 1024, whole=False)
    if file_format == "auto":
        kind = other_format(path, head)
        if kind is not None:
            raise DeckError([Problem(str(path), None, f"{kind}, not a deck; {READABLE}")])
    chosen = detect_format(path, head) if file_format == "auto" else file_format
    if chosen == "apkg":
        from trainer.importers.anki import read_anki

        return read_anki(path, str(path), with_history)
    data = _read_bytes(path, MAX_TEXT_BYTES, whole=True)
    if chosen == "native":
        from trainer.importers.native import read_native

        imported = read_native(data, str(path))
    elif chosen == "markdown":
        from trainer.importers.markdown import read_markdown

        imported = read_markdown(data, str(path))
    else:
        from trainer.importers.delimited import read_delimited

        forced = "\t" if chosen == "tsv" else "," if file_format == "csv" else None
        imported = read_delimited(data, str(path), forced)
        if b"src=" in data or b"[sound:" in data:  # a picture's or a sound's markup
            imported = media_beside(imported)
    if with_history and imported.cards:
        kept = "an Anki package's or collection's review log; this file's cards come in new"
        return replace(imported, warnings=(*imported.warnings, f"--with-history brings {kept}"))
    return imported


def _read_bytes(path: Path, limit: int, *, whole: bool) -> bytes:
    """The file's first ``limit`` bytes or, with ``whole``, all of them.

    Raises :class:`~trainer.errors.DeckError` saying why the file cannot be read (missing,
    no permission, a folder, a read error), or, with ``whole``, that it has more than
    ``limit`` bytes.
    """
    try:
        with path.open("rb") as file:
            size = os.fstat(file.fileno()).st_size
            if whole and size > limit:
                message = f"{size} bytes, more than a text deck's {limit}"
                raise DeckError([Problem(str(path), None, message)])
            return file.read(limit)
    except OSError as exc:
        message = f"cannot read ({exc.strerror or exc})"
        raise DeckError([Problem(str(path), None, message)]) from None
