"""``trainer status``: the roadmap drawn in the terminal, or as JSON."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

from trainer.study.mastery import RoadmapProgress, TopicMastery, top_decks
from trainer.visible import visible

BAR_WIDTH = 20


def progress_bar(share: float, width: int = BAR_WIDTH) -> Text:
    """A bar of ``width`` cells filled to ``share`` (0.0-1.0)."""
    filled = round(max(0.0, min(1.0, share)) * width)
    return Text("█" * filled, style="green").append("░" * (width - filled), style="dim")


def _deck_label(deck: TopicMastery) -> str:
    """An extra deck as a line of the tree: the last part of its ``A::B`` name, indented two
    spaces per deck above it."""
    parts = deck.title.split("::")
    return "  " * (len(parts) - 1) + visible(parts[-1])


#: Cells of a topic line besides its title and bar: margin, mark, spaces, mastered/total, due.
LINE_FIXED = 1 + 2 + 1 + 12 + 9
#: Cells of a done topic's note: a space, its done day and its retention (`` 2026-11-02  93%``).
DONE_NOTE = 1 + 10 + 5


def fitted(title: str, width: int, style: str = "") -> Text:
    """``title`` (made :func:`visible`) padded to ``width`` terminal cells, or cut to them
    with an ellipsis when longer (rich measures the cells, so wide characters count twice)."""
    text = Text(visible(title), style=style)
    text.truncate(width, overflow="ellipsis", pad=True)
    return text


def _topic_line(
    topic: TopicMastery, is_next: bool, title_width: int, bar_width: int, label: str = ""
) -> Text:
    """One aligned line: mark (``↻`` for a done topic that needs a refresh), title (or
    ``label``), bar, mastered/total, due today; for a done topic the day it was first done and
    its retention (mean retrievability of its studied cards today)."""
    if topic.needs_refresh:
        mark = Text("↻ ", style="bold yellow")
    elif topic.done:
        mark = Text("✓ ", style="bold green")
    else:
        mark = Text("▶ " if is_next else "  ", style="bold yellow")
    due = str(topic.total("due") or "")
    return Text.assemble(
        " ",
        mark,
        fitted(label or topic.title, title_width, "bold" if is_next else ""),
        " ",
        progress_bar(topic.share, bar_width),
        f" {topic.mastered:>5}/{topic.cards:<5}",
        (f"{due:>5} due" if due else " " * 9 if topic.done else "", "yellow"),
        _done_note(topic),
    )


def _done_note(topic: TopicMastery) -> Text:
    """`` 2026-11-02  93%`` for a done topic (its done day, its retention; no retention
    without studied cards), yellow when it needs a refresh; empty for one not done."""
    if topic.done_day is None:
        return Text("")
    retention = "" if topic.retention is None else f"{topic.retention:.0%}"
    style = "yellow" if topic.needs_refresh else "dim"
    return Text(f" {topic.done_day.isoformat()} {retention:>4}", style=style)


def render_roadmap(progress: RoadmapProgress, console: Console, mastery_days: float) -> None:
    """Print today's counts, every section with its topics' mastery and the extra decks as a
    tree, and the leeches of each topic and top-level extra deck that has any
    (``mastery_days`` is the stability threshold, for the legend). Lines are laid out by hand:
    one print, no tables."""
    today = progress.today
    lines = [
        Text.assemble(
            (f"Today ({progress.day.isoformat()}): ", "bold"),
            f"{today.reviewed} reviewed, {today.new_seen} new seen, {today.due} due",
        )
    ]
    mastery = progress.mastery
    next_topic = progress.next_topic
    titles = [visible(t.title) for t in mastery.topics] + [
        _deck_label(d) for d in mastery.extra_decks
    ]
    # At most as wide as the terminal: the bar shrinks to half, then titles are cut.
    done_topics = [t for t in (*mastery.topics, *mastery.extra_decks) if t.done]
    fixed = LINE_FIXED + (DONE_NOTE if done_topics else 0)
    width = max(map(len, titles), default=10)
    bar_width = BAR_WIDTH if width + fixed + BAR_WIDTH <= console.width else BAR_WIDTH // 2
    width = max(8, min(width, console.width - fixed - bar_width))
    for number, section in enumerate(mastery.sections, start=1):
        done = sum(t.done for t in section.topics)
        heading = f"{number}. {visible(section.title)}  ({done}/{len(section.topics)} done)"
        lines += [Text(""), Text(heading, style="bold cyan")]
        lines += [_topic_line(t, t.slug == next_topic, width, bar_width) for t in section.topics]
    if mastery.extra_decks:
        lines += [Text(""), Text("Extra decks", style="bold cyan")]
        lines += [
            _topic_line(d, False, width, bar_width, _deck_label(d)) for d in mastery.extra_decks
        ]
    lines.append(Text(""))
    leeches = [
        f"{visible(t.title)} {t.total('leeches')}"
        for t in (*mastery.topics, *top_decks(mastery.extra_decks))
        if t.total("leeches")
    ]
    if leeches:
        note = "Leeches: " + ", ".join(leeches) + " (trainer cards is:leech lists them)"
        lines.append(Text(note, style="yellow"))
    if mastery.done:
        lines.append(Text("Every topic is done.", style="bold green"))
    legend = f"mastered/cards: a card is mastered at a stability of {mastery_days:g}+ days"
    if done_topics:
        legend += "; ✓ done since the day shown, with its cards' mean recall chance today"
    if any(t.needs_refresh for t in done_topics):
        legend += "; ↻ needs refresh: done, but that chance has fallen below the setting"
    lines.append(Text(legend, style="dim"))
    console.print(Text("\n").join(lines))


def _topic_json(topic: TopicMastery) -> dict[str, Any]:
    return {
        "slug": topic.slug,
        "title": topic.title,
        "cards": topic.cards,
        "mastered": topic.mastered,
        "new": topic.total("new"),
        "due": topic.total("due"),
        "leeches": topic.total("leeches"),
        "done": topic.done,
        "done_day": None if topic.done_day is None else topic.done_day.isoformat(),
        "retention": None if topic.retention is None else round(topic.retention, 4),
        "needs_refresh": topic.needs_refresh,
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
            for section in progress.mastery.sections
        ],
        "extra_decks": [_topic_json(deck) for deck in progress.mastery.extra_decks],
    }
