"""``trainer decks``: the list with its counts, rename and delete, as a learner uses them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trainer.cli.main import cli
from trainer.content.builtin_sync import read_builtin
from trainer.store.db import open_database
from trainer.store.models import Card, Deck, ReviewLog
from trainer.store.resources import DECKS_DIR

NOW = "2026-11-29T10:00:00+00:00"
#: Cards of the built-in decks, which every database holds besides the imported ones.
BUILTIN = sum(len(deck.cards) for deck in read_builtin(DECKS_DIR)[1])


def run(*args: str, keys: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), input=keys, env={"TRAINER_NOW": NOW})
    return result.exit_code, result.output


@pytest.fixture
def imported(tmp_path: Path, database: str) -> str:
    """Rocks::Igneous (3 cards, 2 rated today) and Rocks::Sedimentary (2) and Spanish (1)."""
    for name, size in (("Rocks::Igneous", 3), ("Rocks::Sedimentary", 2), ("Spanish", 1)):
        path = tmp_path / f"{name.replace('::', '-')}.csv"
        path.write_text("".join(f"{name} {i}?,A {i}\n" for i in range(size)), encoding="utf-8")
        assert run("import", str(path), "--deck", name)[0] == 0
    assert run("review", "--deck", "Rocks::Igneous", keys=" 3 4q")[0] == 0
    return database


def _count(database: str) -> tuple[int, int, int]:
    """(decks not built in, cards, review log rows) in the database."""
    engine = open_database(database)
    with Session(engine) as db:
        decks = db.scalar(select(func.count(Deck.id)).where(Deck.source != "builtin"))
        cards = db.scalar(select(func.count(Card.id)))
        logs = db.scalar(select(func.count(ReviewLog.id)))
    engine.dispose()
    return int(decks or 0), int(cards or 0), int(logs or 0)


def test_the_list_counts_each_deck_and_its_subdecks(imported: str) -> None:
    code, output = run("decks", "--json")
    assert code == 0
    listed = {deck["slug"]: deck for deck in json.loads(output)}
    assert len([d for d in listed.values() if d["topic"] is not None]) == 57
    assert listed["rocks"] == {
        "slug": "rocks",
        "name": "Rocks",
        "topic": None,
        "parent": None,
        "depth": 0,
        "new": 3,
        "learning": 1,
        "review": 1,
        "due": 1,
        "total": 5,
        "mastered": 0,
    }
    assert (listed["rocks-igneous"]["parent"], listed["rocks-igneous"]["total"]) == ("rocks", 3)
    assert listed["data-structures"]["topic"] == "data-structures"
    code, output = run("decks")
    lines = output.splitlines()
    assert lines[0].split() == ["deck", "new", "learning", "review", "due", "total", "mastered"]
    start = lines.index("Extra decks")
    assert [line.split()[0] for line in lines[start + 1 :]] == [
        "Rocks",
        "Igneous",
        "Sedimentary",
        "Spanish",
    ]
    igneous = lines[start + 2]
    assert igneous.startswith("  Igneous ") and len(igneous) == len(lines[0])
    assert igneous.split()[1:] == ["1", "1", "1", "1", "3", "0"]


def test_rename_moves_the_subdecks_and_keeps_the_cards(imported: str) -> None:
    assert run("decks", "rename", "rocks", "Geology::Stones") == (
        0,
        "Rocks -> Geology::Stones\nRocks::Igneous -> Geology::Stones::Igneous\n"
        "Rocks::Sedimentary -> Geology::Stones::Sedimentary\n",
    )
    listed = {deck["slug"]: deck for deck in json.loads(run("decks", "--json")[1])}
    assert listed["geology-stones-igneous"]["parent"] == "geology-stones"
    assert listed["geology-stones"]["parent"] == "geology"
    assert listed["geology"]["total"] == 5 and "rocks" not in listed
    assert _count(imported) == (5, BUILTIN + 6, 2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["rename", "Data Structures", "Mine"],
            "Error: 'Data Structures' is a built-in topic deck: it cannot be renamed\n",
        ),
        (
            ["delete", "algorithms", "--yes"],
            "Error: 'Algorithms' is a built-in topic deck: it cannot be deleted\n",
        ),
        (
            ["rename", "Rocks", "rocks::igneous::deeper"],
            "Error: 'rocks::igneous::deeper' is under 'Rocks': a deck cannot move under itself\n",
        ),
        (
            ["rename", "Rocks::Igneous", "spanish"],
            "Error: a deck named 'Spanish' exists already; choose another name\n",
        ),
        (
            ["rename", "Rocks", "Geo::"],
            "Error: deck name 'Geo::': the name starts or ends with '::';"
            " give one such as Spanish or Rocks::Igneous\n",
        ),
        (
            ["rename", "Rocks", "A::::B"],
            "Error: deck name 'A::::B': the name has an empty part between '::';"
            " give one such as Spanish or Rocks::Igneous\n",
        ),
        (
            ["rename", "Rocks", "Geo:: Stones"],
            "Error: deck name 'Geo:: Stones': the name has spaces at the start or end of a part;"
            " give one such as Spanish or Rocks::Igneous\n",
        ),
        (
            ["rename", "Rocks", "Geo:::Stones"],
            "Error: deck name 'Geo:::Stones': the name has a ':' next to '::';"
            " give one such as Spanish or Rocks::Igneous\n",
        ),
        (
            ["rename", "Rocks", "G" * 201],
            f"Error: deck name '{'G' * 201}': the name is longer than 200 characters;"
            " give one such as Spanish or Rocks::Igneous\n",
        ),
        (
            ["delete", "Rcks", "--yes"],
            "Error: no such deck 'Rcks' (did you mean 'Rocks'?)\n",
        ),
        (
            ["rename", "Nope", "X"],
            "Error: no such deck 'Nope' (names are in 'trainer decks')\n",
        ),
    ],
)
def test_what_cannot_be_renamed_or_deleted(imported: str, args: list[str], message: str) -> None:
    assert run("decks", *args) == (2, message)
    assert _count(imported) == (4, BUILTIN + 6, 2)


def test_delete_asks_first_then_removes_everything_in_one_go(imported: str) -> None:
    question = "Delete deck 'Rocks' with 2 subdecks: 5 cards, 2 review logs? This cannot be undone"
    assert run("decks", "delete", "Rocks", keys="n\n") == (
        0,
        f"{question} [y/N]: n\nNothing deleted.\n",
    )
    assert _count(imported) == (4, BUILTIN + 6, 2)
    assert run("decks", "delete", "Rocks", keys="y\n") == (
        0,
        f"{question} [y/N]: y\nDeleted deck 'Rocks' with 2 subdecks: 5 cards, 2 review logs.\n",
    )
    assert _count(imported) == (1, BUILTIN + 1, 0)
    assert run("decks", "delete", "spanish", "--yes") == (
        0,
        "Deleted deck 'Spanish': 1 card, 0 review logs.\n",
    )
    assert _count(imported) == (0, BUILTIN, 0)


def test_a_parent_deck_shows_its_subtree_everywhere_and_totals_count_each_card_once(
    imported: str, tmp_path: Path
) -> None:
    status = json.loads(run("status", "--json")[1])
    rocks = {deck["slug"]: deck for deck in status["extra_decks"]}["rocks"]
    assert (rocks["cards"], rocks["new"], rocks["due"]) == (5, 3, 1)
    assert status["today"]["due"] == 1
    assert run("status", "--deck", "rocks")[1].count("0/5") == 1

    report = json.loads(run("report", "--deck", "Rocks", "--format", "json")[1])
    cards = {deck["slug"]: deck["figures"]["cards"] for deck in report["extra_decks"]}
    assert cards == {"rocks": 5, "rocks-igneous": 3, "rocks-sedimentary": 2}
    assert report["roadmap"]["figures"]["cards"] == 5
    whole = json.loads(run("report", "--format", "json")[1])
    assert whole["roadmap"]["figures"]["cards"] == BUILTIN + 6

    markdown = run("report", "--deck", "Rocks")[1]
    assert "- [ ] Rocks\n  - 0 of 5 cards mastered (0%)\n" in markdown
    assert "Roadmap" not in markdown and "topic" not in markdown.split("_A card")[0]
    page = tmp_path / "rocks.html"
    assert run("report", "--deck", "Rocks", "--format", "html", "-o", str(page))[0] == 0
    html = page.read_text(encoding="utf-8")
    assert "<th>Deck</th>" in html and "<th>Topic</th>" not in html
    assert "0/5 · 0%" in html and "topics done" not in html
    stats = run("stats", "--deck", "Rocks")[1].splitlines()
    assert not [line for line in stats if line.startswith(("Roadmap", "Sections"))]
    assert next(line for line in stats if line.startswith(" Rocks ")).split()[2:4] == ["0/5", "0%"]


@pytest.mark.parametrize("name", ["Net::", " Net", "Net::::Work", "  "])
def test_import_refuses_a_bad_deck_name_before_writing(
    imported: str, tmp_path: Path, name: str
) -> None:
    path = tmp_path / "net.csv"
    path.write_text("q?,a\n", encoding="utf-8")
    code, output = run("import", str(path), "--deck", name)
    assert code == 2 and output.startswith(f"Error: --deck {name!r}: the name ")
    assert len(output.splitlines()) == 1
    assert _count(imported) == (4, BUILTIN + 6, 2)
