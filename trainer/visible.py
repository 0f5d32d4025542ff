"""Untrusted text made safe for a terminal: :func:`visible`.

Card text, deck, topic and file names come from files anyone can write (imported decks). A
terminal acts on the control characters and escape sequences in what it prints (moving the
cursor, clearing the screen, changing the title, writing hyperlinks) and on bidirectional
overrides (drawing text in an order other than the stored one), so none of these may reach it
raw. Every place that prints such text passes it through :func:`visible` first.
"""

from __future__ import annotations

import re

#: Bidirectional formatting characters (Unicode UAX #9): the marks LRM, RLM and ALM, the
#: embeddings and overrides U+202A-U+202E and the isolates U+2066-U+2069.
BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"

#: C0 controls but tab and newline, DEL, the C1 controls (U+0080-U+009F, CSI U+009B among
#: them), the line and paragraph separators, and :data:`BIDI`.
UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029{BIDI}]")


def _placeholder(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # Unicode's Control Pictures: ESC is shown as ␛
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"<U+{code:04X}>"


def visible(text: str) -> str:
    """``text`` with every character a terminal would act on replaced by a visible placeholder:
    a C0 control (but tab and newline) by its Control Picture (``\\x1b`` -> ``␛``), DEL by
    ``␡``, a C1 control, a line or paragraph separator or a bidirectional mark, embedding,
    override or isolate by ``<U+XXXX>`` (``\\u202e`` -> ``<U+202E>``). A ``\\r\\n`` line end
    is a newline. Text without such characters comes back unchanged."""
    return UNSAFE.sub(_placeholder, text.replace("\r\n", "\n"))
