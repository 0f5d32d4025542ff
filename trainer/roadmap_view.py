"""``trainer status``: the roadmap drawn in the terminal, or as JSON."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from trainer.mastery import RoadmapProgress, TopicProgress

BAR_WIDTH = 20


def progress_bar(share: float, width: int = BAR_WIDTH) -> Text:
    """A bar of ``width`` cells filled to ``share`` (0.0-1.0)."""
    filled = round(max(0.0, min(1.0, share)) * width)
    return Text("█" * filled, style="green").append("░" * (width - filled), style="dim")


def _topic_row(topic: TopicProgress, is_next: bool) -> list[Text | str]:
    mark = (
        Text("✓", style="bold green") if topic.done else Text("▶", "bold yellow") if is_next else ""
    )
    return [
        mark,
        Text(topic.title, style="bold" if is_next else ""),
        progress_bar(topic.share),
        f"{topic.mastered}/{topic.cards}",
        str(topic.due) if topic.due else "",
    ]


def render_roadmap(progress: RoadmapProgress, console: Console, mastery_days: float) -> None:
    """Print today's counts and every section with its topics' mastery (``mastery_days`` is the
    stability threshold, for the legend)."""
    today = progress.today
    console.print(
        Text.assemble(
            (f"Today ({progress.day.isoformat()}): ", "bold"),
            f"{today.reviewed} reviewed, {today.new_seen} new seen, {today.due} due",
        )
    )
    next_topic = progress.next_topic
    title_width = max((len(t.title) for s in progress.sections for t in s.topics), default=10)
    for number, section in enumerate(progress.sections, start=1):
        done = sum(t.done for t in section.topics)
        table = Table(
            title=f"{number}. {section.title}  ({done}/{len(section.topics)} done)",
            title_justify="left",
            title_style="bold cyan",
            show_header=False,
            box=None,
            padding=(0, 1),
        )
        table.add_column("mark", width=1)
        table.add_column("topic", min_width=title_width)
        table.add_column("bar")
        table.add_column("mastered", justify="right", min_width=9)
        table.add_column("due", justify="right", min_width=4)
        for topic in section.topics:
            table.add_row(*_topic_row(topic, topic.slug == next_topic))
        console.print(table)
    if progress.extra_decks:
        table = Table(title="Extra decks", title_justify="left", show_header=False, box=None)
        for deck in progress.extra_decks:
            table.add_row(*_topic_row(deck, False))
        console.print(table)
    if next_topic is None:
        console.print(Text("Every topic is done.", style="bold green"))
    console.print(
        Text(f"mastered = stability of {mastery_days:g}+ days; due = due today", style="dim")
    )


def _topic_json(topic: TopicProgress) -> dict[str, Any]:
    return {
        "slug": topic.slug,
        "title": topic.title,
        "cards": topic.cards,
        "mastered": topic.mastered,
        "new": topic.new,
        "due": topic.due,
        "done": topic.done,
    }


def progress_json(progress: RoadmapProgress) -> dict[str, Any]:
    """The ``status --json`` document (shape documented in the README)."""
    return {
        "day": progress.day.isoformat(),
        "today": {
            "reviewed": progress.today.reviewed,
            "new_seen": progress.today.new_seen,
            "due": progress.today.due,
        },
        "next_topic": progress.next_topic,
        "sections": [
            {
                "slug": section.slug,
                "title": section.title,
                "done": section.done,
                "topics": [_topic_json(topic) for topic in section.topics],
            }
            for section in progress.sections
        ],
        "extra_decks": [_topic_json(deck) for deck in progress.extra_decks],
    }
