"""Anki packages: note types, media, the current zstd format, untrusted files, review history."""

from __future__ import annotations

import json
import math
import sqlite3
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import genanki
import pytest
import zstandard
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.fixtures.anki.legacy import edit_collection
from trainer.cli.main import cli
from trainer.errors import DeckError, Problem
from trainer.importers import anki
from trainer.importers.anki import LATEST_S, MAX_INTERVAL, read_anki
from trainer.importers.anki_history import (
    AnkiSchedule,
    CardHistory,
    RevlogEntry,
    fsrs6_parameters,
    rebuild,
    reviews_for_fsrs,
)
from trainer.importers.detect import read_file
from trainer.scheduling.adapter import Scheduler
from trainer.scheduling.days import DayClock
from trainer.store.db import open_database
from trainer.store.models import Card, CardMemory, CardState, Deck, LearnerDeck, ReviewLog
from trainer.store.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures" / "anki"
REFERENCE = json.loads((FIXTURES / "fsrs_reference.json").read_text())
CUSTOM = genanki.Model(
    1_607_392_320,
    "Vocabulary",
    fields=[{"name": "Word"}, {"name": "Meaning"}, {"name": "Example"}],
    templates=[
        {
            "name": "Recognise",
            "qfmt": "Meaning of <i>{{Word}}</i>?<script>evil()</script>",
            "afmt": "{{FrontSide}}<hr id=answer>{{Meaning}}"
            "{{#Example}}<br>e.g. {{Example}}{{/Example}}",
        }
    ],
)


def build_package(folder: Path, media: bool = True) -> Path:
    """A package written by genanki: one note of each stock note type, a custom one, a picture."""
    deck = genanki.Deck(2_059_400_110, "Python::Lists")
    picture = folder / "list.png"
    picture.write_bytes(b"\x89PNG fixture")
    notes = [
        (genanki.BASIC_MODEL, ["What does <code>len([])</code> return?", "<b>0</b>"], "basic"),
        (genanki.BASIC_AND_REVERSED_CARD_MODEL, ["list", 'mutable <img src="list.png">'], "rev"),
        (genanki.BASIC_TYPE_IN_THE_ANSWER_MODEL, ["Keyword for a function?", "def"], "typed"),
        (genanki.CLOZE_MODEL, ["{{c1::append}} adds one, {{c2::extend::how}} many", "docs"], "cl"),
        (CUSTOM, ["ubiquitous", "found everywhere", ""], "custom"),
    ]
    for model, fields, guid in notes:
        deck.add_note(genanki.Note(model=model, fields=fields, guid=guid, tags=["py::lists"]))
    package = genanki.Package(deck, media_files=[str(picture)] if media else [])
    path = folder / "lists.apkg"
    package.write_to_file(str(path))
    return path


def write_zip(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_each_note_type_gives_its_cards_with_clean_text(tmp_path: Path) -> None:
    deck = read_anki(build_package(tmp_path), "lists.apkg")
    assert deck.name == "Python::Lists" and deck.skipped == 0
    assert [(c.key, c.kind, c.front, c.back, c.accepted) for c in deck.cards] == [
        ("basic", "basic", "What does `len([])` return?", "**0**", ()),
        ("rev", "basic", "list", "mutable \\[image: list.png\\]", ()),
        ("rev#2", "basic", "mutable \\[image: list.png\\]", "list", ()),
        ("typed", "typed", "Keyword for a function?", "**def**", ("def",)),
        (
            "cl#c1",
            "cloze",
            "\\[...\\] adds one, extend many",
            "**append** adds one, extend many\\\ndocs",
            (),
        ),
        (
            "cl#c2",
            "cloze",
            "append adds one, \\[how\\] many",
            "append adds one, **extend** many\\\ndocs",
            (),
        ),
        ("custom", "basic", "Meaning of *ubiquitous*?", "found everywhere", ()),
    ]
    assert {c.tags for c in deck.cards} == {("py::lists",)}
    assert [(m.name, m.read()) for m in deck.media] == [("list.png", b"\x89PNG fixture")]


def test_a_package_in_ankis_current_format_reads_the_same_way() -> None:
    """``current.apkg`` was exported by Anki 26.9 (collection.anki21b, zstd, protobuf)."""
    deck = read_anki(FIXTURES / "current.apkg", "current.apkg")
    assert deck.name == "Python::Basics"
    assert [(c.kind, c.front, c.back) for c in deck.cards] == [
        ("basic", "What does `len([])` return?", "**0** \N{EN DASH} an empty list"),
        ("basic", "list", "a mutable sequence\\\n\\[image: list.png\\]"),
        ("basic", "a mutable sequence\\\n\\[image: list.png\\]", "list"),
        ("typed", "Keyword that defines a function?", "**def**"),
        (
            "cloze",
            "\\[...\\] adds one item, extend adds many",
            "**append** adds one item, extend adds many\\\nsee the docs",
        ),
        (
            "cloze",
            "append adds one item, \\[method\\] adds many",
            "append adds one item, **extend** adds many\\\nsee the docs",
        ),
    ]
    assert [(m.name, m.read()) for m in deck.media] == [("list.png", b"\x89PNG\r\n\x1a\n fixture")]


def test_empty_cards_are_skipped_and_counted_and_suspended_ones_kept(tmp_path: Path) -> None:
    package = build_package(tmp_path)

    def suspend_and_empty(db: sqlite3.Connection) -> None:
        db.execute("UPDATE cards SET queue = -1 WHERE ord = 1")  # the reverse and cloze 2
        db.execute("UPDATE notes SET flds = '' || char(31) || 'x' WHERE guid = 'basic'")

    edit_collection(package, suspend_and_empty)
    deck = read_anki(package, "lists.apkg")
    assert [c.key for c in deck.cards] == ["rev", "rev#2", "typed", "cl#c1", "cl#c2", "custom"]
    assert deck.skip_reasons == ("empty question or answer (1)",)


@pytest.mark.parametrize("with_history", [True, False])
def test_cards_suspended_in_anki_stay_suspended_with_their_history(
    tmp_path: Path, with_history: bool
) -> None:
    """As Anki imports a package: with its scheduling, a suspended card stays suspended in the
    state its history gives it; without, every card is new and none is suspended."""
    package = build_package(tmp_path)

    def review_and_suspend(db: sqlite3.Connection) -> None:
        db.execute("UPDATE cards SET type = 2, queue = 2, due = 30, ivl = 3, reps = 1")
        db.execute("UPDATE cards SET queue = -1 WHERE ord = 1")  # the reverse and cloze 2
        for (card_id,) in db.execute("SELECT id FROM cards").fetchall():
            db.execute(
                "INSERT INTO revlog VALUES (?, ?, -1, 3, 3, 0, 2500, 5000, 0)",
                (1_767_268_800_000 + card_id % 1000, card_id),
            )

    edit_collection(package, review_and_suspend)
    args = ["import", str(package), *(["--with-history"] if with_history else [])]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    listed = CliRunner().invoke(cli, ["cards", "is:suspended", "--json"])
    suspended = sorted((card["front"], card["state"]) for card in json.loads(listed.stdout))
    if with_history:
        assert suspended == [
            ("append adds one, \\[how\\] many", "review"),  # cloze 2, with its hint
            ("mutable \\[image: list.png\\]", "review"),
        ]
    else:
        assert suspended == []


@pytest.mark.parametrize(
    ("members", "problem"),
    [
        ({"../evil": b"x", "collection.anki2": b""}, "has an absolute path or '..'; refused"),
        ({"/etc/passwd": b"x"}, "has an absolute path or '..'; refused"),
        ({"media": b"{}"}, "no Anki collection inside"),
        ({"collection.anki2": b"not sqlite at all" * 100}, "is not a readable Anki database"),
        ({"collection.anki21b": b"\x28\xb5\x2f\xfd garbage"}, "damaged zstd data"),
    ],
)
def test_unsafe_or_damaged_packages_are_refused_with_a_clear_error(
    tmp_path: Path, members: dict[str, bytes], problem: str
) -> None:
    path = tmp_path / "bad.apkg"
    write_zip(path, members)
    with pytest.raises(DeckError) as caught:
        read_anki(path, "bad.apkg")
    assert problem in str(caught.value) and str(caught.value).startswith("bad.apkg: ")


def test_a_member_with_a_bad_checksum_is_a_damaged_archive(tmp_path: Path) -> None:
    package = build_package(tmp_path)
    with zipfile.ZipFile(package) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    collection = members["collection.anki2"]
    write_zip(package, members)  # stored, not deflated: the collection's bytes stand as they are
    data = package.read_bytes()
    at = data.index(collection) + len(collection) // 2
    package.write_bytes(data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :])
    with pytest.raises(DeckError) as caught:
        read_anki(package, "lists.apkg")
    [problem] = caught.value.problems
    assert (problem.where, problem.message) == (
        "collection.anki2",
        "damaged zip archive (Bad CRC-32 for file 'collection.anki2')",
    )


def test_an_encrypted_member_is_refused_before_it_is_opened(tmp_path: Path) -> None:
    package = tmp_path / "locked.apkg"
    write_zip(package, {"collection.anki2": b"secret"})
    data = bytearray(package.read_bytes())
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # local, central
        data[data.index(signature) + flags_at] |= 0x1  # APPNOTE 4.4.4: bit 0, encrypted
    package.write_bytes(bytes(data))
    with pytest.raises(DeckError) as caught:
        read_anki(package, "locked.apkg")
    assert (
        str(caught.value)
        == "locked.apkg: collection.anki2: encrypted, which Anki never does; refused"
    )


def test_a_media_list_nested_too_deep_is_damaged(tmp_path: Path) -> None:
    package = build_package(tmp_path)
    with zipfile.ZipFile(package) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    members["media"] = b"[" * 100_000 + b"]" * 100_000
    write_zip(package, members)
    with pytest.raises(DeckError) as caught:
        read_anki(package, "lists.apkg")
    assert str(caught.value) == "lists.apkg: damaged media list (nested too deep)"


def test_a_fault_while_reading_notes_is_not_called_damage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only what zipfile, zstd, SQLite and protobuf raise for bad bytes becomes a "damaged"
    message; anything else raised while a note is read (RecursionError is a RuntimeError,
    a ValueError may be a bug) comes out as it is."""
    package = build_package(tmp_path)
    for fault in (RecursionError("too deep"), ValueError("a bug"), OSError("a bug")):

        def render(*args: object, fault: Exception = fault) -> None:
            raise fault

        monkeypatch.setattr(anki, "render_card", render)
        with pytest.raises(type(fault)) as caught:
            read_anki(package, "lists.apkg")
        assert caught.value is fault


def test_a_package_that_cannot_be_opened_says_so(tmp_path: Path) -> None:
    with pytest.raises(DeckError) as caught:
        read_anki(tmp_path / "missing.apkg", "missing.apkg")
    assert str(caught.value) == "missing.apkg: cannot read (No such file or directory)"


def test_a_file_that_is_not_a_zip_archive_is_refused() -> None:
    with pytest.raises(DeckError, match=r"^x.apkg: not a readable zip archive \(File is not"):
        read_anki(b"just text", "x.apkg")


def test_limits_stop_archive_bombs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = build_package(tmp_path)
    monkeypatch.setattr(anki, "MAX_MEMBERS", 2)
    with pytest.raises(DeckError, match="3 archive members, more than 2"):
        read_anki(path, "lists.apkg")
    monkeypatch.setattr(anki, "MAX_MEMBERS", 100)
    monkeypatch.setattr(anki, "MAX_COLLECTION_BYTES", 10_000)
    with pytest.raises(DeckError, match=r"collection\.anki2 is [0-9]+ bytes, over 10000"):
        read_anki(path, "lists.apkg")
    bomb = zstandard.ZstdCompressor().compress(b"\0" * 50_000)  # 50 kB from a few bytes
    write_zip(tmp_path / "bomb.apkg", {"collection.anki21b": bomb})
    with pytest.raises(DeckError, match=r"collection\.anki21b unpacks past 10000 bytes"):
        read_anki(tmp_path / "bomb.apkg", "bomb.apkg")


def test_a_view_in_place_of_a_table_is_refused(tmp_path: Path) -> None:
    package = build_package(tmp_path)

    def replace_with_view(db: sqlite3.Connection) -> None:
        db.execute("ALTER TABLE cards RENAME TO real_cards")
        db.execute("CREATE VIEW cards AS SELECT * FROM real_cards")

    edit_collection(package, replace_with_view)
    with pytest.raises(DeckError, match="not an Anki collection \\(no table cards\\)"):
        read_anki(package, "lists.apkg")


def test_media_names_with_a_folder_are_refused(tmp_path: Path) -> None:
    package = build_package(tmp_path)
    with zipfile.ZipFile(package) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    members["media"] = json.dumps({"0": "../list.png"}).encode()
    write_zip(package, members)

    def refer(db: sqlite3.Connection) -> None:
        db.execute("UPDATE notes SET flds = 'q<img src=\"../list.png\">' || char(31) || 'a'")

    edit_collection(package, refer)
    with pytest.raises(DeckError, match=r"media file name '\.\./list\.png' has a folder in it"):
        read_anki(package, "lists.apkg")


def test_a_broken_note_is_named_by_its_id(tmp_path: Path) -> None:
    package = build_package(tmp_path)
    edit_collection(
        package, lambda db: db.execute("UPDATE notes SET flds = x'00' WHERE guid = 'cl'")
    )
    with pytest.raises(DeckError) as caught:
        read_anki(package, "lists.apkg")
    [problem] = caught.value.problems
    note_id = _note_id(package, "cl")
    assert problem == Problem(
        "lists.apkg", None, "GUID, tags or fields are not text", f"note {note_id}"
    )
    assert str(caught.value) == f"lists.apkg: note {note_id}: GUID, tags or fields are not text"


def _note_id(package: Path, guid: str) -> int:
    with zipfile.ZipFile(package) as archive:
        data = archive.read("collection.anki2")
    database = package.with_name("read.db")
    database.write_bytes(data)
    connection = sqlite3.connect(database)
    try:
        (note_id,) = connection.execute("SELECT id FROM notes WHERE guid = ?", (guid,)).fetchone()
    finally:
        connection.close()
    return int(note_id)


def test_cards_carry_their_note_id_and_no_line(tmp_path: Path) -> None:
    package = build_package(tmp_path)
    cards = read_anki(package, "lists.apkg").cards
    assert {(card.key, card.note_id, card.line) for card in cards if card.key.startswith("cl")} == {
        ("cl#c1", _note_id(package, "cl"), None),
        ("cl#c2", _note_id(package, "cl"), None),
    }


def test_a_schedule_that_is_no_date_is_refused_with_history(tmp_path: Path) -> None:
    package = build_package(tmp_path)
    edit_collection(
        package, lambda db: db.execute("UPDATE cards SET type = 2, queue = 2, due = 1e12")
    )
    assert len(read_anki(package, "lists.apkg").cards) == 7  # without history it does not matter
    with pytest.raises(DeckError, match=r"^lists\.apkg: card \d+: due date or interval out of"):
        read_anki(package, "lists.apkg", with_history=True)


@pytest.mark.parametrize(
    ("type_", "queue", "due", "interval", "original_due", "original_deck", "refused"),
    [
        (1, 1, LATEST_S + 1, 0, 0, 0, True),  # a learning step's due time past 2200
        (1, 1, 1_700_000_000, 0, 0, 0, False),
        (2, 1, 1_700_000_000, 3, 0, 0, False),  # relearning (v1): due a time, not a day
        (2, 3, 5, 3, 0, 0, False),  # a day-long step: due a day number
        (1, 3, MAX_INTERVAL + 1, 0, 0, 0, True),
        (2, 2, -MAX_INTERVAL - 1, 3, 0, 0, True),
        (2, 2, -100_000, 3, 12, 1, False),  # in a filtered deck: its home deck's due counts
        (2, 2, 12, 3, MAX_INTERVAL + 1, 1, True),
        (2, 2, 12, -MAX_INTERVAL - 1, 0, 0, True),
    ],
)
def test_each_kind_of_due_date_is_checked_as_its_queue_counts_it(
    tmp_path: Path,
    type_: int,
    queue: int,
    due: int,
    interval: int,
    original_due: int,
    original_deck: int,
    refused: bool,
) -> None:
    package = build_package(tmp_path)
    values = (type_, queue, due, interval, original_due, original_deck)
    edit_collection(
        package,
        lambda db: db.execute(
            "UPDATE cards SET type = ?, queue = ?, due = ?, ivl = ?, odue = ?, odid = ?"
            " WHERE id = (SELECT max(id) FROM cards)",
            values,
        ),
    )
    if refused:
        with pytest.raises(DeckError, match=r"^lists\.apkg: card \d+: due date or interval"):
            read_anki(package, "lists.apkg", with_history=True)
    else:
        assert len(read_anki(package, "lists.apkg", with_history=True).cards) == 7


# Review history --------------------------------------------------------------------------------

CLOCK = DayClock(4, ZoneInfo("UTC"))
NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def _entry(day: int, ease: int, kind: int, interval: int = 1, factor: int = 2500) -> RevlogEntry:
    """A revlog row ``day`` days after 2026-01-01 12:00 UTC."""
    return RevlogEntry(1_767_268_800_000 + day * 86_400_000, ease, interval, factor, 5000, kind)


def test_cram_manual_and_rescheduled_rows_are_left_out_and_resets_cut_history() -> None:
    learn, review, relearn, filtered, manual, rescheduled = range(6)
    rows = (
        _entry(0, 3, learn, -600),
        _entry(1, 3, review),
        _entry(2, 3, filtered, factor=0),  # cram
        _entry(3, 3, filtered, factor=2500),  # a rescheduling filtered deck: counts
        _entry(4, 0, manual, factor=100),  # set due date
        _entry(5, 0, rescheduled),
        _entry(6, 1, review),
        _entry(6, 3, relearn, -600),  # same day: kept
    )
    kept = reviews_for_fsrs(rows)
    assert kept == ([rows[0], rows[1], rows[3], rows[6], rows[7]], True)
    reset = (*rows, _entry(7, 0, manual, factor=0), _entry(8, 3, learn, -600))
    assert reviews_for_fsrs(reset) == ([reset[-1]], True)
    assert reviews_for_fsrs((*rows, _entry(7, 0, manual, factor=0))) is None
    no_learning = (_entry(0, 3, review, 10), _entry(5, 3, review, 20))
    assert reviews_for_fsrs(no_learning) == (list(no_learning), False)


def _history(revlog: list[list[int]]) -> CardHistory:
    schedule = AnkiSchedule(2, 2, 30, 5, 2500, len(revlog), 0, 0, 0, 0)
    entries = tuple(RevlogEntry(r[0], r[1], r[2], r[4], r[5], r[6]) for r in revlog)
    return CardHistory("k", schedule, entries, 1_767_225_600)


def test_rebuilt_memory_equals_what_anki_computes_from_the_same_log() -> None:
    """150 generated logs, each with the stability and difficulty Anki 26.9.3 computed
    (tests/fixtures/anki/make_fixtures.py); Anki computes in 32-bit floats."""
    scheduler = Scheduler(Settings())
    compared = 0
    for case in REFERENCE["generated"]:
        history = _history(case["revlog"])
        if case["anki"] is None:
            assert reviews_for_fsrs(history.reviews) is None
            continue
        memory = rebuild(history, scheduler, CLOCK, NOW).memory
        stability, difficulty = case["anki"]
        assert memory.stability_days == pytest.approx(stability, rel=2e-5)
        assert memory.difficulty == pytest.approx(difficulty, rel=2e-5)
        compared += 1
    assert compared == 146


def test_the_card_keeps_ankis_state_due_day_and_counts() -> None:
    learn, review = 0, 1
    rows = (_entry(0, 3, learn, -600), _entry(0, 3, learn, 1), _entry(1, 3, review, 4))
    schedule = AnkiSchedule(2, 2, 10, 4, 2500, 3, 0, 0, 0, 0)
    created = 1_767_240_000  # 2026-01-01 04:00 UTC, the rollover: Anki's day 0
    rebuilt = rebuild(CardHistory("k", schedule, rows, created), Scheduler(Settings()), CLOCK, NOW)
    memory = rebuilt.memory
    assert (memory.state, memory.due_day, memory.reps, memory.lapses) == (
        CardState.REVIEW,
        datetime(2026, 1, 11).date(),
        3,
        0,
    )
    assert memory.last_review_day == datetime(2026, 1, 2).date()
    assert [(log.state_before, log.state, log.elapsed_days) for log in rebuilt.logs] == [
        (CardState.NEW, CardState.LEARNING, None),
        (CardState.LEARNING, CardState.REVIEW, 0),
        (CardState.REVIEW, CardState.REVIEW, 1),
    ]


# Packages of every scheduler version ----------------------------------------------------------

HISTORY_REFERENCE = json.loads((FIXTURES / "history_reference.json").read_text())


def _compare_with_anki(package: Path, reference: dict[str, list[float] | None]) -> int:
    """Rebuild every card of ``package`` and compare it with the state Anki 26.9.3 computed
    (tests/fixtures/anki/make_fixtures.py); returns the cards compared. A card Anki left
    without a state has no usable review (the trainer gives it the SM-2 conversion)."""
    deck = read_anki(package, package.name, with_history=True)
    compared = 0
    for history in deck.histories:
        expected = reference[f"{history.key}/0"]
        if expected is None:
            assert reviews_for_fsrs(history.reviews) is None
            continue
        scheduler = Scheduler(Settings(), history.parameters)
        memory = rebuild(history, scheduler, CLOCK, NOW).memory
        assert memory.stability_days == pytest.approx(expected[0], rel=2e-5), history.key
        assert memory.difficulty == pytest.approx(expected[1], rel=2e-5), history.key
        compared += 1
    return compared


def test_a_v1_scheduler_package_gives_the_states_anki_computes() -> None:
    """v1.apkg has no ``schedVer``: its learning rows rate Again 1, Good 2, Easy 3."""
    assert _compare_with_anki(FIXTURES / "v1.apkg", HISTORY_REFERENCE["v1"]) == 39


def test_the_same_rows_in_a_v2_collection_keep_their_numbers(tmp_path: Path) -> None:
    package = tmp_path / "v2.apkg"
    package.write_bytes((FIXTURES / "v1.apkg").read_bytes())

    def v2(db: sqlite3.Connection) -> None:
        conf = json.loads(db.execute("SELECT conf FROM col").fetchone()[0])
        db.execute("UPDATE col SET conf = ?", (json.dumps({**conf, "schedVer": 2}),))

    edit_collection(package, v2)
    assert _compare_with_anki(package, HISTORY_REFERENCE["v1_read_as_v2"]) == 39


def test_a_v1_review_card_in_a_learning_queue_is_relearning() -> None:
    deck = read_anki(FIXTURES / "v1.apkg", "v1.apkg", with_history=True)
    relearning = [h.key for h in deck.histories if h.schedule.card_type == 3]
    assert relearning == ["g6", "g14", "g22", "g30", "g38"]
    rebuilt = rebuild(deck.histories[6], Scheduler(Settings()), CLOCK, NOW).memory
    assert (rebuilt.state, rebuilt.step) == (CardState.RELEARNING, 0)


def test_a_negative_interval_counts_seconds_and_imports(tmp_path: Path) -> None:
    """-259200 is a three-day learning step; ``lastIvl`` is never a reason to refuse."""
    package = build_package(tmp_path)

    def learning_steps(db: sqlite3.Connection) -> None:
        card_id = db.execute("SELECT id FROM cards ORDER BY id LIMIT 1").fetchone()[0]
        db.execute("UPDATE cards SET type = 2, queue = 2, due = 30, ivl = 3, reps = 2")
        for row_id, ivl, last in ((1_767_268_800_000, -259_200, 0), (1_767_528_000_000, 3, -600)):
            db.execute(
                "INSERT INTO revlog VALUES (?, ?, -1, 2, ?, ?, 2500, 5000, 0)",
                (row_id, card_id, ivl, last),
            )

    edit_collection(package, learning_steps)
    deck = read_anki(package, "lists.apkg", with_history=True)
    assert [(e.ease, e.interval) for e in deck.histories[0].reviews] == [(3, -259_200), (3, 3)]


@pytest.mark.parametrize("package", ["presets.apkg", "presets-current.apkg"])
def test_each_card_is_replayed_with_its_presets_fsrs_parameters(package: str) -> None:
    """presets.apkg's decks use presets with fsrsParams6 (and a historical retention of 0.85),
    fsrsParams5 only, fsrsWeights only, and none; presets-current.apkg is the same collection
    exported by Anki in its current format (presets as protobuf blobs)."""
    assert _compare_with_anki(FIXTURES / package, HISTORY_REFERENCE["presets"]) == 39
    deck = read_anki(FIXTURES / package, package, with_history=True)
    retentions = {h.key: h.historical_retention for h in deck.histories}
    assert retentions["g1"] == pytest.approx(0.85)
    assert retentions["g2"] == pytest.approx(0.9)


def test_older_parameter_sets_are_filled_and_clipped_as_fsrs_rs_reads_them() -> None:
    fsrs5 = [0.4, 1.2, 3.2, 15.7, 7.2, 0.53, 1.46, 0.005, 1.55, 0.12]
    fsrs5 += [1.02, 1.94, 0.11, 0.3, 2.27, 0.23, 2.99, 0.52, 0.66]
    assert fsrs6_parameters(fsrs5) == (*fsrs5, 0.0, 0.5)
    fsrs45 = [0.49, 1.4, 3.7, 13.8, 5.0, 1.0, 0.9, 0.03, 1.6, 0.14]
    fsrs45 += [1.05, 2.1, 0.08, 0.32, 1.59, 0.23, 2.88]
    converted = fsrs6_parameters(fsrs45)
    assert converted[4:7] == pytest.approx((7.0, math.log(4) / 3, 1.4))
    assert converted[17:] == (0.0, 0.0, 0.0, 0.5)
    assert fsrs6_parameters([*fsrs5, 0.1, 5.0])[19:] == (0.1, 0.8)  # decay clipped to 0.8
    assert fsrs6_parameters([1.0] * 20) == ()
    assert fsrs6_parameters([*fsrs5[:-1], math.nan]) == ()


def test_a_damaged_preset_counts_as_none_and_never_refuses_the_file(tmp_path: Path) -> None:
    package = tmp_path / "presets.apkg"
    package.write_bytes((FIXTURES / "presets.apkg").read_bytes())
    edit_collection(package, lambda db: db.execute("UPDATE col SET dconf = '{not json'"))
    deck = read_anki(package, "presets.apkg", with_history=True)
    assert {h.parameters for h in deck.histories} == {()}
    assert len(deck.cards) == 40


def test_the_import_stores_the_states_each_preset_gives(tmp_path: Path, database: str) -> None:
    result = CliRunner().invoke(
        cli,
        ["import", str(FIXTURES / "presets.apkg"), "--with-history"],
        env={"TRAINER_NOW": "2026-11-29T10:00:00+00:00"},
    )
    assert result.exit_code == 0, result.output
    engine = open_database(database)
    with Session(engine) as db:
        query = (
            select(Card.key, CardMemory.stability_days)
            .join(CardMemory, CardMemory.card_id == Card.id)
            .where(CardMemory.state != 0)
        )
        stored = {key: stability for key, stability in db.execute(query)}
        logs = db.execute(
            select(ReviewLog.rating, ReviewLog.reviewed_at, ReviewLog.review_day)
            .join(Card)
            .where(Card.key == "g1")
            .order_by(ReviewLog.reviewed_at)
        ).all()
    engine.dispose()
    with zipfile.ZipFile(FIXTURES / "presets.apkg") as archive:
        collection = tmp_path / "presets.db"
        collection.write_bytes(archive.read("collection.anki2"))
    with sqlite3.connect(collection) as anki_db:
        revlog = anki_db.execute(
            "SELECT ease, revlog.id FROM revlog JOIN cards ON cards.id = revlog.cid"
            " JOIN notes ON notes.id = cards.nid WHERE guid = 'g1' AND ease > 0 ORDER BY revlog.id"
        ).fetchall()
    assert logs  # the rated rows from the card's last learning step on, as Anki stored them
    assert [(log.rating, log.reviewed_at) for log in logs] == [
        (ease, datetime.fromtimestamp(ms / 1000, UTC)) for ease, ms in revlog[-len(logs) :]
    ]
    assert all(isinstance(log.review_day, date) for log in logs)
    expected = {
        key.removesuffix("/0"): state[0]
        for key, state in HISTORY_REFERENCE["presets"].items()
        if state is not None
    }
    assert {key: stored[key] for key in expected} == {
        key: pytest.approx(value, rel=2e-5) for key, value in expected.items()
    }


def test_the_deck_keeps_the_parameters_of_the_preset_most_cards_use(
    tmp_path: Path, database: str
) -> None:
    """In presets.apkg each preset has ten cards; moved to the FSRS-6 preset, the deck
    "Default" gives it twenty, so the imported deck keeps that preset's parameters."""
    package = tmp_path / "presets.apkg"
    package.write_bytes((FIXTURES / "presets.apkg").read_bytes())

    def default_uses_preset_2(db: sqlite3.Connection) -> None:
        decks = json.loads(db.execute("SELECT decks FROM col").fetchone()[0])
        for deck in decks.values():
            if deck["name"] == "Default":
                deck["conf"] = 2
        db.execute("UPDATE col SET decks = ?", (json.dumps(decks),))

    edit_collection(package, default_uses_preset_2)
    six = [0.3, 1.1, 2.9, 12.0, 6.9, 0.6, 2.1, 0.01, 1.6, 0.14, 1.0, 1.8, 0.08, 0.3, 1.9]
    six += [0.25, 2.6, 0.5, 0.2, 0.15, 0.3]
    assert read_anki(package, "presets.apkg").fsrs_parameters == tuple(six)
    for _ in range(2):  # a re-import keeps them
        result = CliRunner().invoke(cli, ["import", str(package), "--deck", "Mine"])
        assert result.exit_code == 0, result.output
    engine = open_database(database)
    with Session(engine) as db:
        kept = db.execute(
            select(Deck.name, LearnerDeck.fsrs_parameters).join(
                LearnerDeck, LearnerDeck.deck_id == Deck.id
            )
        ).all()
    engine.dispose()
    assert [tuple(row) for row in kept if row[1] is not None] == [("Mine", six)]


# Raw collections from a profile folder --------------------------------------------------------


@pytest.mark.parametrize("name", ["collection.anki2", "collection.anki21"])
def test_a_raw_collection_reads_like_its_package_with_its_media_folder(
    tmp_path: Path, name: str
) -> None:
    package = build_package(tmp_path)
    with zipfile.ZipFile(package) as archive:
        (tmp_path / name).write_bytes(archive.read("collection.anki2"))
    (tmp_path / "collection.media").mkdir()
    (tmp_path / "collection.media" / "list.png").write_bytes(b"\x89PNG from the profile")
    (tmp_path / "collection.media" / "unused.png").write_bytes(b"not on any card")
    raw = read_file(tmp_path / name)
    packaged = read_anki(package, "lists.apkg")
    assert (raw.cards, raw.name, raw.skip_reasons) == (
        packaged.cards,
        packaged.name,
        packaged.skip_reasons,
    )
    assert [(m.name, m.read()) for m in raw.media] == [("list.png", b"\x89PNG from the profile")]


def test_a_raw_zstd_collection_reads_with_its_history(tmp_path: Path) -> None:
    """collection.anki21b as Anki 2.1.50+ keeps it: the SQLite file, zstd-compressed."""
    with zipfile.ZipFile(FIXTURES / "presets-current.apkg") as archive:
        (tmp_path / "collection.anki21b").write_bytes(archive.read("collection.anki21b"))
    assert _compare_with_anki(tmp_path / "collection.anki21b", HISTORY_REFERENCE["presets"]) == 39
    result = CliRunner().invoke(
        cli, ["import", str(tmp_path / "collection.anki21b"), "--with-history"]
    )
    assert result.exit_code == 0, result.output
    assert "40 added" in result.output


def test_json_says_per_file_why_cards_were_skipped_and_what_history_and_media_came(
    tmp_path: Path, database: str
) -> None:
    package = build_package(tmp_path)

    def suspend_and_review(db: sqlite3.Connection) -> None:
        card_id = db.execute("SELECT id FROM cards ORDER BY id LIMIT 1").fetchone()[0]
        db.execute("UPDATE cards SET type = 2, queue = 2, due = 30, ivl = 3, reps = 2")
        db.execute("UPDATE cards SET queue = -1 WHERE ord = 1")  # the reverse and cloze 2
        for row_id in (1_767_268_800_000, 1_767_528_000_000):
            db.execute(
                "INSERT INTO revlog VALUES (?, ?, -1, 3, 3, 0, 2500, 5000, 1)", (row_id, card_id)
            )

    edit_collection(package, suspend_and_review)
    runner = CliRunner()
    for media in (1, 0):  # the picture is written once
        result = runner.invoke(cli, ["import", str(package), "--with-history", "--json"])
        assert result.exit_code == 0, result.output
        [summary] = json.loads(result.stdout)
        assert (
            summary["skip_reasons"],
            summary["review_log_rows"],
            summary["media_written"],
        ) == ([], 2 if media else 0, media)


def test_notes_sharing_a_guid_each_give_their_cards(tmp_path: Path) -> None:
    """Anki imports every note of a package whose notes share one GUID (it matches GUIDs only
    against the collection imported into); the later notes are keyed by their note ids."""
    deck = genanki.Deck(2_059_400_111, "Shared")
    for number in range(3):
        fields = [f"question {number}", f"answer {number}"]
        deck.add_note(genanki.Note(model=genanki.BASIC_MODEL, fields=fields, guid="same"))
    path = tmp_path / "shared.apkg"
    genanki.Package(deck).write_to_file(str(path))
    first = read_anki(path, "shared.apkg")
    assert [c.front for c in first.cards] == ["question 0", "question 1", "question 2"]
    assert first.skipped == 0
    keys = [c.key for c in first.cards]
    assert keys[0] == "same" and len(set(keys)) == 3
    assert all(key.startswith("same@note") for key in keys[1:])
    assert [c.key for c in read_anki(path, "shared.apkg").cards] == keys  # stable


def test_a_collection_file_that_is_no_database_says_so(tmp_path: Path) -> None:
    path = tmp_path / "collection.anki2"
    path.write_bytes(b"PK not really")
    with pytest.raises(DeckError) as caught:
        read_anki(path, str(path))
    assert str(caught.value) == (
        f"{path}: not an Anki collection (neither an SQLite file nor zstd-compressed)"
    )


def test_a_cloze_note_nested_thousands_deep_imports_and_is_never_called_damaged(
    tmp_path: Path,
) -> None:
    """Anki reads openings past its tenth level of nesting as text; so does the import, where a
    recursive reader would have hit Python's recursion limit."""
    deck = genanki.Deck(2_059_400_111, "Deep")
    text = "{{c1::" * 3000 + "x" + "}}" * 3000
    deck.add_note(genanki.Note(model=genanki.CLOZE_MODEL, fields=[text, ""], guid="deep"))
    path = tmp_path / "deep.apkg"
    genanki.Package(deck).write_to_file(str(path))
    cards = read_anki(path, "deep.apkg").cards
    assert [(card.key, card.kind, card.note_id) for card in cards] == [
        ("deep#c1", "cloze", _note_id(path, "deep"))
    ]


def test_cards_whose_history_reached_the_leech_threshold_are_marked(
    tmp_path: Path, database: str
) -> None:
    """A card lapsed twice in Anki (Easy, Again, Easy, Again, five days apart) is marked a
    leech by an import with history under leech_lapses 2, and not suspended; no other card."""
    package = build_package(tmp_path)

    def lapse_twice(db: sqlite3.Connection) -> None:
        card_id = db.execute("SELECT id FROM cards ORDER BY id LIMIT 1").fetchone()[0]
        db.execute(
            "UPDATE cards SET type = 3, queue = 1, due = 0, ivl = 1, reps = 4, lapses = 2"
            " WHERE id = ?",
            (card_id,),
        )
        for step, (ease, kind) in enumerate(((4, 0), (1, 1), (4, 2), (1, 1))):
            db.execute(
                "INSERT INTO revlog VALUES (?, ?, -1, ?, 1, 0, 2500, 5000, ?)",
                (1_767_268_800_000 + step * 432_000_000, card_id, ease, kind),
            )

    edit_collection(package, lapse_twice)
    env = {"TRAINER_NOW": "2026-11-29T10:00:00+00:00"}
    assert CliRunner().invoke(cli, ["config", "leech_lapses", "2"], env=env).exit_code == 0
    imported = CliRunner().invoke(cli, ["import", str(package), "--with-history"], env=env)
    assert imported.exit_code == 0, imported.output

    def lapses(query: str) -> list[int]:
        found = CliRunner().invoke(cli, ["cards", query, "--json"], env=env)
        return [card["lapses"] for card in json.loads(found.stdout)]

    assert lapses("-is:new") == [2]
    assert lapses("is:leech") == [2]
    assert lapses("is:suspended") == []


def test_history_imported_after_a_day_of_study_keeps_its_own_days(database: str) -> None:
    """The study clock never goes back before the last study day, for new ratings; the imported
    review log happened on its own days, and its states are rebuilt from them."""
    env = {"TRAINER_NOW": "2026-11-29T10:00:00+00:00"}
    package = str(FIXTURES / "presets.apkg")

    def imported() -> tuple[list[tuple[date, float]], list[tuple[date | None, date | None]]]:
        engine = open_database(database)
        with Session(engine) as db:
            days = db.execute(
                select(ReviewLog.review_day, ReviewLog.stability_days)
                .join(Card)
                .where(Card.key == "g1", Card.active)
                .order_by(ReviewLog.reviewed_at)
            ).all()
            # due days count from the collection's creation day, last review days from the log
            dues = db.execute(
                select(CardMemory.due_day, CardMemory.last_review_day)
                .join(Card)
                .where(Card.deck.has(Deck.name.startswith("Presets::")), Card.active)
                .order_by(Card.key)
            ).all()
        engine.dispose()
        return [(day, stability) for day, stability in days], [(d, last) for d, last in dues]

    assert CliRunner().invoke(cli, ["import", package, "--with-history"], env=env).exit_code == 0
    fresh = imported()
    CliRunner().invoke(cli, ["decks", "delete", "Presets", "--yes"], env=env)
    reviewed = CliRunner().invoke(cli, ["review", "--new-cards", "1"], env=env, input=" 3q")
    assert reviewed.exit_code == 0, reviewed.output
    assert CliRunner().invoke(cli, ["import", package, "--with-history"], env=env).exit_code == 0
    assert imported() == fresh
    assert [day for day, _ in fresh[0]] == [date(2025, 3, 9), date(2025, 3, 10), date(2025, 3, 11)]


def test_a_raw_collection_open_in_anki_is_read_with_its_write_ahead_log(tmp_path: Path) -> None:
    # Anki keeps its collection in WAL mode: what it has not yet checkpointed lies in NAME-wal
    with zipfile.ZipFile(build_package(tmp_path)) as archive:
        (tmp_path / "live.anki2").write_bytes(archive.read("collection.anki2"))
    profile = tmp_path / "profile"
    profile.mkdir()
    anki_side = sqlite3.connect(tmp_path / "live.anki2")
    try:
        anki_side.execute("PRAGMA journal_mode = WAL")
        anki_side.execute("PRAGMA wal_autocheckpoint = 0")
        anki_side.execute("UPDATE notes SET flds = replace(flds, 'found everywhere', 'seen')")
        anki_side.commit()
        for suffix in ("", "-wal"):  # copied while Anki still has it open
            (profile / f"collection.anki2{suffix}").write_bytes(
                (tmp_path / f"live.anki2{suffix}").read_bytes()
            )
    finally:
        anki_side.close()
    assert (profile / "collection.anki2-wal").stat().st_size > 0
    deck = read_file(profile / "collection.anki2")
    assert [c.back for c in deck.cards if c.key == "custom"] == ["seen"]
    assert sorted(p.name for p in profile.iterdir()) == ["collection.anki2", "collection.anki2-wal"]


def test_a_back_that_adds_nothing_to_the_front_repeats_the_question(tmp_path: Path) -> None:
    """As Anki shows it: a back template of only ``{{FrontSide}}`` (or with nothing after
    ``<hr id=answer>``, or only empty markup) is the question again, not an empty card; a back
    template that adds text to the front shows that text only."""
    backs = [
        "{{FrontSide}}",
        "{{FrontSide}}\n<hr id=answer>\n",
        '{{FrontSide}}\n<div dir="rtl"></div>',
        "{{FrontSide}}<br>{{Front}} (again)",
    ]
    deck = genanki.Deck(2_059_400_111, "Single")
    for number, back in enumerate(backs):
        model = genanki.Model(
            1_607_392_400 + number,
            f"Single {number}",
            fields=[{"name": "Front"}],
            templates=[{"name": "Card 1", "qfmt": "<p>{{Front}}</p>", "afmt": back}],
        )
        deck.add_note(
            genanki.Note(model=model, fields=[f"fact <b>{number}</b>"], guid=f"n{number}")
        )
    path = tmp_path / "single.apkg"
    genanki.Package(deck).write_to_file(str(path))
    read = read_anki(path, "single.apkg")
    assert read.skipped == 0
    assert [(c.key, c.front, c.back) for c in read.cards] == [
        ("n0", "fact **0**", "fact **0**"),
        ("n1", "fact **1**", "fact **1**"),
        ("n2", "fact **2**", "fact **2**"),
        ("n3", "fact **3**", "fact **3** (again)"),
    ]


def test_the_optional_reverse_is_made_only_when_add_reverse_is_filled(tmp_path: Path) -> None:
    """Anki's "Basic (optional reversed card)": the reverse card exists only when Add Reverse
    is not empty, and the Add Reverse flag is never shown on either card."""
    deck = genanki.Deck(2_059_400_112, "Vocab")
    model = genanki.BASIC_OPTIONAL_REVERSED_CARD_MODEL
    deck.add_note(genanki.Note(model=model, fields=["perro", "dog", ""], guid="perro"))
    deck.add_note(genanki.Note(model=model, fields=["gato", "cat", "y"], guid="gato"))
    path = tmp_path / "vocab.apkg"
    genanki.Package(deck).write_to_file(str(path))
    read = read_anki(path, "vocab.apkg")
    assert [(c.key, c.front, c.back) for c in read.cards] == [
        ("perro", "perro", "dog"),
        ("gato", "gato", "cat"),
        ("gato#2", "cat", "gato"),
    ]
