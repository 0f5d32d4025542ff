"""The README stays true: its example commands run and print what it says, its commands and
options exist, its settings table matches the code."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import click
from click.testing import CliRunner

from trainer.cli.main import cli
from trainer.content.builtin_sync import read_builtin
from trainer.store.resources import DECKS_DIR
from trainer.store.settings import PARSERS, Settings, format_setting

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()
NOW = "2026-11-29T10:00:00+00:00"
#: Cards of the built-in decks; the README's examples study 4 of them before `trainer stats`.
BUILTIN = sum(len(deck.cards) for deck in read_builtin(DECKS_DIR)[1])


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
        group, words = cli.commands[command], rest.split()
        if isinstance(group, click.Group) and words and words[0] in group.commands:
            command = f"{command} {words[0]}"  # a subcommand's options are in its own help
        help_text = CliRunner().invoke(cli, [*command.split(), "--help"]).output
        for option in re.findall(r"--[a-z-]+", rest):
            assert option in help_text, snippet
    assert seen == set(cli.commands)


def test_the_settings_table_lists_every_setting_with_its_default() -> None:
    rows = dict(re.findall(r"^\| ([a-z_ /]+) \| (.+) \|$", README, re.MULTILINE))
    defaults = Settings()
    for field in fields(Settings):
        if field.name not in PARSERS:  # the fitted parameters: set by trainer optimize only
            continue
        row = next((k for k in rows if field.name in k.split(" / ")), None)
        assert row is not None, field.name
        if field.name not in ("timezone", "easy_days"):  # their defaults are said in words
            position = row.split(" / ").index(field.name)
            shown = rows[row].split(" / ")[position]
            assert shown == format_setting(getattr(defaults, field.name)), field.name


def _example_commands() -> list[str]:
    """Every concrete ``trainer`` command line of the README (fenced blocks and inline spans), in
    the order it shows them, without comments; spans with placeholders (KEY, NAME, N) are left
    out."""
    commands: list[str] = []
    for block, span in re.findall(r"```sh\n(.*?)```|`([^`\n]+)`", README, re.DOTALL):
        for line in (block or span).splitlines():
            command = line.split("  #")[0].strip()
            if re.match(r"(printf .* \| )?trainer ", command) and not re.search(
                r"\b[A-Z]+\b", command.replace('"Databases"', "")
            ):
                commands.append(command)
    return commands


#: Each README example in README order, with the file it writes (None: standard output) and what
#: that holds. They run in this order on one database: the scripted review comes before the
#: second status.
EXAMPLES: list[tuple[str, str | None, tuple[str, ...]]] = [
    ("trainer review", None, ("Data Structures New 20 ", "Reviewed 0 cards", "due tomorrow: 0.")),
    ("trainer status", None, ("1. Basic Computer Science Concepts", "Today (2026-11-29): 0 ")),
    ("trainer review", None, ("Reviewed 0 cards", "Left for today: 20.")),
    ("trainer status --json", None, ('"reviewed": 0', '"next_topic": "data-structures"')),
    ("trainer review --new-cards 10", None, ("Data Structures New 10 ", "Reviewed 0 cards")),
    ("printf ' 3 3 1 4q' | trainer review", None, ("Reviewed 4 cards", "Again 25%.")),
    ("trainer review --query 'prop:r<0.7'", None, ("No cards match.",)),
    (
        "trainer review --query 'is:review prop:due>0'",
        None,
        ("Data Structures New 0 Learning 0 Review 1", "Reviewed 0 cards"),
    ),
    ("trainer review --query 'rated:7:1'", None, ("New 0 Learning 1 Review 0", "Reviewed 0")),
    (
        "trainer review --query topic:data-structures --no-reschedule",
        None,
        ("New 16 Learning 3 Review 1", "Nothing rescheduled (--no-reschedule): no review log"),
    ),
    ("trainer status", None, ("Today (2026-11-29): 4 reviewed",)),
    ("trainer status --json", None, ('"reviewed": 4, "new_seen": 4, "due": 3 }',)),
    ("trainer stats", None, ("Mastery learner day 2026-11-29", "Roadmap 0 of 57 topics done")),
    ("trainer report", None, ("# Mastery report", "- [ ] Data Structures")),
    ("trainer report -o progress.html", "progress.html", ("<!DOCTYPE html>", "Data Structures")),
    ("trainer report --format json -o progress.json", "progress.json", ('"schema_version": 1',)),
    (
        'trainer report --format csv --section "Databases" > databases.csv',
        "databases.csv",
        ("section_slug,section,topic_slug", "databases,Databases,relational-databases,"),
    ),
    ("trainer stats", None, (f"Cards {BUILTIN - 4:,} new, 3 learning, 1 review, 0 mastered (0%)",)),
    ("trainer import spanish.csv --deck Spanish", None, ('-> deck "Spanish": 2 added,',)),
    ("trainer import notes.md --topic data-structures", None, ('(data-structures)": 2 added,',)),
    ("trainer import python.apkg --with-history", None, ("6 added", "; 11 review-log rows")),
    (
        "trainer import *.md --dry-run --json",
        None,
        ('"path": "notes.md", "deck": "notes", "added": 2,',),
    ),
    (
        "trainer decks",
        None,
        ("Extra decks Python 0 0 6 0 6 0", "Basics 0 0 6 0 6 0", "Spanish 2 0 0 0 2 0"),
    ),
    ("trainer decks --json", None, ('"slug": "python-basics"', '"parent": "python"')),
    (
        "trainer decks rename Spanish Languages::Spanish",
        None,
        ("Spanish -> Languages::Spanish",),
    ),
    (
        "trainer decks delete Languages::Spanish --yes",
        None,
        ("Deleted deck 'Languages::Spanish': 2 cards, 0 review logs.",),
    ),
    ("trainer cards 'prop:r<0.8'", None, ("What does `len([])` return?", "6 cards")),
    (
        "trainer cards deck:Python is:review",
        None,
        ("Python::Basics What does `len([])` return? review 2026-12-29 2.3d 0.42 0", "6 cards"),
    ),
    (
        "trainer cards 'is:leech or rated:7:1' --limit 20",
        None,
        ("data-structures A Python list can hold an `int`, a 10 M… learning", "1 card"),
    ),
    (
        "trainer cards topic:data-structures --json",
        None,
        ('"topic": "data-structures"', '"state": "new"'),
    ),
    ("trainer suspend 12 15", None, ("Suspended 2 cards.",)),
    ("trainer suspend 'deck:Python is:leech'", None, ("No cards match.",)),
    ("trainer suspend --topic django-signals", None, ("Suspended 20 cards.",)),
    ("trainer unsuspend is:suspended", None, ("Unsuspended 22 cards.",)),
    ("trainer reset --topic data-structures --yes", None, ("Reset 4 cards to new;",)),
    ("trainer reset 'deck:Python is:leech'", None, ("No cards match.",)),
    ("trainer edit 1234", None, ("Edited card 1234.",)),
    ("trainer edit amortised topic:data-structures", None, ("Edited card 50.",)),
    ("trainer edit 1234 --revert", None, ("Reverted card 1234 to the shipped text.",)),
    ("trainer cards is:edited", None, ("50 data-structures", "1 card")),
    ("trainer cards is:leech", None, ("No cards match.",)),
    ("trainer config leech_lapses 6", None, ("leech_lapses = 6",)),
    ("trainer config leech_action tag", None, ("leech_action = tag",)),
    ("trainer cards is:leech", None, ("No cards match.",)),
    ("trainer config", None, ("desired_retention = 0.9 #", "fuzz = true #")),
    ("trainer config learning_steps_minutes 1 10", None, ("learning_steps_minutes = 1 10",)),
    ("trainer --learner ann review", None, ("Data Structures New 26 ", "Reviewed 0 cards")),
    ("trainer learners", None, ("ann 0 0 -", "* tester 6 15 2026-11-29")),
    ("trainer learners --json", None, ('"name": "ann"', '"cards_studied": 0')),
    ("trainer report --cohort -o cohort.html", "cohort.html", ("Cohort report", "<th>ann</th>")),
    ("trainer report --cohort", None, ("# Cohort report", "| ann | 0 of 57 | 0 | 0 |")),
    (
        "trainer optimize --reset",
        None,
        ("Back to the default FSRS parameters; memory state of",),
    ),
    ("trainer check", None, ("No problems found.",)),
    ("trainer backup", None, ("Backed up to", "backups/trainer-20261129T100000Z-manual.db.zst")),
    ("trainer backup --list", None, ("2026-11-29 10:00 daily", "10:00 import", "10:00 manual")),
    (
        "trainer restore backups/trainer-20261129T100000Z-manual.db.zst --yes",
        None,
        ("Restored backups/trainer-20261129T100000Z-manual.db.zst into",),
    ),
    ("trainer lint decks/", None, ("0 errors",)),
]


def _shell(command: str, folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``command`` run by bash in ``folder``, without input."""
    return subprocess.run(
        ["bash", "-c", command],
        cwd=folder,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_readme_examples_run_and_print_what_it_says(tmp_path: Path) -> None:
    """Each example runs in a shell, in README order, on a fresh database in a folder holding
    the files the examples name, with the clock fixed by TRAINER_NOW."""
    assert _example_commands() == [command for command, _, _ in EXAMPLES]
    (tmp_path / "spanish.csv").write_text("hola,hello\nadiós,goodbye\n")
    (tmp_path / "notes.md").write_text(
        "Q: What does a dict map?\nA: Keys to values.\n\n"
        "Q: Since when is a dict ordered?\nA: Python 3.7.\n"
    )
    shutil.copy(ROOT / "tests" / "fixtures" / "anki" / "current.apkg", tmp_path / "python.apkg")
    shutil.copytree(DECKS_DIR, tmp_path / "decks")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "TRAINER_DB": str(tmp_path / "trainer.db"),
        "TRAINER_NOW": NOW,
        # the editor trainer edit opens: it adds a tag to the card
        "EDITOR": "sed -i 's/^tags = \\[/tags = [\"mine\", /'",
    }
    for command, written, fragments in EXAMPLES:
        result = _shell(command, tmp_path, env)
        assert (result.returncode, result.stderr) == (0, ""), command
        output = result.stdout if written is None else (tmp_path / written).read_text()
        flat = " ".join(output.replace("│", " ").split())
        for fragment in fragments:
            assert fragment in flat, (command, fragment, output)
    # the imports landed where the README says; the dry run wrote nothing
    status = json.loads(_shell("trainer status --json", tmp_path, env).stdout)
    titles = [deck["title"] for deck in status["extra_decks"]]
    # an Anki deck with its parent; Spanish was moved under Languages, then deleted
    assert titles == ["Languages", "Python", "Python::Basics"]
    topic = status["sections"][0]["topics"][0]
    shipped = sum(len(d.cards) for d in read_builtin(DECKS_DIR)[1] if d.topic == topic["slug"])
    assert (topic["slug"], topic["cards"]) == ("data-structures", shipped + 2)


def test_the_readme_says_how_to_run_trainer_after_make_review() -> None:
    recipe = subprocess.run(
        ["make", "-n", "-B", ".venv/.installed-run"], cwd=ROOT, capture_output=True, text=True
    ).stdout.splitlines()
    installs = [n for n, line in enumerate(recipe) if "pip install --quiet -e ." in line]
    assert installs and recipe[installs[0] - 1].startswith('echo "Installing trainer')
    assert "`.venv/bin/trainer review`" in README and "pipx install ." in README


def test_the_readme_completion_lines_give_a_completion_script() -> None:
    shells = re.findall(r"_TRAINER_COMPLETE=(\w+)_source trainer", README)
    assert shells == ["bash", "zsh", "fish"]
    for shell in shells:
        script = subprocess.run(
            [sys.executable, "-m", "trainer"],
            env={**os.environ, "_TRAINER_COMPLETE": f"{shell}_source"},
            capture_output=True,
            text=True,
        ).stdout
        assert "_TRAINER_COMPLETE" in script and f"{shell}_complete" in script, shell
