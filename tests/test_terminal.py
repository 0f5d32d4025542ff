"""The terminal review screen: keys, typed answers, interval labels."""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import pty
import re
import resource
import select as fds
import sqlite3
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pyte
import pytest
from rich.console import Console
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from test_decks import OUTPUT_CARDS

from conftest import LEARNER, NOW, engine_of
from trainer.cli.review_screen import (
    CardText,
    KeyReader,
    ReviewScreen,
    _diff,
    answer_matches,
    format_interval,
    without_leading_answer,
)
from trainer.content.builtin_sync import upsert_cards, upsert_roadmap
from trainer.content.parser import CardSpec, SectionSpec, TopicSpec, parse_deck
from trainer.scheduling.adapter import Outcome
from trainer.scheduling.days import DayClock
from trainer.store.memory import Memory
from trainer.store.models import Card, CardMemory, Deck, ReviewLog
from trainer.store.settings import Settings
from trainer.study.queue import Focus
from trainer.study.session import ReviewSession

TYPED = parse_deck(
    '[[card]]\nid = "created"\nkind = "typed"\nfront = "Status code for a new resource?"\n'
    'answer = "201"\naccept = ["201 Created"]\n',
    "t.toml",
).cards


def _screen(
    factory: sessionmaker[Session], clock: DayClock, keys: str, cards: list[CardSpec] | None = None
) -> tuple[ReviewScreen, io.StringIO]:
    with factory.begin() as db:
        topics = upsert_roadmap(db, (SectionSpec("s", "S", (TopicSpec("t", "T", (), 1),)),))
        deck = Deck(name="T", slug="t", source="builtin", topic_id=topics["t"].id)
        db.add(deck)
        db.flush()
        upsert_cards(db, deck, cards or [*TYPED, CardSpec("plain", "basic", "Q?", "A.")])
    session = ReviewSession(engine_of(factory), LEARNER, Settings(), clock, Focus(), NOW)
    out = io.StringIO()
    screen = ReviewScreen(
        session, Console(file=out, width=80), KeyReader(io.StringIO(keys)), lambda: NOW
    )
    return screen, out


def test_a_typed_answer_is_compared_then_rated(
    factory: sessionmaker[Session], clock: DayClock
) -> None:
    screen, out = _screen(factory, clock, "201 created\n3 4q")
    summary = screen.run()
    text = out.getvalue()
    assert "✓ 201 created" in text
    assert summary.reviewed == 2
    with factory() as db:
        assert [r.rating for r in db.scalars(select(ReviewLog).order_by(ReviewLog.id))] == [3, 4]


def test_a_wrong_typed_answer_shows_the_difference(
    factory: sessionmaker[Session], clock: DayClock
) -> None:
    screen, out = _screen(factory, clock, "202\n1q")
    screen.run()
    text = out.getvalue()
    lines = [line.removeprefix("│ ").rstrip(" │") for line in text.splitlines()]
    assert "✗ you typed: 202" in lines
    assert lines[lines.index("✗ you typed: 202") + 1 :][:2] == [
        "  expected:  201",
        "               ^",
    ]
    assert "Again" in text


def test_a_wrong_answer_is_aligned_character_by_character() -> None:
    lines = [line.plain for line in _diff("HTTP/1.O", "HTTP/1.0 OK")]
    assert lines == ["you typed: HTTP/1.··O·", "expected:  HTTP/1.0 OK", "                  ^^ ^"]
    lines = [line.plain for line in _diff("get", "GET")]
    assert lines == ["you typed: get", "expected:  GET", "           ^^^"]


@pytest.mark.parametrize(
    ("keys", "reviewed", "buried"), [("/s\n 3q", 1, 1), ("/u\n201\n3q", 1, 0), ("/q\n", 0, 0)]
)
def test_a_typed_card_still_buries_undoes_and_quits(
    factory: sessionmaker[Session], clock: DayClock, keys: str, reviewed: int, buried: int
) -> None:
    screen, out = _screen(factory, clock, keys)
    summary = screen.run()
    assert "a line of /s buries, /! suspends, /e edits, /u undoes, /q quits" in out.getvalue()
    assert (summary.reviewed, summary.buried) == (reviewed, buried)


def test_end_of_input_quits_with_a_summary(factory: sessionmaker[Session], clock: DayClock) -> None:
    screen, out = _screen(factory, clock, "")
    assert screen.run().reviewed == 0
    assert "Reviewed 0 cards" in out.getvalue()
    with factory() as db:
        assert db.scalar(select(func.count()).select_from(Card)) == 2
        assert db.scalars(select(CardMemory.state)).all() == []  # both still new


def test_answer_matching_ignores_case_and_space() -> None:
    assert answer_matches("  GET ", ("get",))
    assert not answer_matches("POST", ("get", "head"))


def test_interval_labels() -> None:
    def outcome(interval: int, due_in: timedelta) -> Outcome:
        return Outcome(Memory(due_at=NOW + due_in), interval, None)

    assert format_interval(outcome(0, timedelta(seconds=30)), NOW) == "<1m"
    assert format_interval(outcome(0, timedelta(minutes=10)), NOW) == "10m"
    assert format_interval(outcome(0, timedelta(hours=2)), NOW) == "2h"
    assert format_interval(outcome(3, timedelta(days=3)), NOW) == "3d"
    assert format_interval(outcome(45, timedelta(days=45)), NOW) == "1.5mo"
    assert format_interval(outcome(730, timedelta(days=730)), NOW) == "2y"


CHOICE = parse_deck(
    '[[card]]\nid = "mutable"\nkind = "choice"\nfront = "Which is mutable?"\n'
    'choices = ["tuple", "list", "str"]\nanswer = "list"\n',
    "c.toml",
).cards


def _ratings(factory: sessionmaker[Session]) -> list[int]:
    with factory() as db:
        return [r.rating for r in db.scalars(select(ReviewLog).order_by(ReviewLog.id))]


@pytest.mark.parametrize(
    ("keys", "shown", "rating"),
    [
        ("B q", ("[a-c] choose", "✓ b", "[space] Good"), 3),
        ("c q", ("✗ you chose: c", "expected: b", "[space] Again"), 1),
    ],
)
def test_a_choice_card_takes_the_letter_marks_it_and_space_takes_the_suggested_rating(
    factory: sessionmaker[Session], clock: DayClock, keys: str, shown: tuple[str, ...], rating: int
) -> None:
    screen, out = _screen(factory, clock, keys, list(CHOICE))
    screen.run()
    text = out.getvalue()
    assert [part for part in shown if part not in text] == []
    assert _ratings(factory) == [rating]


def test_on_a_choice_card_without_an_option_e_e_edits_the_card(
    factory: sessionmaker[Session], clock: DayClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDITOR", "true")  # saves nothing
    screen, out = _screen(factory, clock, "e a4q", list(CHOICE))
    screen.run()
    assert "No change." in out.getvalue() and "you chose" not in out.getvalue()
    assert _ratings(factory) == [4]


def test_a_choice_card_can_still_be_rated_by_its_keys(
    factory: sessionmaker[Session], clock: DayClock
) -> None:
    screen, _out = _screen(factory, clock, "a4q", list(CHOICE))
    screen.run()
    assert _ratings(factory) == [4]


def test_a_typed_answer_suggests_its_rating(
    factory: sessionmaker[Session], clock: DayClock
) -> None:
    screen, out = _screen(factory, clock, "201\n q")
    screen.run()
    assert "[space] Good" in out.getvalue()
    assert _ratings(factory) == [3]


class PtyReview:
    """``trainer review ARGS`` in a pseudo-terminal ``rows`` x ``columns``, its output drawn by
    pyte (a VT100 emulator), so a test reads the screen as the learner sees it."""

    def __init__(self, env: dict[str, str], args: list[str], rows: int, columns: int) -> None:
        self.leader, follower = pty.openpty()
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        env = {k: v for k, v in env.items() if k not in ("COLUMNS", "LINES")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "trainer", "review", *args],
            stdin=follower,
            stdout=follower,
            stderr=follower,
            env={**env, "TERM": "xterm-256color"},
        )
        os.close(follower)
        self.screen = pyte.Screen(columns, rows)
        self.stream = pyte.ByteStream(self.screen)

    def lines(self) -> list[str]:
        """The screen's rows, trailing spaces cut."""
        return [row.rstrip() for row in self.screen.display]

    def press(self, keys: bytes, until: Callable[[list[str]], bool]) -> list[str]:
        """Type ``keys``, then read the output until the screen satisfies ``until``; the screen.
        Fails after 20 s without it."""
        os.write(self.leader, keys)
        deadline = time.monotonic() + 20
        while not until(self.lines()):
            assert time.monotonic() < deadline, "\n".join(self.lines())
            if fds.select([self.leader], [], [], 0.2)[0]:
                with contextlib.suppress(OSError):  # EIO once the review has closed the pty
                    self.stream.feed(os.read(self.leader, 65536))
        return self.lines()

    def showing(self, text: str) -> Callable[[list[str]], bool]:
        return lambda lines: any(text in line for line in lines)

    def finish(self) -> int:
        """Wait for the review to end; its exit status."""
        try:
            return self.process.wait(timeout=20)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            os.close(self.leader)


def _deck_env(tmp_path: Path, deck_text: str) -> dict[str, str]:
    """An environment whose database holds the deck ``deck_text`` (imported as ``deck``)."""
    deck = tmp_path / "deck.toml"
    deck.write_text(deck_text)
    env = {**os.environ, "TRAINER_DB": str(tmp_path / "x.db"), "TRAINER_NOW": NOW.isoformat()}
    command = [sys.executable, "-m", "trainer", "import", str(deck)]
    subprocess.run(command, env=env, check=True, capture_output=True)
    return env


def test_a_typed_answer_is_edited_with_arrow_keys_on_a_terminal(tmp_path: Path) -> None:
    """In a pseudo-terminal, ``21``, Left, ``0``, End, Enter is the answer ``201``; the ``q``
    typed ahead with it is read as the next key (raw mode is entered without discarding it)."""
    env = _deck_env(
        tmp_path, '[[card]]\nid = "c"\nkind = "typed"\nfront = "Created?"\nanswer = "201"\n'
    )
    review = PtyReview(env, ["--deck", "deck"], 24, 80)
    review.press(b"", review.showing("Your answer:"))
    lines = review.press(b"21\x1b[D0\x1b[F\rq", review.showing("Session"))  # q ends it
    assert review.finish() == 0
    assert "✓ 201" in "\n".join(lines)  # judged right: the answer read was 201


LONG_CARD = (
    '[[card]]\nid = "long"\nfront = """\n'
    + "\n".join(f"front line {n}" for n in range(1, 201))
    + '\n"""\nback = """\n'
    + "\n".join(f"back line {n}" for n in range(1, 201))
    + '\n"""\n'
)
SHOWN = re.compile(r"lines (\d+)-(\d+) of (\d+)   ")
PROMPT = "[space] show answer  [s] bury  [e] edit  [u] undo  [q] quit"
RATINGS = " 1  Again "


def _body_line(number: int) -> str:
    """Body line ``number`` (from 1) of the long card answered: 200 front lines, then the answer
    in its frame (top border, 200 back lines, bottom border), frame characters left out."""
    if number <= 200:
        return f"front line {number}"
    return "" if number in (201, 402) else f"back line {number - 201}"


@pytest.mark.parametrize(("rows", "columns"), [(24, 80), (12, 60)])
def test_a_card_longer_than_the_terminal_scrolls_under_its_header_and_keys(
    tmp_path: Path, rows: int, columns: int
) -> None:
    """A 200-line front and back in a small terminal: every screen shows the header and rule
    on top, the keys at the bottom, and between them the body lines it says it shows."""
    review = PtyReview(_deck_env(tmp_path, LONG_CARD), ["--deck", "deck"], rows, columns)
    captures: list[tuple[int, int, int]] = []

    def screen(
        keys: bytes, footer: str, at: int | None = None, after: int | None = None
    ) -> tuple[int, int, int]:
        """Press ``keys``; once the screen shows ``footer`` and its first body line is ``at``
        (or after line ``after``), check it. Its first and last body line and their number."""

        def done(lines: list[str]) -> bool:
            match = SHOWN.match(lines[-3])
            if match is None or not lines[-2].startswith(footer):
                return False
            return int(match[1]) == at if at is not None else int(match[1]) > (after or 0)

        lines = review.press(keys, done)
        assert lines[0].startswith("deck") and lines[0].endswith("New 1  Learning 0  Review 0")
        assert lines[1] == "─" * columns
        assert lines[-1] == ""  # the cursor's row, so the terminal never scrolls
        match = SHOWN.match(lines[-3])
        assert match is not None
        first, last, total = (int(n) for n in match.groups())
        body = [line.strip("│╭╮╰╯─ ") for line in lines[2:-3]]
        assert body == [_body_line(n) for n in range(first, last + 1)]
        assert PROMPT not in lines[:-2]  # the prompt is replaced, never left above
        captures.append((first, last, total))
        return first, last, total

    first, last, total = screen(b"", PROMPT, at=1)
    assert total == 200
    page = last - first + 1
    for key, step in ((b"j", 1), (b"\x1b[B", 1), (b"\x1b[6~", page), (b"k", -1)):
        first, last, total = screen(key, PROMPT, at=first + step)
    first, last, total = screen(b"\x1b[5~", PROMPT, at=first - page)
    first, last, total = screen(b"\x1b[5~", PROMPT, at=1)  # not above the top
    while last < total:
        first, last, total = screen(b"\x1b[6~", PROMPT, after=first)
    assert (first, last) == (200 - page + 1, 200)  # the last page is full

    first, last, total = screen(b" ", RATINGS)
    assert total == 402
    assert first <= 201 <= last  # the answer begins on screen
    assert not any(PROMPT in line for line in review.lines())
    page = last - first + 1
    while last < total:
        first, last, total = screen(b"\x1b[6~", RATINGS, after=first)
    first, last, total = screen(b"k", RATINGS, at=first - 1)
    assert len(captures) > 2 * 200 // page

    review.press(b"4", review.showing("Session"))
    assert review.finish() == 0


def _lines(renderable: object, width: int = 80) -> list[str]:
    """What ``renderable`` shows on a colourless terminal ``width`` columns wide, line by line."""
    out = io.StringIO()
    Console(file=out, width=width, color_system=None).print(renderable)
    return [line.rstrip() for line in out.getvalue().splitlines()]


def test_an_output_card_shows_its_code_and_output_without_padding_lines() -> None:
    card = parse_deck(
        '[[card]]\nid = "o"\nkind = "output"\ncode = """\nx = [1]\n\nprint(x * 2)\n"""\n'
        'output = "[1, 1]"\nback = "Repetition copies the references."\n',
        "o.toml",
    ).cards[0]
    assert _lines(CardText(card.front)) == [
        "What does this code print?",
        "",
        "x = [1]",
        "",
        "print(x * 2)",
    ]
    assert _lines(CardText(card.back)) == ["[1, 1]", "", "Repetition copies the references."]


@pytest.mark.parametrize("card", [c for _, c in OUTPUT_CARDS], ids=lambda c: c.key)
def test_every_builtin_output_card_shows_its_code_and_output_line_for_line(card: CardSpec) -> None:
    assert card.code is not None and card.output is not None
    front = _lines(CardText(card.front), width=200)
    code = [line.rstrip() for line in card.code.strip("\n").splitlines()]
    assert front[-len(code) - 1 :] == ["", *code]
    output = [line.rstrip() for line in card.output.rstrip("\n").splitlines()]
    back = _lines(CardText(card.back), width=200)
    assert back[: len(output)] == output
    assert back[len(output) : len(output) + 1] in ([], [""])  # then the explanation, if any


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("GET\nPOST\nPUT", ["GET", "POST", "PUT"]),  # a list without bullets
        (
            "`sort()` sorts the list in place and returns None.\n`sorted()` returns a new list.",
            [
                "`sort()` sorts the list in place and returns None.",
                "`sorted()` returns a new list.",
            ],
        ),
        (
            "A sentence the author wrapped in the deck file at\nabout fifty columns is one line.",
            ["A sentence the author wrapped in the deck file at about fifty columns is one line."],
        ),
        ("**bold** and\n*more*", ["bold and", "more"]),
    ],
)
def test_card_text_keeps_its_line_breaks_but_reflows_wrapped_prose(
    text: str, shown: list[str]
) -> None:
    assert _lines(CardText(text), width=100) == [line.replace("`", "") for line in shown]


def test_front_and_back_keep_their_lines_on_the_review_screen(
    factory: sessionmaker[Session], clock: DayClock
) -> None:
    card = CardSpec("lines", "basic", "Name the safe methods:\nthree of them", "GET\nHEAD\nOPTIONS")
    screen, out = _screen(factory, clock, " 3q", [card])
    screen.run()
    lines = [line.strip(" │") for line in out.getvalue().splitlines()]
    assert "Name the safe methods:" in lines
    assert lines[lines.index("Name the safe methods:") + 1] == "three of them"
    assert "GET" in lines
    assert lines[lines.index("GET") :][:3] == ["GET", "HEAD", "OPTIONS"]


def _panel(text: str) -> list[str]:
    """The lines inside the answer's frame."""
    lines = text.splitlines()
    top = next(i for i, line in enumerate(lines) if line.startswith("╭"))
    bottom = next(i for i, line in enumerate(lines) if i > top and line.startswith("╰"))
    return [line.strip("│").rstrip() for line in lines[top + 1 : bottom]]


TYPED_WITH_BACK = parse_deck(
    '[[card]]\nid = "created"\nkind = "typed"\nfront = "Status code for a new resource?"\n'
    'answer = "201"\naccept = ["201 Created"]\nback = "Sent with a Location header."\n',
    "t.toml",
).cards


@pytest.mark.parametrize(
    ("typed", "panel"),
    [
        ("202", [" ✗ you typed: 202", "   expected:  201", "                ^"]),
        ("201", [" ✓ 201"]),
        ("201 created", [" ✓ 201 created   the card's answer: 201"]),
    ],
)
def test_a_typed_card_shows_its_answer_once(
    factory: sessionmaker[Session], clock: DayClock, typed: str, panel: list[str]
) -> None:
    screen, out = _screen(factory, clock, f"{typed}\n1q", list(TYPED_WITH_BACK))
    screen.run()
    assert _panel(out.getvalue()) == [*panel, " Sent with a Location header."]


@pytest.mark.parametrize(
    ("back", "answer", "left"),
    [
        ("**201**\n\nSent with a Location header.", "201", "Sent with a Location header."),
        ("**2 \\* 3**", "2 * 3", ""),  # as imported type-in cards escape their answer
        ("201\nSent with a Location header.", "201", "201\nSent with a Location header."),
        ("**201** is the code.", "201", "**201** is the code."),
        ("Sent with a Location header.", "201", "Sent with a Location header."),
    ],
)
def test_a_typed_cards_back_loses_only_a_first_paragraph_that_is_the_answer(
    back: str, answer: str, left: str
) -> None:
    assert without_leading_answer(back, answer) == left


def test_an_io_error_on_a_rating_ends_the_review_in_one_line_and_loses_nothing(
    tmp_path: Path,
) -> None:
    """A real I/O error: once the first rating is saved, the running review may write no byte
    to any file (``RLIMIT_FSIZE`` 0, set on the process from outside; Python ignores the
    ``SIGXFSZ`` that comes with it), so SQLite's next write fails with ``SQLITE_IOERR_WRITE``,
    as with a failing disk. Root, whom permissions do not stop, gets it too."""
    cards = "".join(f'[[card]]\nid = "c{n}"\nfront = "Q{n}?"\nback = "A{n}."\n\n' for n in (1, 2))
    env = _deck_env(tmp_path, cards)
    review = PtyReview(env, ["--deck", "deck"], 24, 250)  # the error's path on one line
    review.press(b"", review.showing("Q1?"))
    review.press(b" ", review.showing(RATINGS))
    review.press(b"3", review.showing("Q2?"))
    resource.prlimit(review.process.pid, resource.RLIMIT_FSIZE, (0, 0))
    review.press(b" ", review.showing(RATINGS))
    lines = review.press(b"3", review.showing("Error:"))
    assert review.finish() == 1
    database = tmp_path / "x.db"
    assert [line for line in lines if "Error" in line] == [
        f"Error: database {database}: disk I/O error"
    ]
    with sqlite3.connect(database) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT rating FROM review_log").fetchall() == [(3,)]
        studied = "SELECT key FROM card JOIN card_memory ON card_id = card.id WHERE state != 0"
        assert conn.execute(studied).fetchall() == [("c1",)]


def test_an_output_card_on_a_terminal_shows_exactly_its_code_and_output(tmp_path: Path) -> None:
    """The screens of an output card, captured as a 60x15 terminal shows them."""
    deck = (
        '[[card]]\nid = "o"\nkind = "output"\ncode = """\nx = [1]\n\nprint(x * 2)\n"""\n'
        'output = "[1, 1]"\nback = "Repetition copies the references."\n'
    )
    review = PtyReview(_deck_env(tmp_path, deck), ["--deck", "deck"], 15, 60)
    header = "deck".ljust(33) + "New 1  Learning 0  Review 0"
    card = [header, "─" * 60, "What does this code print?", "", "x = [1]", "", "print(x * 2)"]
    front = review.press(b"", review.showing(PROMPT))
    assert front == [*card, PROMPT, *[""] * 7]
    back = review.press(b" ", review.showing(RATINGS))
    frame = [
        "╭" + "─" * 58 + "╮",
        "│ [1, 1]".ljust(59) + "│",
        "│".ljust(59) + "│",
        "│ Repetition copies the references.".ljust(59) + "│",
        "╰" + "─" * 58 + "╯",
    ]
    assert back[: len(card) + len(frame)] == [*card, *frame]
    assert back[len(card) + len(frame)].startswith(RATINGS)
    assert back[len(card) + len(frame) + 1 :] == [""] * 2
    review.press(b"4", review.showing("Session"))
    assert review.finish() == 0


def test_a_narrow_terminal_keeps_the_header_when_the_scroll_line_wraps(tmp_path: Path) -> None:
    """At 40 columns the line naming the lines shown and the scroll keys takes two rows; the
    body gives them up, so the screen never overflows and scrolls the header away."""
    review = PtyReview(_deck_env(tmp_path, LONG_CARD), ["--deck", "deck"], 12, 40)
    for keys, shown in ((b"", "lines 1-"), (b"j", "lines 2-"), (b" ", "Again")):
        lines = review.press(keys, review.showing(shown))
        assert lines[0].startswith("deck") and lines[1] == "─" * 40, lines
        assert lines[-1] == "", lines
    review.press(b"4", review.showing("Session"))
    assert review.finish() == 0
