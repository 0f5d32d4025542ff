"""The JSON report: the documented schema in docs/report.schema.json (``schema_version`` 1).

Numbers are JSON numbers (shares 0-1 to four decimals), learner days ``YYYY-MM-DD``, times ISO
8601 in UTC (``2026-11-29T10:00:00Z``); a figure without a value is ``null``.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from trainer.reports.figures import Figures, Report, TopicReport
from trainer.visible import UNSAFE

#: Bumped whenever a field changes meaning or is removed (adding a field does not bump it).
SCHEMA_VERSION = 1


def utc(at: datetime | None) -> str | None:
    """An aware time as ISO 8601 UTC with a ``Z``, to the second; None stays None."""
    if at is None:
        return None
    return at.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def iso_day(value: date | None) -> str | None:
    """A learner day as ``YYYY-MM-DD``; None stays None."""
    return None if value is None else value.isoformat()


def share(value: float | None) -> float | None:
    """A share (0-1) to four decimals; None stays None."""
    return None if value is None else round(value, 4)


def figures_json(figures: Figures) -> dict[str, Any]:
    """The ``figures`` object of a topic, section or the roadmap."""
    return {
        "cards": figures.cards,
        "new": figures.new,
        "learning": figures.learning,
        "review": figures.review,
        "mastered": figures.mastered,
        "mastered_share": share(figures.share),
        "reviewed_cards": figures.recalled,
        "retained_now": share(figures.retained_now),
        "retained_in_30_days": share(figures.retained_in_30d),
        "reviews_30_days": figures.reviews_30d,
        "true_retention_30_days": share(figures.true_retention_30d),
        "retention_reviews_30_days": figures.retention_reviews_30d,
        "retention_passed_30_days": figures.retention_passed_30d,
        "lapses": figures.lapses,
        "leeches": figures.leeches,
        "due_7_days": figures.due_7d,
        "last_reviewed_at": utc(figures.last_reviewed_at),
    }


def _topic_json(topic: TopicReport) -> dict[str, Any]:
    return {
        "slug": topic.slug,
        "title": topic.title,
        "subtopics": list(topic.subtopics),
        "done": topic.done,
        "first_done_day": iso_day(topic.first_done_day),
        "retention": None if topic.retention is None else round(topic.retention, 4),
        "needs_refresh": topic.needs_refresh,
        "figures": figures_json(topic.figures),
    }


def report_json(report: Report) -> dict[str, Any]:
    """The report as the JSON document's object."""
    settings = report.settings
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": utc(report.generated_at),
        "day": report.day.isoformat(),
        "scope": {
            "section": report.scope.section,
            "topic": report.scope.topic,
            "deck": report.scope.deck,
        },
        "settings": {
            "mastery_stability_days": settings.mastery_stability_days,
            "topic_done_share": settings.topic_done_share,
            "refresh_retention": settings.refresh_retention,
            "desired_retention": settings.desired_retention,
            "leech_lapses": settings.leech_lapses,
        },
        "roadmap": {
            "topics": len(report.topics),
            "topics_done": report.topics_done,
            "done": report.roadmap_done,
            "first_done_day": iso_day(report.roadmap_first_done_day),
            "new_cards_per_day": round(report.new_cards_per_day, 2),
            "completion_day": iso_day(report.completion_day),
            "figures": figures_json(report.totals),
        },
        "sections": [
            {
                "slug": section.slug,
                "title": section.title,
                "done": section.done,
                "first_done_day": iso_day(section.first_done_day),
                "figures": figures_json(section.figures),
                "topics": [_topic_json(topic) for topic in section.topics],
            }
            for section in report.sections
        ],
        "extra_decks": [_topic_json(deck) for deck in report.extra_decks],
        "history": [
            {
                "day": activity.day.isoformat(),
                "reviews": activity.reviews,
                "new_cards": activity.new_cards,
                "retention_reviews": activity.retention_reviews,
                "retention_passed": activity.retention_passed,
            }
            for activity in report.history
        ],
        "forecast": [{"day": day.isoformat(), "due": due} for day, due in report.forecast],
    }


def render_json(report: Report) -> str:
    """The JSON document, indented, with a final newline; UTF-8 text kept as is but for the
    characters a terminal acts on (:data:`trainer.visible.UNSAFE`: controls, line separators,
    bidirectional marks), written as JSON escapes (``\\u001b``, ``\\u202e``) so the document
    is safe to show and still reads back to the same strings."""
    text = json.dumps(report_json(report), indent=2, ensure_ascii=False) + "\n"
    return UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
