"""Decks as a tree: Anki's ``A::B::C`` names, parents, slugs, and the decks under a deck.

A deck's ``name`` is its whole path (``Rocks::Igneous``); every deck on the path exists, each
with its ``parent_id``. :func:`deck_for_path` is the one way to find or make a deck by path, for
every importer (Anki's decks, a CSV's ``#deck column:``, ``--deck``). Names are matched as Anki
matches them: ignoring case, each part stripped of white space, empty parts dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection, delete, func, or_, select

from trainer.errors import UsageError
from trainer.store import tables
from trainer.store.lookup import BUILTIN, find, slugify

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from trainer.store.models import Deck

#: Between the parts of a deck path, as Anki writes it.
SEPARATOR = "::"
#: Longest deck name (whole path) and slug the schema holds.
NAME_LENGTH = 200


def deck_path(name: str) -> str:
    """``name`` in its stored form: each part stripped of white space and of colons at its
    ends (so ``a:::b`` has one reading), empty parts dropped, joined by ``::``.

    ``" Rocks :: Igneous::"`` -> ``"Rocks::Igneous"``; ``""`` when nothing is left.
    """
    parts = (_PART_ENDS.sub("", part) for part in name.split(SEPARATOR))
    return SEPARATOR.join(part for part in parts if part)


#: What :func:`deck_path` strips from the ends of a part: white space and colons, in any mix.
_PART_ENDS = re.compile(r"^[\s:]+|[\s:]+$")


def check_deck_name(name: str, option: str | None = None) -> str:
    """``name`` as a learner typed it for a new deck (``trainer decks rename``'s new name,
    ``import --deck``; ``option`` names the option, None for an argument), returned unchanged
    when every ``::``-separated part is non-empty, has no white space or ``:`` at its ends, and
    the whole is at most :data:`NAME_LENGTH` characters.

    Raises :class:`UsageError` naming the first fault otherwise: unlike names read from a file
    (:func:`deck_path` tidies those, as Anki does), a typed name is not guessed at.
    """
    parts = name.split(SEPARATOR)
    if not name.strip():
        problem = "is empty"
    elif not parts[0].strip() or not parts[-1].strip():
        problem = f"starts or ends with '{SEPARATOR}'"
    elif any(not part.strip() for part in parts):
        problem = f"has an empty part between '{SEPARATOR}'"
    elif any(part != part.strip() for part in parts):
        problem = "has spaces at the start or end of a part"
    elif any(part.startswith(":") or part.endswith(":") for part in parts):
        problem = f"has a ':' next to '{SEPARATOR}'"
    elif len(name) > NAME_LENGTH:
        problem = f"is longer than {NAME_LENGTH} characters"
    else:
        return name
    given = f"{option} {name!r}" if option else f"deck name {name!r}"
    raise UsageError(f"{given}: the name {problem}; give one such as Spanish or Rocks::Igneous")


def unique_slug(conn: Connection, text: str, preferred: str | None = None) -> str:
    """A deck slug no deck has yet: ``preferred`` or the slug of ``text`` (``deck`` when it
    has no letter or digit), with ``-2``, ``-3``... added when taken."""
    base = (preferred or slugify(text) or "deck")[: NAME_LENGTH - 8]
    taken = set(conn.scalars(select(tables.deck.c.slug).where(tables.deck.c.slug.like(f"{base}%"))))
    slug, number = base, 1
    while slug in taken:
        number += 1
        slug = f"{base}-{number}"
    return slug


class DeckTaken(Exception):
    """A deck on the path asked for belongs elsewhere: ``name`` is that deck's, ``owner`` says
    whose it is ("is a built-in deck", "belongs to topic 'x'", "belongs to no topic")."""

    def __init__(self, name: str, owner: str) -> None:
        super().__init__(f"deck '{name}' {owner}")
        self.name = name
        self.owner = owner


def deck_for_path(db: Session, name: str, *, topic_id: int | None = None) -> Deck:
    """The imported deck at path ``name`` (``A::B::C``; cut to :data:`NAME_LENGTH`), made
    with each missing deck above it (decks made for a topic get its ``topic_id``); no commit.

    Raises :class:`UsageError` for a name with nothing but separators and white space, and
    :class:`DeckTaken` when a deck already on the path is a built-in deck or belongs to
    another topic (or to none, when ``topic_id`` is given).
    """
    from trainer.store.models import Deck  # the ORM, for the commands that make decks

    path = deck_path(deck_path(name)[:NAME_LENGTH])
    if not path:
        raise UsageError(f"deck name {name!r}: give a name such as Spanish or Rocks::Igneous")
    parts = path.split(SEPARATOR)
    parent: Deck | None = None
    for depth in range(1, len(parts) + 1):
        here = SEPARATOR.join(parts[:depth])
        deck = db.scalars(
            select(Deck).where(func.lower(tables.deck.c.name) == here.lower())
        ).first()
        if deck is None:
            deck = Deck(
                name=here,
                slug=unique_slug(db.connection(), here),
                source="import",
                topic_id=topic_id,
                parent_id=parent.id if parent else None,
            )
            db.add(deck)
            db.flush()
        elif deck.source == BUILTIN:
            raise DeckTaken(deck.name, "is a built-in deck")
        elif deck.topic_id != topic_id:
            owner = f"topic '{deck.topic.slug}'" if deck.topic else "no topic"
            raise DeckTaken(deck.name, f"belongs to {owner}")
        parent = deck
    assert parent is not None  # the path has at least one part
    return parent


@dataclass(frozen=True)
class DeckNode:
    """One deck of the tree: ``id``, ``name`` (its whole path), ``slug``, ``parent_id``,
    ``topic_id`` and ``source`` as stored; ``depth`` is 0 at the top."""

    id: int
    name: str
    slug: str
    parent_id: int | None
    topic_id: int | None
    source: str

    @property
    def depth(self) -> int:
        """How many decks are above this one."""
        return self.name.count(SEPARATOR)

    @property
    def leaf(self) -> str:
        """The last part of the name (``Igneous`` for ``Rocks::Igneous``)."""
        return self.name.rsplit(SEPARATOR, 1)[-1]


class DeckTree:
    """Every deck with its parent and children, read once (decks are few: a deck's cards are
    not read)."""

    def __init__(self, nodes: Iterable[DeckNode]) -> None:
        self.nodes = {node.id: node for node in nodes}
        self._children: dict[int | None, list[int]] = {}
        for node in sorted(self.nodes.values(), key=lambda n: n.name.lower()):
            self._children.setdefault(node.parent_id, []).append(node.id)

    @classmethod
    def read(cls, conn: Connection) -> DeckTree:
        """The tree as stored."""
        deck = tables.deck.c
        rows = conn.execute(
            select(deck.id, deck.name, deck.slug, deck.parent_id, deck.topic_id, deck.source)
        )
        return cls(DeckNode(*row) for row in rows)

    def children(self, deck_id: int | None) -> list[int]:
        """The decks one level under ``deck_id`` (None: the top-level decks), by name."""
        return list(self._children.get(deck_id, []))

    def subtree(self, deck_id: int) -> list[int]:
        """``deck_id`` and every deck under it, the deck first, then depth first by name."""
        found = [deck_id]
        for child in self.children(deck_id):
            found += self.subtree(child)
        return found

    def root(self, deck_id: int) -> int:
        """The top-level deck above ``deck_id`` (itself at the top)."""
        node = self.nodes[deck_id]
        while node.parent_id is not None:
            node = self.nodes[node.parent_id]
        return node.id

    def ordered(self) -> list[DeckNode]:
        """Every deck, each followed by its subtree (the order ``status`` draws the tree in)."""
        return [self.nodes[i] for top in self.children(None) for i in self.subtree(top)]


def _not_builtin(conn: Connection, name: str, action: str) -> None:
    """Raise :class:`UsageError` when ``name`` is a built-in topic deck (by name or slug)."""
    wanted = name.strip().lower()
    builtin = conn.scalar(
        select(tables.deck.c.name).where(
            tables.deck.c.source == BUILTIN,
            or_(func.lower(tables.deck.c.name) == wanted, tables.deck.c.slug == wanted),
        )
    )
    if builtin is not None:
        raise UsageError(f"'{builtin}' is a built-in topic deck: it cannot be {action}")


def rename_deck(db: Session, old: str, new: str) -> list[tuple[str, str]]:
    """Rename the deck ``old`` (a name or slug, see :func:`~trainer.store.lookup.find`) and
    every deck under it to the path ``new``; each gets the slug of its new name. A ``new``
    under another deck (``A::B``) moves it there, making missing parents. No commit.

    Returns (old name, new name) of every deck renamed, the deck first. Raises
    :class:`UsageError` for a built-in topic deck, an unknown deck, a name
    another deck has, a path under the deck itself or through a deck owned elsewhere, and a
    ``new`` that :func:`check_deck_name` refuses.
    """
    from trainer.store.models import Deck

    conn = db.connection()
    _not_builtin(conn, old, "renamed")
    found = find(conn, "deck", old, option=False)
    deck = db.get_one(Deck, found.id)
    path = check_deck_name(new)
    if path.lower().startswith(deck.name.lower() + SEPARATOR):
        raise UsageError(f"'{path}' is under '{deck.name}': a deck cannot move under itself")
    other = db.scalars(
        select(Deck).where(
            func.lower(tables.deck.c.name) == path.lower(), tables.deck.c.id != deck.id
        )
    ).first()
    if other is not None:
        raise UsageError(f"a deck named '{other.name}' exists already; choose another name")
    parent_id = None
    if SEPARATOR in path:
        try:
            above = deck_for_path(db, path.rsplit(SEPARATOR, 1)[0], topic_id=deck.topic_id)
        except DeckTaken as taken:
            raise UsageError(f"{new}: deck '{taken.name}' {taken.owner}") from None
        parent_id = above.id
    tree = DeckTree.read(conn)
    renamed = []
    top = len(deck.name)
    for deck_id in tree.subtree(deck.id):
        row = db.get_one(Deck, deck_id)
        before = row.name
        row.name = path + before[top:]
        row.slug = f"~{row.id}"  # free the old slug while the new ones are chosen
        renamed.append((before, row.name))
    db.flush()
    for deck_id in tree.subtree(deck.id):
        row = db.get_one(Deck, deck_id)
        row.slug = unique_slug(conn, row.name)
        db.flush()
    deck.parent_id = parent_id
    db.flush()
    return renamed


@dataclass(frozen=True)
class DeckContents:
    """What deleting a deck removes: its name, the decks under it, their cards (active or
    retired) and review log rows."""

    name: str
    subdecks: int
    cards: int
    reviews: int


def deck_contents(conn: Connection, name: str) -> DeckContents:
    """What deleting the deck ``name`` would remove (see :func:`delete_deck`).

    Raises :class:`UsageError` for a built-in topic deck or an unknown deck.
    """
    _not_builtin(conn, name, "deleted")
    found = find(conn, "deck", name, option=False)
    ids = DeckTree.read(conn).subtree(found.id)
    cards = select(tables.card.c.id).where(tables.card.c.deck_id.in_(ids))
    card_count = conn.scalar(select(func.count()).select_from(cards.subquery()))
    reviews = conn.scalar(
        select(func.count())
        .select_from(tables.review_log)
        .where(tables.review_log.c.card_id.in_(cards))
    )
    return DeckContents(found.title, len(ids) - 1, int(card_count or 0), int(reviews or 0))


def delete_deck(db: Session, name: str) -> DeckContents:
    """Delete the deck ``name``, the decks under it, their cards and review log rows; no
    commit (the caller's one transaction holds it all). Returns what was deleted.

    Raises :class:`UsageError` for a built-in topic deck or an unknown deck.
    """
    conn = db.connection()
    contents = deck_contents(conn, name)
    found = find(conn, "deck", name, option=False)
    ids = DeckTree.read(conn).subtree(found.id)
    cards = select(tables.card.c.id).where(tables.card.c.deck_id.in_(ids))
    conn.execute(delete(tables.review_log).where(tables.review_log.c.card_id.in_(cards)))
    conn.execute(delete(tables.card_memory).where(tables.card_memory.c.card_id.in_(cards)))
    conn.execute(delete(tables.card_edit).where(tables.card_edit.c.card_id.in_(cards)))
    conn.execute(delete(tables.card).where(tables.card.c.deck_id.in_(ids)))
    conn.execute(delete(tables.learner_deck).where(tables.learner_deck.c.deck_id.in_(ids)))
    for deck_id in reversed(ids):  # children before their parents
        conn.execute(delete(tables.deck).where(tables.deck.c.id == deck_id))
    db.expire_all()
    return contents
