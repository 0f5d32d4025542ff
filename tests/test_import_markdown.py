"""Markdown notes (Obsidian): code is never cloze text, highlights, list markers, front matter.

Each file in ``fixtures/cases`` stands for a kind of input seen in real notes; the expected
cards are exact.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trainer.errors import DeckError
from trainer.importers.markdown import read_markdown

CASES = Path(__file__).parent / "fixtures" / "cases"

EXPECTED: dict[str, list[tuple[str, str, str, tuple[str, ...]]]] = {
    "one-char-highlights.md": [
        (
            "cloze",
            "A hexagon has \\[...\\] sides and an octagon has 8 sides.",
            "A hexagon has **6** sides and an octagon has 8 sides.",
            (),
        ),
        (
            "cloze",
            "A hexagon has 6 sides and an octagon has \\[...\\] sides.",
            "A hexagon has 6 sides and an octagon has **8** sides.",
            (),
        ),
    ],
    "cloze-code-span.md": [
        (
            "cloze",
            "`prices[0]` returns the \\[...\\] element of the list.",
            "`prices[0]` returns the **first** element of the list.",
            (),
        ),
    ],
    "adjacent-highlights.md": [
        (
            "cloze",
            "Ports: \\[...\\], 443 and 8080; a bc and d.",
            "Ports: **80**, 443 and 8080; a bc and d.",
            (),
        ),
        (
            "cloze",
            "Ports: 80, \\[...\\] and 8080; a bc and d.",
            "Ports: 80, **443** and 8080; a bc and d.",
            (),
        ),
        (
            "cloze",
            "Ports: 80, 443 and \\[...\\]; a bc and d.",
            "Ports: 80, 443 and **8080**; a bc and d.",
            (),
        ),
        (
            "cloze",
            "Ports: 80, 443 and 8080; a \\[...\\]c and d.",
            "Ports: 80, 443 and 8080; a **b**c and d.",
            (),
        ),
        (
            "cloze",
            "Ports: 80, 443 and 8080; a bc and \\[...\\].",
            "Ports: 80, 443 and 8080; a bc and **d**.",
            (),
        ),
    ],
    "highlight-code-spans.md": [
        (
            "cloze",
            "In Python `a == b` compares values, \\[...\\] compares identity, and "
            "``x ==y== z`` stays code.",
            "In Python `a == b` compares values, **`is`** compares identity, and "
            "``x ==y== z`` stays code.",
            (),
        ),
    ],
    "highlight-fenced-code.md": [
        (
            "cloze",
            "The walrus operator is \\[...\\].\n```python\nif (n := len(a)) ==10==:\n"
            "    print(n)\n```",
            "The walrus operator is **`:=`**.\n```python\nif (n := len(a)) ==10==:\n"
            "    print(n)\n```",
            (),
        ),
    ],
    "cloze-double-backticks.md": [
        (
            "cloze",
            "``list[`int`]`` is a \\[...\\]; `d[k]` reads a key.",
            "``list[`int`]`` is a **generic alias**; `d[k]` reads a key.",
            (),
        ),
        (
            "cloze",
            "``list[`int`]`` is a generic alias; `d[k]` reads \\[...\\].",
            "``list[`int`]`` is a generic alias; `d[k]` reads **a key**.",
            (),
        ),
    ],
    "cloze-anki-syntax-in-code.md": [
        (
            "cloze",
            "Anki writes `{{c1::text}}` and ``{{c2::x}}``; here \\[...\\] is hidden.",
            "Anki writes `{{c1::text}}` and ``{{c2::x}}``; here **this** is hidden.",
            (),
        ),
    ],
    "question-list-markers.md": [
        ("basic", "What does `len([])` return?", "0", ()),
        ("basic", "Reverse me", "the other side", ()),
        ("basic", "the other side", "Reverse me", ()),
        (
            "basic",
            "- first line of a list\n- second line",
            "a list question keeps its list",
            (),
        ),
    ],
    "front-matter-tags-list.md": [("basic", "ser", "to be", ("spanish", "verbs::irregular"))],
    "front-matter-tags-inline.md": [
        (
            "cloze",
            "A \\[...\\] is mutable.",
            "A **list** is mutable.",
            ("flashcards", "python-basics"),
        )
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_case_gives_exactly_its_cards(name: str) -> None:
    deck = read_markdown((CASES / name).read_bytes(), name)
    assert [(c.kind, c.front, c.back, c.tags) for c in deck.cards] == EXPECTED[name]


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("==x== ==y==", ["x", "y"]),
        ("==1==2==3==", ["1", "3"]),
        ("a ==b c== d", ["b c"]),
        ("`==a==` ==b== ``==c==``", ["b"]),
        ("== not == one ==yes==", ["yes"]),
        ("==`a == b`== and `x`", ["`a == b`"]),
    ],
)
def test_highlights_outside_code_are_the_deletions(text: str, hidden: list[str]) -> None:
    deck = read_markdown(text.encode(), "n.md")
    revealed = [card.back.split("**")[1] for card in deck.cards]
    assert revealed == hidden


@pytest.mark.parametrize(
    ("front_matter", "tags"),
    [
        ("tags: [a, b]", ("a", "b")),
        ("tags: a, b c", ("a", "b", "c")),
        ("tags:\n  - '#x/y'\n  - x/y\n  - X::Y", ("x::y",)),  # Obsidian's nesting is Anki's ::
        (
            "tags: [数学/极限, café, Ελληνικά, c++, C#, C, a b]",
            ("数学::极限", "café", "ελληνικά", "c++", "c#", "c", "a-b"),
        ),
        ("tag: single", ("single",)),
        ("title: no tags", ()),
        ("tags: [unclosed", ()),
    ],
)
def test_front_matter_tags_are_every_cards_tags(front_matter: str, tags: tuple[str, ...]) -> None:
    text = f"---\n{front_matter}\n---\nQ: question\nA: answer\n\nC: a [cloze]\n"
    deck = read_markdown(text.encode(), "n.md")
    assert [card.tags for card in deck.cards] == [tags, tags]


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("C: see [[Binary search]] then [sorted] input", ["sorted"]),
        ("C: [[Note|alias]] and ![[image.png]] and [x]", ["x"]),
        ("C: a [link](https://example.org) and [ref][1] and [y]", ["y"]),
        ("C: \\[not] but [z]", ["z"]),
    ],
)
def test_links_and_wikilinks_are_not_bracket_deletions(text: str, hidden: list[str]) -> None:
    deck = read_markdown(text.encode(), "n.md")
    assert [card.back.split("**")[1] for card in deck.cards] == hidden


@pytest.mark.parametrize(
    ("line", "question", "answer"),
    [
        ("2 * 3 = ?::6", "2 * 3 = ?", "6"),
        ("What does `2 * 3` give?::6", "What does `2 * 3` give?", "6"),
        (
            "- How do we keep *state* in `HTTP`?::a token",
            "How do we keep *state* in `HTTP`?",
            "a token",
        ),
        ("1. $a * b$ + c?::ab+c", "$a * b$ + c?", "ab+c"),
    ],
)
def test_one_line_card_loses_only_a_leading_list_marker(
    line: str, question: str, answer: str
) -> None:
    deck = read_markdown(line.encode(), "n.md")
    assert [(card.front, card.back) for card in deck.cards] == [(question, answer)]


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        # each line break of the block shows as one (the card's text is Markdown)
        ("Q: A x B?\nA:\n\n$$\nA \\times B\n$$\n\n---\n", "$$\\\nA \\times B\\\n$$"),
        ("Q: A x B?\nA:\nthe pairs\n\nprose\n", "the pairs"),
        ("Q: A x B?\nA: the pairs\n\n$$\n(a, b)\n$$\n\nprose\n", "the pairs\\\n$$\\\n(a, b)\\\n$$"),
        ("Q: A x B?\nA: the pairs\n\nprose\n", "the pairs"),
    ],
)
def test_an_answer_takes_the_maths_block_below_it(text: str, answer: str) -> None:
    deck = read_markdown(text.encode(), "n.md")
    assert [(card.front, card.back) for card in deck.cards] == [("A x B?", answer)]


def test_an_empty_answer_before_the_next_card_is_still_a_problem() -> None:
    deck = read_markdown(b"Q: one?\nA:\n\nQ: two?\nA: 2\n", "n.md")
    assert [(card.front, card.back) for card in deck.cards] == [("two?", "2")]
    assert deck.warnings == ("line 1: card with an empty answer; not imported",)
    with pytest.raises(DeckError) as raised:
        read_markdown(b"Q: one?\nA:\n", "n.md")
    assert [(p.line, p.message) for p in raised.value.problems] == [
        (1, "card with an empty answer")
    ]


CODE = st.text(alphabet="=[]{}:c1ab ", min_size=1, max_size=12).filter(lambda s: s.strip())


@given(CODE, st.sampled_from(["`{}` and ==word== end", "C: `{}` and [word] end"]))
def test_code_is_kept_exactly_as_written_on_both_sides(code: str, shape: str) -> None:
    span = f"`{code}`"
    deck = read_markdown(shape.format(code).encode(), "n.md")
    assert [(span in card.front, span in card.back) for card in deck.cards] == [(True, True)]
    assert deck.cards[0].back.endswith(" and **word** end")


def test_embedded_pictures_and_sounds_become_media_tokens_and_files(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    (vault / ".obsidian").mkdir(parents=True)
    (vault / "attachments").mkdir()
    (vault / "notes").mkdir()
    (vault / "attachments" / "gate one.png").write_bytes(b"PNG")
    (vault / "attachments" / "say.mp3").write_bytes(b"MP3")
    (vault / "notes" / "local.jpg").write_bytes(b"JPG")
    note = vault / "notes" / "n.md"
    note.write_text(
        "Shown?::![[gate one.png|300]] and ![[say.mp3]]\n\n"
        'Local?::![a picture](local.jpg "title")\n\n'
        "Remote?::![](https://example.org/a.png)\n\n"
        "Code?::`![[say.mp3]]` stays\n\n"
        "Missing?::![[gone.png]] and ![[Other note]]\n",
        encoding="utf-8",
    )
    deck = read_markdown(note.read_bytes(), str(note))
    assert [card.back for card in deck.cards] == [
        "\\[image: gate one.png\\] and \\[sound: say.mp3\\]",
        "\\[image: local.jpg\\]",
        "\\[image: https://example.org/a.png\\]",
        "`![[say.mp3]]` stays",
        "\\[image: gone.png\\] and ![[Other note]]",
    ]
    assert sorted((media.name, media.read()) for media in deck.media) == [
        ("gate one.png", b"PNG"),
        ("local.jpg", b"JPG"),
        ("say.mp3", b"MP3"),
    ]
    assert deck.warnings == ("embedded files not found beside it (shown by name only): gone.png",)


def test_an_obsidian_embed_is_looked_up_only_in_its_vault(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "pic.png").write_bytes(b"PNG")
    note = tmp_path / "n.md"
    note.write_text("Shown?::![[pic.png]]\n", encoding="utf-8")
    deck = read_markdown(note.read_bytes(), str(note))
    assert (deck.cards[0].back, deck.media) == ("\\[image: pic.png\\]", ())


def test_a_question_written_as_a_heading_is_a_card() -> None:
    text = "# Notes\n\n## Q: What is 2 + 2?\nA: 4\n\n### C: The [Sun] is a star.\n"
    deck = read_markdown(text.encode(), "n.md")
    assert [(card.kind, card.front, card.back) for card in deck.cards] == [
        ("basic", "What is 2 + 2?", "4"),
        ("cloze", "The \\[...\\] is a star.", "The **Sun** is a star."),
    ]
