"""``trainer decks``: every deck with its cards by state, due today and mastered.

Roadmap decks (a topic's built-in deck and decks imported into a topic) come first in roadmap
order, then the extra decks as a tree; an extra deck's figures include the decks under it, as
Anki's deck list shows them. Figures count active cards, in the mastery engine's one grouped
query (:func:`trainer.study.mastery.tally_decks`) over the card table's covering index.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, case, func, select

from trainer.scheduling.days import DayClock
from trainer.store.deck_tree import DeckTree
from trainer.store.memory import is_new, unsuspended
from trainer.store.models import CardMemory, CardState, Deck, Section, Topic
from trainer.store.settings import Settings
from trainer.study.mastery import due_today, tally_decks

#: The figures of a deck, in the order ``trainer decks`` shows them.
FIGURES = ("new", "learning", "review", "due", "total", "mastered")


@dataclass(frozen=True)
class DeckCounts:
    """One deck: ``slug``, ``name`` (its whole path), ``topic`` (the slug of the topic its
    cards count toward, None for an extra deck), ``parent`` (the slug of the deck above it)
    and ``depth`` (0 at the top); its active cards: ``new``, ``learning`` (learning and
    relearning), ``review``, ``due`` today (review and learning cards, not buried), ``total``
    and ``mastered`` (stability at or above ``mastery_stability_days``)."""

    slug: str
    name: str
    topic: str | None
    parent: str | None
    depth: int
    new: int
    learning: int
    review: int
    due: int
    total: int
    mastered: int


def list_decks(
    conn: Connection, learner_id: int, settings: Settings, clock: DayClock, now: datetime
) -> list[DeckCounts]:
    """Every deck with learner ``learner_id``'s figures at aware UTC ``now`` (see the module
    docstring)."""
    learning = CardMemory.state.in_([CardState.LEARNING, CardState.RELEARNING])
    columns = [
        func.count(case((and_(is_new(), unsuspended()), 1))).label("new"),
        func.count(case((and_(learning, unsuspended()), 1))).label("learning"),
        func.count(case((and_(CardMemory.state == CardState.REVIEW, unsuspended()), 1))).label(
            "review"
        ),
        func.count(case((due_today(clock, now), 1))).label("due"),
    ]
    own = {
        deck_id: Counter({**tally.extra, "total": tally.cards, "mastered": tally.mastered})
        for deck_id, tally in tally_decks(conn, learner_id, settings, columns).items()
    }
    tree = DeckTree.read(conn)
    topics = {
        deck_id: slug
        for deck_id, slug in conn.execute(
            select(Deck.id, Topic.slug)
            .join(Topic, Deck.topic_id == Topic.id)
            .join(Section, Topic.section_id == Section.id)
            .order_by(Section.position, Topic.position, Deck.id)
        )
    }

    def counts(deck_id: int, figures: Counter[str]) -> DeckCounts:
        node = tree.nodes[deck_id]
        parent = tree.nodes[node.parent_id].slug if node.parent_id is not None else None
        values = [int(figures[name]) for name in FIGURES]
        return DeckCounts(node.slug, node.name, topics.get(deck_id), parent, node.depth, *values)

    listed = [counts(deck_id, own.get(deck_id, Counter())) for deck_id in topics]
    for node in tree.ordered():
        if node.id not in topics:
            total: Counter[str] = Counter()
            for deck_id in tree.subtree(node.id):
                total.update(own.get(deck_id, Counter()))
            listed.append(counts(node.id, total))
    return listed
