"""Untrusted text never reaches the terminal raw: escape sequences, control characters and
bidirectional overrides in card text, deck and file names are shown as placeholders."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from trainer.cli.main import cli
from trainer.visible import visible

NOW = "2026-11-29T10:00:00+00:00"

#: An OSC title, a clear screen, a colour, a right-to-left override and isolate, an 8-bit CSI,
#: DEL, a carriage return and rich markup.
NASTY = "\x1b]0;owned\x07\x1b[2J\x1b[31m\u202eevil\u2066\u200f\x9b31m\x7f\rx[bold]b[/bold]"

#: What may never be printed: C0 but tab and newline, DEL, C1, bidi controls.
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=input, env={"TRAINER_NOW": NOW})
    return result.exit_code, result.stdout, result.stderr


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
    tmp_path: Path, db_path: Path
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
