"""The shared import cases (tests/fixtures/cases, one file per kind of fault seen on real files)
and more inputs of each kind, through `trainer import` as a learner runs it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from trainer.cli.main import cli
from trainer.store.db import open_database
from trainer.store.models import Card, Deck

NOW = "2026-11-29T10:00:00+00:00"
CASES = Path(__file__).parent / "fixtures" / "cases"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env={"TRAINER_NOW": NOW})
    return result.exit_code, result.stdout, result.stderr


def imported_cards(db_path: Path) -> dict[str, list[tuple[str, str]]]:
    """Each imported deck's active cards as (front, back), in file order."""
    engine = open_database(str(db_path))
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


def test_a_field_that_starts_with_a_quote_keeps_it(db_path: Path) -> None:
    path = CASES / "stray-quote.tsv"
    code, out, err = run("import", str(path))
    assert (code, err) == (0, "")
    assert out == f'{path} -> deck "stray-quote": 3 added, 0 updated, 0 unchanged, 0 skipped\n'
    assert imported_cards(db_path) == {
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
    tmp_path: Path, db_path: Path, name: str, text: str, cards: list[tuple[str, str]]
) -> None:
    path = write(tmp_path, name, text)
    code, out, _ = run("import", str(path))
    assert code == 0, out
    assert f"{len(cards)} added" in out
    assert imported_cards(db_path) == {path.stem: cards}


def test_one_odd_quote_among_many_good_rows_refuses_nothing(tmp_path: Path, db_path: Path) -> None:
    rows = [f"question {n}\tanswer {n}" for n in range(783)]
    rows[400] = '"question 400\tanswer 400'
    path = write(tmp_path, "big.tsv", "\n".join(rows) + "\n")
    code, out, _ = run("import", str(path))
    assert code == 0
    assert "783 added, 0 updated, 0 unchanged, 0 skipped" in out
    assert imported_cards(db_path)["big"][400] == ('"question 400', "answer 400")


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
    tmp_path: Path, db_path: Path, text: str, cards: list[tuple[str, str]]
) -> None:
    path = write(tmp_path, "deck.txt", text)
    code, out, _ = run("import", str(path))
    assert code == 0, out
    assert imported_cards(db_path) == {"deck": cards}
