"""``trainer report --cohort``: every learner side by side on the roadmap.

Each learner's figures are their own mastery report (:func:`~trainer.reports.figures.
build_report`, on their settings and their learner days), so the cohort counts exactly as each
learner's own report does: per topic the mastered share, done, retention now (mean FSRS
retrievability of the reviewed cards) and reviews over the last 30 learner days; per learner
their streak. Read-only. Renders as Markdown, JSON, CSV (one row per learner and topic) and one
HTML page whose heat table has the topics as rows, grouped by section, and the learners as
columns.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection

from trainer.reports.csv_report import csv_cell
from trainer.reports.figures import DayActivity, Report, TopicReport, build_report
from trainer.reports.json_report import SCHEMA_VERSION, iso_day, share, utc
from trainer.reports.markdown import escape
from trainer.reports.wording import mastered_percent, percent
from trainer.scheduling.days import DayClock
from trainer.store.learners import learner_summaries
from trainer.store.settings import load_settings
from trainer.study.mastery import RoadmapSection, load_roadmap
from trainer.study.queue import last_study_day


@dataclass(frozen=True)
class CohortLearner:
    """One learner's column: their ``name``, their learner day now (``day``), their streak
    (:func:`streak`), and their mastery report (each topic by slug in ``report``)."""

    name: str
    day: date
    streak_days: int
    report: Report

    def topic(self, slug: str) -> TopicReport:
        """The learner's report of the roadmap topic ``slug``."""
        return self.report.topic(slug)


@dataclass(frozen=True)
class Cohort:
    """The roadmap's sections (topics in order) and every learner by name, at aware UTC
    ``generated_at``."""

    generated_at: datetime
    sections: tuple[RoadmapSection, ...]
    learners: tuple[CohortLearner, ...]


def streak(history: Sequence[DayActivity], today: date) -> int:
    """The learner days in a row, up to ``today``, with at least one review, counted back from
    today, or from yesterday while today has none yet (a streak lasts until a whole day is
    missed). Counted over ``history`` (oldest first, one entry per day), so at most its
    length."""
    days = [activity for activity in history if activity.day <= today]
    if days and days[-1].day == today and not days[-1].reviews:
        days.pop()
    count = 0
    for activity in reversed(days):
        if not activity.reviews:
            break
        count += 1
    return count


def build_cohort(conn: Connection, now: datetime) -> Cohort:
    """Every learner's mastery of the roadmap at aware UTC ``now``, each on their own settings
    and learner days; read-only."""
    learners = []
    for summary in learner_summaries(conn):
        learner = summary.id
        settings = load_settings(conn, learner)
        clock = DayClock.from_settings(settings, not_before=last_study_day(conn, learner))
        report = build_report(conn, learner, settings, clock, now)
        learners.append(
            CohortLearner(summary.name, report.day, streak(report.history, report.day), report)
        )
    return Cohort(now, load_roadmap(conn).sections, tuple(learners))


# Markdown --------------------------------------------------------------------------------------


def render_cohort_markdown(cohort: Cohort) -> str:
    """A table of the learners (topics done, reviews, streak, retention), then per section a
    table of its topics with each learner's mastered share (✓ when done)."""
    lines = ["# Cohort report", ""]
    if not cohort.learners:
        return "\n".join([*lines, "No learners yet.", ""])
    topics = sum(len(section.topics) for section in cohort.sections)
    lines += [
        "| Learner | Topics done | Reviews (30 days) | Streak (days) | Retention now |",
        "|---|---:|---:|---:|---:|",
    ]
    for learner in cohort.learners:
        report = learner.report
        lines.append(
            f"| {escape(learner.name)} | {report.topics_done} of {topics}"
            f" | {report.totals.reviews_30d} | {learner.streak_days}"
            f" | {percent(report.totals.retained_now)} |"
        )
    names = " | ".join(escape(learner.name) for learner in cohort.learners)
    for section in cohort.sections:
        lines += ["", f"## {escape(section.title)}", "", f"| Topic | {names} |"]
        lines.append("|---|" + "---:|" * len(cohort.learners))
        for topic in section.topics:
            cells = []
            for learner in cohort.learners:
                mine = learner.topic(topic.slug)
                cells.append(mastered_percent(mine.figures) + (" ✓" if mine.done else ""))
            lines.append(f"| {escape(topic.title)} | {' | '.join(cells)} |")
    return "\n".join([*lines, ""])


# JSON and CSV ----------------------------------------------------------------------------------


def _topic_json(section: str, topic: TopicReport) -> dict[str, object]:
    figures = topic.figures
    return {
        "section_slug": section,
        "topic_slug": topic.slug,
        "cards": figures.cards,
        "mastered": figures.mastered,
        "mastered_share": share(figures.share),
        "done": topic.done,
        "retained_now": share(figures.retained_now),
        "reviews_30_days": figures.reviews_30d,
    }


def cohort_json(cohort: Cohort) -> dict[str, object]:
    """The cohort as a JSON document (``schema_version`` as the report's)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": utc(cohort.generated_at),
        "sections": [
            {
                "slug": section.slug,
                "title": section.title,
                "topics": [{"slug": t.slug, "title": t.title} for t in section.topics],
            }
            for section in cohort.sections
        ],
        "learners": [
            {
                "name": learner.name,
                "day": iso_day(learner.day),
                "streak_days": learner.streak_days,
                "topics_done": learner.report.topics_done,
                "reviews_30_days": learner.report.totals.reviews_30d,
                "retained_now": share(learner.report.totals.retained_now),
                "topics": [
                    _topic_json(section.slug, learner.topic(topic.slug))
                    for section in cohort.sections
                    for topic in section.topics
                ],
            }
            for learner in cohort.learners
        ],
    }


def render_cohort_json(cohort: Cohort) -> str:
    """:func:`cohort_json` as indented JSON text."""
    return json.dumps(cohort_json(cohort), indent=2, ensure_ascii=False) + "\n"


#: The CSV columns: one row per learner and topic.
COHORT_COLUMNS = (
    "learner",
    "section_slug",
    "topic_slug",
    "topic",
    "cards",
    "mastered",
    "mastered_share",
    "done",
    "retained_now",
    "reviews_30_days",
    "streak_days",
)


def render_cohort_csv(cohort: Cohort) -> str:
    """One row per learner and roadmap topic, RFC 4180, text cells made inert as in the
    report's CSV."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COHORT_COLUMNS)
    titles = {t.slug: t.title for section in cohort.sections for t in section.topics}
    for learner in cohort.learners:
        for section in cohort.sections:
            for topic in section.topics:
                row = {
                    "learner": learner.name,
                    "topic": titles[topic.slug],
                    "streak_days": learner.streak_days,
                    **_topic_json(section.slug, learner.topic(topic.slug)),
                }
                writer.writerow(csv_cell(row[column]) for column in COHORT_COLUMNS)
    return buffer.getvalue()


# HTML ------------------------------------------------------------------------------------------


def render_cohort_html(cohort: Cohort) -> str:
    """One self-contained page: the learners' summary and the roadmap heat table (a cell's
    shade is the learner's mastered share of the topic; names and titles escaped)."""
    from trainer.reports.html import environment

    template = environment().get_template("cohort.html.j2")
    return template.render(cohort=cohort, topics=sum(len(s.topics) for s in cohort.sections))


def render_cohort(cohort: Cohort, fmt: str) -> str:
    """``cohort`` as text in format ``fmt`` (markdown, html, json or csv)."""
    renderers = {
        "markdown": render_cohort_markdown,
        "html": render_cohort_html,
        "json": render_cohort_json,
        "csv": render_cohort_csv,
    }
    return renderers[fmt](cohort)
