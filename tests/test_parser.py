"""The roadmap and deck parsers: what they read, and the exact errors for what they refuse."""

from __future__ import annotations

import contextlib
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trainer.content.parser import CoveragePoint, parse_deck, parse_roadmap
from trainer.errors import DeckError, Problem
from trainer.store.lookup import card_tag, slugify
from trainer.store.resources import DECKS_DIR


def test_the_shipped_roadmap_has_11_sections_and_57_topics_in_order() -> None:
    sections = parse_roadmap((DECKS_DIR / "roadmap.md").read_text(), "roadmap.md")
    assert len(sections) == 11
    assert sum(len(s.topics) for s in sections) == 57
    assert sections[0].title == "Basic Computer Science Concepts"
    assert sections[-1].title == "Soft Skills and Best Practices"
    first = sections[0].topics[0]
    assert (first.slug, first.title) == ("data-structures", "Data Structures")
    assert first.subtopics == (
        "Arrays",
        "Linked Lists",
        "Trees",
        "Graphs",
        "Stacks",
        "Queues",
        "Hash Tables",
    )
    ci = sections[9].topics[1]
    assert (ci.slug, ci.title) == (
        "continuous-integration-ci-tools",
        "Continuous Integration (CI) Tools",
    )
    assert ci.subtopics == ("GitHub Actions", "GitLab CI/CD", "CircleCI")
    assert [t.title for t in sections[10].topics][-1] == "Documentation"


def test_roadmap_errors_name_the_line() -> None:
    text = "- [ ] Early\n## A\n- [ ] One\n- oops\n- [ ] one\n## Empty\n"
    with pytest.raises(DeckError) as caught:
        parse_roadmap(text, "r.md")
    assert list(caught.value.problems) == [
        Problem("r.md", 1, "topic before the first '## Section' heading"),
        Problem("r.md", 4, "a topic line reads '- [ ] Title (subtopics)'"),
        Problem("r.md", 5, "topic 'one' already on line 3"),
        Problem("r.md", None, "section 'Empty' has no topics"),
    ]


def test_slugify() -> None:
    assert slugify("File I/O") == "file-i-o"
    assert slugify("QuerySet Optimization") == "queryset-optimization"


DECK = '''
topic = "decorators"

[[card]]
id = "wraps"
tags = ["basics"]
docs = "https://docs.python.org/3/library/functools.html#functools.wraps"
front = "Why use `functools.wraps`?"
back = """
It copies the wrapped function's name and docstring.
"""

[[card]]
id = "gil"
kind = "cloze"
text = "The {{c1::GIL}} lets one thread run {{c2::bytecode::what?}} at a time."

[[card]]
id = "print-it"
kind = "output"
code = """
print(1 + 1)
"""
output = "2"

[[card]]
id = "status"
kind = "typed"
front = "Status code for Created?"
answer = "201"
accept = ["201 Created"]

[[card]]
id = "pick"
kind = "choice"
front = "Which is mutable?"
choices = ["tuple", "list"]
answer = "list"
back = "Lists can change in place."
'''


def test_every_kind_of_card() -> None:
    deck = parse_deck(DECK, "d.toml")
    assert deck.topic == "decorators"
    assert [c.key for c in deck.cards] == [
        "wraps",
        "gil#c1",
        "print-it",
        "status",
        "pick",
        "gil#c2",  # a note's later cloze cards go last, away from their sibling
    ]
    wraps, c1, output, typed, choice, c2 = deck.cards
    assert wraps.back == "It copies the wrapped function's name and docstring."
    assert wraps.tags == ("basics",) and wraps.line == 4
    assert c1.front == "The \\[...\\] lets one thread run bytecode at a time."
    assert c1.back == "The **GIL** lets one thread run bytecode at a time."
    assert c2.front == "The GIL lets one thread run \\[what?\\] at a time."
    assert output.front == "What does this code print?\n\n```python\nprint(1 + 1)\n```"
    assert output.back == "```text\n2\n```"
    assert (output.code, output.output) == ("print(1 + 1)\n", "2")
    assert typed.accepted == ("201", "201 Created")
    assert typed.back == "**201**"
    assert choice.front == "Which is mutable?\n\n- a) tuple\n- b) list"
    assert choice.back == "**b) list**\n\nLists can change in place."
    assert choice.accepted == ("b",)


def test_all_problems_of_a_file_with_their_lines() -> None:
    text = """topic = "x"
colour = "red"

[[card]]
id = "a"
front = "Q"
bakc = "typo"

[[card]]
id = "a"
front = "Q2"
back = "A2"

[[card]]
id = "Bad Id"
kind = "cloze"
text = "no deletion here"

[[card]]
id = "c"
kind = "choice"
front = "Pick"
choices = ["x", "y"]
answer = "z"
"""
    with pytest.raises(DeckError) as caught:
        parse_deck(text, "d.toml")
    assert list(caught.value.problems) == [
        Problem("d.toml", 2, "unknown key 'colour'"),
        Problem("d.toml", 4, "basic card needs 'back'"),
        Problem("d.toml", 7, "unknown key 'bakc' for a basic card"),
        Problem("d.toml", 10, "duplicate id 'a' (first on line 4)"),
        Problem("d.toml", 15, "card needs an 'id' of lower-case letters, digits and '-'"),
        Problem("d.toml", 24, "'answer' must be one of 'choices', exactly"),
    ]


def test_a_deck_files_tags_are_tags_as_imports_keep_them_and_built_in_ones_slugs() -> None:
    card = '[[card]]\nid = "a"\nfront = "Q"\nback = "A"\ndocs = "https://x"\ntags = [{}]\n'
    kept = '"数学::极限", "café", "c++", "c#", "a/b"'
    (spec,) = parse_deck(card.format(kept), "d.toml").cards
    assert spec.tags == ("数学::极限", "café", "c++", "c#", "a/b")
    with pytest.raises(DeckError) as caught:
        parse_deck(card.format('"Café", "a b", "\\u202e", "ok"'), "d.toml")
    assert list(caught.value.problems) == [
        Problem("d.toml", 6, "tag 'Café': write it 'café'"),
        Problem("d.toml", 6, "tag 'a b': write it 'a-b'"),
        Problem("d.toml", 6, "tag '\\u202e': use letters or digits"),
    ]
    with pytest.raises(DeckError) as caught:
        parse_deck('topic = "x"\n' + card.format(kept), "d.toml", builtin=True)
    assert [p.message for p in caught.value.problems] == [
        f"tag {tag!r}: use lower-case letters, digits, '-'"
        for tag in ("数学::极限", "café", "c++", "c#", "a/b")
    ]


@given(st.text())
def test_a_card_tag_is_its_own_tag_and_holds_nothing_a_terminal_acts_on(text: str) -> None:
    tag = card_tag(text)
    assert card_tag(tag) == tag
    assert not any(char.isspace() or unicodedata.category(char)[0] in "CZ" for char in tag)


def test_builtin_decks_need_topic_and_docs() -> None:
    with pytest.raises(DeckError) as caught:
        parse_deck('[[card]]\nid = "a"\nfront = "Q"\nback = "A"\n', "d.toml", builtin=True)
    assert list(caught.value.problems) == [
        Problem("d.toml", 1, "a built-in deck needs 'topic = \"<topic slug>\"'"),
        Problem("d.toml", 1, "card needs a 'docs' link to the page it rests on"),
    ]


def test_toml_syntax_error_names_line_and_column() -> None:
    with pytest.raises(DeckError) as caught:
        parse_deck('topic = "x"\n\n[[card]]\nid = "a\n', "d.toml")
    assert list(caught.value.problems) == [
        Problem("d.toml", 4, "Illegal character '\\n' (column 8)")
    ]


def test_a_header_inside_a_multiline_string_does_not_shift_lines() -> None:
    text = (
        'topic = "x"\n[[card]]\nid = "a"\nfront = """\n[[card]]\n"""\nback = "b"\n'
        "[[card]]\nid = 7\n"
    )
    with pytest.raises(DeckError) as caught:
        parse_deck(text, "d.toml")
    assert list(caught.value.problems) == [
        Problem("d.toml", 8, "basic card needs 'back'"),
        Problem("d.toml", 8, "basic card needs 'front'"),
        Problem("d.toml", 9, "card needs an 'id' of lower-case letters, digits and '-'"),
    ]


COVERED = """topic = "caching"

[[coverage]]
id = "cache-headers"
point = "Cache-Control from a view"
source = "https://docs.djangoproject.com/en/5.2/topics/cache/"

[[coverage]]
id = "vary"
point = "Vary"

[[coverage]]
id = "conditional-get"
point = "Conditional GET"

[[card]]
id = "a"
covers = ["cache-headers", "vary"]
front = "Q"
back = "A"

[[card]]
id = "b"
kind = "cloze"
covers = ["vary"]
text = "{{c1::x}} {{c2::y}}"

[[card]]
id = "c"
front = "Q3"
back = "A3"
"""


def test_coverage_points_and_the_cards_covering_them() -> None:
    deck = parse_deck(COVERED, "d.toml")
    assert deck.coverage == (
        CoveragePoint(
            "cache-headers",
            "Cache-Control from a view",
            "https://docs.djangoproject.com/en/5.2/topics/cache/",
            3,
        ),
        CoveragePoint("vary", "Vary", None, 8),
        CoveragePoint("conditional-get", "Conditional GET", None, 12),
    )
    assert [(c.key, c.covers) for c in deck.cards] == [
        ("a", ("cache-headers", "vary")),
        ("b#c1", ("vary",)),
        ("c", ()),
        ("b#c2", ("vary",)),
    ]


def test_coverage_problems_name_their_lines() -> None:
    text = """topic = "x"

[[coverage]]
id = "dup"
point = "P"
source = "https://example.org/"

[[coverage]]
id = "dup"
point = ""
pointt = "typo"
source = "http://example.org/"

[[coverage]]
id = "Bad Id"

[[card]]
id = "a"
docs = "https://example.org/"
front = "Q"
back = "A"
covers = ["dup", "nope", "dup", "Bad Id"]

[[card]]
id = "b"
covers = "dup"
docs = "https://example.org/"
front = "Q2"
back = "A2"
"""
    assert _problems(text) == [
        Problem("d.toml", 9, "duplicate coverage id 'dup' (first on line 3)"),
        Problem("d.toml", 10, "'point' must be non-empty text"),
        Problem("d.toml", 11, "unknown key 'pointt' for a coverage point"),
        Problem("d.toml", 12, "'source' must be one https:// link"),
        Problem("d.toml", 14, "coverage point needs 'point'"),
        Problem("d.toml", 14, "coverage point needs a 'source' link to the page it rests on"),
        Problem("d.toml", 15, "coverage point needs an 'id' of lower-case letters, digits and '-'"),
        Problem("d.toml", 22, "'covers' names 'dup' twice"),
        Problem("d.toml", 22, "'covers' names 'nope', which no [[coverage]] point has as its id"),
        Problem("d.toml", 26, "'covers' must be a list of non-empty strings"),
    ]


def test_coverage_must_be_tables() -> None:
    for value in ('["a"]', "[1, {}]", '"a"'):
        assert _problems(f'topic = "x"\ncoverage = {value}\n') == [
            Problem("d.toml", 2, "'coverage' must be [[coverage]] tables")
        ]


def _problems(text: str) -> list[Problem]:
    """The problems ``parse_deck`` raises for ``text`` as a built-in deck file ``d.toml``."""
    with pytest.raises(DeckError) as caught:
        parse_deck(text, "d.toml", builtin=True)
    return list(caught.value.problems)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_junk_text_never_crashes_the_deck_parser(text: str) -> None:
    try:
        parse_deck(text, "junk.toml")
    except DeckError as exc:
        assert exc.problems
        assert all(p.path == "junk.toml" and p.line and p.line >= 1 for p in exc.problems)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "[[card]]",
                'id = "a"',
                'kind = "cloze"',
                'text = "{{c1::x}}"',
                'front = "q"',
                'back = "a"',
                'choices = ["a"]',
                "answer = 3",
                "tags = [1]",
                'docs = "http://x"',
                "card = 1",
                "topic = 5",
                '"""',
                "[[coverage]]",
                'point = "p"',
                "source = 1",
                'covers = ["a", "a"]',
                "covers = [{}]",
                "coverage = 1",
            ]
        ),
        max_size=12,
    )
)
def test_junk_structure_never_crashes_the_deck_parser(lines: list[str]) -> None:
    with contextlib.suppress(DeckError):
        parse_deck("\n".join(lines), "junk.toml")


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_junk_text_never_crashes_the_roadmap_parser(text: str) -> None:
    with contextlib.suppress(DeckError):
        parse_roadmap(text, "r.md")
