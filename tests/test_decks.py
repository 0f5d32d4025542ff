"""The built-in decks: the roadmap's card counts, output cards that really print their answer,
and a clean `trainer lint`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from test_parser import COVERED

from trainer.content.builtin_sync import read_builtin
from trainer.content.lint import lint_paths
from trainer.content.parser import CardSpec
from trainer.store.lookup import slugify
from trainer.store.resources import DECKS_DIR

SECTIONS, DECKS = read_builtin(DECKS_DIR)
OUTPUT_CARDS = [(d.path, c) for d in DECKS for c in d.cards if c.kind == "output"]
#: The Pythons output cards run on: this one, and the other supported versions `make test`
#: names in TRAINER_CARD_PYTHONS (executables, separated by white space).
CARD_PYTHONS = [sys.executable, *os.environ.get("TRAINER_CARD_PYTHONS", "").split()]


def test_every_topic_has_its_cards() -> None:
    by_topic = {deck.topic: deck for deck in DECKS}
    short = []
    for section in SECTIONS:
        for topic in section.topics:
            cards = by_topic[topic.slug].cards if topic.slug in by_topic else ()
            tags = Counter(tag for card in cards for tag in set(card.tags))
            if len(cards) < 15:
                short.append(f"{topic.slug}: {len(cards)} cards")
            short.extend(
                f"{topic.slug}/{slugify(s)}: {tags[slugify(s)]} cards"
                for s in topic.subtopics
                if tags[slugify(s)] < 3
            )
    assert short == []
    assert sum(len(deck.cards) for deck in DECKS) >= 1000


def test_every_card_links_to_official_docs() -> None:
    assert all(card.docs and card.docs.startswith("https://") for d in DECKS for card in d.cards)


def test_there_are_output_cards() -> None:
    assert len(OUTPUT_CARDS) >= 50


@pytest.mark.parametrize(
    ("python", "path", "card"),
    [(python, p, c) for python in CARD_PYTHONS for p, c in OUTPUT_CARDS],
    ids=[
        f"{Path(p).stem}:{c.key}" + ("" if python == sys.executable else f"@{Path(python).name}")
        for python in CARD_PYTHONS
        for p, c in OUTPUT_CARDS
    ],
)
def test_output_card_prints_its_answer(
    python: str, path: str, card: CardSpec, tmp_path: Path
) -> None:
    assert card.code is not None and card.output is not None
    result = subprocess.run(
        [python, "-c", card.code],
        capture_output=True,
        text=True,
        timeout=20,
        cwd=tmp_path,  # a card that writes a file writes it here
        env={"PATH": "", "PYTHONIOENCODING": "utf-8"},
    )
    assert result.returncode == 0, f"{path}:{card.line} ({python}): {result.stderr}"
    assert result.stdout.rstrip("\n") == card.output.rstrip("\n"), f"{path}:{card.line} ({python})"


def test_the_builtin_decks_lint_clean() -> None:
    report = lint_paths([DECKS_DIR])
    assert [str(f) for f in report.findings if f.level == "error"] == []
    assert report.cards == sum(len(deck.cards) for deck in DECKS)


def test_lint_finds_content_problems(tmp_path: Path) -> None:
    deck = tmp_path / "d.toml"
    deck.write_text(
        '[[card]]\nid = "a"\nfront = "Q"\nback = "A"\n\n'
        '[[card]]\nid = "b"\nfront = "q"\nback = "x"\n\n'
        '[[card]]\nid = "c"\nkind = "typed"\nfront = "Which HTTP status is 404?"\n'
        'answer = "404"\n\n'
        '[[card]]\nid = "d"\nfront = "Q4"\nback = """\n```\nno language\n```\n"""\n\n'
        '[[card]]\nid = "e"\nkind = "output"\ncode = "print(1"\noutput = "1"\n\n'
        f'[[card]]\nid = "f"\nfront = "Long"\nback = "{"word " * 130}"\n'
    )
    report = lint_paths([deck])
    assert report.cards == 6
    assert [str(f) for f in report.findings] == [
        f"{deck}:6: error: same front as line 1",
        f"{deck}:11: error: card 'c': the answer '404' stands in the question",
        f"{deck}:17: error: card 'd': code block in back has no language",
        f"{deck}:26: error: card 'e': code does not compile: '(' was never closed (line 1)",
        f"{deck}:32: warning: card 'f': answer is 649 characters (over 600)",
    ]


def test_lint_checks_the_roadmap_counts_and_subtopic_tags(tmp_path: Path) -> None:
    (tmp_path / "roadmap.md").write_text("## S\n- [ ] Queues (FIFO, LIFO)\n- [ ] Empty\n")
    cards = "".join(
        f'[[card]]\nid = "c{i}"\ntags = ["{tag}"]\ndocs = "https://docs.python.org/3/"\n'
        f'front = "Q{i}"\nback = "A{i}"\n\n'
        for i, tag in enumerate(["fifo"] * 3 + ["other"])
    )
    deck = tmp_path / "s" / "queues.toml"
    deck.parent.mkdir()
    deck.write_text('topic = "queues"\n\n' + cards)
    findings = lint_paths([tmp_path]).findings
    assert [str(f) for f in findings] == [
        f"{deck}:1: warning: the deck has no [[coverage]] list of the topic's must-know points",
        f"{deck}:1: error: topic 'queues' has 4 cards, needs 15",
        f"{deck}:24: error: card 'c3' has no subtopic tag (one of: fifo, lifo)",
        f"{deck}:1: error: subtopic 'lifo' has 0 cards, needs 3",
        f"{tmp_path / 'roadmap.md'}:3: error: topic 'empty' has no deck",
    ]


def test_lint_warns_of_coverage_points_no_card_covers(tmp_path: Path) -> None:
    deck = tmp_path / "d.toml"
    deck.write_text(COVERED)
    report = lint_paths([deck])
    assert [str(f) for f in report.findings] == [
        f"{deck}:12: warning: coverage point 'conditional-get' has no card"
    ]
    assert [(p.key, p.line) for d in report.decks for p in d.coverage] == [
        ("cache-headers", 3),
        ("vary", 8),
        ("conditional-get", 12),
    ]


def test_lint_warns_of_a_builtin_deck_without_coverage_only(tmp_path: Path) -> None:
    (tmp_path / "roadmap.md").write_text("## S\n- [ ] Queues\n")
    card = (
        '[[card]]\nid = "c{0}"\ndocs = "https://docs.python.org/3/"\nfront = "Q{0}"\nback = "A"\n'
    )
    deck = tmp_path / "queues.toml"
    deck.write_text('topic = "queues"\n\n' + "".join(card.format(i) for i in range(15)))
    message = "warning: the deck has no [[coverage]] list of the topic's must-know points"
    assert [str(f) for f in lint_paths([tmp_path]).findings] == [f"{deck}:1: {message}"]
    assert lint_paths([deck]).findings == []  # a user's deck needs no must-know list
