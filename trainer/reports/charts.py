"""What the charts show, independent of how they are drawn (SVG in HTML, text in a terminal):
the review heatmap's weeks and shades, true retention by week, the due forecast's scale."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from trainer.reports.figures import DayActivity

#: Shades of the heatmap: 0 for a day without reviews, then 1-4 by quartile of the busy days.
LEVELS = 4


@dataclass(frozen=True)
class HeatCell:
    """One day of the heatmap: its reviews and shade (0 to :data:`LEVELS`)."""

    day: date
    reviews: int
    level: int


@dataclass(frozen=True)
class WeekRetention:
    """True retention over one week (Monday to Sunday) of review history."""

    start: date
    reviews: int
    passed: int

    @property
    def rate(self) -> float | None:
        """Share (0-1) of the week's true-retention ratings that passed; None without any."""
        return self.passed / self.reviews if self.reviews else None


def _thresholds(counts: Sequence[int]) -> list[float]:
    """Upper bounds of shades 1 to LEVELS - 1: the quartiles of the days with reviews."""
    busy = sorted(n for n in counts if n > 0)
    if len(busy) < 2:
        return [float(busy[0]) if busy else 0.0] * (LEVELS - 1)
    return statistics.quantiles(busy, n=LEVELS, method="inclusive")


def shade(reviews: int, thresholds: Sequence[float]) -> int:
    """The shade of a day with ``reviews`` ratings given the quartile ``thresholds``."""
    if reviews <= 0:
        return 0
    return 1 + sum(reviews > bound for bound in thresholds)


def heatmap(history: Sequence[DayActivity]) -> list[list[HeatCell | None]]:
    """The history as weeks (columns, oldest first) of seven days, Monday first; days before
    the first or after the last day of history are None."""
    if not history:
        return []
    thresholds = _thresholds([activity.reviews for activity in history])
    first = history[0].day - timedelta(days=history[0].day.weekday())
    by_day = {activity.day: activity for activity in history}
    weeks: list[list[HeatCell | None]] = []
    start = first
    while start <= history[-1].day:
        week: list[HeatCell | None] = []
        for offset in range(7):
            activity = by_day.get(start + timedelta(days=offset))
            if activity is None:
                week.append(None)
            else:
                week.append(
                    HeatCell(activity.day, activity.reviews, shade(activity.reviews, thresholds))
                )
        weeks.append(week)
        start += timedelta(days=7)
    return weeks


def weekly_retention(history: Sequence[DayActivity]) -> list[WeekRetention]:
    """True retention per week of history (weeks start on Monday), oldest first."""
    weeks: dict[date, tuple[int, int]] = {}
    for activity in history:
        start = activity.day - timedelta(days=activity.day.weekday())
        reviews, passed = weeks.get(start, (0, 0))
        weeks[start] = (reviews + activity.retention_reviews, passed + activity.retention_passed)
    return [WeekRetention(start, *weeks[start]) for start in sorted(weeks)]


def nice_ceiling(value: float) -> int:
    """The smallest of 1, 2 or 5 times a power of ten that is at least ``value`` (at least 1):
    the top of a chart's axis."""
    magnitude = 1
    while magnitude * 10 < value:
        magnitude *= 10
    return next(step * magnitude for step in (1, 2, 5, 10) if step * magnitude >= value)
