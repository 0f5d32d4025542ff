"""`trainer cards` as a learner uses it: the table, JSON, --limit, bad queries, hostile text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from trainer.cli.cards_view import first_line
from trainer.cli.main import cli

NOW = "2026-11-29T10:00:00+00:00"
#: The second card's front as the table shows it: escape and override as placeholders, the
#: bracket without the backslash that keeps it literal in the stored Markdown.
GRANITE = "Granite \u241b[2J<U+202E>"
TWO_DAYS_LATER = "2026-12-01T10:00:00+00:00"
CSV = (
    "Basalt,fine grained\n"
    '"Granite \x1b[2J\u202e",coarse\n'
    "A very long front that will not fit in forty cells at all,y\n"
)


def run(*args: str, now: str = NOW, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env={"TRAINER_NOW": now}, input=input)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def rocks(tmp_path: Path) -> list[int]:
    """A deck Rocks of three cards, reviewed once each (Good, Again, Good); their ids."""
    path = tmp_path / "rocks.csv"
    path.write_text(CSV)
    code, out, err = run("import", str(path), "--deck", "Rocks")
    assert code == 0, out + err
    code, out, err = run("review", "--deck", "Rocks", input=" 3 1 3q")
    assert code == 0, out + err
    code, out, _ = run("cards", "deck:Rocks", "--json")
    return [card["id"] for card in json.loads(out)]


def test_the_table_shows_each_card_with_its_memory_and_hostile_text_visible(
    rocks: list[int],
) -> None:
    first, second, third = (str(card_id).rjust(4) for card_id in rocks)
    code, out, _ = run("cards", "deck:rocks", now=TWO_DAYS_LATER)
    assert code == 0
    assert out.splitlines() == [
        "  id  deck   front                                     state        due"
        "               stability     R  lapses",
        f"{first}  Rocks  Basalt                                    learning     2026-11-29 10:10"
        "       2.3d  0.91       0",
        f"{second}  Rocks  {GRANITE:40}  learning     2026-11-29 10:01       0.2d  0.70       0",
        f"{third}  Rocks  A very long front that will not fit in \u2026  learning     2026-11-29"
        " 10:10       2.3d  0.91       0",
        "3 cards",
    ]


def test_json_gives_every_field_of_the_card_and_its_memory(rocks: list[int]) -> None:
    code, out, _ = run("cards", f"cid:{rocks[1]}", "--json", now=TWO_DAYS_LATER)
    assert code == 0
    [card] = json.loads(out)
    assert card == {
        "id": rocks[1],
        "deck": "Rocks",
        "topic": None,
        "key": card["key"],
        "kind": "basic",
        "front": "Granite \x1b\\[2J\u202e",
        "back": "coarse",
        "accepted": [],
        "tags": [],
        "docs_url": None,
        "edited": False,
        "suspended": False,
        "leech": False,
        "state": "learning",
        "step": 0,
        "stability_days": card["stability_days"],
        "difficulty": card["difficulty"],
        "retrievability": card["retrievability"],
        "due_at": "2026-11-29T10:01:00+00:00",
        "due_day": None,
        "last_review_at": "2026-11-29T10:00:00+00:00",
        "last_review_day": "2026-11-29",
        "reps": 1,
        "lapses": 0,
        "buried_until_day": None,
    }
    assert round(card["stability_days"], 3) == 0.212  # FSRS-6's initial stability for Again
    assert round(card["retrievability"], 2) == 0.70


def test_several_words_are_one_query_and_limit_counts_the_rest(rocks: list[int]) -> None:
    code, out, _ = run("cards", "deck:Rocks", "-granite", "--limit", "1")
    assert code == 0
    assert out.splitlines()[1:] == [
        f"{rocks[0]}  Rocks  {'Basalt':40}  learning     2026-11-29 10:10       2.3d  1.00       0",
        "1 of 2 cards shown (--limit)",
    ]


def test_no_match_is_one_line(rocks: list[int]) -> None:
    assert run("cards", "deck:Rocks", "is:review") == (0, "No cards match.\n", "")
    assert run("cards", "deck:Rocks", "is:review", "--json") == (0, "[]\n", "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["deck:Rocks", "("],
            "Error: bad search at character 13: the query ends where a term should follow\n",
        ),
        (
            ["is:done"],
            "Error: bad search at character 1: 'is:done': is: takes new, learning,"
            " review, due, suspended, buried, leech or edited\n",
        ),
        (
            ["--limit", "0"],
            "Error: Invalid value for '--limit': 0 is not in the range x>=1."
            " (see 'trainer cards --help')\n",
        ),
    ],
)
def test_a_bad_query_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    assert run("cards", *args) == (2, "", message)


@pytest.mark.parametrize(
    ("front", "shown"),
    [
        ("The answer is \\[...\\] here", "The answer is [...] here"),
        ("2 \\* 3 \\< 7\\\nsecond line", "2 * 3 < 7"),
        ("a path C:\\\\temp and \\d", "a path C:\\temp and \\d"),
    ],
)
def test_the_table_shows_a_front_as_it_reads_not_its_markdown_escapes(
    front: str, shown: str
) -> None:
    assert first_line(front) == shown


def test_card_ids_as_words_list_those_cards_as_suspend_reads_them(rocks: list[int]) -> None:
    first, _, third = rocks
    code, out, _ = run("cards", f"{third},{first}", "--json")
    assert (code, [card["id"] for card in json.loads(out)]) == (0, [first, third])
    code, out, _ = run("cards", str(third), str(first), "--json")
    assert (code, [card["id"] for card in json.loads(out)]) == (0, [first, third])
    assert run("cards", "99999999999999999999") == (0, "No cards match.\n", "")


@pytest.mark.parametrize("command", ["edit", "suspend"])
def test_an_id_beyond_64_bits_names_no_card(rocks: list[int], command: str) -> None:
    assert run(command, f"{rocks[0]},99999999999999999999") == (
        1,
        "",
        "Error: card 99999999999999999999: no such card (ids are in 'trainer cards')\n",
    )


def test_the_table_and_json_show_a_suspended_card(rocks: list[int]) -> None:
    assert run("suspend", str(rocks[0]))[0] == 0
    code, out, _ = run("cards", f"cid:{rocks[0]}", now=TWO_DAYS_LATER)
    assert (code, out.splitlines()[1:]) == (
        0,
        [
            f"{rocks[0]}  Rocks  {'Basalt':40}  suspended    2026-11-29 10:10       2.3d  0.91"
            "       0",
            "1 card",
        ],
    )
    code, out, _ = run("cards", "deck:rocks", "--json")
    assert [(card["suspended"], card["leech"]) for card in json.loads(out)] == [
        (True, False),
        (False, False),
        (False, False),
    ]
