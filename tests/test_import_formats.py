"""Reading decks from text formats: CSV/TSV (Anki text exports too), Markdown, native TOML."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from trainer.content.parser import CardSpec
from trainer.errors import DeckError, Problem
from trainer.importers.delimited import read_delimited
from trainer.importers.detect import detect_format, read_file
from trainer.importers.imported import front_key
from trainer.importers.markdown import read_markdown
from trainer.importers.native import read_native

FIXTURES = Path(__file__).parent / "fixtures"

#: "Notes in Plain Text" as Anki 26.9 exports them (HTML, GUID, note type, deck and tags).
ANKI_NOTES_EXPORT = (
    "#separator:tab\n#html:true\n#guid column:1\n#notetype column:2\n#deck column:3\n"
    "#tags column:6\n"
    "d6tw!p?fa.\tBasic\tPython::Basics\tWhat does <code>len([])</code> return?\t"
    "<b>0</b>\tpy::basics\n"
    "7-`j+c3qp\tBasic (and reversed card)\tPython::Basics\tlist\t"
    '"a mutable sequence <img src=""list.png"">"\tpy::basics\n'
    "J!Q!ZQh3AF\tBasic (type in the answer)\tPython::Basics\tKeyword for a function?\tdef\t\n"
    '"d%x1y}#H*Z"\tCloze\tPython::Basics\t{{c1::len}} gives the {{c2::length::what}}\t'
    "see &amp; more\tpy::basics\n"
)


def _cards(data: bytes | str, name: str = "deck.csv") -> list[tuple[str, str, str, str]]:
    raw = data.encode() if isinstance(data, str) else data
    return [(c.key, c.kind, c.front, c.back) for c in read_delimited(raw, name).cards]


def test_an_anki_notes_export_gives_each_note_type_its_cards() -> None:
    deck = read_delimited(ANKI_NOTES_EXPORT.encode(), "notes.txt")
    assert deck.name == "Python::Basics" and deck.skipped == 0
    assert [(c.key, c.kind, c.front, c.back, c.accepted, c.tags, c.line) for c in deck.cards] == [
        ("d6tw!p?fa.", "basic", "What does `len([])` return?", "**0**", (), ("py::basics",), 7),
        (
            "7-`j+c3qp",
            "basic",
            "list",
            "a mutable sequence \\[image: list.png\\]",
            (),
            ("py::basics",),
            8,
        ),
        (
            "7-`j+c3qp#2",
            "basic",
            "a mutable sequence \\[image: list.png\\]",
            "list",
            (),
            ("py::basics",),
            8,
        ),
        ("J!Q!ZQh3AF", "typed", "Keyword for a function?", "**def**", ("def",), (), 9),
        (
            "d%x1y}#H*Z#c1",
            "cloze",
            "\\[...\\] gives the length",
            "**len** gives the length\n\nsee \\& more",
            (),
            ("py::basics",),
            10,
        ),
        (
            "d%x1y}#H*Z#c2",
            "cloze",
            "len gives the \\[what\\]",
            "len gives the **length**\n\nsee \\& more",
            (),
            ("py::basics",),
            10,
        ),
    ]


def test_quoted_fields_keep_newlines_delimiters_and_quotes_with_a_bom_and_crlf() -> None:
    data = '\ufeffQuestion,Answer\r\n"two\r\nlines, q","say ""hi"""\r\nq2,a2\r\n,\r\n'
    assert _cards(data) == [
        (front_key("two\\\nlines, q"), "basic", "two\\\nlines, q", 'say "hi"'),
        (front_key("q2"), "basic", "q2", "a2"),
    ]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-8-sig"])
def test_unicode_text_from_a_spreadsheet_reads_as_utf_8_does(encoding: str) -> None:
    data = "hola\thello\nadiós\tgoodbye\n"
    if encoding == "utf-16-be":
        encoded = b"\xfe\xff" + data.encode(encoding)  # a big-endian byte-order mark
    else:
        encoded = data.encode(encoding)
    deck = read_delimited(encoded, "x.txt")
    assert [(c.front, c.back) for c in deck.cards] == [("hola", "hello"), ("adiós", "goodbye")]


@pytest.mark.parametrize(
    ("data", "delimiter"),
    [
        ("a;b, c\nd;e, f\n", ";"),
        ("a,b c\nd,e f\n", ","),
        ("a\tb, c; d\ne\tf\n", "\t"),
        ("a|b\nc|d\n", "|"),
    ],
)
def test_the_delimiter_is_the_one_that_splits_every_row_alike(data: str, delimiter: str) -> None:
    fronts = [front for _key, _kind, front, _back in _cards(data)]
    assert fronts == [data.split(delimiter)[0], data.split("\n")[1].split(delimiter)[0]]


def _written(rows: list[list[str]], delimiter: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


#: Multi-line HTML fields whose lines hold colons, semicolons, pipes or commas, as a spreadsheet
#: or Python's csv module quotes them.
RICH_ROWS = [
    [
        "Risk? <h3>Risk factor of diastasis:</h3>\n<p>\n",
        '<h3>Risk factor:</h3>\n<p>\n  One, <span style="color: red;">pregnancy</span>\n</p>',
        "Hernia",
    ],
    ["Second: question", "a|b: c; d", "Hernia"],
    ["<h4>\n  Pathogenesis:\n</h4>\n<p>\n", "<p>\n  Weak: linea alba;\n  key: a|b\n</p>", "x"],
]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_separators_inside_quoted_multi_line_fields_do_not_pick_the_delimiter(
    delimiter: str,
) -> None:
    deck = read_delimited(_written(RICH_ROWS, delimiter).encode(), "x.csv")
    assert (deck.skipped, deck.warnings) == (0, ())
    assert [(c.front, c.back, c.tags) for c in deck.cards] == [
        (
            "Risk?\\\n**Risk factor of diastasis:**",
            "**Risk factor:**\n\nOne, pregnancy",
            ("hernia",),
        ),
        ("Second: question", "a\\|b: c; d", ("hernia",)),
        ("**Pathogenesis:**", "Weak: linea alba; key: a\\|b", ("x",)),
    ]


def test_lone_carriage_returns_end_the_records_the_delimiter_is_guessed_from() -> None:
    assert [(c.front, c.back) for c in read_delimited(b"a,b\rc,d;e\r", "x.csv").cards] == [
        ("a", "b"),
        ("c", "d;e"),
    ]


def test_html_is_read_only_where_a_field_holds_some_unless_the_header_says() -> None:
    assert _cards("2 < 3,<b>yes</b>\n")[0][2:] == ("2 \\< 3", "**yes**")
    assert _cards("#html:false\n2 < 3,<b>yes</b>\n")[0][2:] == ("2 \\< 3", "\\<b\\>yes\\</b\\>")


def test_named_columns_pick_question_answer_and_tags() -> None:
    data = "#separator:Comma\n#columns:Tags,Answer,Question,Notes\nt1 t2,A,Q,more\n"
    deck = read_delimited(data.encode(), "x.csv")
    assert [(c.front, c.back, c.tags) for c in deck.cards] == [("Q", "A\n\nmore", ("t1", "t2"))]


def test_a_header_row_under_anki_headers_names_the_columns_and_is_no_card() -> None:
    data = (
        "#separator:Comma\n#html:true\n#deck column:1\n#notetype column:2\n#tags column:3\n"
        "Deck,Type,Tags,Front,Back\nJava,Basic,jvm,What is the JVM?,The Java virtual machine\n"
    )
    deck = read_delimited(data.encode(), "x.csv")
    assert deck.name == "Java"
    assert [(c.front, c.back, c.tags, c.line) for c in deck.cards] == [
        ("What is the JVM?", "The Java virtual machine", ("jvm",), 7)
    ]


def test_rows_without_a_side_and_repeats_are_skipped_and_counted() -> None:
    deck = read_delimited(b"q1,a1\nq2,\n,a3\nq1,a1\n\nq4,a4\n", "x.csv")
    assert [c.front for c in deck.cards] == ["q1", "q4"]
    assert deck.skipped == 3
    assert deck.skip_reasons == ("no question or answer (2)", "same card twice (1)")


@pytest.mark.parametrize(
    ("data", "line", "message"),
    [
        (b"#separator:Dash\na-b\n", 1, "unknown #separator 'Dash'"),
        (b"#html:yes\n#tags column:0\nq,a\n", 1, "#html must be true or false, not 'yes'"),
        (b"#tags column:0\nq,a\n", 1, "#tags column must be a column number from 1, not '0'"),
        (b"q,a\nq2,\xff\n", 2, "not UTF-8 text (byte 7); save the file as UTF-8"),
        (b"q,a\nq\x00,a\n", 2, "a NUL character: this is a binary file, not text"),
        (
            "q,a\nq2,".encode("utf-16") + b"\x00\xd8" + ",a\n".encode("utf-16-le"),
            2,
            "not UTF-16 text (byte 16); save the file as UTF-8",
        ),
    ],
)
def test_a_bad_file_names_the_line_and_what_to_fix(data: bytes, line: int, message: str) -> None:
    with pytest.raises(DeckError) as caught:
        read_delimited(data, "x.csv")
    problem = caught.value.problems[0]
    assert (problem.path, problem.line, problem.where) == ("x.csv", line, None)
    assert problem.message.startswith(message)


MARKDOWN = """---
tags: [python]
---
# Python notes

Prose about `std::vector` and lists is ignored.

Q: What does `len([])` return?
A: `0`

Q: A question
on two lines?
A: First line
second line

   indented, still the answer

Not part of any card.

C: The capital of [France] is [Paris], see [docs](https://example.org).

## Obsidian
What is a list::An ordered, mutable sequence
Reversible:::Both ways <!--SR:!2024-01-01,3,250-->

What are the SOLID principles?
?
Single responsibility
Open/closed

The ==GIL== lets one thread run ==bytecode== at a time.

```python
d = {"a::b": 1}  # code is never a card
```
"""


def test_markdown_cards_are_found_inside_ordinary_notes() -> None:
    deck = read_markdown(MARKDOWN.encode(), "notes.md")
    capital = front_key(
        "The capital of {{c1::France}} is {{c2::Paris}}, see [docs](https://example.org)."
    )
    gil = front_key("The {{c1::GIL}} lets one thread run {{c2::bytecode}} at a time.")
    assert [(c.key, c.kind, c.front, c.back, c.line) for c in deck.cards] == [
        (
            front_key("What does `len([])` return?"),
            "basic",
            "What does `len([])` return?",
            "`0`",
            8,
        ),
        (
            front_key("A question\\\non two lines?"),
            "basic",
            "A question\\\non two lines?",
            "First line\\\nsecond line\n\n   indented, still the answer",
            11,
        ),
        (
            f"{capital}#c1",
            "cloze",
            "The capital of \\[...\\] is Paris, see [docs](https://example.org).",
            "The capital of **France** is Paris, see [docs](https://example.org).",
            20,
        ),
        (
            f"{capital}#c2",
            "cloze",
            "The capital of France is \\[...\\], see [docs](https://example.org).",
            "The capital of France is **Paris**, see [docs](https://example.org).",
            20,
        ),
        (
            front_key("What is a list"),
            "basic",
            "What is a list",
            "An ordered, mutable sequence",
            23,
        ),
        (front_key("Reversible"), "basic", "Reversible", "Both ways", 24),
        (f"{front_key('Reversible')}#2", "basic", "Both ways", "Reversible", 24),
        (
            front_key("What are the SOLID principles?"),
            "basic",
            "What are the SOLID principles?",
            "Single responsibility\\\nOpen/closed",
            26,
        ),
        (
            f"{gil}#c1",
            "cloze",
            "The \\[...\\] lets one thread run bytecode at a time.",
            "The **GIL** lets one thread run bytecode at a time.",
            31,
        ),
        (
            f"{gil}#c2",
            "cloze",
            "The GIL lets one thread run \\[...\\] at a time.",
            "The GIL lets one thread run **bytecode** at a time.",
            31,
        ),
    ]


def test_markdown_problems_name_their_lines() -> None:
    with pytest.raises(DeckError) as caught:
        read_markdown(b"Q: dangling\n\n# Heading\nQ:\nA: x\n", "n.md")
    assert list(caught.value.problems) == [
        Problem("n.md", 1, "'Q:' without an 'A:' line for its answer"),
        Problem("n.md", 4, "card with an empty question"),
    ]


def test_real_obsidian_notes_give_their_cards_and_nothing_from_the_prose() -> None:
    """Notes from the Obsidian Spaced Repetition plugin's own documentation vault."""
    folder = FIXTURES / "obsidian"
    lsi = read_markdown((folder / "DynamoDB LSI and GSI.md").read_bytes(), "lsi.md")
    assert [(c.front, c.back) for c in lsi.cards] == [
        (
            "What are 3 limitations of DynamoDB LSIs",
            "(1) must have the same partition key as the table itself\\\n"
            "(2) a maximum of five LSIs per table\\\n"
            "(3) the LSIs must be specified at the time that the table is created, can't be"
            " changed afterwards",
        ),
        (
            "What is DynamoDB attribute projection",
            "Attributes that are actually stored within the LSI",
        ),
        (
            "Which is more flexible - DynamoDB LSIs or GSIs and give 2 reasons",
            "GSIs are more flexible -\\\n"
            "(1) they can be created at any time, not just when the table is created\\\n"
            "(2) they can have a different partition key than the base table",
        ),
    ]
    units = read_markdown((folder / "DynamoDB Capacity Units (RCU-WCU).md").read_bytes(), "u.md")
    assert [c.line for c in units.cards] == [60, 63, 69, 72, 78]
    assert units.cards[0].back == "4KB/1KB"
    assert all("<!--" not in c.back for c in units.cards)


def test_a_native_deck_brings_its_name_and_topic() -> None:
    data = (
        b'topic = "data-structures"\nname = "Mine"\n\n[[card]]\nid = "a"\nfront = "Q"\nback = "A"\n'
    )
    deck = read_native(data, "d.toml")
    assert (deck.topic, deck.name, deck.cards) == (
        "data-structures",
        "Mine",
        (CardSpec("a", "basic", "Q", "A", line=4),),
    )


@pytest.mark.parametrize(
    ("name", "head", "expected"),
    [
        ("deck.apkg", b"PK\x03\x04....", "apkg"),
        ("renamed.txt", b"PK\x03\x04....", "apkg"),
        ("deck.toml", b"", "native"),
        ("deck.tsv", b"", "tsv"),
        ("notes.md", b"", "markdown"),
        ("export.txt", b"#separator:tab\n#html:true\nq::x\ta\n", "csv"),
        ("cards", b'[[card]]\nid = "a"\n', "native"),
        ("notes.txt", b"Some prose.\n\nQ: What?\nA: That.\n", "markdown"),
        ("sheet.txt", b"q,a\n", "csv"),
    ],
)
def test_the_format_is_detected_from_content_and_extension(
    name: str, head: bytes, expected: str
) -> None:
    assert detect_format(Path(name), head) == expected


def test_read_file_uses_the_forced_format(tmp_path: Path) -> None:
    path = tmp_path / "deck.txt"
    path.write_text("What?::That, and more\n")
    assert [(c.front, c.back) for c in read_file(path).cards] == [("What?", "That, and more")]
    assert [(c.front, c.back) for c in read_file(path, "csv").cards] == [
        ("What?::That", "and more")
    ]
    assert read_file(path, "tsv").skip_reasons == ("no question or answer (1)",)


@pytest.mark.parametrize(
    ("file_format", "header", "cards"),
    [
        ("csv", "", [("a;b", "c"), ("d;e", "f")]),
        ("csv", "#separator:semicolon\n", [("a", "b,c"), ("d", "e,f")]),
        ("auto", "", [("a", "b,c"), ("d", "e,f")]),
        ("tsv", "", []),
    ],
)
def test_format_csv_means_comma_unless_the_file_names_its_separator(
    tmp_path: Path, file_format: str, header: str, cards: list[tuple[str, str]]
) -> None:
    path = tmp_path / "deck.csv"
    path.write_text(f"{header}a;b,c\nd;e,f\n")
    assert [(c.front, c.back) for c in read_file(path, file_format).cards] == cards


def test_a_file_that_cannot_be_read_or_is_too_big_is_one_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trainer.importers import detect

    big = tmp_path / "big.csv"
    big.write_text("q,a\n" * 5)
    monkeypatch.setattr(detect, "MAX_TEXT_BYTES", 19)
    with pytest.raises(DeckError) as caught:
        read_file(big)
    assert caught.value.problems == (
        Problem(str(big), None, "20 bytes, more than a text deck's 19"),
    )
    monkeypatch.setattr(detect, "MAX_TEXT_BYTES", 20)
    assert len(read_file(big).cards) == 1
    with pytest.raises(DeckError) as caught:
        read_file(tmp_path)
    assert caught.value.problems == (Problem(str(tmp_path), None, "cannot read (Is a directory)"),)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"# Spanish\n\nhola::hello\n", "markdown"),
        (b"#deck:Spanish\nhola\thello\tlang::es\n", "csv"),
        (b"tags:es\nhola,hello\n", "csv"),
        (b"hola\thello\tlang::es\ngato\tcat\t\n", "csv"),
        (b"- Animals\n\t- Hund::dog\n", "markdown"),
    ],
)
def test_anki_tags_with_colons_do_not_make_a_text_export_markdown(
    head: bytes, expected: str
) -> None:
    assert detect_format(Path("notes.txt"), head) == expected


def test_anki_stock_note_types_keep_to_their_fields() -> None:
    """Anki's "Basic (optional reversed card)" makes the reverse card only when Add Reverse
    (its third field) is not empty and never shows that field; columns beyond a stock note
    type's fields are left out, as Anki's text import leaves them out."""
    data = (
        "#separator:tab\n#html:true\n#notetype column:1\n#deck column:2\n#tags column:6\n"
        "Basic (optional reversed card)\tVocab\tperro\tdog\t\tanimals\n"
        "Basic (optional reversed card)\tVocab\tgato\tcat\ty\tanimals\n"
        "Basic (optional reversed card)\tVocab\tpez\tfish\t<div><br></div>\tanimals\n"
        "Basic (and reversed card)\tVocab\tcasa\thouse\tnote\thome\n"
        "Basic (type in the answer)\tVocab\tagua\twater\tnote\t\n"
        "Basic\tVocab\tsol\tsun\tnote\t\n"
    )
    assert [(c.kind, c.front, c.back) for c in read_delimited(data.encode(), "v.txt").cards] == [
        ("basic", "perro", "dog"),
        ("basic", "gato", "cat"),
        ("basic", "cat", "gato"),
        ("basic", "pez", "fish"),
        ("basic", "casa", "house"),
        ("basic", "house", "casa"),
        ("typed", "agua", "**water**"),
        ("basic", "sol", "sun"),
    ]


def test_an_optional_reverse_without_its_column_makes_no_reverse() -> None:
    data = "#separator:tab\n#notetype:Basic (optional reversed card)\nperro\tdog\n"
    assert _cards(data) == [(front_key("perro"), "basic", "perro", "dog")]
