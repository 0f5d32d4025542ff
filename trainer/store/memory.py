"""A card's memory state as a value, and its mapping to and from the card row's columns.

The scheduler (:mod:`trainer.scheduling.adapter`) works on :class:`Memory` values only; the
layers that read and write card rows turn rows into a :class:`Memory` with :func:`memory_of`
and back into column values with :func:`memory_values`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from trainer.store.models import Card, CardState


@dataclass(frozen=True)
class Memory:
    """A card's scheduling state: its :class:`CardState`, learning step (None in Review),
    FSRS stability (days) and difficulty (1-10), when it is due (``due_at``, aware UTC, for a
    learning step; ``due_day``, a learner day, for a review), its last review (aware UTC and
    learner day), its reviews and lapses so far."""

    state: CardState = CardState.NEW
    step: int | None = None
    stability_days: float | None = None
    difficulty: float | None = None
    due_at: datetime | None = None
    due_day: date | None = None
    last_review_at: datetime | None = None
    last_review_day: date | None = None
    reps: int = 0
    lapses: int = 0

    @property
    def problem(self) -> str | None:
        """Why FSRS cannot schedule a card in this state, or None when it can: a card past new
        needs a stability above 0 days and a difficulty (both finite numbers) and a last review
        day. Nothing the scheduler writes breaks this; a damaged or hand-edited database can."""
        if self.state == CardState.NEW:
            return None
        name = self.state.name.lower()
        for label, value in (("stability", self.stability_days), ("difficulty", self.difficulty)):
            if value is None:
                return f"no {label} in {name} state"
            if not math.isfinite(value) or (label == "stability" and value <= 0):
                return f"{label} {value:g} in {name} state"
        if self.last_review_day is None:
            return f"no last review in {name} state"
        return None


#: The card columns that make up a :class:`Memory`, in field order.
MEMORY_COLUMNS = (
    Card.state,
    Card.step,
    Card.stability_days,
    Card.difficulty,
    Card.due_at,
    Card.due_day,
    Card.last_review_at,
    Card.last_review_day,
    Card.reps,
    Card.lapses,
)


def memory_of(row: Any) -> Memory:
    """The :class:`Memory` in a card row (a ``Card`` or a result row holding MEMORY_COLUMNS)."""
    return Memory(
        state=CardState(row.state),
        step=row.step,
        stability_days=row.stability_days,
        difficulty=row.difficulty,
        due_at=row.due_at,
        due_day=row.due_day,
        last_review_at=row.last_review_at,
        last_review_day=row.last_review_day,
        reps=row.reps,
        lapses=row.lapses,
    )


def memory_values(memory: Memory) -> dict[str, Any]:
    """Column values that store ``memory`` on a card row (for an UPDATE)."""
    values = {column.key: getattr(memory, column.key) for column in MEMORY_COLUMNS}
    values["state"] = int(memory.state)
    return values
