"""The ``trainer`` command line. Each command parses options, makes one core call, renders it.

Heavy modules (SQLAlchemy, Alembic, rich, fsrs) are imported inside the commands so that
``trainer --help`` starts fast; ``tests/test_cli.py`` checks this.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn

import click

from trainer import __version__
from trainer.cli.output import console, document, echo, edit_in_editor
from trainer.errors import TrainerError, UsageError
from trainer.importers.bulk import without_cycle_collection
from trainer.importers.detect import FORMATS as IMPORT_FORMATS
from trainer.reports import FORMATS as REPORT_FORMATS
from trainer.visible import visible

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

    from trainer.scheduling.days import DayClock
    from trainer.store.backup import Backup
    from trainer.store.settings import Settings
    from trainer.study.queue import Backlog
    from trainer.study.search_syntax import Node


class Opened(NamedTuple):
    """An open database and who uses it: the engine, the learner's id (``NOBODY`` for an
    unknown learner of a read-only command), their settings and their clock."""

    engine: Engine
    learner: int
    settings: Settings
    clock: DayClock


class CliError(click.ClickException):
    """A :class:`TrainerError` on its way out: ``Error: <message>`` and its exit code."""

    def __init__(self, error: TrainerError) -> None:
        super().__init__(visible(str(error)))
        self.exit_code = error.exit_code  # type: ignore[misc]  # click's default is a class attr


class UnexpectedError(click.ClickException):
    """Any other exception, a fault of the trainer: one line naming it and how to see more."""

    def __init__(self, error: Exception) -> None:
        # The first line only: a library's message may go on with SQL text or a link.
        first = next(iter(str(error).strip().splitlines()), "")
        detail = f"{type(error).__name__}: {first}" if first else type(error).__name__
        super().__init__(
            visible(f"unexpected {detail}")
            + "; run again with --debug to see the details (a fault of"
            " trainer: please report it with them)"
        )


#: What click raises to end a command on purpose (``Exit`` and ``Abort`` are RuntimeErrors;
#: click turns ``EOFError`` into ``Abort``); these are never "unexpected".
_CLICK_FLOW = (click.ClickException, click.exceptions.Exit, click.Abort, EOFError)


class TrainerGroup(click.Group):
    """Turns every :class:`TrainerError` raised by a command into a one-line error, and any
    other exception into one line too (:class:`UnexpectedError`) unless ``--debug`` (or
    ``TRAINER_DEBUG=1``) asks for the exception and its full traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TrainerError as exc:
            _drop_unused_database(ctx)
            raise CliError(exc) from None
        except click.UsageError as exc:  # a bad option or argument: one line too, exit 2
            _drop_unused_database(ctx)
            where = " ".join(["trainer", *(exc.ctx.command_path.split()[1:] if exc.ctx else [])])
            message = f"{exc.format_message()} (see '{where} --help')"
            raise CliError(UsageError(message)) from None
        except _CLICK_FLOW:
            raise
        except Exception as exc:
            from trainer.store.db import storage_error

            stored = storage_error(exc, ctx.obj.location if ctx.obj else "")
            if stored is not None:
                raise CliError(stored) from None
            if ctx.params.get("debug"):
                raise
            raise UnexpectedError(exc) from None


def _drop_unused_database(ctx: click.Context) -> None:
    """After a command failed: delete the SQLite file it made, if it holds nothing of a
    learner's (see :meth:`App.drop_if_unused`), so bad input leaves nothing behind."""
    if isinstance(ctx.obj, App):
        ctx.obj.drop_if_unused()


def wall_clock() -> datetime:
    """Now, as an aware UTC datetime: ``TRAINER_NOW`` (ISO 8601 with offset) when set.

    Raises :class:`UsageError` for a ``TRAINER_NOW`` that is not ISO 8601 or has no offset.
    """
    fixed = os.environ.get("TRAINER_NOW")
    if not fixed:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(fixed)
    except ValueError:
        raise UsageError(
            f"TRAINER_NOW={fixed!r}: not an ISO 8601 time, e.g. 2026-03-01T09:30:00+01:00"
        ) from None
    if value.tzinfo is None:
        example = value.replace(tzinfo=UTC).isoformat()
        raise UsageError(f"TRAINER_NOW={fixed!r}: add a UTC offset, e.g. {example}")
    return value.astimezone(UTC)


def default_database() -> str:
    """The database file in the user data dir (platformdirs), creating the folder."""
    from platformdirs import user_data_path

    folder = user_data_path("trainer", appauthor=False)
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / "trainer.db")


@dataclass
class App:
    """What every command shares: where the database is, and who studies (``--learner``)."""

    db_location: str | None
    learner_name: str | None = None
    #: The SQLite file this command made by opening it, and its engine (None: it existed, or
    #: the database is a server's).
    made: tuple[Path, Engine] | None = field(default=None, repr=False)

    @property
    def learner(self) -> str:
        """The learner ``--learner``/``TRAINER_LEARNER`` names, else the operating-system user
        name. Raises :class:`UsageError` for a name that is not a valid learner name."""
        from trainer.store.learners import check_name, default_name

        return check_name(self.learner_name if self.learner_name is not None else default_name())

    @property
    def location(self) -> str:
        """The database ``--db``/``TRAINER_DB`` names, else the default file."""
        return self.db_location or default_database()

    def open(self, write: bool = False, daily_backup: bool = True) -> Opened:
        """Open and upgrade the database (an existing SQLite file is backed up before an
        upgrade), load changed built-in decks, find the learner (made first when the command
        will ``write`` their data; a command that only reads never makes one), read their
        settings and commit with their ``durability``.

        Unless not ``daily_backup``, an existing SQLite file without a backup of the learner's
        day is backed up before the day's first write: now when the command will ``write``,
        else just before its first write transaction (:func:`before_first_write`), so a
        command that only reads never backs up."""
        from trainer.content.builtin_sync import builtin_change, sync_builtin
        from trainer.scheduling.days import DayClock
        from trainer.store.backup import list_backups, sqlite_file, sqlite_path
        from trainer.store.db import (
            before_first_write,
            open_database,
            reader,
            set_durability,
            sqlite_read_only,
        )
        from trainer.store.learners import NOBODY, find_learner, learner_for_write
        from trainer.store.settings import load_settings
        from trainer.study.queue import last_study_day

        name = self.learner
        existed = self.backs_up()
        now = wall_clock()
        path = sqlite_path(self.location)
        new = path is not None and not path.exists()
        engine = open_database(self.location, backup_at=now)
        click.get_current_context().call_on_close(engine.dispose)  # a server's connections
        if new and path is not None:
            self.made = (path, engine)

        def read(learner: int) -> Opened:
            with reader(engine) as conn:
                settings = load_settings(conn, learner)
                studied = last_study_day(conn, learner)
            set_durability(engine, settings.durability)
            clock = DayClock.from_settings(settings, not_before=studied)
            return Opened(engine, learner, settings, clock)

        with reader(engine) as conn:
            changed = builtin_change(conn) is not None
            learner = find_learner(conn, name)
        opened = read(learner)
        if daily_backup and existed:
            first = opened  # the settings the backup is kept by
            days = backup_days(first.settings)
            today = days.day_of(now)
            made = list_backups(sqlite_file(self.location, "backups"))
            if all(days.day_of(backup.made_at) != today for backup in made):

                def back_up() -> None:
                    self.backup("daily", now, first.settings)

                if write:
                    back_up()
                else:
                    before_first_write(engine, back_up)
        # the ORM is set up only when there is something to load; a read-only database is
        # read as it is
        if changed and not sqlite_read_only(engine.url.render_as_string()):
            from sqlalchemy.orm import Session

            with Session(engine) as db, db.begin():
                sync_builtin(db)
        if write and learner == NOBODY:
            with engine.begin() as conn:
                learner = learner_for_write(conn, name, wall_clock())
            opened = read(learner)
        return opened

    def drop_if_unused(self) -> None:
        """Delete the SQLite file this command made (with its WAL files) when it holds nothing
        of a learner's (:func:`~trainer.store.learners.holds_work`): a command refused after
        opening a database that did not exist leaves no database behind."""
        if self.made is None:
            return
        from trainer.store.db import reader
        from trainer.store.learners import holds_work

        path, engine = self.made
        self.made = None
        with reader(engine) as conn:
            if holds_work(conn):
                return
        engine.dispose()
        for leftover in (
            path,
            path.with_name(path.name + "-wal"),
            path.with_name(path.name + "-shm"),
        ):
            leftover.unlink(missing_ok=True)

    def backs_up(self) -> bool:
        """Whether trainer backs the database up by itself: it is a SQLite file that exists
        and may be written."""
        from trainer.store.backup import sqlite_path
        from trainer.store.db import database_url, sqlite_read_only

        path = sqlite_path(self.location)
        return path is not None and path.is_file() and not sqlite_read_only(database_url(str(path)))

    def backup(self, kind: str, now: datetime, settings: Settings) -> Backup:
        """Back the SQLite database up now (``kind``: why) and delete the backups the
        learner's ``settings`` no longer keep (each dated by its own learner day,
        :func:`backup_days`). Raises :class:`UsageError` for a server database."""
        from trainer.store.backup import make_backup, prune, sqlite_file

        path = sqlite_file(self.location, "backups")
        made = make_backup(path, now, kind)
        days = backup_days(settings)
        prune(path, settings.backups_daily, settings.backups_weekly, days.day_of, now)
        return made


def backup_days(settings: Settings) -> DayClock:
    """The clock that dates backups: the learner's rollover hour and time zone, never clamped
    to the last study day (a study clock's ``not_before`` would put every older backup on that
    one day, and pruning would keep one of them)."""
    from trainer.scheduling.days import DayClock

    return DayClock.from_settings(settings)


@click.group(cls=TrainerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    "db_location",
    envvar="TRAINER_DB",
    metavar="PATH",
    help="Database file (or SQLAlchemy URL). Default: trainer.db in the user data dir; "
    "env TRAINER_DB.",
)
@click.option(
    "--learner",
    "learner",
    envvar="TRAINER_LEARNER",
    metavar="NAME",
    help="Who studies: each learner has their own schedule, history and settings on the shared"
    " decks. Default: your operating-system user name; env TRAINER_LEARNER.",
)
@click.option(
    "--debug",
    is_flag=True,
    envvar="TRAINER_DEBUG",
    help="On an unexpected error (a fault of trainer), show it with its full traceback; "
    "env TRAINER_DEBUG=1.",
)
@click.version_option(__version__, prog_name="trainer")
@click.pass_context
def cli(ctx: click.Context, db_location: str | None, learner: str | None, debug: bool) -> None:
    """Spaced-repetition trainer for the Python/Django backend roadmap.

    Start with `trainer review`; `trainer status` shows the roadmap.
    """
    ctx.obj = App(db_location, learner)


@cli.command()
@click.option("--topic", metavar="NAME", help="Only this topic's cards (title or slug).")
@click.option("--section", metavar="NAME", help="Only this section's cards (title or slug).")
@click.option(
    "--deck", metavar="NAME", help="Only this extra deck's cards, with its subdecks (name or slug)."
)
@click.option(
    "--new-cards",
    type=click.IntRange(0),
    metavar="N",
    help="Show up to N new cards in this session, whatever today's limit has left "
    "(default: what new_cards_per_day leaves today).",
)
@click.option(
    "--reviews",
    type=click.IntRange(0),
    metavar="N",
    help="Show up to N due review cards in this session, whatever today's limit has left "
    "(default: what reviews_per_day leaves today).",
)
@click.option(
    "--query",
    metavar="QUERY",
    help="Only the cards this search finds (docs/searching.md), review cards due or not.",
)
@click.option(
    "--no-reschedule",
    is_flag=True,
    help="With --query: ratings change nothing (no schedule, no review log); each card once.",
)
@click.pass_obj
def review(
    app: App,
    topic: str | None,
    section: str | None,
    deck: str | None,
    new_cards: int | None,
    reviews: int | None,
    query: str | None,
    no_reschedule: bool,
) -> None:
    """Review today's cards.

    Space or Enter shows the answer; 1 Again, 2 Hard, 3 Good, 4 Easy; u undoes; s buries the
    card until tomorrow; ! suspends it (trainer unsuspend); q or Ctrl-C quits. On a choice
    card a-f picks your option; after a typed answer or a choice, Space takes the suggested
    rating. Without a terminal, keys are
    read from stdin, e.g.
    printf ' 3 3 1q' | trainer review

    --query makes a session of the cards a search finds, as Anki's filtered decks: e.g.
    trainer review --query 'prop:r<0.7', trainer review --query 'rated:7:1' --no-reschedule
    """
    from trainer.cli.review_screen import KeyReader, ReviewScreen
    from trainer.store.db import reader
    from trainer.study.queue import Focus, last_review_time
    from trainer.study.session import ReviewSession

    if no_reschedule and query is None:
        raise UsageError("--no-reschedule goes with --query")
    tree = None if query is None else _search((query,), "review")
    engine, learner, settings, clock = app.open(write=True)
    focus = Focus(topic, section, deck)
    now = wall_clock()
    matching = None
    with reader(engine) as conn:
        if tree is not None:  # the search modules are loaded only for a search
            from trainer.scheduling.adapter import Scheduler
            from trainer.study.search import SearchContext, condition, find_cards

            context = SearchContext(learner, now, clock, Scheduler(settings))
            # the search within the focus: a search and a topic with no card in common is
            # "No cards match." as a search that finds nothing is
            within = _within(conn, tree, topic, section, deck)
            if not find_cards(conn, within, context, limit=0)[1]:
                echo("No cards match.")
                return
            matching = condition(tree, context)
        last = last_review_time(conn, learner)
    if last is not None and now < last:
        from trainer.reports.wording import local_time  # the reports' wording: only here

        when = local_time(now, clock.zone, with_zone=True)
        echo(
            f"The clock reads {when}, before the last rating at {local_time(last, clock.zone)}:"
            " each rating is recorded as given no earlier than its card's last review."
        )
    # the queue's first read makes many short-lived rows: no cycle collection until it is built
    with without_cycle_collection(ReviewSession)(
        engine,
        learner,
        settings,
        clock,
        focus,
        now,
        new_cards=new_cards,
        reviews=reviews,
        matching=matching,
        reschedule=not no_reschedule,
    ) as session:
        notice = None if session.backlog is None else _backlog_notice(session.backlog)
        ReviewScreen(session, console(), KeyReader(), wall_clock, notice).run()


def _backlog_notice(backlog: Backlog) -> str:
    """The notice under the first card's header on a day the backlog rule is on."""
    worth = "day's worth" if backlog.rule.days == 1 else "days' worth"
    return (
        f"Backlog: {backlog.due:,} review cards due, more than {backlog.threshold:,.0f}"
        f" ({backlog.rule.days} {worth} of the cards you usually study). Up to"
        f" {backlog.rule.cap:,} a day, lowest recall chance first; new cards are paused until"
        " it is under control."
    )


@cli.command()
@click.argument("topic")
@click.pass_obj
def skip(app: App, topic: str) -> None:
    """Skip a topic you already know, after a check.

    Quizzes one new card of TOPIC (title or slug) for each of its must-know points, through
    the review screen (keys as in trainer review); the ratings count as any. If at least 90%
    pass (Hard, Good or Easy), the topic's other new cards enter review as if first answered
    Easy, to come back and be confirmed; if not, nothing else changes and the points to study
    are named.
    """
    from trainer.cli.review_screen import KeyReader, ReviewScreen
    from trainer.content.builtin_sync import read_builtin
    from trainer.store.db import reader
    from trainer.store.resources import DECKS_DIR
    from trainer.study.queue import Focus
    from trainer.study.session import ReviewSession
    from trainer.study.skip import PASS_SHARE, finish_skip, plan_skip

    engine, learner, settings, clock = app.open(write=True)
    start = wall_clock()
    _, decks = read_builtin(DECKS_DIR)
    with reader(engine) as conn:
        plan = plan_skip(conn, learner, topic, decks, clock.day_of(start))
    title, quizzed = visible(plan.title), len(plan.sample)
    points = f" covering its {len(plan.points)} must-know points" if plan.points else ""
    echo(
        f"Skip check for {title}: {quizzed} card{'s' * (quizzed != 1)}{points}. Pass"
        f" {PASS_SHARE:.0%} of them and its other {len(plan.rest)} new cards enter review."
    )
    focus = Focus(topic=plan.slug)
    with ReviewSession(
        engine, learner, settings, clock, focus, start, cards=list(plan.sample)
    ) as session:
        ReviewScreen(session, console(), KeyReader(), wall_clock).run()
    with engine.begin() as conn:
        result = finish_skip(conn, learner, settings, clock, plan, wall_clock())
    passed = f"Passed {result.passed} of {quizzed} ({result.passed / quizzed:.0%})"
    if result.skipped:
        first = f"; the first is due {result.first_due}" if result.first_due else ""
        echo(f"{passed}: {result.entered} other cards of {title} entered review{first}.")
        return
    if result.answered < quizzed:
        echo(f"{passed}, {quizzed - result.answered} not answered: nothing else changed.")
    else:
        echo(f"{passed}, below {PASS_SHARE:.0%}: nothing else changed.")
    if result.study:
        echo(f"Study these points of {title} first:")
        for point in result.study:
            echo(f"- {visible(point.point)}")


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("query", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print every field of each card as JSON.")
@click.option("--limit", type=click.IntRange(1), metavar="N", help="Show at most N cards.")
@click.pass_obj
def cards(app: App, query: tuple[str, ...], as_json: bool, limit: int | None) -> None:
    """List the cards a search finds (all active cards without QUERY): id, deck or topic,
    front, state, due, stability, retrievability and lapses.

    The words of QUERY are one search (docs/searching.md), e.g.
    trainer cards 'prop:r<0.8' deck:Spanish, trainer cards 'is:due or is:new' --json.
    """
    from trainer.cli.cards_view import cards_json, cards_lines
    from trainer.scheduling.adapter import Scheduler
    from trainer.store.db import reader
    from trainer.study.search import SearchContext, find_cards

    tree = _search(query, "cards")  # a bad query fails before the database is opened
    engine, learner, settings, clock = app.open()
    context = SearchContext(learner, wall_clock(), clock, Scheduler(settings))
    with reader(engine, snapshot=True) as conn:
        found, total = find_cards(conn, tree, context, limit)
    if as_json:
        echo(json.dumps(cards_json(found), indent=2))
    else:
        echo("\n".join(cards_lines(found, total, clock.zone)))


def _card_ids(words: tuple[str, ...]) -> list[int] | None:
    """The card ids the words of a QUERY are when every word is ids separated by commas
    (``12 15``, ``12,15``), else None."""
    parts = [part for word in words for part in word.split(",")]
    if not words or not all(re.fullmatch("[0-9]+", part) for part in parts):
        return None
    return [int(part) for part in parts]


def _search(words: tuple[str, ...], command: str) -> Node:
    """The search the words of a command's QUERY make together (docs/searching.md): words that
    are all card ids (:func:`_card_ids`) are ``cid:`` of those ids, any id.

    Raises :class:`UsageError` for a word starting with ``--`` (an unknown option: a search
    term may start with one ``-``, its negation) and for a query that cannot be read."""
    from trainer.study.search_syntax import CardIds, parse

    ids = _card_ids(words)
    if ids is not None:
        return CardIds(tuple(ids))
    for word in words:
        if word.startswith("--"):
            raise UsageError(f"No such option: {word} (see 'trainer {command} --help')")
    return parse(" ".join(words))


def _picked_cards(
    app: App,
    words: tuple[str, ...],
    topic: str | None,
    section: str | None,
    command: str,
    write: bool = False,
) -> tuple[Opened, list[int]]:
    """Open the database and find the active cards a command acts on: those the search in
    ``words`` finds (docs/searching.md; words that are all card ids, ``12 15`` or ``12,15``,
    are ``cid:12,15``), of ``topic`` or ``section`` when given; their ids in id order. The
    learner is made first when the command will ``write`` their data.

    Raises :class:`UsageError` for no words, topic nor section, for a query that cannot be read
    and for an unknown topic or section; :class:`TrainerError` (from :func:`no_card`) for a card
    id given as such that names no card, or a retired one."""
    from trainer.scheduling.adapter import Scheduler
    from trainer.store.db import reader
    from trainer.store.lookup import no_card
    from trainer.study.search import SearchContext, find_cards

    ids = _card_ids(words)
    tree = _search(words, command)  # a bad query fails before the database is opened
    if not words and topic is None and section is None:
        raise UsageError(f"give a QUERY, card ids, --topic or --section: the cards to {command}")
    opened = app.open(write=write)
    context = SearchContext(opened.learner, wall_clock(), opened.clock, Scheduler(opened.settings))
    with reader(opened.engine, snapshot=True) as conn:
        within = _within(conn, tree, topic, section)
        if ids is not None:
            no_card(conn, ids)
        found, _ = find_cards(conn, within, context)
    return opened, [card.id for card in found]


def _within(
    conn: Connection,
    tree: Node,
    topic: str | None,
    section: str | None,
    deck: str | None = None,
) -> Node:
    """The search ``tree`` narrowed to the ``--topic``, ``--section`` or ``--deck`` named
    (each a slug or title; a deck with the decks under it).

    Raises :class:`UsageError` for a name that names nothing (:func:`select_named`)."""
    from trainer.store.lookup import select_named
    from trainer.study.search_syntax import And, Field

    chosen = select_named(conn, section=section, topic=topic, deck=deck)
    terms = [tree]
    terms += [Field("topic", chosen.topic.slug)] if chosen.topic else []
    terms += [Field("section", chosen.section.slug)] if chosen.section else []
    terms += [Field("deck", chosen.deck.slug)] if chosen.deck else []
    return And(tuple(terms))


_CARD_PICKING = [
    click.argument("query", nargs=-1),
    click.option("--topic", metavar="NAME", help="Every card of this topic (title or slug)."),
    click.option("--section", metavar="NAME", help="Every card of this section (title or slug)."),
]


def _picks_cards(command: Callable[..., None]) -> Callable[..., None]:
    """The QUERY argument and the --topic/--section options of a command that acts on cards
    (:func:`_picked_cards`)."""
    for decorator in reversed(_CARD_PICKING):
        command = decorator(command)
    return command


@cli.command(context_settings={"ignore_unknown_options": True})
@_picks_cards
@click.option("--yes", is_flag=True, help="Do not ask first (for scripts).")
@click.pass_obj
def reset(
    app: App, query: tuple[str, ...], topic: str | None, section: str | None, yes: bool
) -> None:
    """Put cards back to new, as Anki's Forget: the cards QUERY finds (docs/searching.md) or
    card ids, of --topic or --section when given. Their review history is kept; their next
    rating counts as a new card's. Asks first unless --yes.

    e.g. trainer reset --topic data-structures, trainer reset deck:Spanish is:leech
    """
    from trainer.reports.wording import count
    from trainer.store.db import reader
    from trainer.study.forget import cards_to_forget, forget_cards

    (engine, learner, _, _), ids = _picked_cards(app, query, topic, section, "reset")
    with reader(engine, snapshot=True) as conn:
        started = cards_to_forget(conn, learner, ids)
    if not started:
        matching = count(len(ids), "matching card")
        echo(f"Nothing to reset: {matching}, none studied yet." if ids else "No cards match.")
        return
    question = f"Reset {count(started, 'card')} to new? Their review history is kept"
    if not yes and not click.confirm(question, default=False):
        echo("Nothing reset.")
        return
    with engine.begin() as conn:
        forgotten = forget_cards(conn, learner, ids)
    echo(f"Reset {count(forgotten, 'card')} to new; their review history is kept.")


@cli.command(context_settings={"ignore_unknown_options": True})
@_picks_cards
@click.pass_obj
def suspend(app: App, query: tuple[str, ...], topic: str | None, section: str | None) -> None:
    """Suspend cards, as Anki does: the cards QUERY finds (docs/searching.md) or card ids, of
    --topic or --section when given. A suspended card is never shown and counts neither
    toward nor against mastery; its memory state is kept. trainer unsuspend brings it back.

    e.g. trainer suspend 12 15, trainer suspend is:leech,
    trainer suspend --topic models-and-database
    """
    _set_suspended(app, query, topic, section, suspended=True)


@cli.command(context_settings={"ignore_unknown_options": True})
@_picks_cards
@click.pass_obj
def unsuspend(app: App, query: tuple[str, ...], topic: str | None, section: str | None) -> None:
    """Bring suspended cards back into the reviews, their memory state as it was: the cards
    QUERY finds (docs/searching.md) or card ids, of --topic or --section when given.

    e.g. trainer unsuspend is:suspended, trainer unsuspend --section databases
    """
    _set_suspended(app, query, topic, section, suspended=False)


def _set_suspended(
    app: App, query: tuple[str, ...], topic: str | None, section: str | None, suspended: bool
) -> None:
    from trainer.reports.wording import count
    from trainer.store.memory import suspend_cards

    verb = "suspend" if suspended else "unsuspend"
    (engine, learner, _, _), ids = _picked_cards(app, query, topic, section, verb, write=True)
    if not ids:
        echo("No cards match.")
        return
    with engine.begin() as conn:
        changed = suspend_cards(conn, learner, ids, suspended)
    matching, left = count(len(ids), "matching card"), len(ids) - changed
    if not changed:
        state = "all suspended already" if suspended else "none suspended"
        echo(f"Nothing to {verb}: {matching}, {state}.")
        return
    line = f"{verb.title()}ed {count(changed, 'card')}"
    if left:
        line += f"; {left:,} {'was' if left == 1 else 'were'} "
        line += "suspended already" if suspended else "not suspended"
    echo(line + ".")


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("card", nargs=-1, required=True)
@click.option("--revert", is_flag=True, help="Take your edit back: the deck's text again.")
@click.pass_obj
def edit(app: App, card: tuple[str, ...], revert: bool) -> None:
    """Edit a card in $VISUAL or $EDITOR, as a [[card]] table of the deck format: CARD is a
    card id or a search (docs/searching.md) that finds exactly one card. Saving changes your
    text of it (the card keeps its id, memory state and history); an empty file changes
    nothing. On a terminal, a text that cannot be saved is offered again with the error on
    top. Other learners, and the deck, keep theirs; a new version of the deck does not
    overwrite yours.

    e.g. trainer edit 1234, trainer edit '"list.append"' topic:data-structures,
    trainer edit 1234 --revert
    """
    from trainer.reports.wording import count
    from trainer.store.db import reader
    from trainer.study.edit import (
        RefusedEdit,
        edit_text,
        read_card,
        rejected_text,
        revert_edit,
        save_edit,
    )

    (engine, learner, _, _), ids = _picked_cards(app, card, None, None, "edit", write=True)
    searched = " ".join(card)
    if not ids:
        raise TrainerError(f"no card matches {searched!r}")
    if len(ids) > 1:
        raise TrainerError(
            f"{len(ids):,} cards match {searched!r}: narrow the search to one card"
            " (trainer cards lists them)"
        )
    with reader(engine, snapshot=True) as conn:
        target = read_card(conn, ids[0])
        text = None if revert else edit_text(conn, learner, target)
    if text is None:
        with engine.begin() as conn:
            revert_edit(conn, learner, target)
        shipped = "the shipped text" if target.builtin else "its deck's text"
        echo(f"Reverted card {target.id} to {shipped}.")
        return
    saved = edit_in_editor(text)
    changed = None
    while saved is not None and saved != text:
        try:
            with engine.begin() as conn:
                changed = save_edit(conn, learner, target, saved, wall_clock())
            break
        except RefusedEdit as refused:  # on a terminal, their text again (as crontab -e)
            if not sys.stdin.isatty():
                raise
            echo(f"Error: {refused}", err=True)
            if not click.confirm("Edit again?", default=True):
                sys.exit(1)
            saved = edit_in_editor(rejected_text(saved, refused))
    if changed is None:
        echo("No change.")
        return
    others = len(changed.card_ids) - 1
    more = f" and {count(others, 'other card')} of its note" if others else ""
    echo(f"Edited card {target.id}{more}.")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the roadmap as JSON.")
@click.option("--deck", metavar="NAME", help="Only this extra deck and its subdecks.")
@click.pass_obj
@without_cycle_collection  # a short command: the collector would only walk the imports
def status(app: App, as_json: bool, deck: str | None) -> None:
    """Show the roadmap: mastery per topic, what is done, what is next, today's counts; the
    extra decks as a tree."""
    from trainer.cli.status_view import progress_json, render_roadmap
    from trainer.store.db import reader
    from trainer.store.lookup import select_named
    from trainer.study.mastery import keep_found, roadmap_progress

    engine, learner, settings, clock = app.open()
    with reader(engine, snapshot=True) as conn:
        chosen = select_named(conn, deck=deck)
        progress = roadmap_progress(conn, learner, settings, clock, wall_clock(), chosen)
    if as_json:
        echo(json.dumps(progress_json(progress), indent=2))
    else:
        render_roadmap(progress, console(), settings.mastery_stability_days)
    keep_found(engine, learner, progress.mastery.found)


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("key", required=False)
@click.argument("words", nargs=-1, metavar="[VALUE]...")
@click.option("--reset", is_flag=True, help="Put KEY back to its default.")
@click.option("--json", "as_json", is_flag=True, help="Print all settings as JSON.")
@click.option(
    "--deck",
    metavar="NAME",
    help="The setting of this extra deck: new_cards_per_day (default: deck_new_cards_per_day).",
)
@click.option(
    "--bring-in",
    is_flag=True,
    help="With maximum_interval_days: move review cards due beyond it to at most that many days"
    " after their last review.",
)
@click.option("--yes", is_flag=True, help="Do not ask before setting a costly desired_retention.")
@click.pass_obj
def config(
    app: App,
    key: str | None,
    words: tuple[str, ...],
    reset: bool,
    as_json: bool,
    deck: str | None,
    bring_in: bool,
    yes: bool,
) -> None:
    """Show or change settings: `trainer config`, `trainer config KEY VALUE`.

    Steps are minutes separated by spaces: trainer config learning_steps_minutes 1 10.
    An extra deck's own new cards a day: trainer config --deck Spanish new_cards_per_day 10
    """
    from dataclasses import asdict

    from trainer.store.db import reader
    from trainer.store.settings import (
        DESCRIPTIONS,
        deck_overrides,
        deck_setting,
        format_setting,
        parse_setting,
        store_setting,
        zone_in_effect,
    )

    value = " ".join(words) if words else None
    if value is not None and (key is None or reset):
        raise UsageError("give either KEY VALUE or KEY --reset")
    if bring_in and (key != "maximum_interval_days" or deck is not None):
        raise UsageError("--bring-in goes with maximum_interval_days")
    if key is not None and value is not None and deck is None:
        parse_setting(key, value)  # a bad value fails before the database is touched
    from sqlalchemy.orm import Session

    changes = value is not None or reset
    engine, learner, settings, clock = app.open(write=changes or bring_in)
    if deck is not None:
        with Session(engine) as db, db.begin():
            echo(deck_setting(db, learner, deck, key, value, reset))
        return
    notice: str | None = None
    if (
        key == "desired_retention"
        and value is not None
        and not _retention_accepted(engine, learner, settings, clock, value, yes)
    ):
        echo(f"desired_retention stays {format_setting(settings.desired_retention)}.")
        return
    if key is not None and changes:
        with Session(engine) as db, db.begin():
            settings = store_setting(db, learner, key, None if reset else value)
    if (key == "maximum_interval_days" and changes) or bring_in:
        maximum = settings.maximum_interval_days
        notice = _what_a_maximum_leaves(engine, learner, maximum, clock, bring_in)
    values = asdict(settings)

    def shown(name: str) -> str:
        if name == "timezone" and not settings.timezone:
            return f"{zone_in_effect(settings)} (the system's)"
        if name == "fsrs_parameters" and not settings.fsrs_parameters:
            return "FSRS-6 defaults"
        if name == "fsrs_parameters_fitted_on" and not settings.fsrs_parameters_fitted_on:
            return "never"
        return format_setting(getattr(settings, name))

    if as_json:
        echo(json.dumps(values, indent=2))
        return
    if key is not None:
        if key not in values:
            raise UsageError(f"unknown setting '{key}'; known: {', '.join(values)}")
        echo(f"{key} = {shown(key)}")
        if notice:
            echo(notice)
        return
    for name in values:
        echo(f"{name} = {shown(name)}    # {DESCRIPTIONS[name]}")
    with reader(engine) as conn:
        overrides = deck_overrides(conn, learner)
    if overrides:
        echo("\nDecks with their own settings (trainer config --deck NAME KEY VALUE):")
        for name, per_day in overrides:
            echo(f"{visible(name)}: new_cards_per_day = {per_day}")


def _retention_accepted(
    engine: Engine, learner: int, settings: Settings, clock: DayClock, value: str, yes: bool
) -> bool:
    """Whether to set desired retention ``value``: above
    :data:`~trainer.study.plan.COSTLY_RETENTION` the daily cost at both retentions is shown
    first and, on a terminal and without ``yes``, the learner is asked."""
    from trainer.store.db import reader
    from trainer.store.settings import parse_setting
    from trainer.study.plan import COSTLY_RETENTION, read_situation, retention_cost

    wanted = float(parse_setting("desired_retention", value))
    if wanted <= COSTLY_RETENTION:
        return True
    with reader(engine, snapshot=True) as conn:
        situation = read_situation(conn, learner, settings, clock.day_of(wall_clock()))
    echo(retention_cost(situation, settings, wanted))
    if yes or not sys.stdin.isatty():
        return True
    return click.confirm(f"Set desired_retention to {wanted:g}?", default=False)


def _what_a_maximum_leaves(
    engine: Engine, learner: int, maximum_days: int, clock: DayClock, bring_in: bool
) -> str | None:
    """What happens to learner ``learner``'s review cards due beyond a new maximum interval
    (None: there are none): as in Anki, they keep their due dates and only their next
    intervals are capped, unless ``bring_in`` moves them
    (:func:`trainer.study.queue.bring_in_reviews`)."""
    from datetime import timedelta

    from trainer.reports.wording import count
    from trainer.store.db import reader
    from trainer.study.queue import bring_in_reviews, reviews_due_after

    today = clock.day_of(wall_clock())
    last = today + timedelta(days=maximum_days)
    if bring_in:
        with engine.begin() as conn:
            moved = bring_in_reviews(conn, learner, maximum_days, today)
        return (
            f"{count(moved, 'review card')} brought in to at most {count(maximum_days, 'day')}"
            " after their last review."
        )
    with reader(engine) as conn:
        beyond = reviews_due_after(conn, learner, last)
    if not beyond:
        return None
    cards = "1 review card is" if beyond == 1 else f"{beyond:,} review cards are"
    return (
        f"{cards} due after {last.isoformat()}, beyond the new maximum: they keep their due"
        " dates (as in Anki); from their next review on, no interval exceeds"
        f" {count(maximum_days, 'day')}. To move them in: trainer config maximum_interval_days"
        f" {maximum_days} --bring-in"
    )


@cli.command()
@click.argument(
    "paths", nargs=-1, type=click.Path(exists=True, path_type=Path), metavar="[PATH]..."
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the findings, and each coverage point with the cards covering it, as JSON.",
)
def lint(paths: tuple[Path, ...], as_json: bool) -> None:
    """Check deck files (default: the built-in decks) and exit 1 on any error.

    A folder holding roadmap.md is checked as built-in decks: topics, docs links, each
    topic's card counts and its coverage list are required too; a coverage point no card
    covers is a warning.
    """
    from dataclasses import asdict

    from trainer.content.lint import lint_paths
    from trainer.store.resources import DECKS_DIR

    report = lint_paths(list(paths) or [DECKS_DIR])
    findings, cards = report.findings, report.cards
    errors = sum(f.level == "error" for f in findings)
    if as_json:
        coverage = [
            {
                "path": deck.path,
                "line": point.line,
                "topic": deck.topic,
                "id": point.key,
                "point": point.point,
                "source": point.source,
                "cards": [card.key for card in deck.cards if point.key in card.covers],
            }
            for deck in report.decks
            for point in deck.coverage
        ]
        result = {
            "cards": cards,
            "errors": errors,
            "findings": [{"level": f.level, **asdict(f.problem)} for f in findings],
            "coverage": coverage,
        }
        echo(json.dumps(result, indent=2))
    else:
        for finding in findings:
            echo(str(finding), err=finding.level == "error")
        warnings = len(findings) - errors
        echo(
            f"{cards} card{'s' * (cards != 1)}, {errors} error{'s' * (errors != 1)},"
            f" {warnings} warning{'s' * (warnings != 1)}"
        )
    if errors:
        sys.exit(1)


@cli.command("import")
@click.argument(
    "paths",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="PATH...",
)
@click.option(
    "--format",
    "file_format",
    type=click.Choice(IMPORT_FORMATS),
    default="auto",
    show_default=True,
    help="File format; auto detects it from the content and extension.",
)
@click.option(
    "--topic", metavar="NAME", help="Attach the cards to this roadmap topic (title or slug)."
)
@click.option("--deck", metavar="NAME", help="Put the cards in this stand-alone deck.")
@click.option(
    "--with-history",
    is_flag=True,
    help="Anki packages: bring the review log and rebuild each card's FSRS state from it.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Read and check everything and say what an import would do; write nothing at all.",
)
@click.option(
    "--retire-missing",
    is_flag=True,
    help="Retire the deck's cards that the file no longer holds (they keep their history).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def import_(
    app: App,
    paths: tuple[Path, ...],
    file_format: str,
    topic: str | None,
    deck: str | None,
    with_history: bool,
    dry_run: bool,
    retire_missing: bool,
    as_json: bool,
) -> None:
    """Import decks: native TOML, CSV/TSV (Anki text exports too), Markdown (Q:/A:,
    Obsidian), Anki packages (.apkg, .colpkg).

    --topic counts the cards toward a roadmap topic; --deck makes a stand-alone deck (default:
    the deck the file names, else its file name). Re-importing updates cards in place and keeps
    their history. Each file imports whole or not at all; the exit code is 1 if any failed.
    Details: docs/importing.md.
    """
    import tempfile

    from sqlalchemy.orm import Session

    from trainer.cli.import_view import ImportProgress, render_summaries, summary_json
    from trainer.importers.detect import read_file
    from trainer.importers.store import (
        FileSummary,
        Target,
        import_deck,
        media_folder,
        no_cards,
    )
    from trainer.scheduling.adapter import Scheduler
    from trainer.store.db import scratch_copy
    from trainer.store.deck_tree import check_deck_name

    if topic and deck:
        raise UsageError("--topic and --deck: give one of them, not both")
    if deck is not None:
        check_deck_name(deck, "--deck")
    opened: Opened | None = None  # once a file has cards to store
    now = wall_clock()
    location = app.location
    media_dir = None if dry_run else media_folder(location)
    results: list[FileSummary | TrainerError] = []
    with (
        ImportProgress(console(), enabled=sys.stdout.isatty() and not as_json) as progress,
        tempfile.TemporaryDirectory(prefix="trainer-dry-run-") as scratch,
    ):
        # A dry run imports into a copy of the database, so not even an upgrade is written.
        store_app = App(scratch_copy(location, Path(scratch)), app.learner) if dry_run else app
        for path in paths:
            try:
                imported = read_file(path, file_format, with_history)
                if not imported.cards:
                    results.append(no_cards(imported))
                    continue
                if opened is None:
                    opened = store_app.open(write=True)
                    if not dry_run and app.backs_up():
                        app.backup("import", now, opened.settings)
                engine, learner, settings, clock = opened
                with Session(engine) as db:
                    summary = import_deck(
                        db,
                        imported,
                        Target(topic, deck),
                        learner_id=learner,
                        media_dir=media_dir,
                        scheduler=Scheduler(settings),
                        clock=clock,
                        now=now,
                        progress=progress.reporter(str(path)),
                        retire_missing=retire_missing,
                    )
                    if dry_run:
                        db.rollback()
                    else:
                        db.commit()
                results.append(summary)
            except UsageError:
                raise  # a bad option: every file would fail the same way
            except TrainerError as exc:
                results.append(exc)
        if opened is not None:
            opened[0].dispose()
    if as_json:
        echo(json.dumps(summary_json(paths, results), indent=2))
    else:
        render_summaries(paths, results, dry_run)
    failures = [r for r in results if isinstance(r, TrainerError)]
    if failures:
        sys.exit(max(error.exit_code for error in failures))


@cli.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(REPORT_FORMATS),
    help="markdown (the default), html, json or csv; with -o, taken from the file's suffix"
    " (.md .html .json .csv) when not given.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Write the report to FILE (default: standard output; html needs a file).",
)
@click.option("--section", metavar="NAME", help="Only this section (title or slug).")
@click.option("--topic", metavar="NAME", help="Only this topic (title or slug).")
@click.option("--deck", metavar="NAME", help="Only this extra deck and its subdecks.")
@click.option("--cohort", is_flag=True, help="Every learner side by side, per topic.")
@click.pass_obj
def report(
    app: App,
    fmt: str | None,
    output: Path | None,
    section: str | None,
    topic: str | None,
    deck: str | None,
    cohort: bool,
) -> None:
    """Write a mastery report: per topic, section and the whole roadmap.

    Cards by state, mastered share and done (with the day it was first reached), retention
    now and in 30 days, reviews and true retention over 30 days, lapses, leeches, cards due
    within 7 days, and the pace of new cards. Markdown reads like the roadmap checklist; html
    is one self-contained page with charts; json follows docs/report.schema.json; csv has one
    row per topic. Example: trainer report --format html -o progress.html

    --cohort reports every learner side by side: per topic the mastered share, done, retention
    now and reviews in 30 days, per learner the streak; html shows the roadmap as a heat table.
    """
    from trainer.reports import CHARTED, format_for, render, write_file
    from trainer.reports.figures import Scope, build_report
    from trainer.store.db import reader
    from trainer.study.mastery import keep_found

    fmt = fmt or format_for(output)
    if fmt == "html" and output is None:
        raise UsageError(
            "--format html writes a page for a browser: add -o FILE, e.g. -o report.html"
        )
    if cohort and (section or topic or deck):
        raise UsageError("--cohort reports the whole roadmap: leave out --section, --topic, --deck")
    engine, learner, settings, clock = app.open()
    found: tuple[tuple[str, date], ...] = ()
    with reader(engine, snapshot=True) as conn:
        if cohort:
            from trainer.reports.cohort import build_cohort, render_cohort

            text = render_cohort(build_cohort(conn, wall_clock()), fmt)
        else:
            scope = Scope(section, topic, deck)
            charts = fmt in CHARTED
            data = build_report(conn, learner, settings, clock, wall_clock(), scope, charts)
            text, found = render(data, fmt), data.found
    if output is None:
        document(text)
    else:
        write_file(output, text)
    keep_found(engine, learner, found)


@cli.command()
@click.option("--section", metavar="NAME", help="Only this section (title or slug).")
@click.option("--topic", metavar="NAME", help="Only this topic (title or slug).")
@click.option("--deck", metavar="NAME", help="Only this extra deck and its subdecks.")
@click.pass_obj
def stats(app: App, section: str | None, topic: str | None, deck: str | None) -> None:
    """Show the mastery report in the terminal: summary, section progress, review heatmap,
    30-day due forecast and true retention by week."""
    from trainer.cli.stats_view import render_stats
    from trainer.reports.figures import Scope, build_report
    from trainer.store.db import reader
    from trainer.study.mastery import keep_found

    engine, learner, settings, clock = app.open()
    with reader(engine, snapshot=True) as conn:
        scope = Scope(section, topic, deck)
        data = build_report(conn, learner, settings, clock, wall_clock(), scope)
    render_stats(data, console())
    keep_found(engine, learner, data.found)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the learners as JSON.")
@click.pass_obj
def learners(app: App, as_json: bool) -> None:
    """List the learners of the database (* marks the one --learner picks): cards studied,
    reviews and the day of the last one. A learner is made by their first review, import or
    setting; trainer --learner NAME COMMAND studies as NAME."""
    from trainer.cli.learners_view import learners_json, learners_lines
    from trainer.store.db import reader
    from trainer.store.learners import learner_summaries

    current = app.learner
    engine, *_ = app.open()
    with reader(engine, snapshot=True) as conn:
        listed = learner_summaries(conn)
    if as_json:
        echo(json.dumps(learners_json(listed), indent=2))
    else:
        echo("\n".join(learners_lines(listed, current)))


@cli.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print the decks as JSON.")
@click.pass_context
def decks(ctx: click.Context, as_json: bool) -> None:
    """List every deck (roadmap topics and extra decks) with its cards: new, learning, review,
    due today, total and mastered; an extra deck counts the decks under it.

    `trainer decks rename OLD NEW` renames an extra deck (NEW may be a path, A::B);
    `trainer decks delete NAME` deletes one with its subdecks, cards and review logs (it asks
    first; --yes for scripts).
    """
    if ctx.invoked_subcommand is not None:
        return
    from trainer.cli.decks_view import decks_json, decks_lines
    from trainer.store.db import reader
    from trainer.study.deck_list import list_decks

    app: App = ctx.obj
    engine, learner, settings, clock = app.open()
    with reader(engine, snapshot=True) as conn:
        listed = list_decks(conn, learner, settings, clock, wall_clock())
    if as_json:
        echo(json.dumps(decks_json(listed), indent=2))
    else:
        echo("\n".join(decks_lines(listed)))


@decks.command("rename")
@click.argument("old")
@click.argument("new")
@click.pass_obj
def decks_rename(app: App, old: str, new: str) -> None:
    """Rename the extra deck OLD (name or slug) and the decks under it to NEW."""
    from sqlalchemy.orm import Session

    from trainer.store.deck_tree import rename_deck

    engine, *_ = app.open()
    with Session(engine) as db, db.begin():
        renamed = rename_deck(db, old, new)
    for before, after in renamed:
        echo(f"{before} -> {after}")


@decks.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask first (for scripts).")
@click.pass_obj
def decks_delete(app: App, name: str, yes: bool) -> None:
    """Delete the extra deck NAME (name or slug), the decks under it, their cards and their
    review logs, in one transaction. Asks first unless --yes."""
    from sqlalchemy.orm import Session

    from trainer.store.db import reader
    from trainer.store.deck_tree import deck_contents, delete_deck

    engine, *_ = app.open()
    with reader(engine) as conn:
        contents = deck_contents(conn, name)
    what = (
        f"deck '{contents.name}'"
        + (
            f" with {contents.subdecks} subdeck{'s' * (contents.subdecks != 1)}"
            if contents.subdecks
            else ""
        )
        + f": {contents.cards} card{'s' * (contents.cards != 1)},"
        f" {contents.reviews} review log{'s' * (contents.reviews != 1)}"
    )
    if not yes and not click.confirm(f"Delete {what}? This cannot be undone", default=False):
        echo("Nothing deleted.")
        return
    with Session(engine) as db, db.begin():
        delete_deck(db, name)
    echo(f"Deleted {what}.")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@click.option("--dry-run", is_flag=True, help="Fit and compare, but change nothing.")
@click.option("--reset", is_flag=True, help="Go back to FSRS's default parameters.")
@click.pass_obj
def optimize(app: App, as_json: bool, dry_run: bool, reset: bool) -> None:
    """Fit FSRS parameters to your own review log, as Anki's Optimize does.

    The new parameters are applied only when they predict your past reviews better (a lower
    log loss) than the current ones; applying recomputes every card's memory state.
    """
    from sqlalchemy.orm import Session

    from trainer.scheduling.optimizer import NotEnoughReviews
    from trainer.study.optimize import apply_parameters, fit_learner

    if reset and dry_run:
        raise UsageError("--reset and --dry-run do not go together")
    engine, learner, settings, clock = app.open(write=not dry_run)
    today = clock.day_of(wall_clock())
    with Session(engine) as db, db.begin():
        if reset:
            cards = apply_parameters(db, learner, settings, (), today)
            echo(f"Back to the default FSRS parameters; {_cards(cards)} recomputed.")
            return
        try:
            fitted = fit_learner(db, learner, settings)
        except NotEnoughReviews as short:
            raise TrainerError(
                f"Not enough review history to optimize yet: {short.missing} more"
                f" review{'s' * (short.missing != 1)} a day or more after the one before"
                " are needed."
            ) from None
        applied = fitted.better and not dry_run
        cards = apply_parameters(db, learner, settings, fitted.parameters, today) if applied else 0
    if as_json:
        outcome = {
            "reviews": fitted.reviews,
            "parameters": list(fitted.parameters),
            "log_loss": {"before": fitted.log_loss_before, "after": fitted.log_loss_after},
            "rmse": {"before": fitted.rmse_before, "after": fitted.rmse_after},
            "applied": applied,
        }
        echo(json.dumps(outcome, indent=2))
        return
    echo(f"Reviews used: {fitted.reviews}")
    echo(f"Log loss:     {fitted.log_loss_before:.4f} current, {fitted.log_loss_after:.4f} new")
    echo(f"RMSE:         {fitted.rmse_before:.2%} current, {fitted.rmse_after:.2%} new")
    if not fitted.better:
        echo("Kept the current parameters: the new ones do not predict your reviews better.")
    elif dry_run:
        echo("Dry run: the new parameters predict your reviews better; nothing was changed.")
    else:
        echo(f"Applied the new parameters; {_cards(cards)} recomputed.")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option(
    "--new-cards",
    type=click.IntRange(0, 9999),
    metavar="N",
    help="Plan with N new roadmap cards a day (default: your new_cards_per_day).",
)
@click.option(
    "--by",
    metavar="DATE",
    help="The new cards a day needed to be through the roadmap by DATE (YYYY-MM-DD), and the"
    " reviews a day that costs.",
)
@click.option(
    "--retention",
    metavar="R",
    help="Plan at desired retention R (0.70-0.99) instead of yours.",
)
@click.pass_obj
def plan(
    app: App, as_json: bool, new_cards: int | None, by: str | None, retention: str | None
) -> None:
    """Forecast the coming year: reviews and new cards a day, and the day each topic, section
    and the whole roadmap is predicted done.

    The forecast simulates your days with your own FSRS parameters, your rating habits and
    your settings, and a fixed seed, so the same data gives the same plan.
    """
    from datetime import date

    from trainer.cli.plan_view import (
        needed_json,
        plan_json,
        render_needed,
        render_plan,
    )
    from trainer.store.db import reader
    from trainer.store.settings import parse_setting
    from trainer.study.plan import at_retention, forecast, needed_new_cards, read_situation

    wanted: float | None = None
    if retention is not None:
        try:
            wanted = parse_setting("desired_retention", retention)
        except UsageError:
            raise UsageError(
                f"--retention {retention}: must be a number from 0.70 to 0.99"
            ) from None
    if by is not None and new_cards is not None:
        raise UsageError("--by finds the new cards a day itself: leave out --new-cards")
    engine, learner, settings, clock = app.open()
    today = clock.day_of(wall_clock())
    deadline: date | None = None
    if by is not None:
        try:
            deadline = date.fromisoformat(by)
        except ValueError:
            raise UsageError(f"--by {by}: not a date such as 2027-06-30") from None
        if deadline < today:
            raise UsageError(f"--by {by}: the date has passed (today is {today.isoformat()})")
    settings = at_retention(settings, wanted)
    with reader(engine, snapshot=True) as conn:
        situation = read_situation(conn, learner, settings, today)
    if deadline is not None:
        needed = needed_new_cards(situation, settings, deadline)
        if as_json:
            echo(json.dumps(needed_json(needed), indent=2))
        else:
            render_needed(needed, console(), needed.plan or forecast(situation, settings))
        return
    result = forecast(situation, settings, new_cards=new_cards)
    if as_json:
        echo(json.dumps(plan_json(result), indent=2))
    else:
        render_plan(result, console())


def _cards(count: int) -> str:
    return f"memory state of {count} card{'s' * (count != 1)}"


@cli.command()
@click.pass_obj
def check(app: App) -> None:
    """Check the database and repair what would stop a review, like Anki's Check Database.

    Every learner's cards whose stored memory state cannot be scheduled are rebuilt from their
    review log (or reset to new); SQLite's integrity and foreign-key checks run too (on
    PostgreSQL, every foreign key is checked). One line per finding; exit 0 when nothing was
    found, 1 otherwise.
    """
    from trainer.study.check import check_database

    engine = app.open().engine
    with engine.begin() as conn:
        findings = check_database(conn)
    for finding in findings:
        echo(finding.message)
    if findings:
        repaired = sum(finding.repaired for finding in findings)
        found = f"{len(findings)} problem{'s' * (len(findings) != 1)} found"
        echo(f"{found}, {repaired} repaired.")
        sys.exit(1)
    echo("No problems found.")


@cli.command()
@click.option("--list", "as_list", is_flag=True, help="List the backups instead, oldest first.")
@click.pass_obj
def backup(app: App, as_list: bool) -> None:
    """Back the database up now into backups/ beside it (SQLite's online backup API,
    compressed), or list the backups.

    trainer also backs up by itself: before the first write of each learner day (never
    for a command that only reads), before a schema upgrade and before every import,
    keeping the newest backup of each of the last backups_daily days and of each week for
    backups_weekly weeks (trainer config).
    """
    from trainer.errors import DatabaseError
    from trainer.reports.wording import local_time
    from trainer.store.backup import backup_folder, list_backups, sqlite_file

    path = sqlite_file(app.location, "backups")
    if not as_list:
        if not path.is_file():
            raise TrainerError(f"no database at {path} yet: nothing to back up")
        opened = app.open(daily_backup=False)
        opened.engine.dispose()
        made = app.backup("manual", wall_clock(), opened.settings)
        echo(f"Backed up to {made.path} ({_size(made.size)}).")
        return
    backups = list_backups(path)
    if not backups:
        echo(f"No backups yet in {backup_folder(path)}.")
        return
    zone = None  # the system's, when there is no database (or a damaged one) to read
    if path.is_file():
        try:
            opened = app.open(daily_backup=False)
            opened.engine.dispose()
            zone = opened.clock.zone
        except DatabaseError:
            pass  # the backups are listed to restore one: the damaged database is not needed
    for made in backups:
        when = local_time(made.made_at, zone)
        echo(f"{when}  {made.kind:<9}  {_size(made.size):>8}  {made.path}")


def _size(size: int) -> str:
    """A file size in KB (1,000 bytes) or MB, as a file manager shows it."""
    return f"{size / 1e6:,.1f} MB" if size >= 1e6 else f"{max(size / 1e3, 0.1):,.1f} KB"


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask first (for scripts).")
@click.pass_obj
def restore(app: App, file: Path, yes: bool) -> None:
    """Replace the database by the backup FILE (from 'trainer backup --list'). Asks first
    unless --yes; the current database is backed up before it is replaced (one SQLite cannot
    read is moved aside unchanged; a missing one is simply replaced), and the file holds one
    database or the other at every moment."""
    from trainer.store.backup import SetAside, sqlite_file
    from trainer.store.backup import restore as restore_backup

    path = sqlite_file(app.location, "backups")
    question = f"Replace the database {path} by the backup {file}? It is backed up first"
    if not yes and not click.confirm(question, default=False):
        echo("Nothing restored.")
        return
    replaced = restore_backup(path, file, wall_clock())
    echo(f"Restored {file} into {path}.")
    if isinstance(replaced, SetAside):
        kept = ", ".join(str(moved) for moved in replaced.paths)
        why = f"The database it replaced could not be read ({replaced.reason})"
        echo(f"{why}: kept as it was in {kept}.")
    elif replaced is not None:
        echo(f"The database it replaced is in {replaced.path}.")


@cli.group()
def db() -> None:
    """Work on the database as a whole."""


@db.command("copy")
@click.option(
    "--to",
    "target",
    required=True,
    metavar="URL",
    help="The database to copy into (a file path or a SQLAlchemy URL); it must be empty.",
)
@click.pass_obj
def db_copy(app: App, target: str) -> None:
    """Copy the whole database (every table, every learner) into another, e.g. from SQLite to
    PostgreSQL or back, and check each table's row count and checksum.

    The target's schema is made when missing; a target holding any row is refused. The copy
    is one transaction: on a failure the target keeps no row of it.
    """
    from trainer.store.copy import copy_database
    from trainer.store.db import database_url, open_database, shown_location

    if database_url(target) == database_url(app.location):
        raise UsageError(f"--to {shown_location(target)}: that is the database copied from")
    source = open_database(app.location)
    click.get_current_context().call_on_close(source.dispose)
    destination = open_database(target)
    click.get_current_context().call_on_close(destination.dispose)
    copied = copy_database(source, destination, shown_location(target))
    for table in copied:
        rows = f"{table.rows} row{'s' * (table.rows != 1)}"
        echo(f"{table.table}: {rows}, checksum {table.checksum[:16]}")
    total = sum(table.rows for table in copied)
    echo(
        f"Copied {total} rows in {len(copied)} tables to {shown_location(target)};"
        " counts and checksums match."
    )


def main() -> NoReturn:
    """Console entry point: run the CLI and exit with its code. An unexpected error shows as
    one line (see :class:`TrainerGroup`); its traceback only with ``--debug``."""
    cli.main(prog_name="trainer")
    sys.exit(0)
