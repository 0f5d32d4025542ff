"""The Markdown report: the roadmap in the learner's own checklist form (``## Section``,
``- [x] Topic (subtopics)``), done topics ticked, each topic followed by its figures."""

from __future__ import annotations

import re

from trainer.reports.figures import Report, SectionReport, TopicReport
from trainer.reports.wording import (
    count,
    day,
    definitions,
    done_line,
    due_line,
    lapses_line,
    local_time,
    mastery_line,
    memory_line,
    pace_line,
    recent_line,
    states_line,
)

#: Characters that can start Markdown inline syntax (emphasis, code, links, HTML, tables,
#: strikethrough, entities); CommonMark lets a backslash make each one literal.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&#])")


def escape(text: str) -> str:
    """``text`` as literal Markdown inline text: special characters backslash-escaped, line
    breaks turned into spaces."""
    return _SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _topic(topic: TopicReport, report: Report) -> list[str]:
    """The checklist line of a topic (as in the roadmap file) and its figures below it."""
    title = escape(topic.title)
    if topic.subtopics:
        title += f" ({escape(', '.join(topic.subtopics))})"
    lines = [f"- [{'x' if topic.done else ' '}] {title}"]
    figures = topic.figures
    if not figures.cards:
        return [*lines, "  - no cards yet"]
    done = f", {done_line(topic)}" if topic.done else ""
    lines.append(f"  - {mastery_line(figures)}{done}")
    if figures.new == figures.cards:
        return [*lines, "  - not started"]
    lines += [
        f"  - {states_line(figures)}; {memory_line(figures)}",
        f"  - last 30 days: {recent_line(figures)}; {lapses_line(figures)}; {due_line(figures)};"
        f" last reviewed {local_time(figures.last_reviewed_at, report.zone)}",
    ]
    return lines


def _section(section: SectionReport, report: Report) -> list[str]:
    done = sum(topic.done for topic in section.topics)
    summary = f"{done} of {count(len(section.topics), 'topic')} done"
    if section.done:
        summary += f" (section done since {day(section.first_done_day)})"
    lines = [f"## {escape(section.title)}", "", f"_{summary}; {mastery_line(section.figures)}_", ""]
    for topic in section.topics:
        lines += _topic(topic, report)
    return [*lines, ""]


def render_markdown(report: Report) -> str:
    """The report as a Markdown document (CommonMark with GitHub task lists)."""
    totals = report.totals
    scope = f" ({escape(report.scope.label)})" if report.scope.label else ""
    roadmap = f"{report.topics_done} of {count(len(report.topics), 'topic')} done"
    if report.roadmap_done:
        roadmap += f", all done since {day(report.roadmap_first_done_day)}"
    lines = [
        f"# Mastery report{scope}",
        "",
        f"Learner day {report.day.isoformat()}, generated"
        f" {local_time(report.generated_at, report.zone, with_zone=True)}.",
        "",
        f"- **Roadmap:** {roadmap}; {mastery_line(totals)}"
        if report.has_roadmap
        else f"- **Mastery:** {mastery_line(totals)}",
        f"- **Cards:** {states_line(totals)}; {lapses_line(totals)}; {due_line(totals)}",
        f"- **Memory:** {memory_line(totals)}",
        f"- **Last 30 days:** {recent_line(totals)}",
        f"- **Pace:** {pace_line(report)}",
        "",
    ]
    for section in report.sections:
        lines += _section(section, report)
    if report.extra_decks:
        lines += ["## Extra decks", ""]
        for deck in report.extra_decks:
            lines += _topic(deck, report)
        lines.append("")
    lines.append(f"_{definitions(report)}_")
    return "\n".join(lines) + "\n"
