"""Decoding the text formats' bytes: UTF-8 with or without a byte-order mark."""

from __future__ import annotations

from trainer.errors import DeckError, Problem


def decode_text(data: bytes, path: str) -> str:
    """``data`` as text, a UTF-8 BOM dropped and line ends kept.

    Raises :class:`DeckError` naming the line of the first byte that is not UTF-8, or of a NUL
    character (a binary file).
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        message = f"not UTF-8 text (byte {exc.start}); save the file as UTF-8"
        raise DeckError([Problem(path, line, message)]) from None
    if "\0" in text:
        line = text.count("\n", 0, text.index("\0")) + 1
        raise DeckError([Problem(path, line, "a NUL character: this is a binary file, not text")])
    return text
