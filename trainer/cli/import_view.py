"""What ``trainer import`` shows: a progress bar while it works, then one line per file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from trainer.cli.output import echo
from trainer.errors import DeckError, TrainerError
from trainer.importers.store import FileSummary
from trainer.importers.store import Progress as ProgressCallback

Result = FileSummary | TrainerError


class ImportProgress:
    """A rich progress bar per file, shown only when ``enabled`` (stdout is a terminal);
    it disappears when the import ends."""

    def __init__(self, console: Console, enabled: bool) -> None:
        self._bar = (
            Progress(
                TextColumn("{task.description}", markup=False),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            if enabled
            else None
        )

    def __enter__(self) -> ImportProgress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def reporter(self, label: str) -> ProgressCallback | None:
        """The callback that moves this file's bar, or None when no bar is shown."""
        bar = self._bar
        if bar is None:
            return None
        task = bar.add_task(f"{label}: reading", total=None)

        def report(step: str, done: int, total: int) -> None:
            bar.update(task, description=f"{label}: {step}", completed=done, total=total)

        return report


def summary_line(summary: FileSummary) -> str:
    """``PATH -> deck "NAME": 3 added, 1 updated, 0 unchanged, 2 skipped (why)`` (``decks
    "A", "B"`` for a file spread over several) and what else came along (review-log rows,
    media files, comment and unknown header lines skipped, cards no longer in the file);
    ``PATH: no cards found, no deck made`` (with what was skipped) for a file without cards."""
    comments = _count(summary.comment_lines, "comment line") + " skipped"
    if summary.deck is None:
        skipped = f" ({summary.skipped} skipped: {', '.join(summary.skip_reasons)})"
        return (
            f"{summary.path}: no cards found, no deck made"
            + (skipped if summary.skipped else "")
            + (f"; {comments}" if summary.comment_lines else "")
        )
    decks = ", ".join(f'"{name}"' for name in summary.decks or (summary.deck,))
    line = (
        f"{summary.path} -> deck{'s' if summary.decks else ''} {decks}: {summary.added} added,"
        f" {summary.updated} updated, {summary.unchanged} unchanged, {summary.skipped} skipped"
    )
    if summary.skip_reasons:
        line += f" ({', '.join(summary.skip_reasons)})"
    extras = []
    if summary.reviews:
        extras.append(_count(summary.reviews, "review-log row"))
    if summary.media:
        extras.append(_count(summary.media, "media file"))
    if summary.comment_lines:
        extras.append(comments)
    if summary.retired:
        extras.append(_count(summary.retired, "card") + " no longer in the file retired")
    if summary.missing:
        extras.append(
            _count(summary.missing, "card")
            + " no longer in the file (kept; --retire-missing retires them)"
        )
    return line + (f"; {', '.join(extras)}" if extras else "")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def render_summaries(paths: Sequence[Path], results: Sequence[Result], dry_run: bool) -> None:
    """One line per file on stdout; on stderr, a ``Warning:`` line per warning of a file read,
    an ``Error:`` line for a failed file whose one problem names it, else ``PATH: not
    imported`` and an ``Error:`` line per problem; then a closing line for a dry run."""
    for path, result in zip(paths, results, strict=True):
        if isinstance(result, TrainerError):
            lines = str(result).splitlines()
            if len(lines) != 1 or not lines[0].startswith(str(path)):
                echo(f"{path}: not imported", err=True)
            for line in lines:
                echo(f"Error: {line}", err=True)
        else:
            echo(summary_line(result))
            for warning in result.warnings:
                echo(f"Warning: {path}: {warning}", err=True)
    if dry_run:
        echo("Dry run: nothing was written.")


def summary_json(paths: Sequence[Path], results: Sequence[Result]) -> list[dict[str, Any]]:
    """Per file: ``path``, ``deck`` (the first deck, null when none was made), ``decks``
    (every deck its cards went to), the counts ``added``, ``updated``, ``unchanged``,
    ``skipped``, ``skip_reasons`` (``"suspended in Anki (2)"``-style phrases),
    ``review_log_rows`` (Anki history rows imported), ``media_written`` (media files written:
    new ones, not those already in the media folder; a dry run counts every file the cards
    use), ``error`` (the message, or null when the file imported) and ``problems`` (each
    problem of a file that could not be read as ``path``, ``line``, ``message`` and
    ``where``; empty otherwise), ``comment_lines`` (comment and unknown header lines skipped)
    ``warnings`` (e.g. rows of differing numbers of fields, one line each), ``missing``
    (active cards of the deck no longer in the file, kept) and ``retired`` (those retired by
    ``--retire-missing``)."""
    out: list[dict[str, Any]] = []
    for path, result in zip(paths, results, strict=True):
        if isinstance(result, TrainerError):
            counts = dict.fromkeys(("added", "updated", "unchanged", "skipped"), 0)
            problems = result.problems if isinstance(result, DeckError) else ()
            out.append(
                {
                    "path": str(path),
                    "deck": None,
                    **counts,
                    "skip_reasons": [],
                    "review_log_rows": 0,
                    "media_written": 0,
                    "error": str(result),
                    "problems": [asdict(problem) for problem in problems],
                    "decks": [],
                    "comment_lines": 0,
                    "warnings": [],
                    "missing": 0,
                    "retired": 0,
                }
            )
        else:
            out.append(
                {
                    "path": str(path),
                    "deck": result.deck,
                    "added": result.added,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                    "skipped": result.skipped,
                    "skip_reasons": list(result.skip_reasons),
                    "review_log_rows": result.reviews,
                    "media_written": result.media,
                    "error": None,
                    "problems": [],
                    "decks": list(result.decks or (() if result.deck is None else (result.deck,))),
                    "comment_lines": result.comment_lines,
                    "warnings": list(result.warnings),
                    "missing": result.missing,
                    "retired": result.retired,
                }
            )
    return out
