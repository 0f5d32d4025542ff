"""Anki packages: ``.apkg`` (a deck) and ``.colpkg`` (a whole collection).

A package is a zip archive holding the collection, an SQLite database (a raw collection file
from a profile folder is read the same way, see :func:`read_anki`): ``collection.anki21b``
(zstd-compressed, Anki 2.1.50+), else ``collection.anki21``, else ``collection.anki2``. Its
``media`` member lists the media files, which are the members named ``0``, ``1``, ... (a JSON
map in older packages; a zstd-compressed protobuf list, with zstd-compressed files, in packages
whose ``meta`` says version 3).

Each card becomes one trainer card, rendered from its note type's templates
(:mod:`~trainer.importers.anki_templates`) and cleaned to text (:mod:`trainer.importers.html_text`):
Basic and reversed note types give question/answer cards, ``{{type:...}}`` templates typed
cards, cloze note types one card per cloze number. Keys are the note's GUID and the card's
ordinal (:func:`~trainer.importers.notes.card_key`, :func:`~trainer.importers.notes.cloze_key`).
A card whose back template adds nothing to its front (only ``{{FrontSide}}``, or nothing after
``<hr id=answer>``) has its whole answer side as its back, its question repeated, as Anki shows
it. Skipped and counted: image-occlusion cards (they need the picture) and cards whose question
is empty or whose whole answer side is. A card suspended in Anki comes in like the others; with
its history (``--with-history``, Anki's "import learning progress") it stays suspended for the
importing learner, without it it is new and not suspended, as Anki resets a card imported
without its scheduling.

A collection of Anki's old v1 scheduler (its config has no ``schedVer`` 2) that holds any
scheduled card is read as current Anki imports it (rslib ``scheduler/upgrade.rs`` and
``storage/revlog/v2_upgrade.sql``): learning and relearning rows of its review log numbered the
buttons Again 1, Good 2, Easy 3, so their 2 and 3 become Good 3 and Easy 4. A review card in a
learning queue (v1's relearning cards) is read as a relearning card in any collection.

The file is untrusted, so: members with an absolute path or ``..`` are refused; at most
:data:`MAX_MEMBERS` members; the collection may unpack to at most :data:`MAX_COLLECTION_BYTES`,
a media file to :data:`MAX_MEDIA_FILE_BYTES`, all members together to :data:`MAX_TOTAL_BYTES`
(declared sizes are checked first, real sizes while unpacking); the database is opened
read-only with ``trusted_schema`` off and only its tables are read (a view in their place is
refused); media names with a folder in them are refused. Nothing in the file is ever run.
"""

from __future__ import annotations

import html
import io
import json
import lzma
import re
import shutil
import sqlite3
import tempfile
import zipfile
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import IO, Any, NamedTuple, cast

import zstandard

from trainer.content.cloze import ClozeError, cloze_numbers
from trainer.content.parser import CardSpec
from trainer.errors import DeckError, Problem
from trainer.importers.anki_history import (
    LEARNING,
    RELEARNING,
    RELEARNING_CARD,
    REVIEW_CARD,
    SM2_RETENTION,
    AnkiSchedule,
    CardHistory,
    RevlogEntry,
    fsrs6_parameters,
    historical_retention,
)
from trainer.importers.anki_proto import (
    ProtoError,
    deck_preset,
    media_names,
    notetype_is_cloze,
    package_version,
    preset_fsrs,
    template_formats,
)
from trainer.importers.anki_templates import render_answer_side, render_card
from trainer.importers.html_text import html_to_card_text
from trainer.importers.imported import (
    MAX_MEDIA_FILE_BYTES,
    ImportedDeck,
    MediaFile,
    SkipCounter,
    has_folder,
    media_on_disk,
    unique_cards,
)
from trainer.importers.notes import anki_tags, card_key, cloze_key, parse_html_cloze

#: Most archive members a package may have.
MAX_MEMBERS = 100_000
#: Largest collection database, unpacked (bytes).
MAX_COLLECTION_BYTES = 1 << 30
#: Largest total of all members' unpacked sizes (bytes).
MAX_TOTAL_BYTES = 8 << 30
#: Largest media list (bytes).
MAX_MEDIA_LIST_BYTES = 64 << 20

#: Latest time (Unix seconds, 2200-01-01) and largest interval or day number (days) accepted
#: in a review history; Anki's own maximum interval is 36,500 days. A review-log interval
#: below zero is a learning step in seconds, accepted up to as many seconds as those days.
LATEST_S = 7_258_118_400
MAX_INTERVAL = 100_000

COLLECTIONS = ("collection.anki21b", "collection.anki21", "collection.anki2")
#: The first bytes of an SQLite database and of zstd-compressed data.
SQLITE_MAGIC = b"SQLite format 3\x00"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
#: The general-purpose flag bit of an encrypted zip member (APPNOTE.TXT 4.4.4, bit 0).
_ENCRYPTED = 0x1
#: What :mod:`zipfile` raises for a damaged archive, and only that: a bad directory or header
#: (``BadZipFile``), an offset outside the file (``ValueError`` from a seek in bytes,
#: ``OSError`` from a seek in a file), compressed data cut short or corrupt (``EOFError``,
#: ``zlib.error``, ``lzma.LZMAError``, ``OSError`` from bz2), a compression method it does
#: not know (``NotImplementedError``). Encrypted members are refused before they are opened,
#: so the ``RuntimeError`` zipfile raises for them (and ``RecursionError``, its subclass) is
#: never taken for damage.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    ValueError,
    OSError,
    EOFError,
    zlib.error,
    lzma.LZMAError,
    NotImplementedError,
)
_MEDIA_REFERENCE = re.compile(
    r"""<(?:img|audio|video|source)\b[^>]*?\bsrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))"""
    r"""|\[sound:([^\]]+)\]""",
    re.IGNORECASE,
)
_NOTE_TABLES = ("col", "notes", "cards")
_V18_TABLES = ("notetypes", "fields", "templates", "decks")


@dataclass(frozen=True)
class _NoteType:
    name: str
    cloze: bool
    fields: tuple[str, ...]
    templates: dict[int, tuple[str, str, str]]  # ordinal -> (name, question, answer)


class _Note(NamedTuple):
    key: str  # the base of its cards' keys: the GUID (see _CollectionReader._notes)
    notetype: int
    tags: str
    fields: tuple[str, ...]


def read_anki(source: Path | bytes, path: str, with_history: bool = False) -> ImportedDeck:
    """Read an Anki package (a file, or its bytes) into cards, media and, with
    ``with_history``, each card's schedule and review log.

    A raw collection, as it lies in an Anki profile folder (``collection.anki2`` or
    ``.anki21``: an SQLite file; ``.anki21b``: the same, zstd-compressed), is read the same
    way, with the media files its cards use from the ``collection.media`` folder beside it.

    Raises :class:`DeckError` naming the file (and the note id for a bad note) for a damaged
    archive or database, a refused member or media name, or a package over the limits.
    """
    head = source[:16] if isinstance(source, bytes) else _head(source, path)
    if head.startswith((SQLITE_MAGIC, ZSTD_MAGIC)):
        return _read_raw_collection(source, path, with_history, head.startswith(ZSTD_MAGIC))
    if Path(path).suffix.lower() in (".anki2", ".anki21", ".anki21b"):
        raise _error(path, "not an Anki collection (neither an SQLite file nor zstd-compressed)")
    with _open_archive(source, path) as archive:
        members = _checked_members(archive, path)
        with tempfile.TemporaryDirectory(prefix="trainer-import-") as folder:
            database = Path(folder) / "collection.db"
            _unpack_collection(archive, members, database, path)
            reader = _CollectionReader(database, path, with_history)
            deck = reader.read()
        media = _media(archive, members, source, path, reader.media_references)
    return replace(deck, media=media)


def _head(source: Path, path: str) -> bytes:
    try:
        with source.open("rb") as file:
            return file.read(16)
    except OSError as exc:
        raise _error(path, f"cannot read ({exc.strerror or exc})") from None


def _read_raw_collection(
    source: Path | bytes, path: str, with_history: bool, zstd: bool
) -> ImportedDeck:
    """A collection file that is not in a package (see :func:`read_anki`)."""
    name = Path(path).name
    with tempfile.TemporaryDirectory(prefix="trainer-import-") as folder:
        database = Path(folder) / "collection.db"
        try:
            with (
                io.BytesIO(source) if isinstance(source, bytes) else source.open("rb") as raw,
                database.open("wb") as out,
            ):
                for chunk in _chunks(raw, name, MAX_COLLECTION_BYTES, path, zstd):
                    out.write(chunk)
            # what Anki, still open, has written only to the collection's write-ahead log
            wal = None if isinstance(source, bytes) or zstd else _wal_of(source)
            if wal is not None:
                shutil.copyfile(wal, database.with_name(database.name + "-wal"))
        except OSError as exc:
            raise _error(path, f"cannot read ({exc.strerror or exc})") from None
        reader = _CollectionReader(database, path, with_history, wal=wal is not None)
        deck = reader.read()
    if isinstance(source, bytes):
        return deck
    return replace(deck, media=_media_folder(source.with_suffix(".media"), reader.media_references))


def _wal_of(collection: Path) -> Path | None:
    """The collection's write-ahead log beside it (``NAME-wal``), when it holds any page."""
    wal = collection.with_name(collection.name + "-wal")
    return wal if wal.is_file() and wal.stat().st_size > 0 else None


def _media_folder(folder: Path, referenced: set[str]) -> tuple[MediaFile, ...]:
    """The files of an Anki media folder that the imported cards use (names with a folder in
    them are never looked up)."""
    files = []
    for name in sorted(referenced):
        if has_folder(name):
            continue
        file = folder / name
        if file.is_file():
            files.append(media_on_disk(file, name))
    return tuple(files)


def _error(path: str, message: str, where: str | None = None) -> DeckError:
    """The error for one problem of the package at ``path`` (``where``: e.g. ``"note 17"``)."""
    return DeckError([Problem(path, None, message, where)])


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


@contextmanager
def _open_archive(source: Path | bytes, path: str) -> Iterator[zipfile.ZipFile]:
    try:
        file = io.BytesIO(source) if isinstance(source, bytes) else source.open("rb")
    except OSError as exc:
        raise _error(path, f"cannot read ({exc.strerror or exc})") from None
    with file:
        try:
            archive = zipfile.ZipFile(file)
        except _ZIP_ERRORS as exc:
            raise _error(path, f"not a readable zip archive ({_reason(exc)})") from None
        with archive:
            yield archive


def _checked_members(archive: zipfile.ZipFile, path: str) -> dict[str, zipfile.ZipInfo]:
    """The archive's members by name, after the safety checks of the module docstring."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise _error(path, f"{len(infos)} archive members, more than {MAX_MEMBERS}")
    total = 0
    for info in infos:
        name = info.filename
        parts = re.split(r"[\\/]", name)
        if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name) or ".." in parts:
            raise _error(path, f"archive member {name!r} has an absolute path or '..'; refused")
        total += info.file_size
    if total > MAX_TOTAL_BYTES:
        raise _error(path, f"unpacks to {total} bytes, more than {MAX_TOTAL_BYTES}")
    return {info.filename: info for info in infos}


def _read_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, path: str, zstd: bool
) -> Iterator[bytes]:
    """The member's bytes in chunks (zstd-decompressed when ``zstd``); raises
    :class:`DeckError` past ``limit`` bytes."""
    if info.file_size > limit:
        raise _error(path, f"{info.filename} is {info.file_size} bytes, over {limit}")
    if info.flag_bits & _ENCRYPTED:
        raise _error(path, "encrypted, which Anki never does; refused", info.filename)
    try:
        with archive.open(info) as raw:
            yield from _chunks(raw, info.filename, limit, path, zstd)
    except _ZIP_ERRORS as exc:
        raise _error(path, f"damaged zip archive ({_reason(exc)})", info.filename) from None


def _chunks(raw: IO[bytes], name: str, limit: int, path: str, zstd: bool) -> Iterator[bytes]:
    """The bytes of ``raw`` (the file or member ``name``) in chunks, zstd-decompressed when
    ``zstd``; raises :class:`DeckError` past ``limit`` bytes or for damaged zstd data."""
    stream = zstandard.ZstdDecompressor().stream_reader(raw, closefd=False) if zstd else raw
    total = 0
    try:
        while chunk := stream.read(1 << 20):
            total += len(chunk)
            if total > limit:
                raise _error(path, f"{name} unpacks past {limit} bytes")
            yield chunk
    except zstandard.ZstdError as exc:
        raise _error(path, f"damaged zstd data ({exc})", name) from None


def _unpack_collection(
    archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], target: Path, path: str
) -> None:
    name = next((n for n in COLLECTIONS if n in members), None)
    if name is None:
        raise _error(path, f"no Anki collection inside (looked for {', '.join(COLLECTIONS)})")
    zstd = name.endswith("b")
    with target.open("wb") as out:
        for chunk in _read_member(archive, members[name], MAX_COLLECTION_BYTES, path, zstd):
            out.write(chunk)


def _media(
    archive: zipfile.ZipFile,
    members: dict[str, zipfile.ZipInfo],
    source: Path | bytes,
    path: str,
    referenced: set[str],
) -> tuple[MediaFile, ...]:
    """The package's media files that the imported cards use."""
    if "media" not in members:
        return ()
    zstd = _version(archive, members, path) >= 3
    info = members["media"]
    listing = b"".join(_read_member(archive, info, MAX_MEDIA_LIST_BYTES, path, zstd))
    entries = _media_entries(listing, zstd, path)
    files = []
    for member, (name, size) in entries.items():
        if name not in referenced or member not in members:
            continue
        if has_folder(name):
            raise _error(path, f"media file name {name!r} has a folder in it; refused")
        info = members[member]
        read = _media_reader(source, info, path, zstd)
        files.append(MediaFile(name, size or info.file_size, read))
    return tuple(files)


def _version(archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], path: str) -> int:
    """The package format version from its ``meta`` member (1 when there is none)."""
    if "meta" not in members:
        return 1
    try:
        return package_version(b"".join(_read_member(archive, members["meta"], 1024, path, False)))
    except ProtoError as exc:
        raise _error(path, f"damaged package metadata ({exc})") from None


def _media_entries(listing: bytes, protobuf: bool, path: str) -> dict[str, tuple[str, int]]:
    """Archive member name -> (media file name, size) from the ``media`` member."""
    try:
        if protobuf:
            return {str(i): entry for i, entry in enumerate(media_names(listing))}
        mapping = json.loads(listing.decode("utf-8"))
    except (ProtoError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _error(path, f"damaged media list ({exc})") from None
    except RecursionError:  # json's answer to arrays or objects nested too deep
        raise _error(path, "damaged media list (nested too deep)") from None
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        raise _error(path, "damaged media list (not a map of names)")
    return {str(k): (v, 0) for k, v in mapping.items()}


def _media_reader(
    source: Path | bytes, info: zipfile.ZipInfo, path: str, zstd: bool
) -> Callable[[], bytes]:
    def read() -> bytes:
        with _open_archive(source, path) as archive:
            return b"".join(_read_member(archive, info, MAX_MEDIA_FILE_BYTES, path, zstd))

    return read


class _CollectionReader:
    """Reads notes, cards and (optionally) review logs from an unpacked collection."""

    def __init__(self, database: Path, path: str, with_history: bool, wal: bool = False) -> None:
        self.database = database
        self.path = path
        self.with_history = with_history
        self.wal = wal  # a write-ahead log lies beside the copy: open it so SQLite reads it
        self.media_references: set[str] = set()

    def read(self) -> ImportedDeck:
        # the copy is ours: with a write-ahead log SQLite may write its index beside it
        uri = self.database.as_uri() + ("" if self.wal else "?mode=ro&immutable=1")
        try:
            connection = sqlite3.connect(uri, uri=True)
        except sqlite3.Error as exc:
            raise _error(self.path, f"cannot open the collection ({exc})") from None
        try:
            connection.execute("PRAGMA trusted_schema = OFF")
            connection.execute("PRAGMA cell_size_check = ON")
            return self._read(connection)
        except sqlite3.Error as exc:
            raise _error(
                self.path, f"the collection is not a readable Anki database ({exc})"
            ) from None
        except UnicodeDecodeError:  # sqlite3 decoding the schema's text
            raise _error(
                self.path, "the collection is not a readable Anki database (text not UTF-8)"
            ) from None
        finally:
            connection.close()

    def _read(self, db: sqlite3.Connection) -> ImportedDeck:
        tables = {
            name: kind
            for name, kind in db.execute("SELECT name, type FROM sqlite_master")
            if isinstance(name, str)
        }
        v18 = all(tables.get(t) == "table" for t in _V18_TABLES)
        needed = _NOTE_TABLES + (("revlog",) if self.with_history else ())
        missing = [t for t in needed if tables.get(t) != "table"]
        if missing:
            raise _error(self.path, f"not an Anki collection (no table {missing[0]})")
        created = _int(db.execute("SELECT crt FROM col").fetchone(), self.path, "col.crt")
        if self.with_history and not 0 <= created <= LATEST_S:
            raise _error(self.path, f"the collection's creation time {created} is not a date")
        notetypes = self._notetypes_v18(db) if v18 else self._notetypes_legacy(db)
        decks = self._decks_v18(db) if v18 else self._decks_legacy(db)
        notes = self._notes(db)
        presets = _Presets(db, v18)
        upgrade = self._needs_v2_upgrade(db, tables)
        reviews = self._reviews(db, upgrade) if self.with_history else {}
        skips = SkipCounter()
        cards: list[CardSpec] = []
        histories: list[CardHistory] = []
        deck_names: list[str] = []
        used: Counter[tuple[float, ...]] = Counter()
        query = (
            "SELECT id, nid, did, ord, type, queue, due, ivl, factor, reps, lapses, left,"
            " odue, odid FROM cards ORDER BY nid, ord"
        )
        self._check_integers(db, "cards", query)
        if self.with_history:
            self._check_schedules(db)
        homes: Counter[int] = Counter()  # cards by their home deck (see AnkiSchedule)
        for row in db.execute(query):
            card_id, note_id, deck_id, ordinal, *values = row
            schedule = _anki_schedule(values)
            if schedule.card_type == REVIEW_CARD and schedule.queue in (1, 3):
                schedule = schedule._replace(card_type=RELEARNING_CARD)
            note = notes.get(note_id)
            notetype = notetypes.get(note.notetype) if note else None
            if note is None or notetype is None:
                skips.skip("card without its note or note type")
                continue
            deck_name = decks.get(deck_id, "")
            spec = self._card(note_id, note, notetype, ordinal, deck_name, skips)
            if spec is None:
                continue
            cards.append(spec)
            home = schedule.original_deck or deck_id
            deck_names.append(decks.get(home, deck_name))
            homes[home] += 1
            if self.with_history:
                parameters, retention = presets.of_deck(home)
                entries = reviews.get(card_id, ())
                histories.append(
                    _card_history((spec.key, schedule, entries, created, parameters, retention))
                )
        for home, count in homes.items():  # in the order of each home's first card
            used[presets.of_deck(home)[0]] += count
        unique = unique_cards(cards, skips)
        common = _common_deck(deck_names)
        return ImportedDeck(
            path=self.path,
            cards=unique,
            skipped=skips.total,
            skip_reasons=skips.phrases(),
            name=common,
            card_decks={  # Anki's subdecks are kept as decks under the common one
                spec.key: name
                for spec, name in zip(cards, deck_names, strict=True)
                if name != common
            },
            histories=tuple(histories),
            fsrs_parameters=used.most_common(1)[0][0] if used else (),
        )

    def _card(
        self,
        note_id: int,
        note: _Note,
        notetype: _NoteType,
        ordinal: int,
        deck_name: str,
        skips: SkipCounter,
    ) -> CardSpec | None:
        padded = note.fields + ("",) * max(len(notetype.fields) - len(note.fields), 0)
        fields = dict(zip(notetype.fields, padded[: len(notetype.fields)], strict=True))
        template = notetype.templates.get(0 if notetype.cloze else ordinal)
        if template is None:
            skips.skip("card without its template")
            return None
        if notetype.cloze:
            joined = "".join(note.fields)
            if "image-occlusion:" in joined:
                skips.skip("image occlusion (needs the picture)")
                return None
            try:
                trees = [parse_html_cloze(value) for value in note.fields]
            except ClozeError as exc:
                raise _error(self.path, exc.message, f"note {note_id}") from None
            if not any(ordinal + 1 in cloze_numbers(tree) for tree in trees):
                skips.skip("cloze card without its deletion")
                return None
        specials = {
            "Tags": note.tags.strip(),
            "Type": notetype.name,
            "Deck": deck_name,
            "Subdeck": deck_name.split("::")[-1],
            "Card": template[0],
            "CardFlag": "",
        }
        rendered_number = ordinal + 1 if notetype.cloze else 0
        rendered = render_card(template[1], template[2], {**specials, **fields}, rendered_number)
        front = html_to_card_text(rendered.question)
        back = html_to_card_text(rendered.answer)
        if rendered.typed_answer and not back:
            back = html_to_card_text(f"<b>{html.escape(rendered.typed_answer)}</b>")
        if front and not back:
            back = html_to_card_text(
                render_answer_side(
                    rendered.question, template[2], {**specials, **fields}, rendered_number
                )
            )
        if not front or not back:
            skips.skip("empty question or answer")
            return None
        for value in note.fields:
            for match in _MEDIA_REFERENCE.finditer(value):
                reference = next(g for g in match.groups() if g is not None)
                self.media_references.add(html.unescape(reference).strip())
        key = cloze_key(note.key, ordinal + 1) if notetype.cloze else card_key(note.key, ordinal)
        typed = rendered.typed_answer
        return CardSpec(
            key=key,
            kind="cloze" if notetype.cloze else "typed" if typed else "basic",
            front=front,
            back=back,
            tags=anki_tags(note.tags),
            accepted=(typed,) if typed else (),
            note_id=note_id,
        )

    def _notes(self, db: sqlite3.Connection) -> dict[int, _Note]:
        """The notes by id. Several notes may share a GUID (copied notes, generated decks):
        current Anki imports each of them as a note of its own (rslib ``import/notes.rs``
        matches GUIDs against the collection imported into, not within the package), so the
        first (lowest id) keeps its GUID as its key and each later one is keyed
        ``GUID@noteID``, stable from one import to the next."""
        notes = {}
        seen: set[str] = set()
        for note_id, guid, notetype, tags, fields in db.execute(
            "SELECT id, guid, mid, tags, flds FROM notes ORDER BY id"
        ):
            where = f"note {note_id}"
            if not all(isinstance(v, str) for v in (guid, tags, fields)) or not guid:
                raise _error(self.path, "GUID, tags or fields are not text", where)
            note_key = _int((note_id,), self.path, where)
            key = f"{guid}@note{note_key}" if guid in seen else guid
            seen.add(guid)
            notes[note_key] = _Note(
                key, _int((notetype,), self.path, where), tags, tuple(fields.split("\x1f"))
            )
        return notes

    def _needs_v2_upgrade(self, db: sqlite3.Connection, tables: dict[str, str]) -> bool:
        """True for a collection of the v1 scheduler holding a card that is not new: current
        Anki upgrades such a collection before importing it (module docstring)."""
        if tables.get("config") == "table":
            row = db.execute("SELECT val FROM config WHERE KEY = 'schedVer'").fetchone()
            value = _json_value(row[0]) if row else None
        else:
            row = db.execute("SELECT conf FROM col").fetchone()
            conf = _json_value(row[0]) if row else None
            value = conf.get("schedVer") if isinstance(conf, dict) else None
        if value == 2 and not isinstance(value, bool):
            return False
        return db.execute("SELECT 1 FROM cards WHERE queue != 0 LIMIT 1").fetchone() is not None

    def _check_integers(self, db: sqlite3.Connection, table: str, query: str) -> None:
        """Raise :class:`DeckError` for the first value of ``query``'s columns (a SELECT of
        ``table``'s columns) that is not a whole number; checked by SQLite, in one pass."""
        columns = query.removeprefix("SELECT ").split(" FROM ")[0].split(", ")
        test = " OR ".join(f"typeof({c.strip()}) != 'integer'" for c in columns)
        row = db.execute(
            f"SELECT {', '.join(columns)} FROM {table} WHERE {test} LIMIT 1"
        ).fetchone()
        if row is not None:
            value = next(v for v in row if not isinstance(v, int))
            raise _error(self.path, f"expected a whole number, found {value!r}", table)

    def _reviews(self, db: sqlite3.Connection, upgrade: bool) -> dict[int, tuple[RevlogEntry, ...]]:
        """Each card's review log, oldest first; with ``upgrade``, a v1 log renumbered.

        Raises :class:`DeckError` for a value that is not a whole number, a time past
        :data:`LATEST_S` or an interval past :data:`MAX_INTERVAL` days (negative: seconds).
        """
        query = "SELECT cid, id, ease, ivl, factor, time, type FROM revlog"
        self._check_integers(db, "revlog", query)
        bad = db.execute(
            "SELECT id FROM revlog WHERE id < 0 OR id > ? OR ivl > ? OR ivl < ? LIMIT 1",
            (LATEST_S * 1000, MAX_INTERVAL, -MAX_INTERVAL * 86_400),
        ).fetchone()
        if bad is not None:
            raise _error(self.path, "not a review", f"review log entry {bad[0]}")
        ease = "ease"
        if upgrade:  # v1 learning buttons: Again 1, Good 2, Easy 3
            kinds = f"{LEARNING}, {RELEARNING}"
            ease = f"CASE WHEN type IN ({kinds}) AND ease IN (2, 3) THEN ease + 1 ELSE ease END"
        # all rows in one query, as named tuples made in C; then each card's run of them. The
        # rows are sorted by SQLite's sorter (``+cid`` keeps it off the cid index, whose order
        # would read the table's pages at random, one row at a time: a third slower)
        ordered = f"SELECT id, {ease}, ivl, factor, time, type FROM revlog ORDER BY +cid, id"
        entries = tuple(map(_revlog_entry, db.execute(ordered)))
        reviews: dict[int, tuple[RevlogEntry, ...]] = {}
        start = 0
        for card_id, count in db.execute(
            "SELECT cid, count(*) FROM revlog GROUP BY cid ORDER BY cid"
        ):
            reviews[card_id] = entries[start : start + count]
            start += count
        return reviews

    def _check_schedules(self, db: sqlite3.Connection) -> None:
        """Refuse due dates and intervals no Anki card can have (they would not be dates): a
        day number (review cards, day-long learning steps) or an interval beyond
        :data:`MAX_INTERVAL` days, a learning step's due time past :data:`LATEST_S`; the due
        date is ``odue`` for a card in a filtered deck. Checked by SQLite for all cards at once
        (whole numbers each, :meth:`_check_integers`); the error names the first such card in
        the order cards are read."""
        due = "CASE WHEN odid != 0 THEN odue ELSE due END"
        row = db.execute(
            f"SELECT id FROM cards WHERE ivl > :most OR ivl < -:most OR CASE"
            f" WHEN (type = {REVIEW_CARD} AND queue NOT IN (1, 3)) OR queue IN (2, 3)"
            f" THEN {due} > :most OR {due} < -:most"
            f" ELSE {due} < 0 OR {due} > :latest END ORDER BY nid, ord LIMIT 1",
            {"most": MAX_INTERVAL, "latest": LATEST_S},
        ).fetchone()
        if row is not None:
            raise _error(self.path, "due date or interval out of range", f"card {row[0]}")

    def _notetypes_v18(self, db: sqlite3.Connection) -> dict[int, _NoteType]:
        fields: dict[int, list[str]] = defaultdict(list)
        for ntid, name in db.execute("SELECT ntid, name FROM fields ORDER BY ntid, ord"):
            fields[_int((ntid,), self.path, "fields")].append(str(name))
        templates: dict[int, dict[int, tuple[str, str, str]]] = defaultdict(dict)
        for ntid, ordinal, name, config in db.execute(
            "SELECT ntid, ord, name, config FROM templates"
        ):
            question, answer = self._proto(template_formats, config, f"template {name}")
            key = _int((ntid,), self.path, "templates")
            templates[key][_int((ordinal,), self.path, "templates")] = (str(name), question, answer)
        notetypes = {}
        for ntid, name, config in db.execute("SELECT id, name, config FROM notetypes"):
            key = _int((ntid,), self.path, "notetypes")
            cloze = self._proto(notetype_is_cloze, config, f"note type {name}")
            notetypes[key] = _NoteType(str(name), cloze, tuple(fields[key]), templates[key])
        return notetypes

    def _proto(self, decode: Callable[[bytes], Any], blob: object, what: str) -> Any:
        try:
            return decode(blob if isinstance(blob, bytes) else b"")
        except ProtoError as exc:
            raise _error(self.path, f"damaged settings ({exc})", what) from None

    def _notetypes_legacy(self, db: sqlite3.Connection) -> dict[int, _NoteType]:
        models = self._json(db, "models")
        notetypes = {}
        for key, model in models.items():
            try:
                fields = tuple(str(f["name"]) for f in sorted(model["flds"], key=_ord))
                templates = {
                    int(t["ord"]): (str(t["name"]), str(t["qfmt"]), str(t["afmt"]))
                    for t in model["tmpls"]
                }
                notetypes[int(key)] = _NoteType(
                    str(model["name"]), model.get("type") == 1, fields, templates
                )
            except (KeyError, TypeError, ValueError, AttributeError):
                raise _error(self.path, "damaged definition", f"note type {key}") from None
        return notetypes

    def _decks_v18(self, db: sqlite3.Connection) -> dict[int, str]:
        return {
            _int((deck_id,), self.path, "decks"): str(name).replace("\x1f", "::")
            for deck_id, name in db.execute("SELECT id, name FROM decks")
        }

    def _decks_legacy(self, db: sqlite3.Connection) -> dict[int, str]:
        decks = {}
        for key, deck in self._json(db, "decks").items():
            if isinstance(deck, dict) and isinstance(deck.get("name"), str) and key.isdigit():
                decks[int(key)] = deck["name"]
        return decks

    def _json(self, db: sqlite3.Connection, column: str) -> dict[str, Any]:
        row = db.execute(f"SELECT {column} FROM col").fetchone()
        value = _json_value(row[0]) if row else None
        if not isinstance(value, dict):
            raise _error(self.path, f"the collection's {column} are damaged")
        return value


class _Presets:
    """The FSRS settings of a collection's decks: each normal deck's preset (legacy: ``conf``
    in the ``decks`` JSON; current: the kind blob of the ``decks`` table) and each preset's
    parameters and historical retention (legacy: ``fsrsParams6``, else ``fsrsParams5``, else
    ``fsrsWeights``, and ``sm2Retention`` in the ``dconf`` JSON; current: the config blob of
    the ``deck_config`` table). A deck without a known preset uses preset 1, as Anki does.
    Settings that cannot be read count as none (FSRS's defaults, retention 0.9): they never
    refuse a file."""

    def __init__(self, db: sqlite3.Connection, v18: bool) -> None:
        self.deck_preset: dict[int, int] = {}
        self.presets: dict[int, tuple[tuple[float, ...], float]] = {}
        try:
            if v18:
                self._read_v18(db)
            else:
                self._read_legacy(db)
        except (sqlite3.Error, ProtoError):
            self.deck_preset, self.presets = {}, {}

    def _read_v18(self, db: sqlite3.Connection) -> None:
        for deck_id, kind in db.execute("SELECT id, kind FROM decks"):
            preset = deck_preset(kind) if isinstance(kind, bytes) else None
            if isinstance(deck_id, int) and preset is not None:
                self.deck_preset[deck_id] = preset
        for preset_id, config in db.execute("SELECT id, config FROM deck_config"):
            if isinstance(preset_id, int) and isinstance(config, bytes):
                values, retention = preset_fsrs(config)
                self._add(preset_id, values, retention)

    def _read_legacy(self, db: sqlite3.Connection) -> None:
        row = db.execute("SELECT decks, dconf FROM col").fetchone()
        decks, presets = (_json_value(row[0]), _json_value(row[1])) if row else (None, None)
        for key, deck in (decks if isinstance(decks, dict) else {}).items():
            if isinstance(deck, dict) and isinstance(deck.get("conf"), int) and key.isdigit():
                self.deck_preset[int(key)] = deck["conf"]
        for key, preset in (presets if isinstance(presets, dict) else {}).items():
            if not isinstance(preset, dict) or not key.isdigit():
                continue
            lists = [preset.get(k) for k in ("fsrsParams6", "fsrsParams5", "fsrsWeights")]
            values = next((v for v in lists if isinstance(v, list) and v), [])
            retention = preset.get("sm2Retention", 0.0)
            if all(isinstance(v, int | float) for v in [*values, retention]):
                self._add(int(key), values, float(retention))

    def _add(self, preset_id: int, values: list[float], retention: float) -> None:
        self.presets[preset_id] = (fsrs6_parameters(values), historical_retention(retention))

    def of_deck(self, deck_id: int) -> tuple[tuple[float, ...], float]:
        """(FSRS-6 parameters, empty for the defaults; historical retention) of a deck."""
        preset = self.presets.get(self.deck_preset.get(deck_id, 1)) or self.presets.get(1)
        return preset or ((), SM2_RETENTION)


#: A ``revlog`` row (the columns of :class:`RevlogEntry`, in order) as a RevlogEntry; the
#: same for a card's schedule and history: named tuples made in C, without the Python-level
#: ``__new__`` of their constructors (one or more per card or review).
_revlog_entry = cast(Callable[[tuple[int, ...]], RevlogEntry], partial(tuple.__new__, RevlogEntry))
_anki_schedule = cast(Callable[[list[int]], AnkiSchedule], partial(tuple.__new__, AnkiSchedule))
_card_history = cast(
    Callable[[tuple[object, ...]], CardHistory], partial(tuple.__new__, CardHistory)
)


def _json_value(value: object) -> object:
    """A config value (JSON text or bytes), or None when it is not JSON (or is nested too
    deep for json, which raises RecursionError then)."""
    try:
        return json.loads(value) if isinstance(value, str | bytes) else None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None


def _ord(item: Any) -> int:
    return int(item["ord"])


def _int(row: tuple[object, ...] | None, path: str, where: str) -> int:
    value = row[0] if row else None
    if not isinstance(value, int) or isinstance(value, bool):
        raise _error(path, f"expected a whole number, found {value!r}", where)
    return value


def _common_deck(names: list[str]) -> str | None:
    """The deepest deck that holds every imported card (``A::B``), or None."""
    if not names:
        return None
    common = names[0].split("::")
    for name in dict.fromkeys(names):  # each name once: most cards share a few decks
        parts = name.split("::")
        length = 0
        while length < min(len(common), len(parts)) and common[length] == parts[length]:
            length += 1
        common = common[:length]
    return "::".join(common) or None
