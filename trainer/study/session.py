"""A study sitting, free of any UI: next card, rate, bury, undo, summary.

Every method takes ``now`` (aware UTC) from its caller and never reads the clock or prints. Each
rating, bury and undo is its own committed transaction, made before the next card is handed out,
so quitting, a crash or ``kill -9`` between cards loses nothing. No transaction is held open while
the learner thinks, so several sessions can share one database.

This is the hot path (a rating and the next card should take well under a millisecond), so it
speaks SQLAlchemy Core on short-lived connections rather than ORM sessions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import cached_property, partial
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
)

from trainer.scheduling.adapter import LOAD_DAYS, DayLoad, Outcome, Scheduler
from trainer.scheduling.days import DayClock
from trainer.store import tables
from trainer.store.db import reader, sitting_connections
from trainer.store.edits import shown, with_edits
from trainer.store.learners import lock_learner
from trainer.store.memory import (
    MEMORY_COLUMNS,
    Marks,
    Memory,
    StoredMemory,
    change_memory,
    forget_memory,
    learner_cards,
    memory_of,
    of_active_cards,
    put_marks,
    put_memory,
    read_memory,
    studied_cards,
    suspend_cards,
)
from trainer.store.prepared import PreparedRead, PreparedWrite
from trainer.store.settings import Settings, easy_day_shares
from trainer.store.tables import CardState, Rating
from trainer.study.done_check import DoneCheck
from trainer.study.leeches import mark_leech, turns_leech
from trainer.study.mastery import count_mastery, load_roadmap
from trainer.study.queue import (
    Focus,
    Lane,
    Limits,
    ReviewQueue,
    find_backlog,
    learning_cutoff,
    visible,
)
from trainer.study.siblings import Sibling, bury_siblings, unbury_siblings

if TYPE_CHECKING:
    from trainer.study.edit import Saved


@dataclass(frozen=True)
class ShownCard:
    """A card ready to show: its text, where it sits in the roadmap, and what each rating would
    do if given at ``shown_at`` (aware UTC): :attr:`previews`, scheduled when first asked for
    (the screen asks once the answer shows) against the session's review load as it was at
    ``shown_at``, then kept; a card rated before they are asked for is scheduled for its
    rating alone."""

    card_id: int
    deck_id: int
    lane: Lane
    kind: str
    front: str
    back: str
    accepted: tuple[str, ...]
    docs_url: str | None
    path: str
    memory: Memory
    shown_at: datetime
    preview: Callable[[], dict[Rating, Outcome]] = field(compare=False, repr=False)

    @cached_property
    def previews(self) -> dict[Rating, Outcome]:
        """The outcome of each rating given at ``shown_at``, by rating."""
        return self.preview()

    def previewed(self) -> tuple[datetime, dict[Rating, Outcome]] | None:
        """(``shown_at``, :attr:`previews`) once they were asked for, else None."""
        previews = self.__dict__.get("previews")
        return None if previews is None else (self.shown_at, previews)


@dataclass(frozen=True)
class _Dropped:
    """A sibling a rating buried, and where it was in this session's queue: the lane that
    counted it (None: none did) and whether it was in a loaded page."""

    sibling: Sibling
    lane: Lane | None
    loaded: bool


class _Read(NamedTuple):  # made for every card shown: a tuple costs a third of a dataclass
    """The learner's row of the card last handed out (``shown``) as :meth:`ReviewSession.
    next_card` read it, and the write mark the session's last committed rating had left then
    (see :attr:`~trainer.study.done_check.DoneCheck.mark`)."""

    shown: ShownCard
    mark: tuple[int, int]
    stored: StoredMemory


class _Undo(NamedTuple):  # made for every rating: a tuple costs a third of a dataclass
    card_id: int
    lane: Lane
    memory: Memory
    buried_until_day: date | None
    existed: bool  # the learner had a memory row of the card before
    log_id: int | None
    rating: Rating | None  # None: a bury, or a suspension
    duration_ms: int
    siblings: tuple[_Dropped, ...] = ()
    suspended: bool = False  # the undo of a suspension
    previewed: bool = False  # a rating that wrote nothing (--no-reschedule)
    marks: Marks | None = None  # the card's marks before the rating made it a leech
    done_topics: tuple[int, ...] = ()  # topics (ids) the rating made done
    edit: Saved | None = None  # the undo of an edit: the learner's text before it


@dataclass
class Summary:
    """What a session did: ratings given, Again ratings, time spent rating (ms), cards buried,
    cards suspended, the ids of the cards its ratings made leeches (in rating order; see
    :mod:`trainer.study.leeches`), ratings refused because another session had answered the
    card, cards skipped because their stored memory state cannot be scheduled
    (:attr:`Memory.problem`; ``trainer check`` repairs them), topics that became done;
    and for its focus: cards left today, cards held back by the limits, cards falling due on
    the next learner day."""

    reviewed: int = 0
    again: int = 0
    duration_ms: int = 0
    buried: int = 0
    suspended: int = 0
    leeches: list[int] = field(default_factory=list)
    refused: int = 0
    skipped: int = 0
    topics_done: list[str] = field(default_factory=list)
    left_today: int = 0
    held_back: dict[str, int] = field(default_factory=dict)
    due_tomorrow: int = 0

    @property
    def again_rate(self) -> float:
        """Share of ratings that were Again, 0.0-1.0."""
        return self.again / self.reviewed if self.reviewed else 0.0


# Statements built once: the hot path only binds parameters, and SQLAlchemy reuses the SQL
# compiled for them instead of building and compiling a statement per rating.
_LOG = tables.review_log
_SHOWN = PreparedRead(
    with_edits(
        learner_cards(
            bindparam("learner_id"),
            tables.card.c.id,
            tables.card.c.deck_id,
            *(shown(name) for name in ("kind", "front", "back", "accepted", "docs_url")),
            tables.card.c.active,
            tables.card_memory.c.buried_until_day,
            tables.card_memory.c.suspended,
            *MEMORY_COLUMNS,
        ),
        bindparam("learner_id"),
    ).where(tables.card.c.id == bindparam("card_id")),
    ["learner_id", "card_id"],
)
_LOG_KEYS = (
    "learner_id",
    "card_id",
    "rating",
    "reviewed_at",
    "review_day",
    "duration_ms",
    "state_before",
    "elapsed_days",
    "state",
    "stability_days",
    "difficulty",
    "interval_days",
)
_INSERT_LOG = PreparedWrite(insert(_LOG), _LOG_KEYS)
_DELETE_LOG = delete(_LOG).where(_LOG.c.id == bindparam("log_id"))


def due_per_day(conn: Connection, learner_id: int, today: date) -> dict[date, int]:
    """Learner ``learner_id``'s review load from learner ``today`` on: their active review
    cards due on each day with any, up to :data:`~trainer.scheduling.adapter.LOAD_DAYS`
    days ahead."""
    due = tables.card_memory.c.due_day
    rows = conn.execute(
        select(due, func.count())
        .where(
            tables.card_memory.c.learner_id == learner_id,
            tables.card_memory.c.state == CardState.REVIEW,
            due >= today,
            due <= today + timedelta(days=LOAD_DAYS),
            of_active_cards(),
        )
        .group_by(due)
    )
    return {day: int(count) for day, count in rows}


def deck_schedulers(conn: Connection, learner_id: int, settings: Settings) -> dict[int, Scheduler]:
    """A scheduler for each deck to which learner ``learner_id`` has FSRS parameters of its own
    (an imported Anki deck keeps its preset's, ``learner_deck.fsrs_parameters``), by deck id;
    decks with the same parameters share one. The caller uses them only while the learner
    has no parameters of their own (``trainer optimize`` fits them for every card)."""
    rows = conn.execute(
        select(tables.learner_deck.c.deck_id, tables.learner_deck.c.fsrs_parameters).where(
            tables.learner_deck.c.learner_id == learner_id
        )
    )
    shared: dict[tuple[float, ...], Scheduler] = {}
    schedulers = {}
    for deck_id, parameters in rows:
        if parameters:
            key = tuple(float(p) for p in parameters)
            if key not in shared:
                shared[key] = Scheduler(settings, key)
            schedulers[deck_id] = shared[key]
    return schedulers


class ReviewSession:
    """Learner ``learner_id``'s study sitting over the cards in ``focus``, within their limits
    today (``settings`` are theirs).

    Raises :class:`~trainer.errors.UsageError` (from :class:`Focus`) for an unknown topic or
    section.
    """

    def __init__(
        self,
        engine: Engine,
        learner_id: int,
        settings: Settings,
        clock: DayClock,
        focus: Focus,
        now: datetime,
        new_cards: int | None = None,
        reviews: int | None = None,
        cards: list[int] | None = None,
        matching: ColumnElement[bool] | None = None,
        reschedule: bool = True,
    ) -> None:
        """``new_cards``/``reviews`` set this session's limits outright (instead of what the
        daily limits leave today); ``cards`` (new cards) makes it a quiz of those cards only,
        each shown once (a learning step they enter is not shown again in the session).
        ``matching`` (a search's SQL condition, :func:`trainer.study.search.condition`) makes
        it a session over the cards the search finds, as Anki's filtered decks: its review
        cards due or not, within the limits. Not ``reschedule``: a rating changes nothing
        (no memory state, no review log row; Anki's preview), each card shown once."""
        self._engine = engine
        self.learner_id = learner_id
        self.settings = settings
        self.clock = clock
        self.scheduler = Scheduler(settings)
        self._deck_schedulers: dict[int, Scheduler] = {}
        self._learn_ahead = timedelta(minutes=settings.learn_ahead_minutes)
        self._undo: list[_Undo] = []
        self._again: tuple[int, Lane] | None = None
        self._on_screen: ShownCard | None = None  # handed out, not yet rated or buried
        self._read: _Read | None = None  # its row as read, while the write mark says it holds
        self._done_at_start: dict[str, str] | None = None  # read before the first write
        self._done_check = DoneCheck(learner_id, settings)
        self._matching = matching
        self.reschedule = reschedule
        self.summary = Summary()
        with reader(engine, snapshot=True) as conn:
            self._deck_ids = deck_ids = focus.deck_ids(conn)
            today = clock.day_of(now)
            #: Today's backlog when the backlog rule is on (never in a quiz or a search), else
            #: None.
            self.backlog = (
                None
                if cards is not None or matching is not None
                else find_backlog(conn, learner_id, settings, today)
            )
            limits = Limits.for_session(
                conn, learner_id, settings, today, new_cards, reviews, self.backlog
            )
            self._quiz = cards is not None
            if cards is not None:
                self.queue = ReviewQueue.of_cards(cards, lambda: reader(engine))
            else:
                self.queue = ReviewQueue.build(
                    conn,
                    lambda: reader(engine),
                    learner_id,
                    limits,
                    clock,
                    now,
                    deck_ids,
                    self._learn_ahead,
                    matching,
                    None if self.backlog is None else self.scheduler,
                    self.backlog.due if self.backlog is not None and deck_ids is None else None,
                )
            self._paths = {
                deck_id: f"{section} › {topic}" if topic else deck
                for deck_id, deck, topic, section in conn.execute(
                    select(
                        tables.deck.c.id,
                        tables.deck.c.name,
                        tables.topic.c.title,
                        tables.section.c.title,
                    )
                    .outerjoin(tables.topic, tables.deck.c.topic_id == tables.topic.c.id)
                    .outerjoin(tables.section, tables.topic.c.section_id == tables.section.c.id)
                )
            }
            if not settings.fsrs_parameters:  # until they optimize, a deck's own count
                self._deck_schedulers = deck_schedulers(conn, learner_id, settings)
            self._due = due_per_day(conn, learner_id, today)  # moved as cards are rated
            self._load = DayLoad(self._due, easy_day_shares(settings))
        # The connections held for the sitting (checking one out per rating costs more than
        # the rating): reads that take no write lock, and writes. Neither holds a transaction
        # between calls. Taken last, so a focus that names nothing (an error above) leaves no
        # connection open.
        self._reader, self._writer = sitting_connections(engine)

    def _before_write(self, now: datetime) -> None:
        """Before the sitting's first write (at aware UTC ``now``), read which topics are done:
        the summary names the topics done at its end and not then. Read here rather than when
        the sitting opens, so the first card shows without counting the roadmap; a sitting
        that writes nothing counts it never, and names no topic."""
        if self._done_at_start is None:
            with reader(self._engine, snapshot=True) as conn:
                self._done_at_start = self._done_topics(conn, self.clock.day_of(now))

    def _done_topics(self, conn: Connection, today: date) -> dict[str, str]:
        mastery = count_mastery(conn, self.learner_id, self.settings, load_roadmap(conn), today)
        return {topic.slug: topic.title for topic in mastery.topics if topic.done}

    def counts(self) -> dict[Lane, int]:
        """Cards left today in each lane: ``{"new": n, "learning": n, "review": n}``."""
        return self.queue.counts()

    def next_card(self, now: datetime) -> ShownCard | None:
        """The card to show at ``now``, or None when nothing is left within the learn-ahead.

        A card that another session answered, buried or suspended meanwhile is skipped, and so
        is a card whose stored memory state cannot be scheduled (counted in
        ``summary.skipped``).
        """
        while True:
            if self._again is not None:
                card_id, lane = self._again
                self._again = None
                self.queue.remove(card_id)
            else:
                picked = self.queue.pop(now, self._learn_ahead)
                if picked is None:
                    return None
                card_id, lane = picked
            keys = {"learner_id": self.learner_id, "card_id": card_id}
            row = _SHOWN.first(self._reader, keys)
            if row is None:
                continue
            memory = memory_of(row)
            if row.suspended or not self._still_due(
                row.active, row.buried_until_day, memory, lane, now
            ):
                continue
            if memory.problem is not None:  # left out of this session, the rest go on
                self.summary.skipped += 1
                continue
            self._on_screen = shown = ShownCard(
                card_id=card_id,
                deck_id=row.deck_id,
                lane=lane,
                kind=row.kind,
                front=row.front,
                back=row.back,
                accepted=tuple(row.accepted),
                docs_url=row.docs_url,
                path=self._paths.get(row.deck_id, ""),
                memory=memory,
                shown_at=now,
                preview=partial(
                    self._scheduler(row.deck_id).preview,
                    card_id,
                    memory,
                    now,
                    self.clock,
                    DayLoad(dict(self._due), self._load.easy_days),  # the load as it is now
                ),
            )
            mark = self._done_check.mark
            if mark is not None:
                stored = StoredMemory(memory, row.buried_until_day, exists=row.state is not None)
                self._read = _Read(shown, mark, stored)
            return shown

    def _still_due(
        self, active: bool, buried_until: date | None, memory: Memory, lane: Lane, now: datetime
    ) -> bool:
        today = self.clock.day_of(now)
        if not active or (buried_until is not None and buried_until > today):
            return False
        if lane == "new":
            return memory.state == CardState.NEW
        if lane == "review":
            return memory.state == CardState.REVIEW and memory.due_day is not None
        return (
            memory.state in (CardState.LEARNING, CardState.RELEARNING)
            and memory.due_at is not None
            and memory.due_at <= now + self._learn_ahead
        )

    def rate(
        self, shown: ShownCard, rating: Rating, now: datetime, duration_ms: int
    ) -> Outcome | None:
        """Record ``rating`` for the shown card at ``now`` and commit it; return the outcome.
        A lapse that makes the card a leech marks it (and, by the learner's ``leech_action``,
        suspends it) in the same transaction, and adds it to ``summary.leeches``. In a session
        that does not ``reschedule``, the outcome is the one previewed and nothing is written.

        The card is re-read inside the transaction: if another session answered it since it
        was shown, the rating is refused (None is returned, nothing is written), since it was
        given to a card as it no longer is. ``duration_ms`` is the thinking time.
        """
        card_id = shown.card_id
        self._on_screen = None
        if not self.reschedule:
            kept = (shown.memory, None, True, None)  # nothing to put back on undo
            self._undo.append(
                _Undo(card_id, shown.lane, *kept, rating, duration_ms, previewed=True)
            )
            self._count_rating(rating, duration_ms)
            return shown.previews[rating]
        self._before_write(now)
        conn = self._writer
        with conn.begin():
            mark = self._done_check.begin(conn)
            lock_learner(conn, self.learner_id)
            stored = self._stored(conn, shown, mark)
            before = stored.memory
            if before != shown.memory:
                self.summary.refused += 1
                return None
            outcome = self._scheduler(shown.deck_id).review(
                card_id, before, rating, now, self.clock, shown.previewed(), load=self._load
            )
            after = outcome.memory
            change_memory(conn, self.learner_id, card_id, stored, after)
            log_id = _INSERT_LOG.run(
                conn,
                {
                    "learner_id": self.learner_id,
                    "card_id": card_id,
                    "rating": int(rating),
                    "reviewed_at": after.last_review_at,
                    "review_day": after.last_review_day,
                    "duration_ms": max(0, duration_ms),
                    "state_before": int(before.state),
                    "elapsed_days": outcome.elapsed_days,
                    "state": int(after.state),
                    "stability_days": after.stability_days,
                    "difficulty": after.difficulty,
                    "interval_days": outcome.interval_days,
                },
            )
            marks = None
            if after.lapses > before.lapses and turns_leech(
                after.lapses, self.settings.leech_lapses
            ):
                marks = mark_leech(conn, self.learner_id, card_id, self.settings)
            today = after.last_review_day or self.clock.day_of(now)
            buried = bury_siblings(
                conn, self.learner_id, card_id, before.state, self.settings, today
            )
            suspended = marks is not None and self.settings.leech_action == "suspend"
            done = self._done_check.rated(
                conn,
                shown.deck_id,
                before.stability_days,
                after.stability_days,
                suspended,
                today,
            )
        self._done_check.committed()
        dropped = tuple(self._drop(sibling, today) for sibling in buried)
        self._move_load(before, after)
        self._undo.append(
            _Undo(
                card_id,
                shown.lane,
                before,
                stored.buried_until_day,
                stored.exists,
                log_id,
                rating,
                duration_ms,
                dropped,
                marks=marks,
                done_topics=tuple(done),
            )
        )
        if marks is not None:
            self.summary.leeches.append(card_id)
        if (
            not self._quiz
            and not suspended
            and after.state in (CardState.LEARNING, CardState.RELEARNING)
            and after.due_at is not None
            and after.due_at < learning_cutoff(self.clock, now, self._learn_ahead)
        ):
            self.queue.push_learning(card_id, after.due_at)
        self._count_rating(rating, duration_ms)
        return outcome

    def _stored(
        self, conn: Connection, shown: ShownCard, mark: tuple[int, int] | None
    ) -> StoredMemory:
        """The learner's row of the shown card as it is now, in the rating's transaction
        (begun at the write mark ``mark``): as :meth:`next_card` read it when it is the card
        last handed out and the mark is still the one the last rating left when it was read
        (nothing was written since, by any connection), else read again."""
        read = self._read
        if read is not None and read.shown is shown and read.mark == mark:
            return read.stored
        return read_memory(conn, self.learner_id, shown.card_id)

    def _count_rating(self, rating: Rating, duration_ms: int, change: int = 1) -> None:
        """Add a rating to the summary (``change`` -1: take an undone one away)."""
        self.summary.reviewed += change
        self.summary.again += change * (rating == Rating.AGAIN)
        self.summary.duration_ms += change * max(0, duration_ms)

    def _scheduler(self, deck_id: int) -> Scheduler:
        """The scheduler of a card of deck ``deck_id``: with the deck's own parameters when it
        has some (see :func:`deck_schedulers`), else the learner's."""
        return self._deck_schedulers.get(deck_id, self.scheduler)

    def _move_load(self, before: Memory, after: Memory) -> None:
        """Move a rated card from the day it was due to the day it is due now in the load."""
        for memory, change in ((before, -1), (after, 1)):
            if memory.state == CardState.REVIEW and memory.due_day is not None:
                self._due[memory.due_day] = self._due.get(memory.due_day, 0) + change

    def _drop(self, sibling: Sibling, today: date) -> _Dropped:
        """Take a sibling buried by a rating on learner ``today`` out of the queue's lane
        that counted it (new, or review due today, in focus and not buried before)."""
        memory, buried_until = sibling.before.memory, sibling.before.buried_until_day
        lane: Lane | None = None
        in_focus = self._deck_ids is None or sibling.deck_id in self._deck_ids
        if in_focus and (buried_until is None or buried_until <= today):
            if memory.state == CardState.NEW:
                lane = "new"
            elif memory.due_day is not None and memory.due_day <= today:
                lane = "review"
        loaded = lane is not None and self.queue.drop(sibling.card_id, lane, sibling.deck_id)
        return _Dropped(sibling, lane, loaded)

    def bury(self, shown: ShownCard, now: datetime) -> None:
        """Hide the shown card until the next learner day, committed."""
        tomorrow = self.clock.day_of(now) + timedelta(days=1)
        self._set_aside(shown, suspend=False, buried_until=tomorrow)
        self.summary.buried += 1

    def suspend(self, shown: ShownCard) -> None:
        """Suspend the shown card for the learner (it is never shown until they unsuspend it),
        its memory state kept, committed."""
        self._set_aside(shown, suspend=True)
        self.summary.suspended += 1

    def _set_aside(self, shown: ShownCard, suspend: bool, buried_until: date | None = None) -> None:
        """Bury the shown card until learner day ``buried_until``, or ``suspend`` it, in one
        committed transaction; remember how to undo it; give back its place in the limits."""
        self._on_screen = None
        self._before_write(shown.shown_at)
        conn = self._writer
        with conn.begin():
            lock_learner(conn, self.learner_id)
            stored = read_memory(conn, self.learner_id, shown.card_id)
            if suspend:
                suspend_cards(conn, self.learner_id, [shown.card_id])
            else:
                put_memory(
                    conn, self.learner_id, shown.card_id, stored.memory, buried_until, stored.exists
                )
        self._undo.append(
            _Undo(
                shown.card_id,
                shown.lane,
                stored.memory,
                stored.buried_until_day,
                stored.exists,
                None,
                None,
                0,
                suspended=suspend,
            )
        )
        self.queue.remove(shown.card_id)
        self.queue.skipped(shown.card_id, shown.lane)

    def edit_text(self, shown: ShownCard) -> str:
        """The text to edit the shown card in (:func:`~trainer.study.edit.edit_text`).

        Raises :class:`TrainerError` for a card that cannot be written out (an imported
        cloze card)."""
        from trainer.study.edit import edit_text, read_card  # the parser: only when editing

        with reader(self._engine) as conn:
            return edit_text(conn, self.learner_id, read_card(conn, shown.card_id))

    def edit(self, shown: ShownCard, text: str, now: datetime) -> ShownCard | None:
        """Save ``text`` as the learner's text of the shown card (and of the cards of its note
        a cloze table makes) at ``now``, committed (:func:`~trainer.study.edit.save_edit`);
        remember how to undo it. The card as it shows now (its memory and previews as they
        were), or None when nothing changed.

        Raises :class:`TrainerError` ``line N: ...`` for a text the parser refuses (nothing is
        written)."""
        from trainer.study.edit import read_card, save_edit  # the parser: only when editing

        self._before_write(now)
        conn = self._writer
        with conn.begin():
            lock_learner(conn, self.learner_id)
            saved = save_edit(conn, self.learner_id, read_card(conn, shown.card_id), text, now)
        if saved is None:
            return None
        kept = (shown.memory, None, True, None, None, 0)
        self._undo.append(_Undo(shown.card_id, shown.lane, *kept, edit=saved))
        row = _SHOWN.first(self._reader, {"learner_id": self.learner_id, "card_id": shown.card_id})
        self._on_screen = replace(
            shown,
            kind=row.kind,
            front=row.front,
            back=row.back,
            accepted=tuple(row.accepted),
            docs_url=row.docs_url,
        )
        return self._on_screen

    def undo(self, current: ShownCard | None = None) -> bool:
        """Undo the last rating, bury, suspension or edit: restore the card exactly (a leech
        mark and suspension the rating gave it too; the text it had before the edit), delete
        its review log, and show it again next; ``current``, the card on screen, goes back to
        its lane. Returns False when there is nothing to undo."""
        if not self._undo:
            return False
        last = self._undo.pop()
        self._on_screen = None
        if current is not None:
            self.queue.restore(current.card_id, current.lane, current.memory.due_at)
        if last.edit is not None:
            from trainer.study.edit import restore_edits

            with self._writer.begin():
                lock_learner(self._writer, self.learner_id)
                restore_edits(self._writer, self.learner_id, last.edit)
        elif not last.previewed:
            self._restore(last)
        self.queue.remove(last.card_id)
        self.queue.restore(last.card_id, last.lane, last.memory.due_at)
        if last.rating is None and last.edit is None:
            self.queue.skipped(last.card_id, last.lane, undone=True)
        self._again = (last.card_id, last.lane)
        if last.edit is not None:
            return True
        if last.suspended:
            self.summary.suspended -= 1
        elif last.rating is None:
            self.summary.buried -= 1
        else:
            if last.marks is not None:
                self.summary.leeches.pop()
            self._count_rating(last.rating, last.duration_ms, -1)
        return True

    def _restore(self, last: _Undo) -> None:
        """Put back in the database what ``last`` changed, in one committed transaction: the
        card's row as it was (none for a card that had none), its marks, its review log row,
        the siblings it buried; move the card back in the review load."""
        conn = self._writer
        with conn.begin():
            lock_learner(conn, self.learner_id)
            rated = read_memory(conn, self.learner_id, last.card_id).memory
            if last.existed:
                put_memory(
                    conn, self.learner_id, last.card_id, last.memory, last.buried_until_day, True
                )
                if last.suspended:
                    suspend_cards(conn, self.learner_id, [last.card_id], suspended=False)
            else:
                forget_memory(conn, self.learner_id, last.card_id)
            if last.marks is not None:
                put_marks(conn, self.learner_id, last.card_id, last.marks)
            if last.log_id is not None:
                conn.execute(_DELETE_LOG, {"log_id": last.log_id})
            unbury_siblings(conn, self.learner_id, [d.sibling for d in last.siblings])
            if last.done_topics:
                conn.execute(
                    delete(tables.topic_done).where(
                        tables.topic_done.c.learner_id == self.learner_id,
                        tables.topic_done.c.topic_id.in_(last.done_topics),
                    )
                )
        self._move_load(rated, last.memory)
        for dropped in last.siblings:
            if dropped.lane is not None:
                card, deck = dropped.sibling.card_id, dropped.sibling.deck_id
                self.queue.undrop(card, dropped.lane, deck, dropped.loaded)

    def close(self) -> None:
        """Release the session's database connections (the session cannot be used after)."""
        self._reader.close()
        self._writer.close()

    def __enter__(self) -> ReviewSession:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def finish(self, now: datetime) -> Summary:
        """Complete the summary at ``now``: topics newly done, what is left today and held
        back, and the cards of the session's focus that fall due on the next learner day."""
        if self._on_screen is not None:  # left unanswered: it is still to do today
            shown, self._on_screen = self._on_screen, None
            self.queue.restore(shown.card_id, shown.lane, shown.memory.due_at)
        tomorrow = self.clock.day_of(now) + timedelta(days=1)
        starts, ends = self.clock.day_start(tomorrow), self.clock.day_start(tomorrow + timedelta(1))
        with reader(self._engine, snapshot=True) as conn:
            # a sitting that wrote nothing made no topic done: the roadmap is not counted
            started = self._done_at_start
            done_now = {} if started is None else self._done_topics(conn, tomorrow - timedelta(1))
            # review cards due that day, and learning steps ending in it but those left
            # today in this session: counted apart, each through its queue index
            falling_due = [
                and_(
                    tables.card_memory.c.state == CardState.REVIEW,
                    tables.card_memory.c.due_day == tomorrow,
                ),
                and_(
                    tables.card_memory.c.state != CardState.REVIEW,
                    tables.card_memory.c.due_at >= starts,
                    tables.card_memory.c.due_at < ends,
                    tables.card.c.id.not_in(self.queue.learning_ids()),
                ),
            ]
            due_tomorrow = sum(
                conn.scalar(
                    studied_cards(self.learner_id, func.count()).where(
                        *visible(tomorrow, self._deck_ids, self._matching), falling
                    )
                )
                or 0
                for falling in falling_due
            )
        self.summary.topics_done = [t for s, t in done_now.items() if s not in (started or {})]
        self.summary.left_today = sum(self.queue.counts().values())
        self.summary.held_back = {k: v for k, v in self.queue.held_back().items() if v}
        self.summary.due_tomorrow = int(due_tomorrow)
        return self.summary
