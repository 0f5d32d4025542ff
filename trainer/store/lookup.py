"""Finding a section, topic or deck by the name a learner types, and checking the card ids
they type: one lookup for every command.

A name matches a row's slug or its title (a deck's name), ignoring case, so
``--topic "HTTP Protocol"``, ``--topic http-protocol`` and ``--topic HTTP-PROTOCOL`` are one
topic. A name that matches nothing raises one :class:`~trainer.errors.UsageError` worded the
same way by every command: ``--OPTION NAME: no such KIND (HINT)`` (``no such KIND 'NAME'
(HINT)`` for a name given as an argument), where the one hint is, in this order, the option
that does name it (a deck given as ``--topic``), the close matches (names that contain the one
typed, or whose ``difflib`` ratio reaches :data:`CLOSE_RATIO`), or where the names are listed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, select

from trainer.errors import TrainerError, UsageError
from trainer.store import tables

Kind = Literal["section", "topic", "deck"]
KINDS: tuple[Kind, ...] = ("deck", "topic", "section")
#: Where a learner reads the names of each kind.
LISTED_IN: dict[Kind, str] = {
    "section": "titles and slugs are in 'trainer status --json'",
    "topic": "titles and slugs are in 'trainer status --json'",
    "deck": "names are in 'trainer decks'",
}
#: The ``source`` of a deck loaded from ``decks/``: found as its topic, never as a deck.
BUILTIN = "builtin"
#: Close matches offered at most.
MAX_SUGGESTIONS = 3
#: Shortest typed name looked for inside longer names.
MIN_PART = 3
#: Least ``difflib`` similarity ratio (2 x matching characters / both lengths) of a close
#: match: one typo in four characters (``rcks`` for ``rock``) still is, while names sharing
#: only a few letters (``nope`` and ``notes``: 0.67, over Python's default 0.6) are not.
CLOSE_RATIO = 0.75


def slugify(title: str) -> str:
    """Return the slug of a title: lower case, runs of non ``a-z0-9`` as one ``-``.

    >>> slugify("Continuous Integration (CI) Tools")
    'continuous-integration-ci-tools'
    """
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


#: Between the parts of a tag under another (``geo::rocks``), as Anki writes it.
TAG_SEPARATOR = "::"


def card_tag(text: str) -> str:
    """The tag ``text`` names, as cards carry it: the one rule for every import format and
    for a deck file's ``tags``.

    As Anki keeps tags (rslib ``tags/register.rs``): Unicode NFC, every letter, digit, mark,
    symbol and punctuation character kept (``c++``, ``c#``, ``数学``, ``café``, ``a/b``), so
    different tags stay different; ``::`` parts (a tag under another) stripped of white space,
    empty parts dropped. Unlike Anki, lower case (tags match ignoring case, and a search then
    finds them on every database engine), a run of white space inside a part is one ``-``
    (Anki splits a tag there; a Markdown list item is one tag), and control, format and
    unassigned characters (Unicode categories C and Z, which ``str.isprintable`` leaves out:
    escape sequences, bidirectional overrides) are dropped rather than only ASCII controls.
    ``""`` when nothing is left.

    >>> card_tag(" Geo :: Rocks::  Machine  learning::")
    'geo::rocks::machine-learning'
    """
    parts = []
    lowered = text.lower()
    for part in (lowered if lowered.isascii() else unicodedata.normalize("NFC", lowered)).split(
        TAG_SEPARATOR
    ):
        if not part.isprintable():  # holds a character of a Unicode category C or Z
            part = "".join(
                " " if char.isspace() else char
                for char in part
                if char.isspace() or char.isprintable()
            )
        words = part.split()
        if words:
            parts.append("-".join(words))
    return TAG_SEPARATOR.join(parts)


@dataclass(frozen=True)
class Found:
    """A section, topic or deck a name matched: its ``id``, ``slug`` and ``title``
    (a deck's name); ``section_id`` is a topic's section (None for the other kinds)."""

    kind: Kind
    id: int
    slug: str
    title: str
    section_id: int | None = None


@dataclass(frozen=True)
class Selection:
    """What ``--section``, ``--topic`` and ``--deck`` chose together (None: not given)."""

    section: Found | None = None
    topic: Found | None = None
    deck: Found | None = None


def select_named(
    conn: Connection,
    *,
    section: str | None = None,
    topic: str | None = None,
    deck: str | None = None,
) -> Selection:
    """Look up each name given; check that a topic given with a section lies in it.

    Raises :class:`UsageError` for a name that matches nothing (see the module docstring), for
    a topic outside the section given (``--topic T is not in --section S``) and for ``--deck``
    given with ``--topic`` or ``--section``.
    """
    if deck is not None and (topic is not None or section is not None):
        option = "--topic" if topic is not None else "--section"
        raise UsageError(f"--deck and {option}: give one of them, not both")
    found_section = find(conn, "section", section) if section is not None else None
    found_topic = find(conn, "topic", topic) if topic is not None else None
    if found_section and found_topic and found_topic.section_id != found_section.id:
        raise UsageError(f"--topic {topic} is not in --section {section}")
    found_deck = find(conn, "deck", deck) if deck is not None else None
    return Selection(found_section, found_topic, found_deck)


def find(conn: Connection, kind: Kind, name: str, *, option: bool = True) -> Found:
    """The ``kind`` whose slug or title (a deck's name) is ``name``, ignoring case; ``option``
    says the learner gave ``name`` as ``--KIND`` (False: as a command's argument).

    Raises :class:`UsageError` when none is, naming the option, or else the name as typed.
    """
    wanted = name.strip().lower()
    candidates = _rows(conn, kind)
    for row in candidates:
        if wanted in (row.slug.lower(), row.title.lower()):
            return row
    hint = _hint(conn, kind, name, candidates)
    if option:
        raise UsageError(f"--{kind} {name}: no such {kind} ({hint})")
    raise UsageError(f"no such {kind} {name!r} ({hint})")


def _rows(conn: Connection, kind: Kind) -> list[Found]:
    if kind == "section":
        sections = select(
            tables.section.c.id, tables.section.c.slug, tables.section.c.title
        ).order_by(tables.section.c.position)
        return [Found(kind, *row) for row in conn.execute(sections)]
    if kind == "topic":
        topics = select(
            tables.topic.c.id, tables.topic.c.slug, tables.topic.c.title, tables.topic.c.section_id
        ).order_by(tables.topic.c.id)
        return [Found(kind, *row) for row in conn.execute(topics)]
    decks = select(tables.deck.c.id, tables.deck.c.slug, tables.deck.c.name).where(
        tables.deck.c.source != BUILTIN
    )
    return [Found(kind, *row) for row in conn.execute(decks.order_by(tables.deck.c.name))]


def _hint(conn: Connection, kind: Kind, name: str, candidates: Sequence[Found]) -> str:
    """The one hint of a failed lookup (see the module docstring)."""
    wanted = name.strip().lower()
    others: tuple[Kind, ...] = tuple(k for k in KINDS if k != kind)
    for other in others:
        if any(wanted in (row.slug.lower(), row.title.lower()) for row in _rows(conn, other)):
            return f"'{name}' is a {other}: --{other} {name}"
    close = close_matches(name, candidates)
    if close:
        return "did you mean " + _either(close) + "?"
    return LISTED_IN[kind]


def close_matches(name: str, candidates: Iterable[Found]) -> list[str]:
    """Up to :data:`MAX_SUGGESTIONS` names of ``candidates`` close to ``name``: a name that
    contains it (from :data:`MIN_PART` characters), then difflib's closest (a ratio of at
    least :data:`CLOSE_RATIO`). Each is given in
    the form typed: a title when ``name`` has a capital or a space, else a slug."""
    import difflib  # a name that matched nothing is rare: not loaded at every start

    wanted = name.strip().lower()
    as_title = name != name.lower() or " " in name.strip()
    forms = [row.title if as_title else row.slug for row in candidates]
    shown = {form.lower(): form for form in forms}
    found = [shown[key] for key in shown if len(wanted) >= MIN_PART and wanted in key]
    for key in difflib.get_close_matches(
        wanted, list(shown), n=MAX_SUGGESTIONS, cutoff=CLOSE_RATIO
    ):
        if shown[key] not in found:
            found.append(shown[key])
    return found[:MAX_SUGGESTIONS]


def _either(names: list[str]) -> str:
    quoted = [f"'{name}'" for name in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


#: The largest id a row can have (SQLite's rowid is a signed 64-bit integer); a larger id
#: names no card.
LARGEST_ID = 2**63 - 1


def no_card(conn: Connection, card_ids: Iterable[int]) -> None:
    """Check that each of ``card_ids``, ids the learner typed as such, names an active card.

    Raises :class:`TrainerError` (exit 1) naming the ids that name no card, ``card 999999: no
    such card (ids are in 'trainer cards')``, or else those of retired cards (a card its deck
    no longer has, kept for its history).
    """
    wanted = sorted(set(card_ids))
    possible = [card_id for card_id in wanted if card_id <= LARGEST_ID]
    active = dict(
        conn.execute(
            select(tables.card.c.id, tables.card.c.active).where(tables.card.c.id.in_(possible))
        ).all()
    )
    for missing, what in (
        ([i for i in wanted if i not in active], "no such card{s} (ids are in 'trainer cards')"),
        ([i for i in wanted if i in active and not active[i]], "retired: no longer in {its} deck"),
    ):
        if missing:
            many = len(missing) > 1
            names = ", ".join(map(str, missing))
            detail = what.format(s="s" if many else "", its="their" if many else "its")
            raise TrainerError(f"card{'s' * many} {names}: {detail}")
