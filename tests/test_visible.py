"""Untrusted text never reaches the terminal raw: escape sequences, control characters and
bidirectional overrides in card text, deck and file names are shown as placeholders."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import cli_run as run
from trainer.visible import visible

NOW = "2026-11-29T10:00:00+00:00"

#: An OSC title, a clear screen, a colour, a right-to-left override and isolate, an 8-bit CSI,
#: DEL, a carriage return and rich markup.
NASTY = "\x1b]0;owned\x07\x1b[2J\x1b[31m\u202eevil\u2066\u200f\x9b31m\x7f\rx[bold]b[/bold]"

#: What may never be printed: C0 but tab and newline, DEL, C1, bidi controls.
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def test_placeholders_name_each_character() -> None:
    assert visible("a\x1b[2Jb") == "a␛[2Jb"
    assert visible("\u202eabc\u2069") == "<U+202E>abc<U+2069>"
    assert visible("\x9b1m\x7f\x00\r") == "<U+009B>1m␡␀␍"
    assert visible("tab\there\r\nnext line é 日本") == "tab\there\nnext line é 日本"


@given(st.text())
def test_no_text_keeps_a_character_a_terminal_acts_on(text: str) -> None:
    shown = visible(text)
    assert FORBIDDEN.search(shown) is None
    assert visible(shown) == shown
    assert shown.replace("\n", "") == visible(text.replace("\r\n", "").replace("\n", ""))


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Zl", "Zp"))))
def test_ordinary_text_is_unchanged(text: str) -> None:
    assert visible(text) == text


def test_a_deck_full_of_escape_sequences_leaves_the_terminal_untouched(
    tmp_path: Path, database: str
) -> None:
    native = tmp_path / "evil.toml"
    native.write_text(
        f'name = {json.dumps("[bold]N" + NASTY)}\n\n[[card]]\nid = "a"\n'
        f"front = {json.dumps('F' + NASTY)}\nback = {json.dumps('B' + NASTY)}\n"
    )
    delimited = tmp_path / "c\x1b[31m\u202e.csv"
    line = NASTY.replace("\r", "")
    delimited.write_text(f"#deck:C{line}\nfront{line},back{line}\n")
    broken = tmp_path / "bad\x1b[2J\u202e.toml"
    broken.write_text("name = \n")
    outputs = [run("import", str(native), str(delimited), str(broken))]
    outputs += [run("import", "--dry-run", str(native), str(delimited))]
    outputs += [run(command) for command in ("status", "stats", "decks")]
    outputs += [run("status", "--deck", "[bold]N" + NASTY)]
    outputs += [run("review", "--deck", "[bold]N" + NASTY, input="  1q")]
    outputs += [run("review", "--deck", "C" + line, input=" 1q")]
    printed = "".join(out + err for _code, out, err in outputs)
    assert FORBIDDEN.search(printed) is None
    for shown in ("F␛]0;owned␇␛[2J", "B␛]0;owned␇", "front␛]0", ",back␛"):
        assert printed.count(shown) >= 1, shown
    assert "[bold]N␛]0;owned␇␛[2J␛[31m<U+202E>evil<U+2066><U+200F><U+009B>31m␡␍x[bold]b" in printed
    for status_or_review in (outputs[5][1], outputs[6][1]):  # rich reads no markup in names
        assert status_or_review.count("[bold]N␛]0;owned␇") >= 1
    assert "c␛[31m<U+202E>.csv" in printed and "bad␛[2J<U+202E>.toml" in printed


def _on_terminal(*args: str) -> str:
    """What ``trainer ARGS`` writes to a terminal (a pseudo-terminal; its ``\\r\\n`` line ends
    read as ``\\n``)."""
    leader, follower = pty.openpty()
    command = [sys.executable, "-m", "trainer", *args]
    env = {**os.environ, "TRAINER_NOW": NOW}
    process = subprocess.Popen(command, stdin=follower, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    output, deadline = b"", time.monotonic() + 30
    while time.monotonic() < deadline:
        if select.select([leader], [], [], 0.5)[0]:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the command has ended and closed the terminal
                break
            if not chunk:
                break
            output += chunk
    os.close(leader)
    assert process.wait(timeout=30) == 0, output
    return output.decode().replace("\r\n", "\n")


def _nasty_deck(tmp_path: Path) -> str:
    """Import a deck whose name holds :data:`NASTY`; its name."""
    name = "N" + NASTY
    deck = tmp_path / "evil.toml"
    deck.write_text(f'name = {json.dumps(name)}\n\n[[card]]\nid = "a"\nfront = "F"\nback = "B"\n')
    assert run("import", str(deck))[0] == 0
    return name


@pytest.mark.parametrize("fmt", ["markdown", "json", "csv"])
def test_a_report_on_a_terminal_shows_names_as_placeholders(
    tmp_path: Path, db_path: Path, fmt: str
) -> None:
    name = _nasty_deck(tmp_path)
    shown = _on_terminal("report", "--format", fmt, "--deck", name)
    assert FORBIDDEN.search(shown) is None
    assert "owned␇" in shown or "owned\\u0007" in shown


def test_a_report_to_a_file_or_pipe_is_escaped_by_its_format(tmp_path: Path, db_path: Path) -> None:
    name = _nasty_deck(tmp_path)
    code, out, _err = run("report", "--format", "json", "--deck", name)
    assert code == 0 and FORBIDDEN.search(out) is None  # JSON escapes: \u001b, \u202e
    assert json.loads(out)["extra_decks"][0]["title"] == name  # and reads back the same
    code, out, _err = run("report", "--format", "csv", "--deck", name)
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert code == 0 and rows[0]["topic"] == name  # CSV quotes and keeps the name as it is
    code, out, _err = run("report", "--deck", name)
    assert code == 0 and "owned\x07" in out  # Markdown written as rendered, not as placeholders
