"""Command-line messages a new user met: each bad input is one ``Error:`` line with exit 2,
the help names the real default database, and a report is never written in a format its file
name does not promise."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_cli import run

from conftest import sqlite_only


def test_a_bad_option_is_one_line_naming_the_help_to_read() -> None:
    assert run("review", "--nope") == (
        2,
        "Error: No such option '--nope'. Did you mean '--topic'? (see 'trainer review --help')\n",
    )


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"
    assert run("import", str(missing)) == (
        2,
        f"Error: Invalid value for 'PATH...': File '{missing}' does not exist."
        " (see 'trainer import --help')\n",
    )


def test_the_help_names_the_default_database_file() -> None:
    code, output = run("--help")
    assert code == 0
    assert "Default: trainer.db in the user data dir" in " ".join(output.split())


@pytest.mark.parametrize("name", ["report.pdf", "report.txt"])
def test_a_report_file_suffix_no_format_has_is_refused(tmp_path: Path, name: str) -> None:
    target = tmp_path / name
    code, output = run("report", "-o", str(target))
    assert (code, output) == (
        2,
        f"Error: -o {target}: no report format is written as '{target.suffix}'; name the file"
        " .md, .markdown, .html, .htm, .json, .csv, or give --format\n",
    )
    assert not target.exists()
    assert run("report", "--format", "json", "-o", str(target))[0] == 0
    assert target.read_text().startswith("{")


def test_a_report_file_without_a_suffix_is_markdown(tmp_path: Path) -> None:
    target = tmp_path / "report"
    assert run("report", "-o", str(target))[0] == 0
    assert target.read_text().startswith("# ")


def test_lint_says_a_file_of_another_format_is_not_a_native_deck(tmp_path: Path) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("Q: a\nA: b\n")
    assert run("lint", str(notes)) == (
        1,
        f"{notes}: error: not a deck in trainer's format (.toml); trainer import --dry-run"
        " reads others\n0 cards, 1 error, 0 warnings\n",
    )


REFUSED = [
    ("import", "{csv}", "--topic", "nope"),
    ("import", "{csv}", "--deck", "Data Structures"),
    ("review", "--topic", "nope"),
    ("cards", "prop:r<<"),
    ("config", "set", "desired_retention", "2"),
]


@sqlite_only("a database file; on a server, the schema is the server's")
@pytest.mark.parametrize("args", REFUSED)
def test_a_command_refused_on_a_new_database_leaves_no_file(
    tmp_path: Path, database: str, args: tuple[str, ...]
) -> None:
    csv = tmp_path / "deck.csv"
    csv.write_text("hola,hello\n", encoding="utf-8")
    code, output = run(*(arg.format(csv=csv) for arg in args))
    assert code in (1, 2) and output.startswith("Error: "), output
    assert not Path(database).exists()
    assert not Path(database + "-wal").exists()


@sqlite_only("a database file; on a server, the schema is the server's")
def test_a_refused_command_keeps_a_database_that_holds_work(tmp_path: Path, database: str) -> None:
    good, bad = tmp_path / "good.csv", tmp_path / "bad.yaml"
    good.write_text("hola,hello\n", encoding="utf-8")
    bad.write_text("q: hola\n", encoding="utf-8")
    code, _ = run("import", str(good), str(bad))
    assert code == 1
    assert run("cards", "deck:good", "--json")[1].count('"front": "hola"') == 1
    code, _ = run("status")  # an existing database stays, whatever is refused on it
    assert code == 0
    assert run("review", "--topic", "nope")[0] == 2
    assert Path(database).exists()
