"""The README stays true: its commands and options exist, its settings table matches the code."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from click.testing import CliRunner

from trainer.cli.main import cli
from trainer.store.settings import Settings, format_setting

README = (Path(__file__).parents[1] / "README.md").read_text()


def _code_snippets() -> list[str]:
    """Fenced shell blocks' lines and inline code spans of the README."""
    blocks = re.findall(r"```sh\n(.*?)```", README, re.DOTALL)
    lines = [line.split("#")[0] for block in blocks for line in block.splitlines()]
    return lines + re.findall(r"`([^`\n]+)`", README)


def test_every_command_and_option_in_the_readme_exists() -> None:
    seen = set()
    for snippet in _code_snippets():
        match = re.search(r"\btrainer ([a-z]+)(.*)", snippet)
        if match is None:
            continue
        command, rest = match.groups()
        assert command in cli.commands, snippet
        seen.add(command)
        help_text = CliRunner().invoke(cli, [command, "--help"]).output
        for option in re.findall(r"--[a-z-]+", rest):
            assert option in help_text, snippet
    assert seen == set(cli.commands)


def test_the_settings_table_lists_every_setting_with_its_default() -> None:
    rows = dict(re.findall(r"^\| ([a-z_ /]+) \| (.+) \|$", README, re.MULTILINE))
    defaults = Settings()
    for field in fields(Settings):
        row = next((k for k in rows if field.name in k.split(" / ")), None)
        assert row is not None, field.name
        if field.name != "timezone":
            position = row.split(" / ").index(field.name)
            shown = rows[row].split(" / ")[position]
            assert shown == format_setting(getattr(defaults, field.name)), field.name
