"""The HTML report: one self-contained page (inline CSS, inline SVG charts, no script, nothing
loaded from the network) rendered by Jinja2 with autoescaping, so every piece of card, deck or
topic text is escaped. This module lays the charts out; ``templates/report.html.j2`` draws them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from jinja2 import (
    Environment,
    FileSystemBytecodeCache,
    PackageLoader,
    StrictUndefined,
    select_autoescape,
)
from jinja2.bccache import Bucket
from platformdirs import user_cache_path

from trainer.reports.charts import HeatCell, heatmap, nice_ceiling, weekly_retention
from trainer.reports.figures import Figures, Report
from trainer.reports.wording import (
    MONTHS,
    count,
    day,
    definitions,
    local_time,
    mastered_percent,
    pace_line,
    percent,
    short_day,
)

#: Heatmap cell size and the distance from one cell to the next, in SVG units (px).
CELL, PITCH = 11, 13
#: Width and height of the forecast and retention charts, and their margins for axis labels.
CHART_WIDTH, CHART_HEIGHT, LEFT, BOTTOM, TOP = 600, 180, 40, 22, 8


@dataclass(frozen=True)
class Rect:
    """A rectangle with a CSS class and a tooltip."""

    x: float
    y: float
    width: float
    height: float
    css: str
    tip: str


@dataclass(frozen=True)
class Label:
    """A text label at (x, y); ``anchor`` is SVG's text-anchor."""

    x: float
    y: float
    text: str
    anchor: str = "start"


@dataclass(frozen=True)
class Line:
    """A horizontal guide line across a chart at height ``y`` with its label on the left."""

    y: float
    label: str
    css: str = "grid"
    x: float = LEFT


@dataclass(frozen=True)
class Point:
    """A data point (circle) with a tooltip; ``faint`` when it rests on few ratings."""

    x: float
    y: float
    tip: str
    faint: bool


@dataclass(frozen=True)
class Chart:
    """An SVG chart: its size, what to draw (a polyline is a list of "x,y" strings), and the
    message shown instead when there is no data."""

    width: float
    height: float
    rects: tuple[Rect, ...] = ()
    labels: tuple[Label, ...] = ()
    lines: tuple[Line, ...] = ()
    polylines: tuple[tuple[str, ...], ...] = ()
    points: tuple[Point, ...] = ()
    empty: str = ""


def heatmap_chart(report: Report) -> Chart:
    """The review heatmap: one column per week, Monday on top, darker for busier days."""
    weeks = heatmap(report.history)
    left, top = 30, 16
    rects, labels = [], []
    for column, week in enumerate(weeks):
        x = left + column * PITCH
        first = next((cell for cell in week if cell is not None), None)
        if first is not None and first.day.day <= 7:
            labels.append(Label(x, top - 5, MONTHS[first.day.month - 1]))
        for row, cell in enumerate(week):
            if cell is not None:
                rects.append(_heat_rect(cell, x, top + row * PITCH))
    for row, name in ((0, "Mon"), (2, "Wed"), (4, "Fri")):
        labels.append(Label(left - 4, top + row * PITCH + CELL - 2, name, "end"))
    return Chart(left + len(weeks) * PITCH, top + 7 * PITCH, tuple(rects), tuple(labels))


def _heat_rect(cell: HeatCell, x: float, y: float) -> Rect:
    tip = f"{cell.day.isoformat()}: {count(cell.reviews, 'review')}"
    return Rect(x, y, CELL, CELL, f"l{cell.level}", tip)


def forecast_chart(report: Report) -> Chart:
    """Cards due on each of the next 30 learner days (overdue ones on today's bar)."""
    top_value = nice_ceiling(max((due for _day, due in report.forecast), default=0))
    plot_width, plot_height = CHART_WIDTH - LEFT, CHART_HEIGHT - BOTTOM - TOP
    slot = plot_width / max(1, len(report.forecast))
    rects, labels = [], []
    for index, (due_day, due) in enumerate(report.forecast):
        height = plot_height * due / top_value
        when = "today (and overdue)" if index == 0 else due_day.isoformat()
        x = LEFT + index * slot
        rects.append(
            Rect(x + 1, TOP + plot_height - height, slot - 2, height, "bar", f"{when}: {due:,} due")
        )
        if index % 7 == 0:
            text = "today" if index == 0 else short_day(due_day)
            labels.append(Label(x + slot / 2, CHART_HEIGHT - 6, text, "middle"))
    # A middle gridline only where it falls on a whole number of cards (not for a top of 1 or 5).
    fractions = (0.0, 0.5, 1.0) if top_value % 2 == 0 else (0.0, 1.0)
    lines = tuple(
        Line(TOP + plot_height * (1 - fraction), f"{round(top_value * fraction):,}")
        for fraction in fractions
    )
    empty = "" if any(due for _day, due in report.forecast) else "Nothing due in the next 30 days"
    return Chart(CHART_WIDTH, CHART_HEIGHT, tuple(rects), tuple(labels), lines, empty=empty)


def retention_chart(report: Report) -> Chart:
    """True retention per week over the history, against the desired retention."""
    weeks = weekly_retention(report.history)
    rates = [week.rate for week in weeks if week.rate is not None]
    desired = report.settings.desired_retention
    low = min(0.7, math.floor(min(rates, default=1.0) * 10) / 10)
    plot_width, plot_height = CHART_WIDTH - LEFT, CHART_HEIGHT - BOTTOM - TOP
    slot = plot_width / max(1, len(weeks))

    def y_of(rate: float) -> float:
        return TOP + plot_height * (1 - (rate - low) / (1 - low))

    points, polylines, labels = [], [], []
    run: list[str] = []
    for index, week in enumerate(weeks):
        x = LEFT + (index + 0.5) * slot
        if week.start.day <= 7:
            labels.append(Label(x, CHART_HEIGHT - 6, MONTHS[week.start.month - 1], "middle"))
        if week.rate is None:
            if len(run) > 1:
                polylines.append(tuple(run))
            run = []
            continue
        run.append(f"{x:.1f},{y_of(week.rate):.1f}")
        tip = (
            f"week of {week.start.isoformat()}: {percent(week.rate)}"
            f" ({week.passed:,}/{week.reviews:,})"
        )
        points.append(Point(x, y_of(week.rate), tip, week.reviews < 10))
    if len(run) > 1:
        polylines.append(tuple(run))
    lines = (
        Line(y_of(low), percent(low)),
        Line(y_of(1.0), "100%"),
        Line(y_of(desired), percent(desired), "target"),
    )
    return Chart(
        CHART_WIDTH,
        CHART_HEIGHT,
        labels=tuple(labels),
        lines=lines,
        polylines=tuple(polylines),
        points=tuple(points),
        empty="" if points else "No review card rated in the last 12 months yet",
    )


def progress_segments(figures: Figures) -> list[Rect]:
    """A stacked bar (0-100 wide) of the cards by state: mastered, review, learning, new."""
    parts = (
        ("mastered", figures.mastered),
        ("review", figures.review),
        ("learning", figures.learning),
        ("new", figures.new),
    )
    segments, x = [], 0.0
    for name, number in parts:
        if figures.cards and number:
            width = 100 * number / figures.cards
            segments.append(Rect(x, 0, width, 10, name, f"{number:,} {name}"))
            x += width
    return segments


class TemplateCache(FileSystemBytecodeCache):
    """Jinja2's bytecode cache of the compiled templates in the user's cache folder
    (``platformdirs.user_cache_path("trainer")/templates``), so a report does not compile its
    template anew on every run. Jinja2 keys each entry by the template's name and file and
    checks a checksum of its source (and its own and Python's version) on load, so a changed
    template is compiled again. A folder that cannot be made or written only means no cache:
    it never fails a report."""

    def dump_bytecode(self, bucket: Bucket) -> None:
        """Store ``bucket``'s bytecode; nothing when the folder cannot be written."""
        try:
            super().dump_bytecode(bucket)
        except OSError:
            return


def template_cache() -> TemplateCache | None:
    """The bytecode cache of the HTML templates; None when its folder cannot be made."""
    folder = user_cache_path("trainer", appauthor=False) / "templates"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return TemplateCache(str(folder))


def environment() -> Environment:
    """The Jinja2 environment of the HTML pages (templates in ``reports/templates``, every
    value escaped, the wording filters, compiled templates kept by :func:`template_cache`)."""
    environment = Environment(
        loader=PackageLoader("trainer.reports", "templates"),
        bytecode_cache=template_cache(),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        percent=percent,
        mastered_percent=mastered_percent,
        day=day,
        number=lambda value: f"{value:,}",
    )
    environment.globals.update(count=count, progress_segments=progress_segments)
    return environment


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page."""
    template = environment().get_template("report.html.j2")
    return template.render(
        report=report,
        heatmap=heatmap_chart(report),
        forecast=forecast_chart(report),
        retention=retention_chart(report),
        generated=local_time(report.generated_at, report.zone, with_zone=True),
        last_reviewed=lambda figures: local_time(figures.last_reviewed_at, report.zone),
        pace=pace_line(report),
        definitions=definitions(report),
    )
