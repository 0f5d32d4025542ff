"""One cloze engine for every source: reading, rendering, errors and properties."""

from __future__ import annotations

import re
from pathlib import Path

import genanki
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trainer.content.cloze import (
    MARKDOWN,
    MAX_DEPTH,
    ClozeError,
    Deletion,
    Node,
    cloze_answers,
    cloze_numbers,
    markdown_code,
    parse_cloze,
    plain_text,
    render_cloze,
)
from trainer.content.parser import parse_deck
from trainer.errors import DeckError, Problem
from trainer.importers.anki import read_anki
from trainer.importers.delimited import read_delimited
from trainer.importers.markdown import read_markdown

UNCLOSED = "cloze deletion '{{c1::' is never closed with '}}'"


def _cards(text: str) -> dict[int, tuple[str, str]]:
    nodes = parse_cloze(text, code=markdown_code(text))
    return {n: render_cloze(nodes, n, MARKDOWN) for n in cloze_numbers(nodes)}


def test_a_brace_closed_inside_a_deletion_does_not_end_it() -> None:
    assert _cards('Load {{c1::{"a": {"b": 1}}}} now') == {
        1: ("Load \\[...\\] now", 'Load **{"a": {"b": 1}}** now')
    }
    assert _cards("{{c1::{{ name }}}} prints a variable") == {
        1: ("\\[...\\] prints a variable", "**{{ name }}** prints a variable")
    }
    assert _cards("{{c1::f'{x}'::f-string}}")[1] == ("\\[f-string\\]", "**f'{x}'**")
    # a '::' inside such braces is text, not the start of a hint
    assert _cards("{{c1::{a::b}}}")[1] == ("\\[...\\]", "**{a::b}**")


def test_anki_rules_end_a_deletion_at_the_first_closing_braces() -> None:
    nodes = parse_cloze("{{c1::{a}}}", braces=False)
    assert nodes == (Deletion(frozenset({1}), ("{a",), None), "}")


def test_nested_deletions_several_numbers_and_hints() -> None:
    assert _cards("{{c1::a {{c2::b}} c}} and {{c3,1::d::hint}}") == {
        1: ("\\[...\\] and \\[hint\\]", "**a b c** and **d**"),
        2: ("a \\[...\\] c and d", "a **b** c and d"),
        3: ("a b c and \\[hint\\]", "a b c and **d**"),
    }


def test_a_stray_closing_is_text_and_c0_gives_no_card() -> None:
    assert parse_cloze("a }} b") == ("a }} b",)
    assert _cards("{{c0::x}} {{c2::y}}") == {2: ("x \\[...\\]", "x **y**")}


def test_a_deletion_in_code_is_plain_there_and_leads_the_answer() -> None:
    assert _cards("`Cache-Control: {{c1::no-store}}` and {{c1::never}}") == {
        1: (
            "`Cache-Control: [...]` and \\[...\\]",
            "**`no-store`** · **never**\n\n`Cache-Control: no-store` and **never**",
        )
    }
    assert _cards("{{c1::`` a`b ``}}")[1] == ("\\[...\\]", "**`` a`b ``**")
    assert _cards("```\nx = {{c1::1}}\n```")[1] == (
        "```\nx = [...]\n```",
        "**`1`**\n\n```\nx = 1\n```",
    )
    assert cloze_answers(parse_cloze("`{{c1::a}}` {{c1::b}}"), 1) == ["a", "b"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{c1::never closed", "cloze deletion '{{c1::' is never closed with '}}'"),
        ("x {{c2::a {{c3::b}}", "cloze deletion '{{c2::' is never closed with '}}'"),
        (
            "{{c1::a { b}}",
            "cloze deletion '{{c1::' is never closed with '}}' "
            "(inside a deletion, each '{' needs its own '}' before the closing '}}')",
        ),
        (
            "{{c1::a {",
            "cloze deletion '{{c1::' is never closed with '}}' "
            "(inside a deletion, each '{' needs its own '}' before the closing '}}')",
        ),
        ("{{c1::" * (MAX_DEPTH + 1), f"cloze deletions nested more than {MAX_DEPTH} deep"),
    ],
)
def test_unclosed_or_too_deep_deletions_are_errors(text: str, message: str) -> None:
    with pytest.raises(ClozeError) as caught:
        parse_cloze(text)
    assert caught.value.message == message


def test_the_native_format_names_the_line_of_an_unclosed_deletion() -> None:
    deck = (
        '[[card]]\nid = "a"\nkind = "cloze"\ntext = """\nfirst line\n'
        'second {{c1::x {{c2::y}}\n"""\n\n'
        '[[card]]\nid = "b"\nkind = "cloze"\ntext = "{{c1::x"\n'
    )
    with pytest.raises(DeckError) as caught:
        parse_deck(deck, "d.toml")
    assert list(caught.value.problems) == [
        Problem("d.toml", 6, UNCLOSED),
        Problem("d.toml", 12, UNCLOSED),
    ]


def test_markdown_and_csv_name_the_line_of_an_unclosed_deletion() -> None:
    with pytest.raises(DeckError) as caught:
        read_markdown(b"# Notes\n\nC: first line\nthen {{c1::open\n", "n.md")
    assert list(caught.value.problems) == [Problem("n.md", 4, UNCLOSED)]
    data = "#separator:tab\n#notetype:Cloze\n{{c1::b\ty\n"
    with pytest.raises(DeckError) as caught:
        read_delimited(data.encode(), "d.txt")
    assert list(caught.value.problems) == [Problem("d.txt", 3, UNCLOSED)]
    # beside good rows, the row is left out with a warning on its line
    data = "#separator:tab\n#notetype:Cloze\n{{c1::a}}\tx\n{{c1::b\ty\n"
    deck = read_delimited(data.encode(), "d.txt")
    assert [card.front for card in deck.cards] == ["\\[...\\]"]
    assert deck.warnings == (f"line 4: {UNCLOSED}; not imported",)


def test_an_anki_note_with_an_unclosed_deletion_is_named_by_its_id(tmp_path: Path) -> None:
    deck = genanki.Deck(2_059_400_111, "Cloze")
    deck.add_note(genanki.Note(model=genanki.CLOZE_MODEL, fields=["{{c1::a}} {{c2::open", ""]))
    path = tmp_path / "cloze.apkg"
    genanki.Package(deck).write_to_file(str(path))
    with pytest.raises(DeckError) as caught:
        read_anki(path, "cloze.apkg")
    assert re.fullmatch(
        r"cloze.apkg: note \d+: cloze deletion '\{\{c2::' is never closed with '\}\}'",
        str(caught.value),
    )


def test_the_same_cloze_looks_the_same_from_every_source() -> None:
    text = "The {{c1::GIL}} lets {{c2::one::how many}} thread run {{c1::bytecode}}."
    native = parse_deck(f'[[card]]\nid = "g"\nkind = "cloze"\ntext = "{text}"\n', "d.toml")
    markdown = read_markdown(f"C: {text}\n".encode(), "n.md")
    csv = read_delimited(f"#separator:tab\n#notetype:Cloze\n{text}\t\n".encode(), "d.txt")
    expected = [
        (
            "The \\[...\\] lets one thread run \\[...\\].",
            "The **GIL** lets one thread run **bytecode**.",
        ),
        (
            "The GIL lets \\[how many\\] thread run bytecode.",
            "The GIL lets **one** thread run bytecode.",
        ),
    ]
    for deck in (native, markdown, csv):
        assert [(c.front, c.back) for c in deck.cards] == expected


# Properties ---------------------------------------------------------------------------------

WORDS = st.text(alphabet="ab xy.\n", min_size=1, max_size=6)


def _trees(depth: int) -> st.SearchStrategy[list[Node]]:
    deletion = st.builds(
        lambda numbers, content, hint: Deletion(frozenset(numbers), tuple(content), hint),
        st.sets(st.integers(1, 4), min_size=1, max_size=2),
        _trees(depth - 1) if depth else st.lists(WORDS, min_size=1, max_size=1),
        st.none() | WORDS,
    )
    # text and deletions alternate, as the reader gives them (no two texts side by side)
    pairs = st.lists(st.tuples(st.none() | WORDS, deletion), max_size=3)
    return st.builds(
        lambda pairs, tail: [n for pair in pairs for n in pair if n is not None] + tail,
        pairs,
        st.lists(WORDS, max_size=1),
    )


def _write(nodes: tuple[Node, ...] | list[Node]) -> str:
    parts = []
    for node in nodes:
        if isinstance(node, str):
            parts.append(node)
        else:
            numbers = ",".join(str(n) for n in sorted(node.numbers))
            hint = "" if node.hint is None else f"::{node.hint}"
            parts.append(f"{{{{c{numbers}::{_write(node.content)}{hint}}}}}")
    return "".join(parts)


def _numbers(nodes: tuple[Node, ...] | list[Node]) -> set[int]:
    found: set[int] = set()
    for node in nodes:
        if isinstance(node, Deletion):
            found |= node.numbers | _numbers(node.content)
    return found


@given(_trees(2))
def test_written_deletions_read_back_as_written(tree: list[Node]) -> None:
    assert parse_cloze(_write(tree)) == tuple(tree)
    assert parse_cloze(_write(tree), braces=False) == tuple(tree)


@given(_trees(2))
def test_rendering_never_loses_text_outside_deletions(tree: list[Node]) -> None:
    nodes = parse_cloze(_write(tree))
    outside = [node for node in nodes if isinstance(node, str)]
    for number in cloze_numbers(nodes):
        question, answer = render_cloze(nodes, number, MARKDOWN)
        for side in (question, answer):
            position = 0
            for text in outside:
                position = side.index(text, position) + len(text)
        assert answer.replace("**", "") == plain_text(nodes)


@given(_trees(2))
def test_every_cloze_number_gives_one_card(tree: list[Node]) -> None:
    text = _write(tree).replace("\n", " ")
    deck = f'[[card]]\nid = "n"\nkind = "cloze"\ntext = """{text} {{{{c9::end}}}}"""\n'
    keys = [card.key for card in parse_deck(deck, "d.toml").cards]
    assert keys == [f"n#c{n}" for n in sorted(_numbers(tree) | {9})]


BALANCED = st.recursive(
    st.text(alphabet='ab "1:,', max_size=4),
    lambda inner: st.lists(inner, max_size=3).map(lambda parts: "{" + "".join(parts) + "}"),
    max_leaves=8,
)


@given(st.lists(BALANCED, max_size=3).map(lambda parts: "{" + "".join(parts) + "}"))
def test_any_balanced_braces_are_hidden_whole(hidden: str) -> None:
    assert parse_cloze(f"x {{{{c1::{hidden}}}}} y") == (
        "x ",
        Deletion(frozenset({1}), (hidden,), None),
        " y",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "{{c1::`std::vector`::container}} holds",
            [("\\[container\\] holds", "**`std::vector`** holds")],
        ),
        ("{{c1::`{`}} opens", [("\\[...\\] opens", "**`{`** opens")]),
        ("{{c1::`a}}`}} x", [("\\[...\\] x", "**`a}}`** x")]),
        ("{{c1::a `{{c2::b}}`}}", [("\\[...\\]", "**a `{{c2::b}}`**")]),
        (
            "{{c1::a {{c2::b}} c}}",
            [("\\[...\\]", "**a b c**"), ("a \\[...\\] c", "a **b** c")],
        ),
    ],
)
def test_code_in_a_deletion_and_nesting_read_alike_in_native_and_markdown(
    text: str, expected: list[tuple[str, str]]
) -> None:
    toml_text = text.replace("\\", "\\\\").replace('"', '\\"')
    native = parse_deck(f'[[card]]\nid = "n"\nkind = "cloze"\ntext = "{toml_text}"\n', "d.toml")
    markdown = read_markdown(f"C: {text}\n".encode(), "n.md")
    assert [(c.front, c.back) for c in native.cards] == expected
    assert [(c.front, c.back) for c in markdown.cards] == expected
