"""The errors the core raises; the CLI turns each into one line on stderr and an exit code."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class TrainerError(Exception):
    """Base of every error meant for the user: its message is one or more complete lines.

    ``exit_code`` is 1 (runtime error) unless a subclass says otherwise.
    """

    exit_code = 1


class UsageError(TrainerError):
    """A bad option or setting value given by the user (exit code 2)."""

    exit_code = 2


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file, and the one place its text is made.

    ``path`` names the file. ``line`` is the 1-based line the problem is on, for files made of
    lines (TOML, Markdown, CSV), else None. ``where`` names a place in a file without lines,
    e.g. ``"note 1712345"`` in an Anki collection, else None. ``message`` says what is wrong
    and, where it can, how to fix it.
    """

    path: str
    line: int | None
    message: str
    where: str | None = None

    @property
    def location(self) -> str:
        """``path:line``, ``path: where``, ``path:line: where`` or just ``path``."""
        place = self.path if self.line is None else f"{self.path}:{self.line}"
        return place if self.where is None else f"{place}: {self.where}"

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class DeckError(TrainerError):
    """A deck, roadmap or import file that cannot be loaded.

    ``problems`` holds every :class:`Problem` found, in the order the reader found them (the
    deck parser: line order); the message is their text, one per line.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


class DatabaseError(TrainerError):
    """The database cannot be opened, upgraded or written."""
