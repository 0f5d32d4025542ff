"""``trainer cards``: the cards a search found, as aligned lines or as JSON."""

from __future__ import annotations

import re
from datetime import tzinfo
from typing import Any

from trainer.cli.status_view import fitted
from trainer.reports.wording import NONE, count, day, local_time
from trainer.store.models import CardState
from trainer.study.search import FoundCard

#: Widest deck/topic and front shown (terminal cells; longer ones end in an ellipsis).
PLACE_WIDTH = 24
FRONT_WIDTH = 40
#: The columns after the front: header and width; text left-aligned, figures right-aligned.
COLUMNS = (("state", -11), ("due", -16), ("stability", 9), ("R", 4), ("lapses", 6))
#: After the state of a card marked a leech (``is:leech``), explained under the table.
LEECH_MARK = "*"
#: A Markdown backslash escape (CommonMark: any ASCII punctuation) or a hard line break's
#: backslash at the end of a line.
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])|\\$")


def first_line(text: str) -> str:
    """The first line of a card side (Markdown) as it reads: backslash escapes shown as the
    character they escape (``\\[...\\]`` -> ``[...]``), a hard line break's ``\\`` dropped."""
    return _ESCAPE.sub(lambda match: match.group(1) or "", text.strip().split("\n", 1)[0])


def _place(card: FoundCard) -> str:
    """Where a card is: its roadmap topic's slug, else its deck's name."""
    return card.topic or card.deck


def _due(card: FoundCard, zone: tzinfo | None) -> str:
    memory = card.memory
    if memory.due_day is not None:
        return day(memory.due_day)
    return local_time(memory.due_at, zone) if memory.due_at is not None else NONE


def cards_lines(cards: list[FoundCard], total: int, zone: tzinfo | None) -> list[str]:
    """A header and one aligned line per card (id, deck/topic, the front's first line, state
    (``suspended`` for a suspended card; :data:`LEECH_MARK` after a leech's), due day or
    learning step's end in ``zone``'s local time, stability in days, retrievability now,
    lapses), then how many cards matched (and what the mark means, if a leech is shown); one
    line when none did."""
    if not total:
        return ["No cards match."]
    id_width = max(len("id"), *(len(str(card.id)) for card in cards))
    place_width = min(PLACE_WIDTH, max(len("deck"), *(len(_place(card)) for card in cards)))

    def line(id_: str, place: str, front: str, values: list[str]) -> str:
        cells = [id_.rjust(id_width), fitted(place, place_width).plain]
        cells.append(fitted(front, FRONT_WIDTH).plain)
        for value, (_, width) in zip(values, COLUMNS, strict=True):
            cells.append(value.ljust(-width) if width < 0 else value.rjust(width))
        return "  ".join(cells).rstrip()

    lines = [line("id", "deck", "front", [name for name, _ in COLUMNS])]
    for card in cards:
        memory = card.memory
        stability = memory.stability_days
        recall = card.retrievability
        lines.append(
            line(
                str(card.id),
                _place(card),
                first_line(card.front),
                [
                    ("suspended" if card.suspended else memory.state.name.lower())
                    + (LEECH_MARK if card.leech else ""),
                    _due(card, zone),
                    NONE if stability is None else f"{stability:.1f}d",
                    NONE if recall is None else f"{recall:.2f}",
                    str(memory.lapses),
                ],
            )
        )
    if len(cards) < total:
        summary = f"{len(cards):,} of {count(total, 'card')} shown (--limit)"
    else:
        summary = count(total, "card")
    if any(card.leech for card in cards):
        summary += f"; {LEECH_MARK} a leech"
    lines.append(summary)
    return lines


def cards_json(cards: list[FoundCard]) -> list[dict[str, Any]]:
    """Every field of each card and its memory state: times ISO 8601 in UTC, learner days
    ``YYYY-MM-DD``, the state by name."""
    documents = []
    for card in cards:
        memory = card.memory
        documents.append(
            {
                "id": card.id,
                "deck": card.deck,
                "topic": card.topic,
                "key": card.key,
                "kind": card.kind,
                "front": card.front,
                "back": card.back,
                "accepted": card.accepted,
                "tags": card.tags,
                "docs_url": card.docs_url,
                "edited": card.edited,
                "suspended": card.suspended,
                "leech": card.leech,
                "state": CardState(memory.state).name.lower(),
                "step": memory.step,
                "stability_days": memory.stability_days,
                "difficulty": memory.difficulty,
                "retrievability": card.retrievability,
                "due_at": _iso(memory.due_at),
                "due_day": _iso(memory.due_day),
                "last_review_at": _iso(memory.last_review_at),
                "last_review_day": _iso(memory.last_review_day),
                "reps": memory.reps,
                "lapses": memory.lapses,
                "buried_until_day": _iso(card.buried_until_day),
            }
        )
    return documents


def _iso(value: Any) -> str | None:
    return None if value is None else str(value.isoformat())
