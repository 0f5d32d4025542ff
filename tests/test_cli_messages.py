"""Command-line messages a new user met: each bad input is one ``Error:`` line with exit 2,
the help names the real default database, and a report is never written in a format its file
name does not promise."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_cli import run


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
