"""Decoding the text formats' bytes: UTF-8 with or without a byte-order mark, or UTF-16 with
one (what spreadsheets save as "Unicode text")."""

from __future__ import annotations

from trainer.errors import DeckError, Problem

#: The byte-order marks of UTF-16 (little- and big-endian).
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def head_text(head: bytes) -> str:
    """The first bytes of a file as text, for telling formats apart: UTF-16 when they open
    with its byte-order mark, else UTF-8 (a BOM dropped); bytes that do not decode (a
    character cut at the end of ``head``, or not text at all) become U+FFFD."""
    if head.startswith(UTF16_BOMS):
        return head.decode("utf-16", errors="replace")
    return head.decode("utf-8-sig", errors="replace")


def decode_text(data: bytes, path: str) -> str:
    """``data`` as text, a BOM dropped and line ends kept: UTF-16 when it opens with its
    byte-order mark, else UTF-8.

    Raises :class:`DeckError` naming the line of the first byte that does not decode, or of a
    NUL character (a binary file).
    """
    encoding = "utf-16" if data.startswith(UTF16_BOMS) else "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        name = "UTF-16" if encoding == "utf-16" else "UTF-8"
        line = data[: exc.start].decode(encoding, errors="replace").count("\n") + 1
        message = f"not {name} text (byte {exc.start}); save the file as UTF-8"
        raise DeckError([Problem(path, line, message)]) from None
    if "\0" in text:
        line = text.count("\n", 0, text.index("\0")) + 1
        raise DeckError([Problem(path, line, "a NUL character: this is a binary file, not text")])
    return text
