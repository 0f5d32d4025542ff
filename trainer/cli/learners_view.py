"""``trainer learners``: the learners as aligned lines, or as JSON."""

from __future__ import annotations

from typing import Any

from trainer.store.learners import LearnerSummary
from trainer.visible import visible

#: The figures' column headings, in order.
HEADINGS = ("studied", "reviews", "last review")


def learners_json(learners: list[LearnerSummary]) -> list[dict[str, Any]]:
    """The ``learners --json`` document: one object per learner, by name (``name``,
    ``cards_studied``, ``reviews``, ``last_review_day`` as ``YYYY-MM-DD`` or null)."""
    return [
        {
            "name": learner.name,
            "cards_studied": learner.cards_studied,
            "reviews": learner.reviews,
            "last_review_day": learner.last_review_day and learner.last_review_day.isoformat(),
        }
        for learner in learners
    ]


def learners_lines(learners: list[LearnerSummary], current: str) -> list[str]:
    """A header, then one aligned line per learner (``*`` before the ``current`` one), or one
    line saying there is none yet."""
    if not learners:
        return [f"No learners yet: the first review or setting makes one ({visible(current)})."]
    names = {learner.name: visible(learner.name) for learner in learners}
    width = max(len("learner"), *(len(name) for name in names.values()))
    lines = ["  " + "learner".ljust(width) + "".join(f"  {h:>11}" for h in HEADINGS)]
    for learner in learners:
        last = learner.last_review_day.isoformat() if learner.last_review_day else "-"
        figures = (str(learner.cards_studied), str(learner.reviews), last)
        mark = "* " if learner.name == current else "  "
        lines.append(
            mark + names[learner.name].ljust(width) + "".join(f"  {f:>11}" for f in figures)
        )
    return lines
