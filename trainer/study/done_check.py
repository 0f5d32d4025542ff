"""The rating's check whether it made the card's topic done, kept cheap across a sitting.

A rating that makes a card mastered may complete its topic (the mastery rule, see
:mod:`trainer.study.mastery`), and then the ``topic_done`` row must be written in the rating's
own transaction (:func:`~trainer.study.mastery.record_done`). Counting a topic's cards costs a
scan of its decks, far more than the rest of a rating, so a :class:`DoneCheck` counts a topic
once and then follows the count by the ratings of its own sitting, for as long as nothing else
wrote to the database (:func:`~trainer.store.db.write_mark`; on engines without such a mark it
counts on every rating that changes a card's mastery). :func:`record_done` runs only when the
count says the topic meets the rule and has no row yet, so it stores exactly what it would
store if it ran on every rating that makes a card mastered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, and_, case, func, select

from trainer.store import tables
from trainer.store.db import write_mark, write_mark_after
from trainer.store.memory import learner_cards, unsuspended
from trainer.store.settings import Settings
from trainer.study.mastery import holds_mastery, is_done, is_mastered, record_done


@dataclass
class _Tally:
    """A topic's active cards the learner has not suspended, the mastered ones among them, and
    whether the learner has its ``topic_done`` row."""

    cards: int
    mastered: int
    done: bool


class DoneCheck:
    """The done check of learner ``learner_id``'s ratings in one sitting (``settings`` are
    theirs), all made on one connection.

    Each rating's transaction calls :meth:`begin` first, :meth:`rated` after its writes, and
    :meth:`committed` once it is committed; any other write transaction of the sitting needs
    nothing: the mark it leaves makes the next :meth:`begin` count anew.
    """

    def __init__(self, learner_id: int, settings: Settings) -> None:
        self._learner_id = learner_id
        self._settings = settings
        self._topic_of: dict[int, int | None] = {}  # deck id -> its topic's id (None: none)
        self._tallies: dict[int, _Tally] = {}  # by topic id
        self._mark: tuple[int, int] | None = None  # after the last committed rating
        self._pending: tuple[int, int] | None = None  # after this rating's writes

    @property
    def mark(self) -> tuple[int, int] | None:
        """The database's :func:`~trainer.store.db.write_mark` when the last rating committed
        (None: no rating committed since :meth:`begin`, or the engine has no mark)."""
        return self._mark

    def begin(self, conn: Connection) -> tuple[int, int] | None:
        """At the start of a rating's transaction, before its first write: forget every count
        when anything was written since the last rating committed (or the engine cannot tell).
        Returns the database's write mark now (None on engines without one): equal to
        :attr:`mark` as it was before this call exactly when nothing was written since."""
        mark = write_mark(conn)
        if mark is None or mark != self._mark:
            self._topic_of.clear()
            self._tallies.clear()
        self._mark, self._pending = None, mark
        return mark

    def rated(
        self,
        conn: Connection,
        deck_id: int,
        before_days: float | None,
        after_days: float | None,
        suspended: bool,
        today: date,
    ) -> list[int]:
        """After the writes of a rating of a card of deck ``deck_id`` that moved its stability
        from ``before_days`` to ``after_days`` (days, None for a new card) and, when
        ``suspended``, suspended it as a leech: store the ``topic_done`` row of its topic
        when the rating made it done on learner day ``today`` (:func:`record_done`), and
        return the ids of the topics made done (none or the card's)."""
        was = holds_mastery(before_days, self._settings)
        now = holds_mastery(after_days, self._settings)
        topic = self._topic(conn, deck_id)
        done: list[int] = []
        if topic is not None and suspended:
            self._tallies.pop(topic, None)  # one card fewer: counted anew when needed
        elif topic is not None and was != now:
            tally = self._tallies.get(topic)
            if tally is not None:
                tally.mastered += now - was
            elif now:
                tally = self._tallies[topic] = self._count(conn, topic)
            if (
                now
                and tally is not None
                and not tally.done
                and is_done(tally.cards, tally.mastered, self._settings)
            ):
                done = record_done(conn, self._learner_id, self._settings, today, [deck_id])
                tally.done = True
        self._pending = write_mark_after(conn, self._pending)
        return done

    def committed(self) -> None:
        """The rating's transaction is committed: its counts hold for the next rating."""
        self._mark = self._pending

    def _topic(self, conn: Connection, deck_id: int) -> int | None:
        if deck_id not in self._topic_of:
            self._topic_of[deck_id] = conn.scalar(
                select(tables.deck.c.topic_id).where(tables.deck.c.id == deck_id)
            )
        return self._topic_of[deck_id]

    def _count(self, conn: Connection, topic_id: int) -> _Tally:
        """Count topic ``topic_id``'s cards as :func:`~trainer.study.mastery.tally_decks`
        counts a deck's, and read whether the learner has its ``topic_done`` row."""
        mastered = is_mastered(tables.card_memory.c.stability_days, self._settings)
        cards, mastered_cards = conn.execute(
            learner_cards(
                self._learner_id,
                func.count(case((unsuspended(), 1))),
                func.count(case((and_(unsuspended(), mastered), 1))),
            ).where(
                tables.card.c.active.is_(True),
                tables.card.c.deck_id.in_(
                    select(tables.deck.c.id).where(tables.deck.c.topic_id == topic_id)
                ),
            )
        ).one()
        done = conn.scalar(
            select(func.count()).where(
                tables.topic_done.c.learner_id == self._learner_id,
                tables.topic_done.c.topic_id == topic_id,
            )
        )
        return _Tally(int(cards), int(mastered_cards), bool(done))
