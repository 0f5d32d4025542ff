"""The shared import cases (tests/fixtures/cases, one file per kind of fault seen on real files)
and more inputs of each kind, through `trainer import` as a learner runs it."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import cli_run as run
from conftest import database_exists
from trainer.store.db import open_database
from trainer.store.models import Card, Deck

CASES = Path(__file__).parent / "fixtures" / "cases"


def imported_cards(database: str) -> dict[str, list[tuple[str, str]]]:
    """Each imported deck's active cards as (front, back), in file order."""
    engine = open_database(database)
    with Session(engine) as db:
        rows = db.execute(
            select(Deck.name, Card.front, Card.back)
            .join(Card, Card.deck_id == Deck.id)
            .where(Deck.source == "import", Card.active)
            .order_by(Deck.name, Card.position)
        ).all()
    engine.dispose()
    decks: dict[str, list[tuple[str, str]]] = {}
    for name, front, back in rows:
        decks.setdefault(name, []).append((front, back))
    return decks


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# Stray quotes ---------------------------------------------------------------------------------


def test_a_field_that_starts_with_a_quote_keeps_it(database: str) -> None:
    path = CASES / "stray-quote.tsv"
    code, out, err = run("import", str(path))
    assert (code, err) == (0, "")
    assert out == f'{path} -> deck "stray-quote": 3 added, 0 updated, 0 unchanged, 0 skipped\n'
    assert imported_cards(database) == {
        "stray-quote": [
            ("Mercury", "closest planet to the Sun"),
            ('"Red Planet" is the nickname of', "Mars"),
            ("Venus", 'hottest planet, thick "greenhouse" air'),
        ]
    }


@pytest.mark.parametrize(
    ("name", "text", "cards"),
    [
        (  # an odd quote opening a field never closed: the rest of the file still imports
            "odd.csv",
            'q1,a1\n"unclosed,a2\nq3,a3\n',
            [("q1", "a1"), ('"unclosed', "a2"), ("q3", "a3")],
        ),
        (  # quotes inside an answer, and a quoted field beside a stray one
            "mixed.tsv",
            'He said "hi"\t"a ""quoted"" answer"\n"Hamlet", act 1\tElsinore\n',
            [('He said "hi"', 'a "quoted" answer'), ('"Hamlet", act 1', "Elsinore")],
        ),
        (  # a quote opening a field is closed only before the delimiter or the line end
            "semi.txt",
            '"To be" or not;Hamlet\n"x;y";z\nw;"v"\n',
            [('"To be" or not', "Hamlet"), ("x;y", "z"), ("w", "v")],
        ),
    ],
)
def test_stray_quotes_of_other_shapes_keep_every_row(
    tmp_path: Path, database: str, name: str, text: str, cards: list[tuple[str, str]]
) -> None:
    path = write(tmp_path, name, text)
    code, out, _ = run("import", str(path))
    assert code == 0, out
    assert f"{len(cards)} added" in out
    assert imported_cards(database) == {path.stem: cards}


def test_one_odd_quote_among_many_good_rows_refuses_nothing(tmp_path: Path, database: str) -> None:
    rows = [f"question {n}\tanswer {n}" for n in range(783)]
    rows[400] = '"question 400\tanswer 400'
    path = write(tmp_path, "big.tsv", "\n".join(rows) + "\n")
    code, out, _ = run("import", str(path))
    assert code == 0
    assert "783 added, 0 updated, 0 unchanged, 0 skipped" in out
    assert imported_cards(database)["big"][400] == ('"question 400', "answer 400")


# The delimiter -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cards"),
    [
        (  # a row of commas and an answer with commas do not make a tab file a comma file
            "sun\tstar, yellow, G-type\n,,,,\nmoon\tsatellite\nmars\tplanet, red\n",
            [("sun", "star, yellow, G-type"), ("moon", "satellite"), ("mars", "planet, red")],
        ),
        (  # one ragged row and an empty field
            "a\tb\nc\t\nd\te\tf\ng\th\ni, j\tk\n",
            [("a", "b"), ("d", "e\n\nf"), ("g", "h"), ("i, j", "k")],
        ),
        (  # pipes, with a stray comma and semicolon
            "one|1\ntwo|2, or II\nthree; 3|III\n",
            [("one", "1"), ("two", "2, or II"), ("three; 3", "III")],
        ),
        (  # semicolons (a spreadsheet in a comma-decimal locale)
            "pi;3,14159\ne;2,71828\nphi;1,618\n",
            [("pi", "3,14159"), ("e", "2,71828"), ("phi", "1,618")],
        ),
        (  # commas where a few rows also hold a colon or a tab
            "Emacs: cancel,C-g\nVim: quit,:q\nsave,C-x C-s\nsplit\twindow,C-x 2\n",
            [
                ("Emacs: cancel", "C-g"),
                ("Vim: quit", ":q"),
                ("save", "C-x C-s"),
                ("split window", "C-x 2"),
            ],
        ),
        (  # colons only
            "Hund:dog\nKatze:cat\nMaus:mouse\n",
            [("Hund", "dog"), ("Katze", "cat"), ("Maus", "mouse")],
        ),
    ],
)
def test_the_delimiter_is_the_one_splitting_most_rows_alike(
    tmp_path: Path, database: str, text: str, cards: list[tuple[str, str]]
) -> None:
    path = write(tmp_path, "deck.txt", text)
    code, out, _ = run("import", str(path))
    assert code == 0, out
    assert imported_cards(database) == {"deck": cards}


# Files that are not decks ----------------------------------------------------------------------

READABLE = (
    "trainer reads native decks (.toml), CSV/TSV (Anki text exports too), Markdown"
    " (Q:/A:, Obsidian), Anki packages (.apkg, .colpkg) and collections (.anki2, .anki21,"
    " .anki21b)"
)


def _sqlite(path: Path, *tables: str) -> None:
    with closing(sqlite3.connect(path)) as db:
        for table in tables:
            db.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, front TEXT, back TEXT)")
        db.commit()


def _zip(path: Path, *names: str) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")


LOGSEQ = "title:: Spanish\ntags:: language\n\n- hola\n\t- hello\n- adiós\n\t- goodbye\n"
NOT_DECKS = [
    ("cards.json", lambda p: p.write_text('[{"front": "hola", "back": "hello"}]'), "a JSON file"),
    ("export.csv", lambda p: p.write_text('{\n  "deck": "x",\n  "cards": [\n'), "a JSON file"),
    (
        "lines.txt",
        lambda p: p.write_text('{"q": "a, b", "a": "c"}\n{"q": "d", "a": "e"}\n'),
        "a JSON file",
    ),
    ("deck.yaml", lambda p: p.write_text("q: hola\na: hello\n"), "a YAML file"),
    (
        "config.txt",
        lambda p: p.write_text("cards:\n  - front: hola\n    back: hello\n  - front: adiós\n"),
        "a YAML file",
    ),
    ("notes.org", lambda p: p.write_text("* Spanish\n** hola\nhello\n"), "an org-mode file"),
    (
        "drill.txt",
        lambda p: p.write_text("#+TITLE: Spanish\n* hola :drill:\nhello, hi\n"),
        "an org-mode file",
    ),
    ("Spanish.md", lambda p: p.write_text(LOGSEQ), "a Logseq page"),
    (
        "cards.md",
        lambda p: p.write_text("- What is hola? #card\n\t- hello\n- x::y\n"),
        "a Logseq page",
    ),
    (
        "page.md",
        lambda p: p.write_text("- Spanish\n  collapsed:: true\n\t- hola::hello\n"),
        "a Logseq page",
    ),
    (
        "mnemosyne.db",
        lambda p: _sqlite(p, "cards", "facts", "log"),
        "a SQLite database that is not an Anki collection",
    ),
    (
        "deck.apkg",
        lambda p: _sqlite(p, "notes"),
        "a SQLite database that is not an Anki collection",
    ),
    ("deck.zip", lambda p: _zip(p, "cards.xml"), "a zip archive that is not an Anki package"),
    (
        "sheet.xlsx",
        lambda p: _zip(p, "[Content_Types].xml", "xl/workbook.xml"),
        "an Excel workbook (save it as CSV)",
    ),
    ("slides.csv", lambda p: p.write_bytes(b"%PDF-1.7\n%\xe2\xe3\n"), "a PDF document"),
    ("photo.md", lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "a PNG image"),
    ("blob.txt", lambda p: p.write_bytes(b"q,a\x00\x01\x02\nx,y\n"), "a binary file"),
    (
        "supermemo.txt",
        lambda p: p.write_text('<?xml version="1.0"?>\n<SuperMemoCollection><Count>1</Count>\n'),
        "an XML file",
    ),
    (
        "cards.csv",
        lambda p: p.write_text('<mnemosyne core_version="1">\n<log type="1"/>\n</mnemosyne>\n'),
        "an XML file",
    ),
    (
        "saved.md",
        lambda p: p.write_text("\ufeff<!doctype html>\n<p>hola, hello</p>\n"),
        "a web page (HTML)",
    ),
    (
        "page.txt",
        lambda p: p.write_text("<html lang=es>\n<p>hola\thello</p>\n"),
        "a web page (HTML)",
    ),
    ("feed.xml", lambda p: p.write_text("<b>hola</b>,hello\n<i>gato</i>,cat\n"), "an XML file"),
    ("notes.csv", lambda p: p.write_text("{\\rtf1\\ansi hola,hello\\par}\n"), "an RTF document"),
    (
        "export.txt",
        lambda p: p.write_bytes("<?xml version='1.0'?>\n<deck/>\n".encode("utf-16")),
        "an XML file",
    ),
]


@pytest.mark.parametrize(("name", "make", "kind"), NOT_DECKS)
def test_a_file_that_is_not_a_deck_is_refused_in_one_line_writing_nothing(
    tmp_path: Path, database: str, name: str, make: Callable[[Path], None], kind: str
) -> None:
    path = tmp_path / name
    make(path)
    code, out, err = run("import", str(path))
    assert (code, out) == (1, "")
    assert err == f"Error: {path}: {kind}, not a deck; {READABLE}\n"
    assert not database_exists(database)


@pytest.mark.parametrize(
    ("name", "text", "cards"),
    [
        ("bold.txt", "<b>hola</b>\t<i>hello</i>\n<b>gato</b>\tcat\n", [("**hola**", "*hello*")]),
        (
            "note.md",
            '<div align="center">\n<img src="logo.png">\n</div>\n\nQ: hola?\nA: hello\n',
            [("hola?", "hello")],
        ),
    ],
)
def test_html_in_the_fields_of_a_text_file_is_no_markup_document(
    tmp_path: Path, database: str, name: str, text: str, cards: list[tuple[str, str]]
) -> None:
    code, _out, err = run("import", str(write(tmp_path, name, text)))
    assert (code, err) == (0, "")
    assert imported_cards(database)[Path(name).stem][: len(cards)] == cards


def test_the_json_case_is_refused(database: str) -> None:
    path = CASES / "not-a-deck.json"
    code, out, err = run("import", str(path))
    assert (code, out, err) == (1, "", f"Error: {path}: a JSON file, not a deck; {READABLE}\n")
    assert not database_exists(database)


@pytest.mark.parametrize(
    ("name", "text", "cards"),
    [
        (  # front matter with a nested list, then Q:/A: cards
            "python.md",
            "---\ntags:\n  - python\n---\n# Lists\nQ: What does len([]) return?\nA: 0\n",
            [("What does len([]) return?", "0")],
        ),
        (  # an Obsidian vocabulary outline
            "vocab.md",
            "- Animals\n\t- Hund::dog\n\t- Katze:: cat\n",
            [("Hund", "dog"), ("Katze", "cat")],
        ),
        (
            "colon.txt",
            "der Hund: the dog\ndie Katze: the cat\n",
            [("der Hund", "the dog"), ("die Katze", "the cat")],
        ),
        (
            "brackets.csv",
            "[1] first,one\n[2] second,two\n",
            [("\\[1\\] first", "one"), ("\\[2\\] second", "two")],
        ),
    ],
)
def test_decks_that_look_a_little_like_other_formats_import(
    tmp_path: Path, database: str, name: str, text: str, cards: list[tuple[str, str]]
) -> None:
    path = write(tmp_path, name, text)
    code, _, err = run("import", str(path))
    assert (code, err) == (0, ""), err
    assert imported_cards(database) == {path.stem: cards}


# Files without cards ---------------------------------------------------------------------------


def test_a_file_without_cards_makes_no_deck_and_says_so(database: str) -> None:
    path = CASES / "no-cards.md"
    code, out, err = run("import", str(path))
    assert (code, out, err) == (0, f"{path}: no cards found, no deck made\n", "")
    assert not database_exists(database)
    run("status")  # the database now exists: still no deck from the file
    assert imported_cards(database) == {}


@pytest.mark.parametrize(
    ("name", "text", "said"),
    [
        ("headings.md", "# Spanish\n\n## Verbs\n\n### To do\n", ""),
        (  # an Obsidian index note: front matter, then only headings of links
            "Data Formats.md",
            "---\ntags:\n  - flashcards\n---\n\n## [[IEEE754]]\n## [[Data Streams]]\n",
            "",
        ),
        ("empty.csv", "", ""),
        ("header.csv", "Front,Back\n", ""),
        ("anki.txt", "#separator:tab\n#html:false\n", ""),
        ("halves.csv", "q1,\n,a2\n", " (2 skipped: no question or answer (2))"),
    ],
)
def test_other_files_without_cards_make_no_deck(
    tmp_path: Path, database: str, name: str, text: str, said: str
) -> None:
    path = write(tmp_path, name, text)
    run("status")
    code, out, _ = run("import", str(path), "--json")
    assert code == 0
    assert json.loads(out)[0]["deck"] is None
    code, out, _ = run("import", str(path))
    assert (code, out) == (0, f"{path}: no cards found, no deck made{said}\n")
    assert imported_cards(database) == {}


# A deck column -------------------------------------------------------------------------------


def test_a_deck_column_puts_each_card_in_its_own_deck(database: str) -> None:
    path = CASES / "deck-column.txt"
    code, out, _ = run("import", str(path))
    assert code == 0
    assert out == (
        f'{path} -> decks "Sky::Planets", "Sky::Stars": 3 added, 0 updated, 0 unchanged,'
        " 0 skipped\n"
    )
    assert imported_cards(database) == {
        "Sky::Planets": [("Jupiter", "largest planet"), ("Saturn", "most visible rings")],
        "Sky::Stars": [("Sirius", "brightest star in the night sky")],
    }
    code, out, _ = run("import", str(path), "--json")
    assert json.loads(out)[0]["decks"] == ["Sky::Planets", "Sky::Stars"]
    assert json.loads(out)[0]["unchanged"] == 3


def test_a_deck_column_in_a_comma_file_with_names_and_an_empty_cell(
    tmp_path: Path, database: str
) -> None:
    path = write(
        tmp_path,
        "words.csv",
        "#separator:comma\n#deck:Languages\n#deck column:3\n"
        "hola,hello,Languages::Spanish\nbonjour,hello,Languages::French\nciao,hello,\n"
        "adiós,goodbye,Languages::Spanish\n",
    )
    code, out, _ = run("import", str(path))
    assert code == 0, out
    assert imported_cards(database) == {
        "Languages": [("ciao", "hello")],
        "Languages::French": [("bonjour", "hello")],
        "Languages::Spanish": [("hola", "hello"), ("adiós", "goodbye")],
    }


def test_deck_given_on_the_command_line_takes_every_card(database: str) -> None:
    code, out, _ = run("import", str(CASES / "deck-column.txt"), "--deck", "Astronomy")
    assert code == 0 and '-> deck "Astronomy": 3 added' in out
    assert [len(cards) for cards in imported_cards(database).values()] == [3]


# Text that looks like a tag -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cards"),
    [
        (
            "Emacs: cancel,<C-g>\nVim: quit,:q<CR>\n",
            [("Emacs: cancel", "\\<C-g\\>"), ("Vim: quit", ":q\\<CR\\>")],
        ),
        (
            "compare,a<b && b>c\ngenerics,List<String>\n",
            [
                ("compare", "a\\<b \\&\\& b\\>c"),
                ("generics", "List\\<String\\>"),
            ],
        ),
        (  # real HTML in a row does not make the angle brackets beside it tags
            "bold,<b>Ctrl</b> then <C-g>\nAT&T,a company\n",
            [("bold", "**Ctrl** then \\<C-g\\>"), ("AT\\&T", "a company")],
        ),
        (  # the file says HTML: known tags are read, unknown ones stay
            "#html:true\nkey,<kbd>C-x</kbd> <T> a<b && b>c<br>next\n",
            [("key", "C-x \\<T\\> a\\<b \\&\\& b\\>c\\\nnext")],
        ),
    ],
)
def test_text_that_merely_looks_like_a_tag_is_kept(
    tmp_path: Path, database: str, text: str, cards: list[tuple[str, str]]
) -> None:
    path = write(tmp_path, "keys.csv", text)
    code, out, _ = run("import", str(path))
    assert code == 0
    assert f"{len(cards)} added, 0 updated, 0 unchanged, 0 skipped" in out
    assert imported_cards(database) == {"keys": cards}


def test_a_native_deck_opening_with_its_first_card_is_no_json_file(
    tmp_path: Path, database: str
) -> None:
    path = write(tmp_path, "deck.toml", '[[card]]\nid = "a"\nkind = "cloze"\ntext = "{{c1::x}}"\n')
    code, _out, err = run("import", str(path))
    assert (code, err) == (0, "")
    assert imported_cards(database) == {"deck": [("\\[...\\]", "**x**")]}


# Tags columns ------------------------------------------------------------------------------------


def imported_tags(database: str) -> list[tuple[str, str, tuple[str, ...]]]:
    engine = open_database(database)
    with Session(engine) as db:
        rows = db.execute(select(Card.front, Card.back, Card.tags).order_by(Card.id)).all()
    engine.dispose()
    return [(front, back, tuple(tags)) for front, back, tags in rows if front in FRONTS]


FRONTS = {"hola", "gato", "perro"}


@pytest.mark.parametrize(
    "text",
    [
        # Anki 2.1.55+ "Notes in Plain Text" with tags
        "#separator:tab\n#html:true\n#tags column:3\nhola\thello\tlang::es greeting\n"
        "gato\tcat\t\nperro\tdog\tanimal\n",
        # the same after a spreadsheet padded the header lines with delimiters
        "#separator:comma,,\n#html:false,,\n#tags column:3,,\nhola,hello,lang::es greeting\n"
        "gato,cat,\nperro,dog,animal\n",
        # an older export: no header, the tags in the column after the fields
        "hola\thello\tlang::es greeting\ngato\tcat\t\nperro\tdog\tanimal\n",
        # Anki's historic first line of tags for every card, and a tags column by number
        "tags:es\n#tags column:1\nlang::es greeting\thola\thello\n\tgato\tcat\n"
        "animal\tperro\tdog\n",
    ],
)
def test_a_tags_column_gives_tags_never_answer_text(
    tmp_path: Path, database: str, text: str
) -> None:
    path = write(tmp_path, "spanish.txt", text)
    code, out, _ = run("import", str(path))
    assert code == 0 and "3 added" in out, out
    es = ("es",) if text.startswith("tags:") else ()
    assert imported_tags(database) == [
        ("hola", "hello", (*es, "lang::es", "greeting")),
        ("gato", "cat", es),
        ("perro", "dog", (*es, "animal")),
    ]


def test_a_third_column_of_sentences_stays_part_of_the_answer(
    tmp_path: Path, database: str
) -> None:
    path = write(tmp_path, "v.csv", "perro,dog,El perro ladra.\ngato,cat,\n")
    assert run("import", str(path))[0] == 0
    assert imported_tags(database) == [("perro", "dog\n\nEl perro ladra.", ()), ("gato", "cat", ())]


# Ragged rows and comment lines -----------------------------------------------------------------


def test_a_dry_run_warns_of_ragged_rows_and_counts_comment_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "ragged.txt",
        "#separator:tab\n#html:false\n# my notes\n#source:a book\n"
        "a\tb\n#a comment row\nc\td\te\nf\ng\th\n",
    )
    code, out, err = run("import", str(path), "--dry-run")
    assert code == 0
    assert out == (
        f'{path} -> deck "ragged": 3 added, 0 updated, 0 unchanged, 1 skipped'
        " (no question or answer (1)); 3 comment lines skipped\nDry run: nothing was written.\n"
    )
    assert err == (
        f"Warning: {path}: rows disagree on their number of fields: most have 2;"
        " line 7 has 3, line 8 has 1\n"
    )
    code, out, _ = run("import", str(path), "--dry-run", "--json")
    summary = json.loads(out)[0]
    assert (summary["comment_lines"], summary["warnings"]) == (
        3,
        ["rows disagree on their number of fields: most have 2; line 7 has 3, line 8 has 1"],
    )


def test_many_ragged_rows_are_listed_ten_at_most(tmp_path: Path) -> None:
    rows = [f"q{n},a{n}" if n % 2 else f"q{n},a{n},x" for n in range(1, 40)]
    path = write(tmp_path, "many.csv", "\n".join(rows) + "\n")
    _, out, _ = run("import", str(path), "--dry-run", "--json")
    (warning,) = json.loads(out)[0]["warnings"]
    assert warning.startswith("rows disagree on their number of fields: most have 2; line 2 has 3")
    assert warning.endswith("line 20 has 3 and 9 more")


def test_rows_that_agree_give_no_warning(tmp_path: Path) -> None:
    path = write(tmp_path, "fine.csv", "q1,a1\nq2,a2\n")
    _, out, err = run("import", str(path), "--dry-run", "--json")
    assert (json.loads(out)[0]["warnings"], json.loads(out)[0]["comment_lines"], err) == (
        [],
        0,
        "",
    )


# Cards no longer in the file, and stable ids in Markdown --------------------------------------


def test_a_reimport_says_which_cards_are_gone_and_retires_them_when_asked(
    tmp_path: Path, database: str
) -> None:
    path = write(tmp_path, "words.csv", "hola,hello\ngato,cat\nperro,dog\n")
    assert run("import", str(path))[0] == 0
    path.write_text("hola,hello\n")
    code, out, _ = run("import", str(path))
    assert (code, out) == (
        0,
        f'{path} -> deck "words": 0 added, 0 updated, 1 unchanged, 0 skipped; 2 cards no longer'
        " in the file (kept; --retire-missing retires them)\n",
    )
    assert imported_cards(database) == {
        "words": [("hola", "hello"), ("gato", "cat"), ("perro", "dog")]
    }
    code, out, _ = run("import", str(path), "--retire-missing", "--dry-run")
    assert "2 cards no longer in the file retired" in out
    assert len(imported_cards(database)["words"]) == 3
    code, out, _ = run("import", str(path), "--retire-missing", "--json")
    assert (json.loads(out)[0]["retired"], json.loads(out)[0]["missing"]) == (2, 0)
    assert imported_cards(database) == {"words": [("hola", "hello")]}
    path.write_text("hola,hello\ngato,cat\n")
    code, out, _ = run("import", str(path))
    assert "1 updated, 1 unchanged" in out  # a card back in the file is active again
    assert imported_cards(database) == {"words": [("hola", "hello"), ("gato", "cat")]}


def test_a_markdown_card_with_its_own_id_keeps_it_through_an_edited_question(
    tmp_path: Path, database: str
) -> None:
    path = write(
        tmp_path,
        "notes.md",
        "Q: What is 2 + 2? <!-- id: sum -->\nA: 4\n\nhund::dog <!--id:hund-->\n\n"
        "C: The capital of [France] is [Paris].\n<!-- id: capital -->\n",
    )
    assert run("import", str(path))[0] == 0
    engine = open_database(database)
    with Session(engine) as db:
        before = dict(db.execute(select(Card.key, Card.id)).all())
    path.write_text(
        "Q: What is two plus two? <!-- id: sum -->\nA: four\n\n"
        "der Hund::the dog <!--id:hund-->\n\n"
        "C: The capital of [France] is [Paris], on the Seine.\n<!-- id: capital -->\n"
    )
    code, out, _ = run("import", str(path))
    assert code == 0 and "0 added, 4 updated, 0 unchanged" in out and "no longer" not in out
    with Session(engine) as db:
        after = dict(db.execute(select(Card.key, Card.id)).all())
        fronts = db.scalars(select(Card.front).where(Card.key.in_(["sum", "hund"]))).all()
    engine.dispose()
    assert {key: before[key] for key in ("sum", "hund", "capital#c1", "capital#c2")} == {
        key: after[key] for key in ("sum", "hund", "capital#c1", "capital#c2")
    }
    assert sorted(fronts) == ["What is two plus two?", "der Hund"]
