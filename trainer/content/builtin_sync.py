"""Storing parsed decks: an idempotent upsert keyed by (deck, card key). The caller commits.

Loading the same deck twice changes nothing; an edited card is updated in place and keeps its
scheduling state and review log; a card gone from its file is retired (``active`` false), never
deleted, and comes back with its history if its id returns.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Connection, bindparam, insert, select, update

from trainer.errors import DeckError, Problem
from trainer.store import tables
from trainer.store.deck_tree import unique_slug
from trainer.store.prepared import PreparedWrite
from trainer.store.resources import DECKS_DIR
from trainer.store.tables import note_of

# The parser (tomllib, the cloze rules) and the ORM load only when files are read: the start's
# check (builtin_change) reads through Core alone.
if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from trainer.content.parser import CardSpec, DeckSpec, SectionSpec
    from trainer.store.models import Deck, Topic

FINGERPRINT_KEY = "builtin_decks_fingerprint"
STATS_KEY = "builtin_decks_stats"


@dataclass
class ImportCounts:
    """Cards added, updated (their text, kind, answers, tags or docs changed), unchanged (a card
    that only moved in its file counts here), and retired (gone from the file) by one load;
    ``missing`` counts active cards gone from the file but left active (imports)."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0
    missing: int = 0

    def __iadd__(self, other: ImportCounts) -> ImportCounts:
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.retired += other.retired
        self.missing += other.missing
        return self


def _card_fields(spec: CardSpec, position: int) -> dict[str, object]:
    return {
        "position": position,
        "kind": spec.kind,
        "front": spec.front,
        "back": spec.back,
        "accepted": list(spec.accepted),
        "tags": list(spec.tags),
        "docs_url": spec.docs,
        "active": True,
    }


def upsert_cards(
    db: Session, deck: Deck, cards: Sequence[CardSpec], *, retire_missing: bool = True
) -> ImportCounts:
    """Make ``deck``'s active cards exactly ``cards`` (in that order), keeping every history.

    With ``retire_missing`` false (imports), cards of the deck that are not in ``cards`` are
    left as they are instead of being retired, and counted as ``missing``. Cards are written
    with one ``executemany`` per INSERT and UPDATE
    (:class:`~trainer.store.prepared.PreparedWrite`), so 100,000 cards take seconds, not
    minutes; ``Card`` objects of the deck already in the session are expired afterwards.
    """
    from trainer.store.models import Card

    counts = ImportCounts()
    db.flush()
    existing = {
        row.key: row
        for row in db.execute(
            select(tables.card.c.id, tables.card.c.key, *_CONTENT).where(
                tables.card.c.deck_id == deck.id
            )
        )
    }
    inserts: list[tuple[object, ...]] = []  # in _INSERT's key order
    updates: list[tuple[object, ...]] = []  # in _UPDATE's key order
    for position, spec in enumerate(cards):
        row = existing.pop(spec.key, None) if existing else None
        if row is None:
            content = (spec.kind, spec.front, spec.back, spec.accepted, spec.tags, spec.docs)
            inserts.append((deck.id, spec.key, note_of(spec.key), position, *content, True))
            counts.added += 1
            continue
        fields = _card_fields(spec, position)
        changed = [name for name, value in fields.items() if getattr(row, name) != value]
        if changed:
            updates.append((row.id, *fields.values()))
        # a card that only moved (a row added above it) is stored in its place, not "updated"
        if changed and changed != ["position"]:
            counts.updated += 1
        else:
            counts.unchanged += 1
    for row in existing.values():
        if row.active and retire_missing:
            updates.append((row.id, *_retired(row).values()))
            counts.retired += 1
        elif row.active:
            counts.missing += 1
    if inserts:
        _INSERT.run_many(db.connection(), inserts, repeated=_REPEATED)
    if updates:
        _UPDATE.run_many(db.connection(), updates, repeated=_REPEATED)
    for obj in list(db.identity_map.values()):
        if isinstance(obj, Card) and obj.deck_id == deck.id:
            db.expire(obj)
    return counts


#: The card columns a deck file sets (see :func:`_card_fields`).
_CONTENT = (
    tables.card.c.position,
    tables.card.c.kind,
    tables.card.c.front,
    tables.card.c.back,
    tables.card.c.accepted,
    tables.card.c.tags,
    tables.card.c.docs_url,
    tables.card.c.active,
)


_TABLE = tables.card
_FIELD_KEYS = [column.key for column in _CONTENT]
_INSERT = PreparedWrite(insert(_TABLE), ["deck_id", "key", "note", *_FIELD_KEYS])
_UPDATE = PreparedWrite(
    update(_TABLE).where(_TABLE.c.id == bindparam("card_id")), ["card_id", *_FIELD_KEYS]
)
#: Columns whose values most cards share (active, no tags, no accepted answers).
_REPEATED = ("accepted", "tags", "active")


def _retired(row: Any) -> dict[str, object]:
    """The content columns of ``row`` as they are, with ``active`` false."""
    return {column.key: getattr(row, column.key) for column in _CONTENT} | {"active": False}


def upsert_roadmap(db: Session, sections: Iterable[SectionSpec]) -> dict[str, Topic]:
    """Store the roadmap's sections and topics (matched by slug); return topics by slug."""
    from trainer.store.models import Section, Topic

    known_sections = {s.slug: s for s in db.scalars(select(Section))}
    known_topics = {t.slug: t for t in db.scalars(select(Topic))}
    for position, spec in enumerate(sections):
        section = known_sections.get(spec.slug) or Section(slug=spec.slug)
        section.title, section.position = spec.title, position
        db.add(section)
        db.flush()
        for topic_position, topic_spec in enumerate(spec.topics):
            topic = known_topics.get(topic_spec.slug) or Topic(slug=topic_spec.slug)
            topic.section_id, topic.title = section.id, topic_spec.title
            topic.position, topic.subtopics = topic_position, list(topic_spec.subtopics)
            known_topics[topic.slug] = topic
            db.add(topic)
    db.flush()
    return known_topics


def builtin_files(decks_dir: Path) -> list[Path]:
    """The roadmap and every deck file under ``decks_dir``, in a stable order."""
    return [decks_dir / "roadmap.md", *sorted(decks_dir.glob("*/*.toml"))]


#: Raised when the parser builds cards from the same files differently (2: a choice card
#: stores its right letter), so stored built-in cards are rebuilt once.
CARD_BUILD = 2


def fingerprint(files: Iterable[Path], root: Path) -> str:
    """SHA-256 over :data:`CARD_BUILD` and the files' paths (relative to ``root``) and bytes."""
    digest = hashlib.sha256(f"cards v{CARD_BUILD}\0".encode())
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


#: A file modified this recently (seconds) may change again within the same tick of the file
#: system's clock, keeping its size and modification time: such files are always read (the
#: "racy clean" rule of git's index).
RACY_SECONDS = 2.0


def file_stats(files: Iterable[Path], root: Path) -> str | None:
    """SHA-256 over :data:`CARD_BUILD`, ``root``'s absolute path and each file's path (relative
    to ``root``), size (bytes) and modification time (nanoseconds); None when a file was
    modified less than :data:`RACY_SECONDS` ago, so its stats cannot vouch for its bytes.

    Raises ``OSError`` for a file that cannot be read.
    """
    digest = hashlib.sha256(f"stats v{CARD_BUILD}\0{root.resolve()}\0".encode())
    recent = (time.time() - RACY_SECONDS) * 1e9
    for path in files:
        info = path.stat()
        if info.st_mtime_ns > recent:
            return None
        digest.update(f"{path.relative_to(root)}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def read_builtin(decks_dir: Path) -> tuple[tuple[SectionSpec, ...], list[DeckSpec]]:
    """Parse the roadmap and all built-in decks; raise one :class:`DeckError` for all problems."""
    from trainer.content.parser import parse_deck, parse_roadmap

    problems: list[Problem] = []
    roadmap_path = decks_dir / "roadmap.md"
    sections: tuple[SectionSpec, ...] = ()
    try:
        sections = parse_roadmap(roadmap_path.read_text(encoding="utf-8"), str(roadmap_path))
    except DeckError as exc:
        problems.extend(exc.problems)
    topic_slugs = {t.slug for s in sections for t in s.topics}
    decks: list[DeckSpec] = []
    owner: dict[str, str] = {}
    for path in builtin_files(decks_dir)[1:]:
        try:
            deck = parse_deck(path.read_text(encoding="utf-8"), str(path), builtin=True)
        except DeckError as exc:
            problems.extend(exc.problems)
            continue
        except UnicodeDecodeError:
            problems.append(Problem(str(path), 1, "not UTF-8 text"))
            continue
        if sections and deck.topic not in topic_slugs:
            problems.append(Problem(str(path), 1, f"topic '{deck.topic}' is not in the roadmap"))
        elif deck.topic in owner:
            problems.append(
                Problem(str(path), 1, f"topic '{deck.topic}' already has {owner[deck.topic]}")
            )
        else:
            owner[str(deck.topic)] = str(path)
            decks.append(deck)
    if problems:
        raise DeckError(problems)
    return sections, decks


class Stamps(NamedTuple):
    """The built-in files' :func:`file_stats` (None when too recent to trust) and content
    :func:`fingerprint`."""

    stats: str | None
    content: str


def builtin_change(conn: Connection, decks_dir: Path = DECKS_DIR) -> Stamps | None:
    """None when the built-in files have the sizes and modification times recorded at the
    last load (nothing is read then, as make and git judge a file), else their stamps, the
    stats taken before the bytes are hashed. A plain Core query: an ordinary start checks
    this without setting up the ORM.

    Raises :class:`DeckError` when the roadmap file is missing.
    """
    files = builtin_files(decks_dir)
    if not files[0].is_file():
        raise DeckError([Problem(str(files[0]), None, "the built-in roadmap is missing")])
    stats = file_stats(files, decks_dir)
    stored = conn.scalar(select(tables.setting.c.value).where(tables.setting.c.key == STATS_KEY))
    if stats is not None and stored == stats:
        return None
    return Stamps(stats, fingerprint(files, decks_dir))


def sync_builtin(db: Session, decks_dir: Path = DECKS_DIR) -> ImportCounts | None:
    """Load the built-in roadmap and decks if they changed since the last load; no commit.

    Returns the counts, or None when the files are unchanged: their sizes and modification
    times match the last load's, or else their bytes hash to the fingerprint last loaded (then
    the new stats are stored, so the next start reads nothing). Raises :class:`DeckError`.
    """
    stamps = builtin_change(db.connection(), decks_dir)
    if stamps is None:
        return None
    from trainer.store.models import Setting

    loaded = db.scalar(
        select(tables.setting.c.value).where(tables.setting.c.key == FINGERPRINT_KEY)
    )
    counts = None if loaded == stamps.content else _load(db, decks_dir, stamps.content)
    if stamps.stats is not None:
        db.merge(Setting(key=STATS_KEY, value=stamps.stats))
        db.flush()
    return counts


def _load(db: Session, decks_dir: Path, stamp: str) -> ImportCounts:
    """Parse and store the built-in files; record their content fingerprint ``stamp``."""
    from trainer.store.models import Deck, Setting

    sections, decks = read_builtin(decks_dir)
    topics = upsert_roadmap(db, sections)
    known = {
        d.topic_id: d for d in db.scalars(select(Deck).where(tables.deck.c.source == "builtin"))
    }
    counts = ImportCounts()
    for spec in decks:
        topic = topics[str(spec.topic)]
        deck = known.get(topic.id)
        if deck is None:
            slug = unique_slug(db.connection(), topic.title, preferred=topic.slug)
            deck = Deck(name=topic.title, slug=slug, source="builtin", topic_id=topic.id)
            db.add(deck)
            db.flush()
        counts += upsert_cards(db, deck, spec.cards)
    loaded = {topics[str(spec.topic)].id for spec in decks}
    for topic_id, deck in known.items():
        if topic_id not in loaded:
            counts += upsert_cards(db, deck, [])
    db.merge(Setting(key=FINGERPRINT_KEY, value=stamp))
    db.flush()
    return counts
