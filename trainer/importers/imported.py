"""What a format reader hands over: the cards of one file, its media and (Anki) its history."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING

from trainer.content.parser import CardSpec
from trainer.errors import DeckError, Problem
from trainer.store.tables import note_of

if TYPE_CHECKING:
    from trainer.importers.anki_history import CardHistory


#: Largest media file, unpacked (bytes).
MAX_MEDIA_FILE_BYTES = 256 << 20


@dataclass(frozen=True)
class MediaFile:
    """A media file a deck ships: its ``name`` (no folders), size in bytes, and how to read it.

    ``read`` returns the bytes and raises :class:`~trainer.errors.DeckError` when the file is
    damaged or larger than announced.
    """

    name: str
    size: int
    read: Callable[[], bytes]


def media_on_disk(file: Path, name: str) -> MediaFile:
    """The media file at ``file`` (which exists), stored under ``name``; reading it raises
    :class:`~trainer.errors.DeckError` naming the file when it cannot be read or has grown
    past :data:`MAX_MEDIA_FILE_BYTES`."""
    return MediaFile(name, file.stat().st_size, partial(_read_media, file))


def has_folder(name: str) -> bool:
    """True for a media name that is empty, ``.``/``..`` or holds a path separator or NUL:
    never looked up on disk."""
    return not name or name in (".", "..") or re.search(r"[\\/\0]", name) is not None


def _read_media(file: Path) -> bytes:
    try:
        size = file.stat().st_size
        if size > MAX_MEDIA_FILE_BYTES:
            raise DeckError(
                [Problem(str(file), None, f"{size} bytes, over {MAX_MEDIA_FILE_BYTES}")]
            )
        return file.read_bytes()
    except OSError as exc:
        raise DeckError(
            [Problem(str(file), None, f"cannot read ({exc.strerror or exc})")]
        ) from None


@dataclass(frozen=True)
class ImportedDeck:
    """One file's cards, in file order, with a stable key each (see :func:`front_key`).

    ``skipped`` counts entries of the file that gave no card (empty rows, duplicate rows,
    suspended or empty Anki cards) and ``skip_reasons`` says why, one short phrase per kind.
    ``name`` and ``topic`` are the deck name and topic slug the file itself gives, if any.
    ``histories`` (Anki with ``--with-history``) holds each card's review log by card key.
    ``fsrs_parameters`` are the deck's own FSRS-6 parameters (Anki: those of the preset most of
    its cards use), empty when it has none.
    ``card_decks`` maps the key of a card that the file puts in a deck of its own (a CSV deck
    column) to that deck's path (``A::B``); the other cards go to the deck ``name``.
    ``comment_lines`` counts lines left out as comments or header lines of unknown keys;
    ``warnings`` says what in the file may not be what its author meant (rows of differing
    numbers of fields), one line each.
    """

    path: str
    cards: tuple[CardSpec, ...]
    skipped: int = 0
    skip_reasons: tuple[str, ...] = ()
    name: str | None = None
    topic: str | None = None
    media: tuple[MediaFile, ...] = ()
    histories: tuple[CardHistory, ...] = ()
    fsrs_parameters: tuple[float, ...] = ()
    card_decks: Mapping[str, str] = field(default_factory=dict)
    comment_lines: int = 0
    warnings: tuple[str, ...] = ()


def front_key(front: str) -> str:
    """The key of a card known only by its front: ``front-`` and 16 hex digits of the SHA-256
    of the front with white space collapsed (so re-wrapping a line keeps the card)."""
    normal = " ".join(front.split())
    return "front-" + hashlib.sha256(normal.encode()).hexdigest()[:16]


class SkipCounter:
    """Counts skipped entries by reason while a reader walks a file."""

    def __init__(self) -> None:
        self.reasons: dict[str, int] = {}

    def skip(self, reason: str) -> None:
        """Count one skipped entry for ``reason`` (a short phrase, e.g. "no answer")."""
        self.reasons[reason] = self.reasons.get(reason, 0) + 1

    @property
    def total(self) -> int:
        """Entries skipped so far."""
        return sum(self.reasons.values())

    def phrases(self) -> tuple[str, ...]:
        """``"no answer (3)"``-style phrases, one per reason, in first-seen order."""
        return tuple(f"{reason} ({count})" for reason, count in self.reasons.items())


def problems_skipped(problems: Sequence[Problem], skips: SkipCounter) -> tuple[str, ...]:
    """Warnings for the ``problems`` of a text file that has cards besides: one per problem
    (``line N: what is wrong; not imported``), each entry counted in ``skips``, so one bad
    entry never refuses the rest of the file, as a row without an answer is skipped. (A file
    whose every entry has a problem is refused with them instead.)"""
    warnings = []
    for problem in problems:
        skips.skip("could not be read")
        where = "" if problem.line is None else f"line {problem.line}: "
        warnings.append(f"{where}{problem.message}; not imported")
    return tuple(warnings)


def unique_cards(cards: list[CardSpec], skips: SkipCounter) -> tuple[CardSpec, ...]:
    """``cards`` without later repeats of a key (counted as "same card twice" skips)."""
    seen: set[str] = set()
    kept = []
    for card in cards:
        if card.key in seen:
            skips.skip("same card twice")
            continue
        seen.add(card.key)
        kept.append(card)
    return tuple(kept)


def distinct_cards(
    placed: Iterable[tuple[CardSpec, str]], skips: SkipCounter
) -> list[tuple[CardSpec, str]]:
    """The cards of a text file, each with the deck the file puts it in (``""``: the file's
    own deck), in order, without later repeats.

    Keys made from the text (:func:`front_key`) meet when two entries have the same question.
    A later card that is the same card again (same kind, sides and answers, same deck) is
    skipped as "same card twice"; any other is a card of its own, as Anki imports every row of
    a file as a note of its own: its note key gets ``~2`` (``~3``, ...: the second, third note
    of that question in the file), so ``front-…#2`` becomes ``front-…~2#2``. The numbering
    follows the file's order, so importing the file again finds the same cards."""
    seen: dict[str, tuple[CardSpec, str]] = {}
    kept = []
    for card, deck in placed:
        key = card.key
        if key in seen:  # the note key is worked out only for a key met before
            note, number = note_of(key), 1
            while key in seen and not _same(seen[key], card, deck):
                number += 1
                key = f"{note}~{number}{card.key[len(note) :]}"
            if key in seen:
                skips.skip("same card twice")
                continue
            card = dataclasses.replace(card, key=key)
        seen[key] = (card, deck)
        kept.append((card, deck))
    return kept


def _same(earlier: tuple[CardSpec, str], card: CardSpec, deck: str) -> bool:
    first, first_deck = earlier
    return (first.kind, first.front, first.back, first.accepted, first_deck) == (
        card.kind,
        card.front,
        card.back,
        card.accepted,
        deck,
    )


#: A media token in card text as :func:`~trainer.importers.html_text.media_token` writes it
#: (escaped Markdown): its kind and its name, still escaped.
_MEDIA_TOKEN = re.compile(r"\\\[(?:image|sound): ((?:\\.|[^\\\n])+?)\\\]")
_ESCAPE = re.compile(r"\\(.)")


def media_beside(imported: ImportedDeck) -> ImportedDeck:
    """``imported`` (a CSV/TSV file's cards) with the media files its cards' tokens name that
    lie in the file's own folder (a name with a folder in it, or an address, is never looked
    up), and a warning naming the ones that do not."""
    cards = imported.cards
    text = "\n".join([*map(attrgetter("front"), cards), *map(attrgetter("back"), cards)])
    if "[image: " not in text and "[sound: " not in text:
        return imported
    folder = Path(imported.path).parent
    names = dict.fromkeys(_ESCAPE.sub(r"\1", name) for name in _MEDIA_TOKEN.findall(text))
    media, missing = [], []
    for name in names:
        if has_folder(name):
            continue
        file = folder / name
        if file.is_file():
            media.append(media_on_disk(file, name))
        else:
            missing.append(name)
    if not media and not missing:
        return imported
    warnings = imported.warnings
    if missing:
        warnings += (f"media files not found beside it (shown by name only): {', '.join(missing)}",)
    return dataclasses.replace(imported, media=(*imported.media, *media), warnings=warnings)
