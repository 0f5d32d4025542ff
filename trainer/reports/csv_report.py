"""The CSV report: one row per topic (stand-alone decks last, with an empty section), RFC 4180
(comma separated, CRLF line ends, fields quoted as needed), UTF-8.

A spreadsheet runs a cell starting with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
return before one) as a formula, so any text cell starting with one of them gets a leading
``'``, which spreadsheets show as plain text (OWASP, "CSV Injection"). Numbers, days and times
never start with one of them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from trainer.reports.figures import Report, TopicReport
from trainer.reports.json_report import figures_json, iso_day

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

COLUMNS = (
    "section_slug",
    "section",
    "topic_slug",
    "topic",
    "done",
    "first_done_day",
    "retention",
    "needs_refresh",
    "cards",
    "new",
    "learning",
    "review",
    "mastered",
    "mastered_share",
    "reviewed_cards",
    "retained_now",
    "retained_in_30_days",
    "reviews_30_days",
    "true_retention_30_days",
    "retention_reviews_30_days",
    "retention_passed_30_days",
    "lapses",
    "leeches",
    "due_7_days",
    "last_reviewed_at",
)


def inert(text: str) -> str:
    """``text`` as a cell no spreadsheet runs: a leading ``'`` before a formula start."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_cell(value: object) -> str:
    """A value as a CSV cell: empty for None, ``true``/``false``, text made :func:`inert`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return inert(value)
    return str(value)


def _rows(report: Report) -> Iterator[dict[str, object]]:
    def row(section_slug: str, section: str, topic: TopicReport) -> dict[str, object]:
        return {
            "section_slug": section_slug,
            "section": section,
            "topic_slug": topic.slug,
            "topic": topic.title,
            "done": topic.done,
            "first_done_day": iso_day(topic.first_done_day),
            "retention": None if topic.retention is None else round(topic.retention, 4),
            "needs_refresh": topic.needs_refresh,
            **figures_json(topic.figures),
        }

    for section in report.sections:
        for topic in section.topics:
            yield row(section.slug, section.title, topic)
    for deck in report.extra_decks:
        yield row("", "", deck)


def render_csv(report: Report) -> str:
    """The report's topics as CSV text with a header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in _rows(report):
        writer.writerow(csv_cell(row[column]) for column in COLUMNS)
    return buffer.getvalue()
