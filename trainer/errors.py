"""The errors the core raises; the CLI turns each into one line on stderr and an exit code."""

from __future__ import annotations


class TrainerError(Exception):
    """Base of every error meant for the user: its message is one or more complete lines.

    ``exit_code`` is 1 (runtime error) unless a subclass says otherwise.
    """

    exit_code = 1


class UsageError(TrainerError):
    """A bad option or setting value given by the user (exit code 2)."""

    exit_code = 2


class DeckError(TrainerError):
    """A deck or roadmap file that cannot be loaded.

    ``problems`` holds every ``path:line: message`` line found in the file, in line order.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class DatabaseError(TrainerError):
    """The database cannot be opened, upgraded or written."""
