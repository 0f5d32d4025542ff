"""Anki's template filters as the importer renders them (trainer/importers/anki_templates.py)."""

from __future__ import annotations

from pathlib import Path

import genanki
import pytest

from trainer.importers.anki import read_anki
from trainer.importers.anki_templates import render_card

SENTENCE = "私[わたし]は 日本[にほん]の 映画[えいが]が 好[す]きです。"


def _question(template: str, value: str) -> str:
    return render_card(template, "", {"Sentence": value}, 0).question


@pytest.mark.parametrize(
    ("template", "shown"),
    [
        ("{{kanji:Sentence}}", "私は日本の映画が好きです。"),
        ("{{kana:Sentence}}", "わたしはにほんのえいががすきです。"),
        ("{{furigana:Sentence}}", "私(わたし)は日本(にほん)の映画(えいが)が好(す)きです。"),
        ("{{Sentence}}", SENTENCE),
        # filters run right to left; an unknown one (an add-on's edit) shows the text as is
        ("{{furigana:text:Sentence}}", "私(わたし)は日本(にほん)の映画(えいが)が好(す)きです。"),
        ("{{edit:kanji:Sentence}}", "私は日本の映画が好きです。"),
        ("{{ kana : Sentence }}", "わたしはにほんのえいががすきです。"),
    ],
)
def test_the_ruby_filters_show_what_anki_shows(template: str, shown: str) -> None:
    assert _question(template, SENTENCE) == shown


@pytest.mark.parametrize(
    ("value", "kanji", "kana", "furigana"),
    [
        # the base runs back to the last space or '>', so markup around it stays
        ("<b>日本[にほん]</b>語", "<b>日本</b>語", "<b>にほん</b>語", "<b>日本(にほん)</b>語"),
        # without a space before it, the base takes the text before too, as in Anki
        ("私は日本[にほん]", "私は日本", "にほん", "私は日本(にほん)"),
        # &nbsp; is a space; only one space before a base is dropped
        ("a&nbsp;b[c]  d[e]", "ab d", "ac e", "ab(c) d(e)"),
        # a sound is no reading; the reading ends at its first ']'
        (
            "音[sound:a.mp3] 字[じ]]",
            "音[sound:a.mp3]字]",
            "音[sound:a.mp3]じ]",
            "音[sound:a.mp3]字(じ)]",
        ),
        # brackets with no base before them, or nothing inside, are no reading
        ("[x] >[y] a[]", "[x] >[y] a[]", "[x] >[y] a[]", "[x] >[y] a[]"),
    ],
)
def test_a_reading_is_found_as_anki_finds_it(
    value: str, kanji: str, kana: str, furigana: str
) -> None:
    assert [_question(f"{{{{{f}:Sentence}}}}", value) for f in ("kanji", "kana", "furigana")] == [
        kanji,
        kana,
        furigana,
    ]


def test_a_mining_deck_front_keeps_its_reading_for_the_answer(tmp_path: Path) -> None:
    model = genanki.Model(
        1_700_000_001,
        "Mining",
        fields=[{"name": "Word"}, {"name": "Sentence"}],
        templates=[
            {
                "name": "Recognise",
                "qfmt": "{{Word}}<br>{{kanji:Sentence}}",
                "afmt": "{{FrontSide}}<hr id=answer>{{furigana:Sentence}}",
            }
        ],
    )
    deck = genanki.Deck(1_700_000_002, "Japanese")
    deck.add_note(genanki.Note(model=model, fields=["映画", SENTENCE], guid="n1"))
    path = tmp_path / "mining.apkg"
    genanki.Package(deck).write_to_file(str(path))
    (card,) = read_anki(path, "mining.apkg").cards
    assert (card.front, card.back) == (
        "映画\\\n私は日本の映画が好きです。",
        "私(わたし)は日本(にほん)の映画(えいが)が好(す)きです。",
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        # empty as Anki counts a field: white space and empty <br>/<div> tags only
        ("", "q (none)"),
        (" <div><br /></div>\n", "q (none)"),
        ('<img src="map.png">', 'q<br><img src="map.png">'),
        ("[sound:word.mp3]", "q<br>[sound:word.mp3]"),
        ("&nbsp;", "q<br>&nbsp;"),
    ],
)
def test_a_section_shows_unless_its_field_is_empty_as_anki_counts_it(
    value: str, shown: str
) -> None:
    template = "{{Front}}{{#Extra}}<br>{{Extra}}{{/Extra}}{{^Extra}} (none){{/Extra}}"
    assert render_card(template, "", {"Front": "q", "Extra": value}, 0).question == shown
