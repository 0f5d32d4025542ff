"""`trainer import` as a learner uses it: targets, idempotent re-import, all or nothing, history."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import date, datetime
from pathlib import Path

import genanki
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from conftest import LEARNER, sqlite_only
from conftest import cli_run as run
from trainer.importers.notes import card_key, cloze_key
from trainer.store.db import open_database
from trainer.store.models import Card, CardMemory, Deck, ReviewLog

NOW = "2026-11-29T10:00:00+00:00"
FIXTURES = Path(__file__).parent / "fixtures" / "anki"
CSV = "Question,Answer\nWhat is a list?,An ordered sequence\nWhat is a dict?,A mapping\n"


def _status() -> dict[str, object]:
    code, out, _ = run("status", "--json")
    assert code == 0
    return json.loads(out)  # type: ignore[no-any-return]


def _topic_cards(status: dict[str, object], slug: str) -> int:
    for section in status["sections"]:  # type: ignore[attr-defined]
        for topic in section["topics"]:
            if topic["slug"] == slug:
                return int(topic["cards"])
    raise KeyError(slug)


def _decks(database: str) -> dict[str, tuple[str, int]]:
    engine = open_database(database)
    with Session(engine) as db:
        rows = db.execute(
            select(Deck.name, Deck.source, func.count(Card.id))
            .join(Card, Card.deck_id == Deck.id, isouter=True)
            .where(Deck.source == "import")
            .group_by(Deck.id)
        ).all()
    engine.dispose()
    return {name: (source, count) for name, source, count in rows}


@pytest.fixture
def deck_file(tmp_path: Path) -> Path:
    path = tmp_path / "python.csv"
    path.write_text(CSV)
    return path


def test_topic_cards_count_toward_the_topic_and_leave_the_builtin_deck_alone(
    deck_file: Path, database: str
) -> None:
    before = _topic_cards(_status(), "data-structures")
    code, out, _ = run("import", str(deck_file), "--topic", "data-structures")
    assert code == 0, out
    assert out == (
        f'{deck_file} -> deck "Imported: python (data-structures)": 2 added, 0 updated,'
        " 0 unchanged, 0 skipped\n"
    )
    assert _topic_cards(_status(), "data-structures") == before + 2
    assert _decks(database) == {"Imported: python (data-structures)": ("import", 2)}


def test_reimport_changes_nothing_and_an_edit_updates_in_place_keeping_history(
    deck_file: Path, database: str
) -> None:
    run("import", str(deck_file), "--deck", "Python")
    engine = open_database(database)
    with Session(engine) as db, db.begin():
        card = db.scalars(select(Card).where(Card.front == "What is a dict?")).one()
        card_id = card.id
        db.add(
            ReviewLog(
                learner_id=LEARNER,
                card_id=card_id,
                rating=3,
                reviewed_at=datetime.fromisoformat(NOW),
                review_day=date(2026, 11, 29),
                duration_ms=1000,
                state_before=0,
                state=1,
                stability_days=2.3,
                difficulty=2.1,
                interval_days=0,
            )
        )
    code, out, _ = run("import", str(deck_file), "--deck", "Python")
    assert code == 0 and "0 added, 0 updated, 2 unchanged, 0 skipped" in out
    deck_file.write_text(CSV.replace("A mapping", "A mapping of keys to values"))
    code, out, _ = run("import", str(deck_file), "--deck", "Python", "--json")
    assert code == 0
    assert json.loads(out) == [
        {
            "path": str(deck_file),
            "deck": "Python",
            "added": 0,
            "updated": 1,
            "unchanged": 1,
            "skipped": 0,
            "skip_reasons": [],
            "review_log_rows": 0,
            "media_written": 0,
            "error": None,
            "problems": [],
            "decks": ["Python"],
            "comment_lines": 0,
            "warnings": [],
            "missing": 0,
            "retired": 0,
        }
    ]
    with Session(engine) as db:
        card = db.get_one(Card, card_id)
        assert card.back == "A mapping of keys to values"
        assert db.scalar(select(func.count(ReviewLog.id)).where(ReviewLog.card_id == card_id)) == 1
    engine.dispose()


def test_a_standalone_deck_is_an_extra_deck_in_status(deck_file: Path) -> None:
    assert run("import", str(deck_file), "--deck", "Spanish")[0] == 0
    extra = _status()["extra_decks"]
    assert [(d["slug"], d["cards"], d["new"]) for d in extra] == [("spanish", 2, 2)]  # type: ignore[attr-defined]


def test_a_bad_file_imports_nothing_while_the_good_ones_import(
    deck_file: Path, tmp_path: Path, database: str
) -> None:
    bad = tmp_path / "bad.md"
    bad.write_text("# Notes\n\nQ: dangling\n")
    code, out, err = run("import", str(bad), str(deck_file))
    assert code == 1
    assert out == f'{deck_file} -> deck "python": 2 added, 0 updated, 0 unchanged, 0 skipped\n'
    assert err == f"Error: {bad}:3: 'Q:' without an 'A:' line for its answer\n"
    assert _decks(database) == {"python": ("import", 2)}


def test_a_card_with_a_problem_is_left_out_of_a_file_with_good_cards(
    tmp_path: Path, database: str
) -> None:
    # as a CSV row without an answer is skipped: one bad card never refuses the others
    notes = tmp_path / "notes.md"
    notes.write_text("What?::That\n\nQ: dangling\n\n# Next\n\nWhere?::Here\n")
    rows = tmp_path / "rows.txt"
    rows.write_text("#notetype column:1\nCloze\tThe {{c1::Sun\t\nBasic\tq\ta\n")
    code, out, err = run("import", str(notes), str(rows))
    assert code == 0
    assert out == (
        f'{notes} -> deck "notes": 2 added, 0 updated, 0 unchanged, 1 skipped'
        " (could not be read (1))\n"
        f'{rows} -> deck "rows": 1 added, 0 updated, 0 unchanged, 1 skipped'
        " (could not be read (1))\n"
    )
    assert err == (
        f"Warning: {notes}: line 3: 'Q:' without an 'A:' line for its answer; not imported\n"
        f"Warning: {rows}: line 2: cloze deletion '{{{{c1::' is never closed with '}}}}';"
        " not imported\n"
    )
    assert _decks(database) == {"notes": ("import", 2), "rows": ("import", 1)}


def test_json_lists_each_problem_of_a_bad_file_as_a_value(tmp_path: Path) -> None:
    bad = tmp_path / "bad.md"
    bad.write_text("Q: dangling\n\nQ:\nA: x\n")
    code, out, _ = run("import", str(bad), "--json")
    assert code == 1
    [result] = json.loads(out)
    assert result["problems"] == [
        {
            "path": str(bad),
            "line": 1,
            "message": "'Q:' without an 'A:' line for its answer",
            "where": None,
        },
        {"path": str(bad), "line": 3, "message": "card with an empty question", "where": None},
    ]
    assert result["error"] == "\n".join(
        f"{bad}:{p['line']}: {p['message']}" for p in result["problems"]
    )


def test_media_that_cannot_be_written_is_one_line_and_imports_nothing(
    database: str, media_dir: Path
) -> None:
    media = media_dir
    media.parent.mkdir(parents=True, exist_ok=True)
    media.write_text("a file where the media folder would go")
    code, out, err = run("import", str(FIXTURES / "current.apkg"))
    assert (code, out) == (1, "")
    package = FIXTURES / "current.apkg"
    assert err.splitlines()[1:] == [
        f"Error: {media}: cannot write the media file {_media_name(package)} (File exists)"
    ]
    assert _decks(database) == {}


def _media_name(package: Path) -> str:
    from trainer.importers.anki import read_anki

    [file] = read_anki(package, str(package)).media
    return file.name


def test_a_dry_run_writes_nothing(deck_file: Path, database: str, media_dir: Path) -> None:
    code, out, _ = run("import", str(deck_file), str(FIXTURES / "current.apkg"), "--dry-run")
    assert code == 0
    assert out.splitlines()[-1] == "Dry run: nothing was written."
    assert "6 added" in out and "1 media file" in out
    assert _decks(database) == {}
    assert not media_dir.exists()


@sqlite_only("a dry run works on a copy of the file; on a server it rolls back")
def test_a_dry_run_creates_no_database_and_leaves_one_byte_for_byte(
    deck_file: Path, db_path: Path
) -> None:
    code, out, _ = run("import", str(deck_file), "--dry-run")
    assert (code, out) == (
        0,
        f'{deck_file} -> deck "python": 2 added, 0 updated, 0 unchanged, 0 skipped\n'
        "Dry run: nothing was written.\n",
    )
    assert list(db_path.parent.iterdir()) == [deck_file]
    assert run("import", str(deck_file))[0] == 0
    before = {path.name: path.read_bytes() for path in db_path.parent.iterdir() if path.is_file()}
    deck_file.write_text(CSV + "What is a set?,Unique items\n")
    code, out, _ = run("import", str(deck_file), "--dry-run")
    assert "1 added, 0 updated, 2 unchanged" in out
    after = {path.name: path.read_bytes() for path in db_path.parent.iterdir() if path.is_file()}
    assert after == {**before, deck_file.name: deck_file.read_bytes()}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--topic", "nope"],
            "Error: --topic nope: no such topic (titles and slugs are in 'trainer status --json')",
        ),
        (["--topic", "algorithms", "--deck", "x"], "Error: --topic and --deck: give one of them"),
        (
            ["--deck", "Data Structures"],
            "Error: --deck Data Structures: deck 'Data Structures' is a built-in deck;"
            " choose another",
        ),
    ],
)
def test_bad_options_are_usage_errors(deck_file: Path, args: list[str], message: str) -> None:
    code, _, err = run("import", str(deck_file), str(deck_file), *args)
    assert code == 2 and err.startswith(message) and err.count("Error:") == 1


def _clashing_package(folder: Path) -> Path:
    """An Anki package of three decks: ``testing`` (the built-in topic deck Testing, in
    another case), its subdeck ``testing::Mocks`` and a deck of its own, ``Mine``."""
    decks = [
        genanki.Deck(1_700_000_010 + number, name)
        for number, name in enumerate(["testing", "testing::Mocks", "Mine"])
    ]
    for number, deck in enumerate(decks):
        note = [f"Question {number}", f"Answer {number}"]
        deck.add_note(genanki.Note(model=genanki.BASIC_MODEL, fields=note, guid=f"g{number}"))
    path = folder / "clash.apkg"
    genanki.Package(decks).write_to_file(str(path))
    return path


@pytest.mark.parametrize(
    ("name", "text", "decks"),
    [
        (
            "mine.toml",
            'name = "Data Structures"\n\n[[card]]\nid = "a"\nfront = "Q"\nback = "A"\n',
            ["Data Structures (imported)"],
        ),
        (
            "caching.md",
            "What is a cache hit?::A read served from the cache\n",
            ["caching (imported)"],
        ),
        (
            "rows.tsv",
            "#separator:tab\n#deck:Mine\n#deck column:3\n"
            "Q1\tA1\tAlgorithms::Sorting\nQ2\tA2\t\nQ3\tA3\tTESTING\n",
            ["Algorithms (imported)::Sorting", "Mine", "TESTING (imported)"],
        ),
        ("clash.apkg", "", ["testing (imported)", "testing (imported)::Mocks", "Mine"]),
    ],
)
def test_a_deck_a_file_names_like_a_builtin_deck_is_imported_apart_under_one_name(
    tmp_path: Path, database: str, name: str, text: str, decks: list[str]
) -> None:
    path = _clashing_package(tmp_path) if name.endswith(".apkg") else tmp_path / name
    if text:
        path.write_text(text)
    shown = ", ".join(f'"{deck}"' for deck in decks)
    where = f"decks {shown}" if len(decks) > 1 else f"deck {shown}"
    cards = len(decks)
    for added, unchanged in ((cards, 0), (0, cards)):  # a re-import finds the same decks
        code, out, err = run("import", str(path))
        assert (code, out, err) == (
            0,
            f"{path} -> {where}: {added} added, 0 updated, {unchanged} unchanged, 0 skipped\n",
            "",
        )
    assert {deck: count for deck, (_, count) in _decks(database).items() if count} == dict.fromkeys(
        decks, 1
    )


def test_media_go_to_the_media_folder_and_a_clash_gets_its_own_name(
    tmp_path: Path, database: str, media_dir: Path
) -> None:
    media = media_dir
    media.mkdir(parents=True)
    (media / "list.png").write_bytes(b"another picture")
    assert run("import", str(FIXTURES / "current.apkg"))[0] == 0
    picture = b"\x89PNG\r\n\x1a\n fixture"
    renamed = f"list-{hashlib.sha256(picture).hexdigest()[:8]}.png"
    assert sorted(p.name for p in media.iterdir()) == [renamed, "list.png"]
    assert (media / renamed).read_bytes() == picture
    engine = open_database(database)
    with Session(engine) as db:
        backs = db.scalars(select(Card.back).where(Card.back.contains("[image:"))).all()
    engine.dispose()
    assert backs == [f"a mutable sequence\\\n\\[image: {renamed}\\]"]


def test_history_rebuilds_the_memory_anki_computes_and_is_imported_once(database: str) -> None:
    reference = json.loads((FIXTURES / "fsrs_reference.json").read_text())["package"]
    package = str(FIXTURES / "current.apkg")
    code, out, _ = run("import", package, "--with-history", "--topic", "data-structures")
    assert code == 0, out
    engine = open_database(database)
    with Session(engine) as db:
        cards = {
            key: memory
            for key, memory in db.execute(
                select(Card.key, CardMemory)
                .join(CardMemory, CardMemory.card_id == Card.id)
                .where(Card.deck.has(source="import"), CardMemory.learner_id == LEARNER)
            )
        }
        logs = db.scalar(select(func.count(ReviewLog.id)))
        for ident, (stability, difficulty) in reference.items():
            guid, ordinal = ident.rsplit("/", 1)
            key = card_key(guid, int(ordinal))
            card = cards.get(key) or cards[cloze_key(guid, int(ordinal) + 1)]
            assert card.stability_days == pytest.approx(stability, rel=2e-5)
            assert card.difficulty == pytest.approx(difficulty, rel=2e-5)
            assert card.state == 2 and card.reps > 0
    assert f"; {logs} review-log rows" in out
    code, out, _ = run("import", package, "--with-history", "--topic", "data-structures")
    assert code == 0 and "6 unchanged" in out and "review-log" not in out
    with Session(engine) as db:
        assert db.scalar(select(func.count(ReviewLog.id))) == logs
    engine.dispose()


def test_the_same_file_under_another_name_is_another_deck(deck_file: Path, database: str) -> None:
    copy = deck_file.with_name("copy.csv")
    shutil.copy(deck_file, copy)
    assert run("import", str(deck_file), str(copy))[0] == 0
    assert _decks(database) == {"python": ("import", 2), "copy": ("import", 2)}


def test_rows_of_one_question_with_different_answers_are_cards_of_their_own(
    tmp_path: Path, database: str
) -> None:
    # as Anki imports them: every row a note; only a row repeated whole is the same card twice
    path = tmp_path / "words.tsv"
    path.write_text(
        "cheat\tfraud\npossession\tproperty\ncheat\tto swindle\ncheat\tfraud\n"
        "possession\townership\n",
        encoding="utf-8",
    )
    code, out, _ = run("import", str(path))
    assert code == 0
    assert "4 added, 0 updated, 0 unchanged, 1 skipped (same card twice (1))" in out
    engine = open_database(database)
    with Session(engine) as db:
        cards = db.execute(select(Card.front, Card.back, Card.key).order_by(Card.id)).all()
    engine.dispose()
    words = [(front, back) for front, back, _ in cards[-4:]]
    assert words == [
        ("cheat", "fraud"),
        ("possession", "property"),
        ("cheat", "to swindle"),
        ("possession", "ownership"),
    ]
    keys = [key for *_, key in cards[-4:]]
    assert keys[2] == keys[0] + "~2" and keys[3] == keys[1] + "~2"
    code, out, _ = run("import", str(path))
    assert "0 added, 0 updated, 4 unchanged, 1 skipped" in out


def test_one_question_in_two_decks_of_a_deck_column_is_a_card_in_each(tmp_path: Path) -> None:
    path = tmp_path / "sky.txt"
    path.write_text(
        "#separator:tab\n#deck column:1\nSky::Planets\tMars\tred\nSky::Myths\tMars\twar\n",
        encoding="utf-8",
    )
    code, out, _ = run("import", str(path))
    assert code == 0 and "2 added" in out
    code, out, _ = run("cards", "deck:Sky", "--json")
    shown = sorted((card["deck"], card["front"]) for card in json.loads(out))
    assert shown == [("Sky::Myths", "Mars"), ("Sky::Planets", "Mars")]


def test_with_history_on_a_file_without_one_says_so(tmp_path: Path) -> None:
    path = tmp_path / "words.csv"
    path.write_text("hola,hello\n", encoding="utf-8")
    code, out, err = run("import", str(path), "--with-history")
    assert (code, err) == (
        0,
        f"Warning: {path}: --with-history brings an Anki package's or collection's review log;"
        " this file's cards come in new\n",
    )
    assert "1 added" in out


def test_pictures_a_csv_file_names_are_taken_from_its_folder(
    tmp_path: Path, media_dir: Path
) -> None:
    (tmp_path / "dot_1.png").write_bytes(b"PNG")
    (tmp_path / "say.mp3").write_bytes(b"MP3")
    path = tmp_path / "pics.txt"
    path.write_text(
        '#separator:tab\n#html:true\n<img src="dot_1.png">\tred dot [sound:say.mp3]\n'
        'missing <img src="gone.png">\tgone\n<img src="https://example.org/a.png">\tweb\n',
        encoding="utf-8",
    )
    code, out, err = run("import", str(path))
    assert code == 0 and "3 added" in out and "2 media files" in out
    assert err == (
        f"Warning: {path}: media files not found beside it (shown by name only): gone.png\n"
    )
    assert (media_dir / "dot_1.png").read_bytes() == b"PNG"
    assert (media_dir / "say.mp3").read_bytes() == b"MP3"


def test_a_row_added_above_others_adds_one_card_and_updates_none(
    tmp_path: Path, database: str
) -> None:
    path = tmp_path / "words.csv"
    path.write_text("hola,hello\ngato,cat\n", encoding="utf-8")
    run("import", str(path))
    path.write_text("perro,dog\nhola,hello\ngato,cat\n", encoding="utf-8")
    code, out, _ = run("import", str(path))
    assert (code, out) == (
        0,
        f'{path} -> deck "words": 1 added, 0 updated, 2 unchanged, 0 skipped\n',
    )
    engine = open_database(database)
    with Session(engine) as db:
        fronts = db.scalars(
            select(Card.front).join(Deck).where(Deck.name == "words").order_by(Card.position)
        ).all()
    engine.dispose()
    assert fronts == ["perro", "hola", "gato"]  # each card in its new place


#: Tags people write, each different from the others.
TAGS = ["数学::极限", "café", "Ελληνικά", "c++", "C#", "c", "select_related", "a/b", "1.0"]
#: The same tags as cards carry them (lower case).
CARD_TAGS = ["数学::极限", "café", "ελληνικά", "c++", "c#", "c", "select_related", "a/b", "1.0"]


def _tagged_file(folder: Path, kind: str) -> Path:
    """One card tagged :data:`TAGS` in a file of format ``kind``."""
    if kind == "apkg":
        deck = genanki.Deck(1_700_000_020, "Tagged")
        note = genanki.Note(model=genanki.BASIC_MODEL, fields=["Q", "A"], guid="t", tags=TAGS)
        deck.add_note(note)
        path = folder / "tagged.apkg"
        genanki.Package(deck).write_to_file(str(path))
        return path
    if kind == "md":
        listed = "".join(f"  - '{tag}'\n" for tag in TAGS)
        text = f"---\ntags:\n{listed}---\nQ::A\n"
    elif kind == "csv-header":
        text = f"#separator:tab\n#tags:{' '.join(TAGS)}\nTwo and two?\tFour\n"
    else:
        text = f"#separator:tab\n#tags column:3\nTwo and two?\tFour\t{' '.join(TAGS)}\n"
    path = folder / ("tagged.md" if kind == "md" else f"tagged-{kind}.txt")
    path.write_text(text)
    return path


@pytest.mark.parametrize("kind", ["apkg", "md", "csv-header", "csv-column"])
def test_tags_keep_their_letters_and_symbols_and_are_found_by_tag_search(
    tmp_path: Path, kind: str
) -> None:
    path = _tagged_file(tmp_path, kind)
    assert run("import", str(path))[0] == 0
    # Obsidian nests tags with '/', as Anki does with '::'
    expected = [tag.replace("/", "::") if kind == "md" else tag for tag in CARD_TAGS]

    def found(query: str) -> list[list[str]]:
        code, out, _ = run("cards", query, "--json")
        assert code == 0
        return [card["tags"] for card in json.loads(out)]

    assert found("tag:c++") == [expected]
    for query in ["tag:数学", "tag:数学::极限", "tag:CAFÉ", "tag:ΕΛΛΗΝΙΚΆ", "tag:c#", "tag:c"]:
        assert found(query) == [expected], query
    for query in ["tag:极限", "tag:caf", "tag:c+", "tag:数学::极", "tag:select"]:
        assert found(query) == [], query
