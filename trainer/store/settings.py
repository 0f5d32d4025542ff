"""A learner's settings: defaults, validation, and storage in the ``learner_setting`` table.

Defaults follow Anki's FSRS defaults (desired retention 0.9, learning steps 1m 10m, relearning
step 10m, maximum interval 36500 days, 20 new cards and 200 reviews a day, day rollover at 4 am,
learn-ahead 20 minutes). Each extra (imported) deck has 10 new cards a day of its own: Anki gives
every deck 20, but here the roadmap already takes 20, and an import should add to a day's work
without doubling it. Mastery thresholds: a card is mastered at a stability of 21 days, the
interval Anki calls "mature"; a topic is done when 90% of its active cards are mastered. A done
topic needs a refresh when its studied cards' mean retrievability falls below 0.8: the lower end
of the desired retention the FSRS4Anki scheduler recommends ("0.8 ~ 0.9"), so a topic kept at
any recommended retention does not show it.
Backups: the newest of each of the last 30 days and of each week for a year (52 weeks).
Durability: ``full``, an fsync per committed rating as Anki does (see
:func:`trainer.store.db.set_durability`).
Load balancing is on, as in Anki 24.11+, and every weekday takes a full load (no easy days).
Leeches: a card is a leech at 8 lapses and every 4 after, and is then suspended (Anki's deck
options: leech threshold 8, leech action Suspend Card).
Siblings (cards of one note) are not buried by default, as Anki's deck options have
``bury_new`` and ``bury_reviews`` off (rslib/src/deckconfig/mod.rs).
Backlog: after missed days, the backlog rule (:mod:`trainer.study.queue`) is on while the due
review cards exceed 3 days' worth of the learner's usual daily reviews; Anki has no such rule,
so the 3 is this project's choice (a weekend missed stays below it, a missed week does not).
While it is on, up to ``backlog_cap`` review cards a day (0: the review limit) come lowest
retrievability first and new cards are paused.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, select

from trainer.errors import UsageError
from trainer.store import tables
from trainer.store.deck_tree import DeckTree
from trainer.store.lookup import find

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Settings:
    """Every learner setting with its default. Units are in the names (minutes, days, hours)."""

    desired_retention: float = 0.9
    learning_steps_minutes: tuple[float, ...] = (1.0, 10.0)
    relearning_steps_minutes: tuple[float, ...] = (10.0,)
    maximum_interval_days: int = 36500
    fuzz: bool = True
    load_balance: bool = True
    #: Weekdays with less than a full day's load, as ``trainer config`` reads and shows them
    #: (``sat=0.5,sun=0``; empty: none); :func:`easy_day_shares` gives the 7 shares.
    easy_days: str = ""
    new_cards_per_day: int = 20
    deck_new_cards_per_day: int = 10
    reviews_per_day: int = 200
    day_rollover_hour: int = 4
    learn_ahead_minutes: int = 20
    bury_new_siblings: bool = False
    bury_review_siblings: bool = False
    timezone: str = ""
    mastery_stability_days: float = 21.0
    topic_done_share: float = 0.9
    refresh_retention: float = 0.8
    #: The learner's own 21 FSRS-6 parameters (empty: FSRS's defaults) and the learner day
    #: (ISO date) ``trainer optimize`` fitted them on; not set by ``trainer config`` (see
    #: :func:`store_parameters`).
    fsrs_parameters: tuple[float, ...] = ()
    fsrs_parameters_fitted_on: str = ""
    backups_daily: int = 30
    backups_weekly: int = 52
    durability: str = "full"
    leech_lapses: int = 8
    #: What a card turning leech gets besides the mark: one of :data:`LEECH_ACTIONS`.
    leech_action: str = "suspend"
    #: Days' worth of usual daily reviews the due review cards must exceed for the backlog
    #: rule to be on (0: never).
    backlog_days: int = 3
    #: Review cards a learner day while the backlog rule is on (0: ``reviews_per_day``).
    backlog_cap: int = 0


DESCRIPTIONS = {
    "desired_retention": "chance of recall FSRS schedules reviews for (0.70-0.99)",
    "learning_steps_minutes": "minutes between steps for a new card, space separated",
    "relearning_steps_minutes": "minutes between steps after a lapse, space separated",
    "maximum_interval_days": "longest interval a review may get, in days",
    "fuzz": "spread review intervals a little so cards do not bunch (true/false)",
    "load_balance": "a review goes to the day of its fuzz range with the fewest due (true/false)",
    "easy_days": "weekdays' shares of a full load, e.g. sat=0.5,sun=0 (0: as few as can be)",
    "new_cards_per_day": "new roadmap cards introduced per learner day",
    "deck_new_cards_per_day": "new cards per learner day of each extra deck, unless set for it",
    "reviews_per_day": "review cards shown per learner day",
    "day_rollover_hour": "local hour (0-23) at which a new learner day starts",
    "learn_ahead_minutes": "learning cards due this soon are shown when nothing else is left",
    "bury_new_siblings": "a rated card's new siblings (same note) wait until the next day",
    "bury_review_siblings": "a rated card's review siblings (same note) wait until the next day",
    "timezone": "IANA time zone for learner days, e.g. Europe/Berlin (empty: the system's)",
    "mastery_stability_days": "stability (days) at which a card counts as mastered",
    "topic_done_share": "share of a topic's cards that must be mastered for it to be done",
    "refresh_retention": "a done topic whose mean recall chance is below this needs a refresh",
    "fsrs_parameters": "your own FSRS-6 parameters (trainer optimize fits them; empty: defaults)",
    "fsrs_parameters_fitted_on": "learner day trainer optimize fitted them on",
    "backups_daily": "days whose newest backup is kept (backups/ beside the database)",
    "backups_weekly": "weeks whose newest backup is kept, besides the daily ones",
    "durability": "full: a power cut loses no rating; normal: faster, may lose the last ones",
    "leech_lapses": "lapses that make a card a leech (again every half of it after)",
    "leech_action": "suspend: a card turning leech is suspended; tag: only marked is:leech",
    "backlog_days": "due reviews above this many days' worth pause new cards (0: never)",
    "backlog_cap": "reviews a day while catching up a backlog (0: reviews_per_day)",
}

#: The values of the ``durability`` setting.
DURABILITIES = ("full", "normal")
#: The values of the ``leech_action`` setting (Anki's Suspend Card and Tag Only).
LEECH_ACTIONS = ("suspend", "tag")

#: The learner-setting row that holds the fitted parameters: JSON ``{"parameters": [21
#: floats], "fitted_on": "YYYY-MM-DD"}``.
PARAMETERS_KEY = "fsrs_parameters"


def _float_in(low: float, high: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = float(text)
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}")
        return value

    return parse


def _int_in(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise ValueError(f"must be a whole number from {low} to {high}")
        return value

    return parse


def _steps(text: str) -> tuple[float, ...]:
    values = tuple(float(part) for part in text.replace(",", " ").split())
    if any(not 0 < v <= 1440 * 30 for v in values):
        raise ValueError("each step must be more than 0 and at most 43200 minutes")
    return values


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "on", "1"):
        return True
    if lowered in ("false", "no", "off", "0"):
        return False
    raise ValueError("must be true or false")


def _one_of(values: tuple[str, ...]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        lowered = text.strip().lower()
        if lowered not in values:
            raise ValueError(f"must be one of {', '.join(values)}")
        return lowered

    return parse


#: Weekday names for ``easy_days``, Monday first (``date.weekday()`` order).
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _easy_days(text: str) -> str:
    shares = {}
    for part in text.replace(",", " ").split():
        day, sep, share = part.partition("=")
        day = day.strip().lower()[:3]
        if not sep or day not in WEEKDAYS:
            raise ValueError("must be weekday=share pairs such as sat=0.5,sun=0")
        value = float(share)
        if not 0 <= value <= 1:
            raise ValueError(f"must give each weekday a share from 0 to 1 (not {share})")
        shares[day] = value
    return ",".join(f"{d}={shares[d]:g}" for d in WEEKDAYS if shares.get(d, 1.0) != 1.0)


def easy_day_shares(settings: Settings) -> tuple[float, ...]:
    """Each weekday's share of a full day's review load (7 numbers in 0-1, Monday first) from
    the ``easy_days`` setting: a weekday it does not name takes a full load (1)."""
    named = dict(part.split("=") for part in settings.easy_days.split(",") if part)
    return tuple(float(named.get(day, 1.0)) for day in WEEKDAYS)


def zone_in_effect(settings: Settings) -> str:
    """The IANA name of the time zone learner days and shown times use: the ``timezone``
    setting, or else the system's (as ``tzlocal`` reads it: ``TZ``, then the system's
    configuration)."""
    if settings.timezone:
        return settings.timezone
    from tzlocal import get_localzone_name  # only when the system's zone is needed

    return get_localzone_name()


def _timezone(text: str) -> str:
    if text:
        try:
            ZoneInfo(text)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("is not a known IANA time zone") from None
    return text


PARSERS: dict[str, Callable[[str], Any]] = {
    "desired_retention": _float_in(0.70, 0.99),
    "learning_steps_minutes": _steps,
    "relearning_steps_minutes": _steps,
    "maximum_interval_days": _int_in(1, 36500),
    "fuzz": _bool,
    "load_balance": _bool,
    "easy_days": _easy_days,
    "new_cards_per_day": _int_in(0, 9999),
    "deck_new_cards_per_day": _int_in(0, 9999),
    "reviews_per_day": _int_in(0, 99999),
    "day_rollover_hour": _int_in(0, 23),
    "learn_ahead_minutes": _int_in(0, 1440),
    "bury_new_siblings": _bool,
    "bury_review_siblings": _bool,
    "timezone": _timezone,
    "mastery_stability_days": _float_in(1, 36500),
    "topic_done_share": _float_in(0.01, 1.0),
    "refresh_retention": _float_in(0.01, 1.0),
    "backups_daily": _int_in(1, 3650),
    "backups_weekly": _int_in(0, 520),
    "durability": _one_of(DURABILITIES),
    "leech_lapses": _int_in(1, 9999),
    "leech_action": _one_of(LEECH_ACTIONS),
    "backlog_days": _int_in(0, 365),
    "backlog_cap": _int_in(0, 99999),
}


def parse_setting(key: str, text: str) -> Any:
    """Parse and validate ``text`` as the value of setting ``key``.

    Raises :class:`UsageError` naming the setting for an unknown key or a bad value.
    """
    if key not in PARSERS:
        raise UsageError(f"unknown setting '{key}'; known: {', '.join(PARSERS)}")
    try:
        return PARSERS[key](text)
    except ValueError as exc:
        reason = (
            str(exc)
            if "must" in str(exc) or "is not" in str(exc)
            else _EXPECTED.get(key, "must be a whole number")
        )
        raise UsageError(f"setting {key}={text!r}: {reason}") from None


_EXPECTED = {
    "desired_retention": "must be a number such as 0.9",
    "learning_steps_minutes": "must be minutes separated by spaces, such as 1 10",
    "relearning_steps_minutes": "must be minutes separated by spaces, such as 10",
    "fuzz": "must be true or false",
    "easy_days": "must be weekday=share pairs such as sat=0.5,sun=0",
    "timezone": "is not a known IANA time zone",
    "mastery_stability_days": "must be a number of days such as 21",
    "topic_done_share": "must be a number such as 0.9",
    "refresh_retention": "must be a number such as 0.8",
}


def format_setting(value: Any) -> str:
    """Show a setting value the way :func:`parse_setting` reads it back."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return " ".join(f"{v:g}" for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def load_settings(db: Session | Connection, learner_id: int) -> Settings:
    """Read learner ``learner_id``'s stored settings over the defaults. A stored value that no
    longer validates is ignored in favour of the default."""
    values: dict[str, Any] = {}
    stored = select(tables.learner_setting.c.key, tables.learner_setting.c.value)
    for key, value in db.execute(stored.where(tables.learner_setting.c.learner_id == learner_id)):
        if key == PARAMETERS_KEY:
            fitted = json.loads(value)
            values["fsrs_parameters"] = tuple(float(v) for v in fitted["parameters"])
            values["fsrs_parameters_fitted_on"] = str(fitted["fitted_on"])
        elif key in PARSERS:
            try:
                values[key] = PARSERS[key](json.loads(value))
            except (ValueError, TypeError):
                continue
    return replace(Settings(), **values)


def store_setting(db: Session, learner_id: int, key: str, text: str | None) -> Settings:
    """Validate and store one setting of learner ``learner_id`` (``text`` None resets it to the
    default); no commit.

    Returns the settings now in force. Raises :class:`UsageError` for a bad key or value.
    """
    from trainer.store.models import LearnerSetting  # the ORM, for the commands that write

    if text is None:
        if key not in PARSERS:
            raise UsageError(f"unknown setting '{key}'; known: {', '.join(PARSERS)}")
        row = db.get(LearnerSetting, (learner_id, key))
        if row is not None:
            db.delete(row)
    else:
        value = parse_setting(key, text)
        stored = json.dumps(format_setting(value))
        db.merge(LearnerSetting(learner_id=learner_id, key=key, value=stored))
    db.flush()
    return load_settings(db, learner_id)


def store_parameters(db: Session, learner_id: int, parameters: Sequence[float], day: date) -> None:
    """Store learner ``learner_id``'s own FSRS-6 ``parameters`` (21 floats), fitted on learner
    ``day``; empty ``parameters`` go back to the defaults. No commit."""
    from trainer.store.models import LearnerSetting

    row = db.get(LearnerSetting, (learner_id, PARAMETERS_KEY))
    if not parameters:
        if row is not None:
            db.delete(row)
    else:
        value = json.dumps({"parameters": list(parameters), "fitted_on": day.isoformat()})
        db.merge(LearnerSetting(learner_id=learner_id, key=PARAMETERS_KEY, value=value))
    db.flush()


#: The one setting a deck has of its own (``trainer config --deck NAME KEY VALUE``).
DECK_SETTINGS = ("new_cards_per_day",)


def deck_setting(
    db: Session, learner_id: int, deck: str, key: str | None, text: str | None, reset: bool
) -> str:
    """Show, store (``text``) or reset learner ``learner_id``'s own new-card allowance of a
    top-level extra deck; no commit. Returns the line to print: the value in effect for the
    deck, ``new_cards_per_day = N``, with where it comes from: nothing added for the deck's
    own, ``(from TOP)`` for a deck under the top-level deck ``TOP`` whose allowance covers it,
    ``(default)`` when the learner gave that top-level deck none of their own and it follows
    their ``deck_new_cards_per_day``.

    Raises :class:`UsageError` for an unknown deck (see :mod:`trainer.store.lookup`), a key
    other than :data:`DECK_SETTINGS`, a bad value, or a deck under another deck (the
    allowance belongs to the top-level deck and covers its subdecks).
    """
    from trainer.store.models import Deck, LearnerDeck

    if key is not None and key not in DECK_SETTINGS:
        raise UsageError(f"--deck: a deck has only {', '.join(DECK_SETTINGS)} of its own")
    value = None if text is None else parse_setting("new_cards_per_day", text)
    found = find(db.connection(), "deck", deck)
    row = db.get_one(Deck, found.id)
    top = db.get_one(Deck, DeckTree.read(db.connection()).root(row.id))
    if top is not row and (text is not None or reset):
        raise UsageError(
            f"--deck {deck}: new cards are allowed per top-level deck, for it and its"
            f" subdecks; set it on --deck {top.name}"
        )
    own = db.get(LearnerDeck, (learner_id, top.id))
    if text is not None or reset:
        if own is None:
            own = LearnerDeck(learner_id=learner_id, deck_id=top.id)
            db.add(own)
        own.new_cards_per_day = value
        db.flush()
    if own is None or own.new_cards_per_day is None:
        default = load_settings(db, learner_id).deck_new_cards_per_day
        return f"new_cards_per_day = {default} (default)"
    source = "" if top is row else f" (from {top.name})"
    return f"new_cards_per_day = {own.new_cards_per_day}{source}"


def deck_overrides(conn: Connection, learner_id: int) -> list[tuple[str, int]]:
    """The top-level extra decks to which learner ``learner_id`` gave a new-card allowance of
    their own (``trainer config --deck``), as (deck name, new cards per learner day), by
    name."""
    rows = conn.execute(
        select(tables.deck.c.name, tables.learner_deck.c.new_cards_per_day)
        .join(tables.learner_deck, tables.learner_deck.c.deck_id == tables.deck.c.id)
        .where(
            tables.learner_deck.c.learner_id == learner_id,
            tables.deck.c.parent_id.is_(None),
            tables.learner_deck.c.new_cards_per_day.is_not(None),
        )
        .order_by(tables.deck.c.name)
    )
    return [(name, per_day) for name, per_day in rows if per_day is not None]
