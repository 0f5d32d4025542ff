"""``status`` and ``stats`` at 60 columns: no line wider than the terminal, columns aligned."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from rich.cells import cell_len

from trainer.cli.main import cli

NOW = "2026-11-29T10:00:00+00:00"


@pytest.mark.parametrize("columns", [60, 80])
@pytest.mark.parametrize(
    ("command", "line"),
    [("status", r"░ +[\d,]+/[\d,]+"), ("stats", r"░ +[\d,]+/[\d,]+ +\d+% +\d+/\d+ topics")],
)
def test_lines_fit_the_terminal_and_bars_line_up(
    database: str, command: str, line: str, columns: int
) -> None:
    env = {"TRAINER_NOW": NOW, "COLUMNS": str(columns)}
    result = CliRunner().invoke(cli, [command], env=env)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert max(cell_len(line.rstrip()) for line in lines) <= columns
    bars = [text for text in lines if "░░░░" in text]
    assert len(bars) >= 11
    assert [text for text in bars if not re.search(line, text)] == []  # none wrapped
    assert len({cell_len(text[: text.index("░")]) for text in bars}) == 1
    assert [text for text in lines if text.startswith("(")] == []  # wrapped under its label
