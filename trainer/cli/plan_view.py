"""``trainer plan``: the forecast as a short table of weeks, a strip of the daily load and the
predicted done days, or as JSON."""

from __future__ import annotations

import math
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from trainer.cli.stats_view import blocks
from trainer.reports.wording import count, day
from trainer.study.plan import Needed, Plan
from trainer.visible import visible

#: Rows of the weeks table at most; a longer plan shows several weeks a row.
TABLE_ROWS = 12
#: Cells of the daily-load strip at most; a longer plan shows a day's most per cell.
STRIP_WIDTH = 73


def plan_json(plan: Plan) -> dict[str, Any]:
    """The plan as the issue gives it: ``roadmap_done_day``, ``catch_up_days`` (days the
    backlog rule pauses new cards), ``days`` (day, reviews, new) and ``sections`` with their
    ``topics``, each with its ``done_day`` (YYYY-MM-DD or null)."""

    def iso(value: Any) -> str | None:
        return None if value is None else str(value.isoformat())

    return {
        "roadmap_done_day": iso(plan.roadmap_done_day),
        "catch_up_days": plan.catch_up_days,
        "days": [
            {"day": load.day.isoformat(), "reviews": load.reviews, "new": load.new}
            for load in plan.days
        ],
        "sections": [
            {
                "slug": section.slug,
                "done_day": iso(section.done_day),
                "topics": [{"slug": t.slug, "done_day": iso(t.done_day)} for t in section.topics],
            }
            for section in plan.sections
        ],
    }


def needed_json(needed: Needed) -> dict[str, Any]:
    """``--by DATE --json``: ``by``, ``new_cards_per_day`` and ``reviews`` (``mean`` and
    ``peak`` a day until then), null when the date cannot be met, and the plan's fields at
    that number of new cards."""
    if needed.plan is None:
        return {"by": needed.by.isoformat(), "new_cards_per_day": None, "reviews": None}
    mean, peak = needed.plan.reviews_until(needed.by)
    return {
        "by": needed.by.isoformat(),
        "new_cards_per_day": needed.new_cards,
        "reviews": {"mean": round(mean, 1), "peak": peak},
        **plan_json(needed.plan),
    }


def _strip(plan: Plan) -> str:
    """The daily load (reviews and new cards) as block characters, one cell per day, or per
    several days (their busiest) when the plan is longer than :data:`STRIP_WIDTH`."""
    loads = [load.reviews + load.new for load in plan.days]
    size = max(1, math.ceil(len(loads) / STRIP_WIDTH))
    cells = [max(loads[i : i + size]) for i in range(0, len(loads), size)]
    return blocks(cells, max(cells, default=0))


def render_plan(plan: Plan, out: Console) -> None:
    """The plan in the terminal: a row per week (or per few weeks): the mean reviews and new
    cards a day and the topics done by its end; the daily load strip; each section's
    predicted done day and the roadmap's."""
    if not plan.days:
        return
    start = plan.days[0].day
    out.print(
        f"Plan from {start.isoformat()} for {count(len(plan.days), 'day')}: retention"
        f" {plan.retention:g}, {count(plan.new_cards_per_day, 'new roadmap card')} a day",
        highlight=False,
    )
    done_days = [t.done_day for s in plan.sections for t in s.topics]
    weeks = math.ceil(len(plan.days) / 7)
    span = max(1, math.ceil(weeks / TABLE_ROWS)) * 7
    table = Table(box=None, pad_edge=False)
    for name in ("from", "reviews a day", "new a day", "topics done"):
        table.add_column(name, justify="left" if name == "from" else "right")
    for first in range(0, len(plan.days), span):
        part = plan.days[first : first + span]
        end = part[-1].day
        done = sum(1 for d in done_days if d is not None and d <= end)
        table.add_row(
            part[0].day.isoformat(),
            f"{sum(load.reviews for load in part) / len(part):.0f}",
            f"{sum(load.new for load in part) / len(part):.0f}",
            f"{done}/{len(done_days)}",
        )
    out.print(table)
    peak = max(load.reviews + load.new for load in plan.days)
    out.print(f"\nDaily load (reviews + new), at most {peak:,} a day:", highlight=False)
    if plan.catch_up_days:
        out.print(
            f"Catching up a backlog on {count(plan.catch_up_days, 'day')}: new cards paused.",
            highlight=False,
        )
    out.print(Text(_strip(plan), style="blue"))
    out.print()
    width = max((len(visible(s.title)) for s in plan.sections), default=0)
    for section in plan.sections:
        line = Text(visible(section.title).ljust(width) + "  ")
        line.append(_done(section.done_day, plan), style="green" if section.done_day else "dim")
        out.print(line)
    out.print(
        Text.assemble(("Roadmap done: ", "bold"), _done(plan.roadmap_done_day, plan)),
    )


def _done(when: Any, plan: Plan) -> str:
    """A predicted done day with the days until it, or that it falls beyond the plan."""
    if when is None:
        return f"not within {count(len(plan.days), 'day')}"
    days = (when - plan.days[0].day).days
    return f"{day(when)} (in {count(days, 'day')})" if days else f"{day(when)} (today)"


def render_needed(needed: Needed, out: Console, usual: Plan) -> None:
    """``--by DATE``: the new cards a day that finish the roadmap by then and the reviews they
    cost, or that the date cannot be met (with the ``usual`` plan's done day)."""
    if needed.plan is None or needed.new_cards is None:
        out.print(
            f"The roadmap cannot be done by {needed.by.isoformat()}: no number of new cards a"
            f" day finishes it by then. At your settings: {_done(usual.roadmap_done_day, usual)}.",
            highlight=False,
        )
        return
    mean, peak = needed.plan.reviews_until(needed.by)
    out.print(
        f"To be through the roadmap by {needed.by.isoformat()}:"
        f" {count(needed.new_cards, 'new roadmap card')} a day (done"
        f" {day(needed.plan.roadmap_done_day)}), costing about {mean:.0f} reviews a day on"
        f" average and {peak:,} on the busiest day.",
        highlight=False,
    )
