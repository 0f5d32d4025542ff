"""How the human-readable reports (Markdown, HTML, the terminal) word their figures."""

from __future__ import annotations

import math
from datetime import date, datetime, tzinfo

from trainer.reports.figures import Figures, Report, TopicReport

#: Month names as the reports' charts label them.
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: Shown where a figure has no value (no reviewed card, no rating to count): an en dash.
NONE = "\u2013"


def percent(share: float | None) -> str:
    """A share (0-1) as a whole percentage, :data:`NONE` for None."""
    return NONE if share is None else f"{share:.0%}"


def mastered_percent(figures: Figures) -> str:
    """The mastered share, rounded down: 89.9% shows as 89%, so a topic never looks done at
    the threshold before it is."""
    return f"{math.floor(figures.share * 100)}%"


def count(number: int, noun: str, plural: str | None = None) -> str:
    """``number`` with ``noun``, or ``plural`` (default: ``noun`` + s) unless it is 1."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"


def local_time(at: datetime | None, zone: tzinfo | None, with_zone: bool = False) -> str:
    """An aware UTC time in the learner's zone (None: the system's), to the minute, with the
    zone's abbreviation if ``with_zone``."""
    if at is None:
        return NONE
    local = at.astimezone(zone) if zone is not None else at.astimezone()
    return local.strftime("%Y-%m-%d %H:%M %Z" if with_zone else "%Y-%m-%d %H:%M")


def day(value: date | None) -> str:
    """A learner day as YYYY-MM-DD, :data:`NONE` for None."""
    return NONE if value is None else value.isoformat()


def short_day(value: date) -> str:
    """A learner day as a chart label: ``Mar 7``."""
    return f"{MONTHS[value.month - 1]} {value.day}"


def mastery_line(figures: Figures) -> str:
    """``31 of 34 cards mastered (91%)``."""
    share = mastered_percent(figures)
    return f"{figures.mastered:,} of {count(figures.cards, 'card')} mastered ({share})"


def states_line(figures: Figures) -> str:
    """The cards by state, the mastered ones last."""
    return (
        f"{figures.new:,} new, {figures.learning:,} learning, {figures.review:,} review,"
        f" {figures.mastered:,} mastered"
    )


def memory_line(figures: Figures) -> str:
    """Mean retrievability of the reviewed cards now and in 30 days without reviews."""
    return (
        f"{percent(figures.retained_now)} retained now,"
        f" {percent(figures.retained_in_30d)} in 30 days without reviews"
    )


def recent_line(figures: Figures) -> str:
    """Reviews and true retention over the last 30 learner days (the caller says so)."""
    retention = percent(figures.true_retention_30d)
    if figures.retention_reviews_30d:
        retention += f" ({figures.retention_passed_30d:,}/{figures.retention_reviews_30d:,})"
    return f"{count(figures.reviews_30d, 'review')}, true retention {retention}"


def lapses_line(figures: Figures) -> str:
    """Lapses and leeches."""
    return f"{count(figures.lapses, 'lapse')}, {count(figures.leeches, 'leech', 'leeches')}"


def due_line(figures: Figures) -> str:
    """Cards due within 7 learner days (overdue ones included)."""
    return f"{figures.due_7d:,} due within 7 days"


def done_line(topic: TopicReport) -> str:
    """``done since 2026-10-03, retention 93%``, with ``, needs refresh`` when it does, or
    ``not done``."""
    if topic.first_done_day is None:
        return "not done"
    line = f"done since {topic.first_done_day.isoformat()}"
    if topic.retention is not None:
        line += f", retention {topic.retention:.0%}"
    return line + (", needs refresh" if topic.needs_refresh else "")


def pace_line(report: Report) -> str:
    """The pace of new cards and when every card will have been started at that pace."""
    pace = f"{report.new_cards_per_day:.1f} new cards a day (last 30 days)"
    if not report.totals.new:
        return f"{pace}; every card is started"
    left = f"{report.totals.new:,} left"
    if report.completion_day is None:
        return f"{pace}; {left}"
    return f"{pace}; {left}, all started by {report.completion_day.isoformat()}"


def definitions(report: Report) -> str:
    """The thresholds the report was computed with, in one sentence."""
    settings = report.settings
    return (
        f"A card is mastered at an FSRS stability of {settings.mastery_stability_days:g} days or"
        f" more; a topic is done once {settings.topic_done_share:.0%} of its cards are mastered."
        " True retention counts each review card's first rating of a day, passed unless Again."
    )
