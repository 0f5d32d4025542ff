"""Storing parsed decks: an idempotent upsert keyed by (deck, card key). The caller commits.

Loading the same deck twice changes nothing; an edited card is updated in place and keeps its
scheduling state and review log; a card gone from its file is retired (``active`` false), never
deleted, and comes back with its history if its id returns.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from trainer.errors import DeckError
from trainer.models import Card, Deck, Section, Setting, Topic
from trainer.parser import CardSpec, DeckSpec, SectionSpec, parse_deck, parse_roadmap
from trainer.resources import DECKS_DIR

FINGERPRINT_KEY = "builtin_decks_fingerprint"


@dataclass
class ImportCounts:
    """Cards added, updated, unchanged, and retired (gone from the file) by one load."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0

    def __iadd__(self, other: ImportCounts) -> ImportCounts:
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.retired += other.retired
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


def upsert_cards(db: Session, deck: Deck, cards: Sequence[CardSpec]) -> ImportCounts:
    """Make ``deck``'s active cards exactly ``cards`` (in that order), keeping every history."""
    counts = ImportCounts()
    existing = {card.key: card for card in db.scalars(select(Card).where(Card.deck_id == deck.id))}
    for position, spec in enumerate(cards):
        fields = _card_fields(spec, position)
        card = existing.pop(spec.key, None)
        if card is None:
            db.add(Card(deck_id=deck.id, key=spec.key, **fields))
            counts.added += 1
        elif all(getattr(card, name) == value for name, value in fields.items()):
            counts.unchanged += 1
        else:
            for name, value in fields.items():
                setattr(card, name, value)
            counts.updated += 1
    for card in existing.values():
        if card.active:
            card.active = False
            counts.retired += 1
    db.flush()
    return counts


def upsert_roadmap(db: Session, sections: Iterable[SectionSpec]) -> dict[str, Topic]:
    """Store the roadmap's sections and topics (matched by slug); return topics by slug."""
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


def fingerprint(files: Iterable[Path], root: Path) -> str:
    """SHA-256 over the files' paths (relative to ``root``) and bytes."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def read_builtin(decks_dir: Path) -> tuple[tuple[SectionSpec, ...], list[DeckSpec]]:
    """Parse the roadmap and all built-in decks; raise one :class:`DeckError` for all problems."""
    problems: list[str] = []
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
            problems.append(f"{path}:1: not UTF-8 text")
            continue
        if sections and deck.topic not in topic_slugs:
            problems.append(f"{path}:1: topic '{deck.topic}' is not in the roadmap")
        elif deck.topic in owner:
            problems.append(f"{path}:1: topic '{deck.topic}' already has {owner[deck.topic]}")
        else:
            owner[str(deck.topic)] = str(path)
            decks.append(deck)
    if problems:
        raise DeckError(problems)
    return sections, decks


def sync_builtin(db: Session, decks_dir: Path = DECKS_DIR) -> ImportCounts | None:
    """Load the built-in roadmap and decks if they changed since the last load; no commit.

    Returns the counts, or None when the files are unchanged (checked by fingerprint, so an
    ordinary start reads the files but parses nothing). Raises :class:`DeckError`.
    """
    files = builtin_files(decks_dir)
    if not files[0].is_file():
        raise DeckError([f"{files[0]}: the built-in roadmap is missing"])
    stamp = fingerprint(files, decks_dir)
    stored = db.get(Setting, FINGERPRINT_KEY)
    if stored is not None and stored.value == stamp:
        return None
    sections, decks = read_builtin(decks_dir)
    topics = upsert_roadmap(db, sections)
    known = {d.topic_id: d for d in db.scalars(select(Deck).where(Deck.source == "builtin"))}
    counts = ImportCounts()
    for spec in decks:
        topic = topics[str(spec.topic)]
        deck = known.get(topic.id)
        if deck is None:
            deck = Deck(name=topic.title, source="builtin", topic_id=topic.id)
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
