"""``trainer stats``: the mastery report drawn in the terminal with rich: the summary, a progress
bar per section (and per topic when the report is narrowed to a section or topic), the review
heatmap, the 30-day due forecast and true retention by week."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from datetime import date

from rich.console import Console
from rich.text import Text

from trainer.cli.status_view import fitted, progress_bar
from trainer.reports.charts import heatmap, nice_ceiling, weekly_retention
from trainer.reports.figures import Figures, Report
from trainer.reports.wording import (
    MONTHS,
    count,
    day,
    lapses_line,
    mastered_percent,
    memory_line,
    pace_line,
    percent,
    recent_line,
    short_day,
    states_line,
)
from trainer.study.mastery import top_decks
from trainer.visible import visible

#: Block characters from empty to full, for the forecast and retention strips.
BLOCKS = " ▁▂▃▄▅▆▇█"
#: Heatmap shades 0-4 (no reviews to the busiest quarter of days): a character, readable
#: without colour, and a colour each.
SHADES = (("·", "grey37"), ("░", "green4"), ("▒", "green3"), ("▓", "green1"), ("█", "bright_green"))
#: Weeks of history the terminal heatmap and retention strip show (the HTML report shows 53).
WEEKS = 26
#: Width of the progress bars in cells, so that a section's line fits 80 columns.
BAR_WIDTH = 10
#: Width of the summary's labels.
LABEL = 13
#: Cells of a progress line besides its title: margin, bar, figures and the longest note.
PROGRESS_FIXED = 1 + 1 + BAR_WIDTH + 16 + 2 + len("10/10 topics")


def blocks(values: Sequence[float | None], top: float, bottom: float = 0.0) -> str:
    """One block character per value, its height scaled from ``bottom`` to ``top``; a space
    for None, and for nothing on a scale that starts at zero."""
    span = (top - bottom) or 1.0
    cells = []
    for value in values:
        if value is None or (value <= 0 and bottom == 0):
            cells.append(" ")
        else:
            level = round((min(max(value, bottom), top) - bottom) / span * (len(BLOCKS) - 2))
            cells.append(BLOCKS[level + 1])
    return "".join(cells)


def _leeches(report: Report) -> str:
    """The topics and top-level extra decks with leeches, each with how many, in report order
    (empty when there are none)."""
    named = [
        f"{visible(t.title)} {t.figures.leeches:,}"
        for t in (*report.topics, *top_decks(report.extra_decks))
        if t.figures.leeches
    ]
    return ", ".join(named) + " (trainer cards is:leech lists them)" if named else ""


def _summary(report: Report, columns: int) -> list[Text]:
    totals = report.totals
    roadmap = f"{report.topics_done} of {count(len(report.topics), 'topic')} done"
    if report.roadmap_done:
        roadmap += f", all since {day(report.roadmap_first_done_day)}"
    rows = [
        *([("Roadmap", roadmap)] if report.has_roadmap else []),
        ("Cards", f"{states_line(totals)} ({mastered_percent(totals)})"),
        ("Lapses", lapses_line(totals)),
        *([("Leeches", leeches)] if (leeches := _leeches(report)) else []),
        ("Memory", memory_line(totals)),
        ("Last 30 days", recent_line(totals)),
        ("Due", f"{totals.due_7d:,} within 7 days, {report.forecast[0][1]:,} of them today"),
        ("Pace", pace_line(report)),
    ]
    lines = []
    for label, value in rows:  # a value too long for the terminal wraps under itself
        wrapped = textwrap.wrap(value, max(20, columns - LABEL)) or [""]
        lines.append(Text.assemble((f"{label:<{LABEL}}", "bold"), wrapped[0]))
        lines += [Text(" " * LABEL + more) for more in wrapped[1:]]
    return lines


def _progress(title: str, figures: Figures, width: int, note: str, indent: int) -> Text:
    """One aligned line: title, bar, mastered/cards and share, and a note (done since, n/m)."""
    return Text.assemble(
        " " * indent,
        fitted(title, width),
        " ",
        progress_bar(figures.share, BAR_WIDTH),
        f" {figures.mastered:>5,}/{figures.cards:<5,}{mastered_percent(figures):>5}  ",
        (note, "green" if note.startswith("✓") else "dim"),
    )


def _done_note(done: bool, first_done_day: date | None) -> str:
    return f"✓ {day(first_done_day)}" if done else ""


def _sections(report: Report, columns: int) -> list[Text]:
    narrowed = report.scope.label is not None
    titles = [s.title for s in report.sections] + [d.title for d in report.extra_decks]
    if narrowed:
        titles += [f"  {t.title}" for t in report.topics]
    width = max((len(visible(title)) for title in titles), default=10)
    width = max(8, min(width, columns - PROGRESS_FIXED))  # longer titles cut to fit
    lines = [Text("Sections", style="bold cyan")] if report.sections else []
    for section in report.sections:
        note = _done_note(section.done, section.first_done_day)
        if not section.done:
            note = f"{sum(t.done for t in section.topics)}/{len(section.topics)} topics"
        lines.append(_progress(section.title, section.figures, width, note, 1))
        if narrowed:
            for topic in section.topics:
                note = _done_note(topic.done, topic.first_done_day)
                note += ", needs refresh" if topic.needs_refresh else ""
                lines.append(_progress(topic.title, topic.figures, width - 2, note, 3))
    if report.extra_decks:
        lines += [*([Text("")] if lines else []), Text("Extra decks", style="bold cyan")]
        for deck in report.extra_decks:
            note = _done_note(deck.done, deck.first_done_day)
            lines.append(_progress(deck.title, deck.figures, width, note, 1))
    return lines


def _month_labels(starts: Sequence[date | None]) -> str:
    """A label row with each month's short name over the first column of that month."""
    row = ""
    for column, start in enumerate(starts):
        if start is not None and start.day <= 7 and len(row) <= column:
            row = row.ljust(column) + MONTHS[start.month - 1]
    return row


def _heatmap(report: Report) -> list[Text]:
    weeks = heatmap(report.history)[-WEEKS:]
    reviews = sum(cell.reviews for week in weeks for cell in week if cell is not None)
    title = f"  last {WEEKS} weeks, {count(reviews, 'review')}"
    lines = [Text.assemble(("Reviews per day", "bold cyan"), title)]
    firsts = [week[0].day if week[0] is not None else None for week in weeks]
    lines.append(Text("    " + _month_labels(firsts), style="dim"))
    for row, name in enumerate(("Mon", "", "Wed", "", "Fri", "", "Sun")):
        line = Text(f"{name:<4}", style="dim")
        for week in weeks:
            cell = week[row]
            line.append(*(SHADES[cell.level] if cell is not None else (" ",)))
        lines.append(line)
    legend = Text("    less ", style="dim")
    for character, colour in SHADES:
        legend.append(character, style=colour)
    return [*lines, legend.append(" more", style="dim")]


def _forecast(report: Report) -> list[Text]:
    dues = [due for _day, due in report.forecast]
    labels = "".join(
        f"{'today' if index == 0 else short_day(due_day):<7}"
        for index, (due_day, _due) in enumerate(report.forecast)
        if index % 7 == 0
    )
    title = f"  {sum(dues):,} cards; most in one day {max(dues):,}"
    return [
        Text.assemble(("Due in the next 30 days", "bold cyan"), title),
        Text("    " + blocks(dues, nice_ceiling(max(dues))), style="blue"),
        Text("    " + labels, style="dim"),
    ]


def _retention(report: Report) -> list[Text]:
    weeks = weekly_retention(report.history)[-WEEKS:]
    rates = [week.rate for week in weeks]
    low = min(0.7, min((rate for rate in rates if rate is not None), default=1.0))
    latest = next((week for week in reversed(weeks) if week.rate is not None), None)
    last = f"latest week {percent(latest.rate)}" if latest else "no ratings yet"
    scale = f"  scale {percent(low)}-100%, desired {percent(report.settings.desired_retention)};"
    return [
        Text.assemble(("True retention by week", "bold cyan"), f"{scale} {last}"),
        Text("    " + blocks(rates, 1.0, low), style="magenta"),
        Text("    " + _month_labels([week.start for week in weeks]), style="dim"),
    ]


def render_stats(report: Report, console: Console) -> None:
    """Print the report in the terminal (one print; rich drops the styles when not a tty)."""
    scope = f" ({visible(report.scope.label)})" if report.scope.label else ""
    lines = [
        Text.assemble((f"Mastery{scope}", "bold"), f"  learner day {report.day.isoformat()}"),
        Text(""),
        *_summary(report, console.width),
        Text(""),
        *_sections(report, console.width),
        Text(""),
        *_heatmap(report),
        Text(""),
        *_forecast(report),
        Text(""),
        *_retention(report),
    ]
    console.print(Text("\n").join(lines))
