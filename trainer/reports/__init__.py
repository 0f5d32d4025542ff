"""Mastery reports: ``trainer report`` in Markdown, HTML, JSON or CSV, and ``trainer stats``.

:func:`trainer.reports.figures.build_report` reads the figures; :func:`render` writes one
format. Importing this package is cheap (the CLI's option choices come from here); each format
imports what it needs when it renders.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from trainer.errors import TrainerError, UsageError

if TYPE_CHECKING:
    from trainer.reports.figures import Report

#: The formats of ``trainer report --format``.
FORMATS = ("markdown", "html", "json", "csv")
#: The formats that draw the review history and the due forecast: a report rendered in one
#: of them is built with its charts (``build_report(..., charts=True)``).
CHARTED = frozenset({"html", "json"})
#: File name suffixes that choose a format when ``--format`` is not given.
SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html"}
SUFFIXES |= {".json": "json", ".csv": "csv"}


def format_for(output: Path | None) -> str:
    """The format a report written to ``output`` gets by default: by its suffix (see
    :data:`SUFFIXES`); Markdown on standard output or for a file without a suffix.

    Raises :class:`UsageError` for a suffix no format has (``-o report.pdf``), rather than
    writing Markdown into a file whose name promises something else.
    """
    if output is None or not output.suffix:
        return "markdown"
    fmt = SUFFIXES.get(output.suffix.lower())
    if fmt is None:
        known = ", ".join(SUFFIXES)
        raise UsageError(
            f"-o {output}: no report format is written as '{output.suffix}'; name the file"
            f" {known}, or give --format"
        )
    return fmt


def render(report: Report, fmt: str) -> str:
    """``report`` as text in format ``fmt`` (one of :data:`FORMATS`).

    Raises ``ValueError`` for a format of :data:`CHARTED` and a report built without its
    charts (which has no day of history), rather than drawing empty charts.
    """
    if fmt in CHARTED and not report.history:
        raise ValueError(f"a {fmt} report draws charts: build it with charts=True")
    if fmt == "markdown":
        from trainer.reports.markdown import render_markdown

        return render_markdown(report)
    if fmt == "html":
        from trainer.reports.html import render_html

        return render_html(report)
    if fmt == "json":
        from trainer.reports.json_report import render_json

        return render_json(report)
    if fmt == "csv":
        from trainer.reports.csv_report import render_csv

        return render_csv(report)
    raise ValueError(f"unknown report format {fmt!r}")


def write_file(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` all at once: a reader never sees half a report, and a
    failed write leaves any earlier file in place.

    Raises :class:`TrainerError` naming the file when it cannot be written.
    """
    folder = path.parent if str(path.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
                stream.write(text)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temporary, 0o666 & ~umask)  # as a plain open() would create it
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError as exc:
        raise TrainerError(f"cannot write {path}: {exc.strerror or exc}") from None
