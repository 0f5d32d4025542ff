"""One lookup of sections, topics and decks: every command finds a name the same way and words
a miss the same way (``trainer.store.lookup``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session, sessionmaker

from trainer.cli.main import cli
from trainer.errors import UsageError
from trainer.store.lookup import Found, close_matches, find, select_named
from trainer.store.models import Deck

NOW = "2026-11-29T10:00:00+00:00"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env={"TRAINER_NOW": NOW})
    return result.exit_code, result.stderr or result.stdout


@pytest.fixture
def deck_file(tmp_path: Path) -> Path:
    path = tmp_path / "mine.csv"
    path.write_text("What is a list?,An ordered sequence\n", encoding="utf-8")
    return path


def _commands(deck_file: Path) -> list[list[str]]:
    """Every command that takes --topic or --section, as a learner would call it."""
    return [
        ["review"],
        ["report"],
        ["report", "--format", "json"],
        ["stats"],
        ["import", str(deck_file), "--dry-run"],
    ]


@pytest.mark.parametrize(
    ("option", "name", "message"),
    [
        (
            "--topic",
            "nope",
            "Error: --topic nope: no such topic"
            " (titles and slugs are in 'trainer status --json')\n",
        ),
        (
            "--topic",
            "htp-protocol",
            "Error: --topic htp-protocol: no such topic (did you mean 'http-protocol'?)\n",
        ),
        (
            "--topic",
            "Django",
            "Error: --topic Django: no such topic (did you mean 'Django Project Structure',"
            " 'Django Admin' or 'Django Signals'?)\n",
        ),
        (
            "--topic",
            "databases",
            "Error: --topic databases: no such topic ('databases' is a section:"
            " --section databases)\n",
        ),
    ],
)
def test_a_miss_reads_the_same_in_every_command(
    deck_file: Path, option: str, name: str, message: str
) -> None:
    for command in _commands(deck_file):
        assert run(*command, option, name) == (2, message), command


def test_a_section_miss_reads_the_same_in_every_command(deck_file: Path) -> None:
    for command in _commands(deck_file)[:-1]:  # import takes no --section
        assert run(*command, "--section", "Data bases") == (
            2,
            "Error: --section Data bases: no such section (did you mean 'Databases'?)\n",
        ), command
        assert run(*command, "--topic", "http-protocol", "--section", "databases") == (
            2,
            "Error: --topic http-protocol is not in --section databases\n",
        ), command


@pytest.mark.parametrize(
    "name", ["HTTP Protocol", "http-protocol", "HTTP-PROTOCOL", "http protocol"]
)
def test_a_title_or_a_slug_in_any_case_works_everywhere(deck_file: Path, name: str) -> None:
    code, output = run("report", "--format", "json", "--topic", name)
    assert [t["slug"] for s in json.loads(output)["sections"] for t in s["topics"]] == [
        "http-protocol"
    ]
    assert run("stats", "--topic", name)[0] == 0
    assert run("review", "--topic", name)[0] == 0
    code, output = run("import", str(deck_file), "--topic", name, "--json")
    assert code == 0 and json.loads(output)[0]["deck"] == "Imported: mine (http-protocol)"


def test_a_deck_named_as_a_topic_points_to_deck(
    loaded: sessionmaker[Session],
) -> None:
    with loaded.begin() as db:
        db.add(Deck(name="Spanish", slug="spanish", source="import"))
    with loaded() as db, pytest.raises(UsageError) as caught:
        find(db.connection(), "topic", "spanish")
    assert (
        str(caught.value) == "--topic spanish: no such topic ('spanish' is a deck: --deck spanish)"
    )


def test_lookup_matches_slug_or_title_ignoring_case(loaded: sessionmaker[Session]) -> None:
    with loaded() as db:
        conn = db.connection()
        by_title = find(conn, "section", "DATABASES")
        assert (by_title.kind, by_title.slug, by_title.title) == (
            "section",
            "databases",
            "Databases",
        )
        chosen = select_named(conn, section="databases", topic="Query Optimization")
        assert chosen.topic is not None and chosen.section is not None
        assert chosen.topic.section_id == chosen.section.id
        with pytest.raises(UsageError, match=r"^--deck and --topic: give one of them, not both$"):
            select_named(conn, topic="x", deck="y")


def test_close_matches_take_the_form_typed() -> None:
    rows = [
        Found("topic", 1, "http-protocol", "HTTP Protocol"),
        Found("topic", 2, "pagination", "Pagination"),
    ]
    assert close_matches("http-protcol", rows) == ["http-protocol"]
    assert close_matches("HTTP protcol", rows) == ["HTTP Protocol"]
    assert close_matches("page", rows) == []
    assert close_matches("pag", rows) == ["pagination"]  # a part of a name
    assert close_matches("zz", rows) == []


def test_close_matches_are_only_names_a_typo_away() -> None:
    rows = [
        Found("deck", 1, "notes", "notes"),
        Found("deck", 2, "rocks", "Rocks"),
        Found("deck", 3, "spanish", "Spanish"),
    ]
    assert close_matches("Nope", rows) == []  # ratio 0.67: three letters in common
    assert close_matches("nots", rows) == ["notes"]
    assert close_matches("Rcks", rows) == ["Rocks"]
    assert close_matches("spansh", rows) == ["spanish"]
    assert close_matches("snaps", rows) == []
