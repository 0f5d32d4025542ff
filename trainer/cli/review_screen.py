"""The review session in a terminal: keys in, rendered cards out.

Keys: Space or Enter shows the answer; 1-4 rate Again/Hard/Good/Easy; ``u`` undoes the last
rating, bury or suspension; ``s`` buries the card until tomorrow; ``!`` suspends it (never shown
until ``trainer unsuspend``); ``q``, Ctrl-C or end of input quits.
On a choice card ``a``-``f`` picks an option; after a typed answer or a choice, which are
marked right or wrong, Space or Enter takes the suggested rating (Good or Again). On a
terminal each key is one keypress, a card longer than the screen scrolls under its header
with ``j``/``k`` or the arrow keys and PgDn/PgUp, and each card is drawn as a page anew;
otherwise keys are read as characters from stdin as they arrive, newlines ignored (a typed
card's answer is read up to the end of its line), and the screen is printed as a log.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import select
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, TextIO

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.markdown import CodeBlock, Markdown, MarkdownElement
from rich.panel import Panel
from rich.rule import Rule
from rich.segment import Segment, Segments
from rich.style import Style
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from trainer.cli.output import echo, edit_in_editor
from trainer.errors import TrainerError
from trainer.scheduling.adapter import Outcome
from trainer.store.tables import Rating
from trainer.study.session import ReviewSession, ShownCard, Summary
from trainer.visible import visible

RATING_KEYS = {"1": Rating.AGAIN, "2": Rating.HARD, "3": Rating.GOOD, "4": Rating.EASY}
QUIT = "q"
#: The letters of a choice card's options, in the order the deck lists them.
CHOICE_KEYS = tuple("abcdef")
#: A line of a choice card's list of options, as the parser writes it (``- b) list``).
_OPTION_LINE = re.compile(r"^- [a-f]\) ", re.MULTILINE)
#: On a typed card, where keys go into the answer: a line of just one of these is its key
#: (bury, suspend, undo, quit, scroll down and up).
LINE_COMMANDS = {"/s": "s", "/!": "!", "/u": "u", "/e": "e", "/q": QUIT, "/j": "j", "/k": "k"}
#: What :meth:`ReviewScreen._command` returns once ``e`` edited the card (shown anew).
EDITED = "e"
#: Keys that scroll a card longer than the terminal by lines: j or Down, k or Up (the arrow
#: keys in both the normal and the application cursor mode).
SCROLL_KEYS = {"j": 1, "\x1b[B": 1, "\x1bOB": 1, "k": -1, "\x1b[A": -1, "\x1bOA": -1}
#: Keys that scroll it by a page: PgDn and PgUp.
PAGE_KEYS = {"\x1b[6~": 1, "\x1b[5~": -1}
#: How long the rest of an escape sequence may take to follow its ESC byte (seconds); a
#: terminal sends a key's sequence at once, so a longer gap means Escape was pressed alone.
ESCAPE_WAIT_S = 0.05


class KeyReader:
    """Single keys from the terminal, or characters from a non-terminal stdin.

    ``read_key`` returns one key: a character, or a whole escape sequence such as an arrow
    key's ``"\\x1b[A"`` (``q`` at end of input or on Ctrl-D; Ctrl-C raises
    ``KeyboardInterrupt``); ``read_line`` returns a typed answer without its newline.

    On a terminal each key is read in raw mode entered with ``TCSANOW`` and left with
    ``TCSADRAIN``, never ``TCSAFLUSH`` (what ``tty.setraw`` and ``click.getchar`` use by
    default): keys typed ahead while a card is drawn are kept and read next, one at a time,
    as Anki keeps them.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stdin
        self._tty = self._stream.isatty()

    def read_key(self) -> str:
        if self._tty:
            return self._terminal_key()
        while True:
            char = self._stream.read(1)
            if char == "":
                return QUIT
            if char not in "\r\n":
                return char

    def _terminal_key(self) -> str:
        import termios
        import tty

        fd = self._stream.fileno()
        saved = termios.tcgetattr(fd)
        try:
            tty.setraw(fd, termios.TCSANOW)
            key = _read_terminal_key(fd)
        finally:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        if key == "\x03":
            raise KeyboardInterrupt
        return QUIT if key in ("", "\x04") else key

    def read_line(self, prompt: str) -> str | None:
        """A typed answer; None at end of input. On a terminal the line is read by ``input()``
        with Python's ``readline`` (where the platform has it), so arrow keys, Home/End and
        Backspace edit the line instead of landing in the answer as ``^[[D``."""
        if self._tty:
            with contextlib.suppress(ImportError):
                import readline  # noqa: F401  # loading it gives input() line editing
            try:
                return input(prompt + " ")
            except EOFError:
                return None
        echo(prompt)
        line = self._stream.readline()
        return None if line == "" else line.rstrip("\r\n")


def _read_terminal_key(fd: int) -> str:
    """One key from the raw terminal ``fd``: a UTF-8 character, or an escape sequence (``ESC
    [`` parameters and a final byte, ``ESC O`` and one byte, ``ESC`` and a character) whose
    bytes follow the ``ESC`` within :data:`ESCAPE_WAIT_S`; a lone Escape is ``"\\x1b"``. Reads
    no byte beyond the key, so keys typed after it stay queued. ``""`` at end of input."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def char(wait: float | None = None) -> str:
        if wait is not None and not select.select([fd], [], [], wait)[0]:
            return ""
        text = ""
        while not text:
            data = os.read(fd, 1)
            if not data:
                return ""
            text = decoder.decode(data)
        return text

    key = char()
    if key != "\x1b" or not (second := char(ESCAPE_WAIT_S)):
        return key
    key += second
    if second == "O":
        return key + char()
    if second == "[":
        while (part := char()) and not "\x40" <= part <= "\x7e":
            key += part
        key += part
    return key


def format_interval(outcome: Outcome, now: datetime) -> str:
    """A rating key's label: minutes or hours for a learning step, else days/months/years."""
    if outcome.interval_days == 0 and outcome.memory.due_at is not None:
        seconds = (outcome.memory.due_at - now).total_seconds()
        if seconds < 60:
            return "<1m"
        if seconds < 3600:
            return f"{round(seconds / 60)}m"
        return f"{seconds / 3600:.1f}h".replace(".0h", "h")
    days = outcome.interval_days
    if days < 30:
        return f"{days}d"
    if days < 365:
        return f"{days / 30:.1f}mo".replace(".0mo", "mo")
    return f"{days / 365:.1f}y".replace(".0y", "y")


def answer_matches(given: str, accepted: tuple[str, ...]) -> bool:
    """True when ``given`` equals an accepted answer, ignoring case and surrounding space."""
    wanted = given.strip().casefold()
    return any(wanted == answer.strip().casefold() for answer in accepted)


def _diff(given: str, expected: str) -> list[Text]:
    """Three aligned lines: what was typed, what was expected, and under them a ``^`` at each
    character where they differ (a character missing on one side shows there as ``·``), the
    typed characters not expected in red. Alignment by ``difflib.SequenceMatcher``."""
    typed, wanted, marks = Text("you typed: "), Text("expected:  "), Text(" " * 11)
    import difflib  # only a typed answer that differs needs it: not loaded at start-up

    matcher = difflib.SequenceMatcher(a=given, b=expected, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        width = max(a2 - a1, b2 - b1)
        typed.append(given[a1:a2].ljust(width, "·"), style="" if op == "equal" else "red")
        wanted.append(expected[b1:b2].ljust(width, "·"), style="bold")
        marks.append((" " if op == "equal" else "^") * width, style="red bold")
    return [typed, wanted, marks]


#: A line break in a paragraph after a line at least this long (characters as shown) that ends
#: mid-sentence is taken for the author's wrapping; see :class:`CardText`.
WRAPPED_LINE_CHARS = 40
#: The characters that end a sentence or clause: a line break after one of them is kept.
LINE_ENDS = tuple(".!?:;")


class _CodeBlock(CodeBlock):
    """A fenced or indented code block, highlighted, without the blank line rich pads it with
    above and below: what an output card's code prints is shown line for line."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        code = str(self.text).rstrip()
        yield Syntax(code, self.lexer_name, theme=self.theme, word_wrap=True, padding=0)


class CardText(Markdown):
    """A card's front or back (Markdown, untrusted) as the review shows it: made
    :func:`visible`, code highlighted (``monokai``), code blocks without padding lines, and its
    line breaks kept as written, as Anki shows a field (Markdown's ``breaks`` option), except
    where they wrap prose.

    A line break inside a paragraph is kept unless the line before it is at least
    :data:`WRAPPED_LINE_CHARS` characters long and does not end with one of
    :data:`LINE_ENDS`: that is the author wrapping a long sentence (the built-in decks wrap
    their prose at about 100 columns), which reflows to the terminal's width. So a list
    without bullets, a two-line answer or a poem keeps its lines, and a wrapped paragraph
    still fills the screen.
    """

    elements: ClassVar[dict[str, type[MarkdownElement]]] = {
        **Markdown.elements,
        "fence": _CodeBlock,
        "code_block": _CodeBlock,
    }

    def __init__(self, text: str) -> None:
        super().__init__(visible(text), code_theme="monokai")
        for token in self.parsed:
            line = ""
            for child in token.children or ():
                if child.type != "softbreak":
                    line += child.content
                    continue
                shown = line.rstrip()
                if len(shown) < WRAPPED_LINE_CHARS or shown.endswith(LINE_ENDS):
                    child.type = "hardbreak"
                line = ""


def without_leading_answer(back: str, answer: str) -> str:
    """``back`` without its first paragraph when that paragraph shows just ``answer`` (bold or
    not, ignoring case and surrounding space), as a typed card's back begins (``**201**``,
    then any explanation); otherwise ``back`` unchanged."""
    tokens = Markdown(back).parsed
    if len(tokens) < 3 or tokens[0].type != "paragraph_open" or tokens[0].map is None:
        return back
    shown = "".join(child.content for child in tokens[1].children or ())
    if shown.strip().casefold() != answer.strip().casefold():
        return back
    return "\n".join(back.splitlines()[tokens[0].map[1] :]).strip("\n")


@dataclass
class _Page:
    """One card's screen: ``head`` (header, rule, notices), ``body`` (the card text, then, when
    ``answer``, the answer), ``foot`` (the keys); ``top`` is the first body line shown (None
    until the page is first drawn) and ``room`` how many body lines fitted when it was last
    drawn; ``typing`` while a typed answer is read (lines are then scrolled by line commands).
    """

    head: list[RenderableType]
    body: list[RenderableType]
    foot: list[RenderableType]
    typing: bool = False
    answer: bool = False
    top: int | None = None
    room: int = 1
    _rendered: tuple[int, list[list[list[Segment]]]] | None = field(default=None, init=False)

    def body_lines(self, console: Console) -> tuple[list[list[Segment]], int]:
        """The body's lines at the console's width, and the line the answer begins on (0
        without an answer). Rendered once for each width, so scrolling redraws at once (a
        highlighted 200-line code block takes rich a good part of a second)."""
        if self._rendered is None or self._rendered[0] != console.width:
            parts = [console.render_lines(part, pad=False) for part in self.body]
            self._rendered = (console.width, parts)
        parts = self._rendered[1]
        lines = [line for part in parts for line in part]
        return lines, len(lines) - len(parts[-1]) if self.answer else 0


class ReviewScreen:
    """Draws the session on a rich ``Console`` and turns keys into session calls."""

    def __init__(
        self,
        session: ReviewSession,
        console: Console,
        keys: KeyReader,
        clock: Callable[[], datetime],
        notice: str | None = None,
    ) -> None:
        self.session = session
        self.console = console
        self.keys = keys
        # shown under the next card's header: first ``notice`` (the session's opening word,
        # e.g. the backlog rule), so it stays on screen with the first card
        self._notice: Text | None = Text(notice, "yellow") if notice else None
        self._page = _Page([], [], [])  # what the terminal shows
        self._edited: tuple[ShownCard, bool] | None = None  # after e: the card, answered
        self._rejected: dict[int, str] = {}  # card id: the text an edit could not save
        self.clock = clock

    def run(self) -> Summary:
        """Review until the queue is empty or the learner quits; return the summary."""
        try:
            self._loop()
        except KeyboardInterrupt:
            self.console.print()
        summary = self.session.finish(self.clock())
        self.show_summary(summary)
        return summary

    def _loop(self) -> None:
        while True:
            skipped = self.session.summary.skipped
            shown = self.session.next_card(self.clock())
            if (number := self.session.summary.skipped - skipped) > 0:
                self._notice = Text(
                    f"Skipped {number} card{'s' * (number != 1)} whose stored memory state"
                    " cannot be scheduled; `trainer check` repairs such cards.",
                    "yellow",
                )
            if shown is None:
                if self._notice is not None:
                    self.console.print(self._notice)
                    self._notice = None
                self._nothing_left()
                return
            if self._show(shown) == QUIT:
                return

    def _nothing_left(self) -> None:
        waiting = self.session.queue.next_learning_due()
        if waiting is not None:
            local = self.session.clock.local(waiting).strftime("%H:%M")
            self.console.print(f"Nothing left for now; learning cards wait until {local}.")
        elif any(self.session.queue.held_back().values()):
            self.console.print("Nothing left within today's limits.")
        else:
            self.console.print("Nothing left to review today. Well done.")

    def _header(self, shown: ShownCard) -> Table:
        """The topic path on the left; cards left today per lane on the right (this one
        included, underlined in its lane)."""
        counts = self.session.counts()
        lane_style = {"new": "blue", "learning": "red", "review": "green"}
        right = Text()
        for lane in ("new", "learning", "review"):
            style = lane_style[lane] + (" underline" if lane == shown.lane else "")
            right.append(f"{lane.title()} {counts[lane] + (lane == shown.lane)}", style=style)
            right.append("  " if lane != "review" else "")
        grid = Table.grid(expand=True, padding=(0, 1))  # a space at least between the two
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        grid.add_column(justify="right", no_wrap=True)
        grid.add_row(Text(visible(shown.path), style="bold"), right)
        return grid

    def _show(self, shown: ShownCard) -> str | None:
        """Run one card: question, answer, rating. Returns QUIT when the learner quits. After
        an edit (``e``) the card shows again with its new text, from the question, or with
        its answer when that was showing."""
        answered = False
        while (result := self._turn(shown, answered)) == EDITED:
            assert self._edited is not None  # set by the edit
            shown, answered = self._edited
        return result

    def _turn(self, shown: ShownCard, answered: bool) -> str | None:
        """Show ``shown`` from its question (or, ``answered``, with its answer) until it is
        rated, set aside or edited (:data:`EDITED`), or the learner quits (QUIT)."""
        started = time.monotonic()
        head: list[RenderableType] = [self._header(shown), Rule(style="dim")]
        if self._notice is not None:
            head.append(self._notice)
            self._notice = None
        front = CardText(shown.front)
        if not self.console.is_terminal:
            self.console.print()
            self.console.print(Group(*head, front))
        typed: Text | None = None
        suggested: Rating | None = None
        choosing = shown.kind == "choice" and bool(shown.accepted)
        # the letters of the card's options (a-f when they cannot be told): e edits a card
        # with fewer than five
        options = len(_OPTION_LINE.findall(shown.front))
        letters = CHOICE_KEYS[:options] if options >= 2 else CHOICE_KEYS
        if shown.kind == "typed" and not answered:
            hint = "Enter checks; a line of /s buries, /! suspends, /e edits, /u undoes, /q quits"
            self._screen(_Page(head, [front], [Text(hint, "dim")], typing=True))
            while (given := self.keys.read_line("Your answer:")) is not None:
                if (key := LINE_COMMANDS.get(given.strip())) is None:
                    break
                if self._scrolled(key):
                    continue
                if (command := self._command(key, shown)) is not None:
                    return command or None
            if given is None:
                return QUIT
            typed, suggested = self._judge(given, shown.accepted)
        elif not answered:
            keys = f"[a-{letters[-1]}] choose  " if choosing else ""
            prompt = Text(
                f"{keys}[space] show answer  [s] bury  [e] edit  [u] undo  [q] quit", "dim"
            )
            self._screen(_Page(head, [front], [prompt]))
            while True:
                key = self.keys.read_key()
                if choosing and key.lower() in letters:
                    typed, suggested = self._judge(key.lower(), shown.accepted, "chose")
                    break
                if key in (" ", "\r", "\n"):
                    break
                if self._scrolled(key):
                    continue
                if (command := self._command(key, shown)) is not None:
                    return command or None
        answer = self._answer(shown, typed)
        self._screen(
            _Page(head, [front, answer], [self._rating_line(shown, suggested)], answer=True)
        )
        while True:
            key = self.keys.read_key()
            if suggested is not None and key in (" ", "\r", "\n"):
                key = next(k for k, rating in RATING_KEYS.items() if rating == suggested)
            if key in RATING_KEYS:
                duration_ms = int((time.monotonic() - started) * 1000)
                leeches = len(self.session.summary.leeches)
                outcome = self.session.rate(shown, RATING_KEYS[key], self.clock(), duration_ms)
                if outcome is None:
                    self._notice = Text(
                        "That card was answered in another session meanwhile; your rating"
                        " was not recorded.",
                        "yellow",
                    )
                elif len(self.session.summary.leeches) > leeches:
                    self._notice = self._leech_notice(shown.card_id, outcome.memory.lapses)
                return None
            if self._scrolled(key):
                continue
            if (command := self._command(key, shown, answered=True)) is not None:
                return command or None

    def _screen(self, page: _Page) -> None:
        """Show ``page``: on a terminal the whole screen is drawn anew (so the answer's rating
        line replaces the question's prompt); otherwise, as a log, only what is new is printed
        (the front went out with the head): the answer, and the footer."""
        self._page = page
        if self.console.is_terminal:
            self._paint()
        else:
            self.console.print(Group(*page.body[1:], *page.foot))

    def _paint(self) -> None:
        """Draw the current page on the terminal: the head, as many body lines as fit from
        ``top`` (clamped so the page is full), a line saying which lines show and the keys that
        scroll when the body does not fit, and the foot. The bottom row is left for the cursor
        (a typed answer's prompt), so the terminal never scrolls the head away. The body is
        rendered to lines by rich at the console's current width and height. First drawn, the
        page shows the answer from at most half-way down, the end of the question above it
        (Anki scrolls to the answer)."""
        page, console = self._page, self.console
        head = console.render_lines(Group(*page.head), pad=False)
        body, answer_at = page.body_lines(console)
        foot = console.render_lines(Group(*page.foot), pad=False)
        room = console.height - len(head) - len(foot) - 1
        keys = "/j or /k scroll" if page.typing else "[j/k ↓/↑] scroll   [PgDn/PgUp] page"
        total = len(body)

        def where(first: int, last: int) -> list[list[Segment]]:
            text = Text(f"lines {first}-{last} of {total}   {keys}", "dim")
            return console.render_lines(text, pad=False)

        scrolls = len(where(total, total)) if total > room else 0  # as wide as it can be
        page.room = max(room - scrolls, 1)
        if page.top is None:
            page.top = answer_at - page.room // 2
        page.top = max(0, min(page.top, total - page.room))
        lines = [*head, *body[page.top : page.top + page.room]]
        if scrolls:
            lines += where(page.top + 1, min(page.top + page.room, total))
        lines += foot
        console.clear()
        console.print(Segments(segment for line in lines for segment in (*line, Segment.line())))

    def _scrolled(self, key: str) -> bool:
        """Scroll the card for a scroll key (:data:`SCROLL_KEYS`, a page for
        :data:`PAGE_KEYS`) on a terminal and draw it again; False for any other key."""
        if not self.console.is_terminal or not (key in SCROLL_KEYS or key in PAGE_KEYS):
            return False
        page = self._page
        page.top = (page.top or 0) + SCROLL_KEYS.get(key, 0) + PAGE_KEYS.get(key, 0) * page.room
        self._paint()
        return True

    def _say(self, text: Text) -> None:
        """A line for the learner about the card on screen: under the head on a terminal (the
        screen drawn again, in place of the notice shown there), else printed."""
        if self.console.is_terminal:
            self._page.head = [*self._page.head[:2], text]  # the card's header and rule
            self._paint()
        else:
            self.console.print(text)

    def _command(self, key: str, shown: ShownCard, answered: bool = False) -> str | None:
        """Act on the keys that work at any point of a card: QUIT for ``q``; ``""`` once ``s``
        buried the card, ``!`` suspended it or ``u`` undid the last rating (the card's turn is
        over); :data:`EDITED` once ``e`` opened it in the editor (``answered``: its answer
        showing); None for any other key (and for ``u`` with nothing to undo)."""
        if key == QUIT:
            return QUIT
        if key == "e":
            self._edit(shown, answered)
            return EDITED
        if key == "s":
            self.session.bury(shown, self.clock())
            self._notice = Text("Buried until tomorrow.", "dim")
            return ""
        if key == "!":
            self.session.suspend(shown)
            self._notice = Text(
                f"Suspended card {shown.card_id}: trainer unsuspend {shown.card_id} brings it"
                " back.",
                "dim",
            )
            return ""
        if key == "u" and self._undo(shown):
            return ""
        return None

    def _judge(
        self, given: str, accepted: tuple[str, ...], verb: str = "typed"
    ) -> tuple[Text, Rating]:
        """``✓ answer`` (and the card's own answer when an alternative was typed), or ``✗``
        with what was typed (or chosen) and what was expected, the
        differing characters marked (readable without colour too); and the rating it suggests:
        Good when right, Again when wrong (the ratings FSRS counts as recalled and forgotten)."""
        if answer_matches(given, accepted):
            text = Text.assemble(("✓ ", "green bold"), (given.strip(), "green"))
            if not answer_matches(given, accepted[:1]):  # an alternative the card accepts
                text.append("   the card's answer: ").append(accepted[0], style="bold")
            return text, Rating.GOOD
        if verb != "typed":
            text = Text.assemble(("✗ ", "red bold"), f"you {verb}: {given}, expected: ")
            return text.append(accepted[0], style="bold"), Rating.AGAIN
        text = Text("✗ ", "red bold")  # the lines under it indented to stay aligned
        return text.append_text(Text("\n  ").join(_diff(given.strip(), accepted[0]))), Rating.AGAIN

    def _answer(self, shown: ShownCard, typed: Text | None) -> Panel:
        """The answer in a frame: how a typed answer or a choice compares with the card's (a
        typed card's back without its first paragraph when that is just the expected answer,
        which the comparison shows), the back, the docs link."""
        parts: list[RenderableType] = []
        back = shown.back
        if typed is not None:
            parts.append(typed)
            if shown.kind == "typed":
                back = without_leading_answer(back, shown.accepted[0])
        if back.strip():
            parts.append(CardText(back))
        if shown.docs_url:
            url = visible(shown.docs_url)
            parts.append(Text(url, style=Style(dim=True, link=url)))
        return Panel(Group(*parts), border_style="cyan")

    def _rating_line(self, shown: ShownCard, suggested: Rating | None) -> Text:
        """The rating keys, each with the interval it gives, and the suggested one."""
        labels = Text()
        for key, rating in RATING_KEYS.items():
            interval = format_interval(shown.previews[rating], shown.shown_at)
            labels.append(f" {key} ", style="reverse")
            labels.append(f" {rating.name.title()} {interval}  ")
        if suggested is not None:
            labels.append(f"[space] {suggested.name.title()}", style="bold")
        return labels

    def _leech_notice(self, card_id: int, lapses: int) -> Text:
        """The line saying the card just rated became a leech, what was done and what to do."""
        if self.session.settings.leech_action == "suspend":
            then = f"suspended: trainer unsuspend {card_id} brings it back"
        else:
            then = "trainer cards is:leech lists leeches"
        lapsed = f"{lapses} lapse{'s' * (lapses != 1)}"
        return Text(f"Card {card_id} is a leech ({lapsed}), {then}.", "yellow")

    def _edit(self, shown: ShownCard, answered: bool) -> None:
        """Open the shown card in the learner's editor (``$VISUAL``/``$EDITOR``, as
        ``trainer edit``), save what they saved and say what happened; the card to show again
        goes to ``_edited``. A text that cannot be saved is kept, with the error on top, for
        the next ``e`` on the card (:func:`~trainer.study.edit.rejected_text`)."""
        from trainer.study.edit import RefusedEdit, rejected_text  # the parser: when editing

        self._edited = (shown, answered)
        rejected = self._rejected.pop(shown.card_id, None)
        saved = None
        try:
            text = rejected or self.session.edit_text(shown)
            saved = edit_in_editor(text)
            edited = None
            if saved is not None and saved != text:
                edited = self.session.edit(shown, saved, self.clock())
        except TrainerError as exc:
            if isinstance(exc, RefusedEdit) and saved is not None:
                self._rejected[shown.card_id] = rejected_text(saved, exc)
            elif rejected is not None:  # the editor failed: their text waits for the next e
                self._rejected[shown.card_id] = rejected
            self._notice = Text(f"Not saved: {visible(str(exc))}", "yellow")
            return
        if edited is None:
            self._notice = Text("No change.", "dim")
            return
        self._edited = (edited, answered)
        self._notice = Text("Edited: your text of this card; u undoes the edit.", "dim")

    def _undo(self, shown: ShownCard) -> bool:
        if self.session.undo(current=shown):
            self._notice = Text("Undone: this card is back as it was.", "yellow")
            return True
        self._say(Text("Nothing to undo.", "dim"))
        return False

    def show_summary(self, summary: Summary) -> None:
        """Print the end-of-session summary."""
        minutes, seconds = divmod(summary.duration_ms // 1000, 60)
        lines = [
            f"Reviewed {summary.reviewed} card{'s' * (summary.reviewed != 1)}"
            f" in {minutes}m {seconds:02d}s, Again {summary.again_rate:.0%}.",
        ]
        if summary.buried:
            lines.append(f"Buried {summary.buried} until tomorrow.")
        if summary.suspended:
            lines.append(
                f"Suspended {summary.suspended} card{'s' * (summary.suspended != 1)}"
                " (trainer cards is:suspended lists them)."
            )
        if not self.session.reschedule:
            lines.append("Nothing rescheduled (--no-reschedule): no review log rows written.")
        if summary.leeches:
            lines.append(
                f"{len(summary.leeches)} card{'s' * (len(summary.leeches) != 1)} turned leech"
                " (trainer cards is:leech lists them)."
            )
        if summary.topics_done:
            lines.append("Topics done: " + visible(", ".join(summary.topics_done)) + ".")
        if summary.skipped:
            lines.append(
                f"Skipped {summary.skipped} card{'s' * (summary.skipped != 1)} with a broken"
                " memory state: `trainer check` repairs such cards."
            )
        if summary.refused:
            lines.append(f"{summary.refused} rating(s) not recorded: answered in another session.")
        held = summary.held_back
        lines.append(f"Left for today: {summary.left_today}.")
        if held.get("new"):
            lines.append(
                f"{held['new']} more new cards wait behind today's limit"
                " (trainer review --new-cards N studies N more)."
            )
        if held.get("review"):
            lines.append(
                f"{held['review']} more due reviews wait behind today's limit"
                " (trainer review --reviews N)."
            )
        lines.append(f"Falling due tomorrow: {summary.due_tomorrow}.")
        self.console.print(Panel("\n".join(lines), title="Session", border_style="green"))
