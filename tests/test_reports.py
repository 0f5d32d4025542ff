"""Mastery reports: the figures from hand-made cards and review logs, a learner mastering a topic
over simulated days, and each format (Markdown, JSON, CSV, HTML) on hostile names."""

from __future__ import annotations

import csv
import io
import json
import shutil
import struct
import subprocess
from datetime import UTC, date, datetime, time, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import fsrs
import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from jinja2 import Environment, FileSystemLoader
from rich.console import Console
from sqlalchemy import literal, select, update
from sqlalchemy.orm import Session, sessionmaker

from conftest import LEARNER, NOW, engine_of, recorded_with_fsrs
from trainer.cli.status_view import render_roadmap
from trainer.content.builtin_sync import upsert_cards, upsert_roadmap
from trainer.content.parser import CardSpec, SectionSpec, TopicSpec
from trainer.errors import UsageError
from trainer.reports import CHARTED, FORMATS, render
from trainer.reports.csv_report import COLUMNS, inert
from trainer.reports.figures import Report, Scope, build_report
from trainer.reports.html import TemplateCache
from trainer.reports.markdown import escape
from trainer.scheduling.adapter import Scheduler
from trainer.scheduling.days import DayClock
from trainer.store.db import create_db_engine, reader
from trainer.store.learners import learner_for_write
from trainer.store.models import (
    SKIP,
    Card,
    CardMemory,
    CardState,
    Deck,
    Rating,
    ReviewLog,
    Topic,
)
from trainer.store.settings import Settings
from trainer.study.mastery import latest_day, record_done, retrievability_sum, roadmap_progress
from trainer.study.plan import rating_counts
from trainer.study.queue import Focus
from trainer.study.search import SearchContext, find_cards
from trainer.study.search_syntax import parse
from trainer.study.session import ReviewSession

SCHEMA = json.loads((Path(__file__).parents[1] / "docs" / "report.schema.json").read_text())
TODAY = date(2026, 11, 29)  # NOW's learner day
EVIL_SECTION = "<script>alert('x')</script> & Co"
EVIL_TOPIC = "=cmd|' /C calc'!A0"
EVIL_DECK = "@SUM(1+1)*cmd"
SQL_ENGINE = create_db_engine("sqlite://")
NONE = "\N{EN DASH}"  # a figure without data


def _day(offset: int) -> date:
    return TODAY + timedelta(days=offset)


def _at(clock: DayClock, offset: int, hours: int = 6) -> datetime:
    return clock.day_start(_day(offset)) + timedelta(hours=hours)


def _card(db: Session, deck: Deck, key: str, **values: object) -> Card:
    """A card with the card columns among ``values``, and the others as the learner's memory
    row of it (none when there are none)."""
    card = Card(deck_id=deck.id, key=key, position=0, kind="basic", front="Q", back="A")
    memory = {name: value for name, value in values.items() if name not in Card.__table__.c}
    for name, value in values.items():
        if name not in memory:
            setattr(card, name, value)
    db.add(card)
    db.flush()
    if memory:
        db.add(CardMemory(learner_id=LEARNER, card_id=card.id, **memory))
        db.flush()
    return card


def _log(
    db: Session,
    clock: DayClock,
    card: Card,
    offset: int,
    stability: float,
    rating: Rating = Rating.GOOD,
    before: CardState = CardState.REVIEW,
    elapsed: int | None = 3,
    hours: int = 6,
) -> None:
    db.add(
        ReviewLog(
            learner_id=LEARNER,
            card_id=card.id,
            rating=int(rating),
            reviewed_at=_at(clock, offset, hours),
            review_day=_day(offset),
            duration_ms=5000,
            state_before=int(before),
            elapsed_days=elapsed,
            state=int(CardState.REVIEW),
            stability_days=stability,
            difficulty=5.0,
            interval_days=3,
        )
    )


def _review_card(
    key: str, stability: float, last: int, due: int, lapses: int = 0, leech: bool = False
) -> dict[str, Any]:
    return {
        "key": key,
        "state": CardState.REVIEW,
        "stability_days": stability,
        "difficulty": 5.0,
        "last_review_day": _day(last),
        "due_day": _day(due),
        "reps": 3,
        "lapses": lapses,
        "leech": leech,
    }


@pytest.fixture
def collection(factory: sessionmaker[Session], clock: DayClock) -> sessionmaker[Session]:
    """Section "one" with topic a (4 active cards and a retired one, nothing done) and topic b
    (2 cards, done on day -27, lost on -24, done again on -22); section "two" (hostile title)
    with topic c (done since day -25, hostile title); a stand-alone deck (hostile name)."""
    roadmap = (
        SectionSpec("one", "One", (TopicSpec("a", "A", ("Sub A", "*Sub* [B]"), 1),)),
        SectionSpec(
            "two",
            EVIL_SECTION,
            (TopicSpec("b", "B", (), 2), TopicSpec("c", EVIL_TOPIC, (), 3)),
        ),
    )
    with factory.begin() as db:
        topics = upsert_roadmap(db, roadmap)
        decks = {}
        for slug in "abc":
            decks[slug] = Deck(
                name=slug.upper(), slug=slug, source="builtin", topic_id=topics[slug].id
            )
        decks["x"] = Deck(name=EVIL_DECK, slug="evil", source="import", topic_id=None)
        db.add_all(decks.values())
        db.flush()
        a = decks["a"]
        a1 = _card(db, a, **_review_card("a1", 30.0, last=-10, due=3, lapses=8, leech=True))
        a2 = _card(db, a, **_review_card("a2", 5.0, last=-2, due=10, lapses=1))
        _card(
            db,
            a,
            "a3",
            state=CardState.LEARNING,
            step=1,
            stability_days=1.0,
            difficulty=5.0,
            last_review_day=_day(0),
            last_review_at=_at(clock, 0),
            due_at=NOW + timedelta(minutes=5),
            reps=1,
        )
        a4 = _card(db, a, "a4")
        _card(db, a, **_review_card("a5", 50.0, last=-1, due=60), active=False)
        _card(db, a, **_review_card("a6", 8.0, last=-40, due=-5))  # overdue
        _log(db, clock, a1, -3, 40.0, elapsed=5)  # counts for true retention: passed
        _log(db, clock, a1, -3, 30.0, Rating.AGAIN, elapsed=0, hours=8)  # same day again: no
        _log(db, clock, a2, -5, 5.0, Rating.AGAIN, elapsed=3)  # counts: failed
        _log(db, clock, a2, -5, 5.0, before=CardState.RELEARNING, elapsed=0, hours=7)  # no
        _log(db, clock, a2, -30, 12.0, elapsed=4)  # a day before the 30-day window
        _log(db, clock, a4, 0, 1.0, before=CardState.NEW, elapsed=None)  # a new card started
        b1 = _card(db, decks["b"], **_review_card("b1", 30.0, last=-22, due=10))
        b2 = _card(db, decks["b"], **_review_card("b2", 22.0, last=-28, due=5))
        _log(db, clock, b1, -30, 3.0, before=CardState.NEW, elapsed=None)
        _log(db, clock, b2, -28, 22.0, elapsed=2)  # b: 1 of 2 mastered
        _log(db, clock, b1, -27, 25.0, elapsed=3)  # 2 of 2: done
        _log(db, clock, b1, -24, 4.0, Rating.AGAIN, elapsed=3)  # lapse: 1 of 2
        _log(db, clock, b1, -22, 30.0, elapsed=2)  # done again
        c1 = _card(db, decks["c"], **_review_card("c1", 60.0, last=-25, due=20))
        _log(db, clock, c1, -25, 60.0, elapsed=9)
        x1 = _card(db, decks["x"], **_review_card("x1", 2.0, last=-1, due=1))
        _log(db, clock, x1, -1, 2.0, elapsed=1)
    return factory


def _report(
    factory: sessionmaker[Session],
    clock: DayClock,
    scope: Scope | None = None,
    charts: bool = True,
    **settings: object,
) -> Report:
    with reader(engine_of(factory), snapshot=True) as conn:
        return build_report(conn, LEARNER, Settings(**settings), clock, NOW, scope, charts)  # type: ignore[arg-type]


def test_card_figures_by_state_lapses_leeches_and_due(
    collection: sessionmaker[Session], clock: DayClock
) -> None:
    a = _report(collection, clock).topic("a")
    f = a.figures
    assert (f.cards, f.new, f.learning, f.review, f.mastered) == (5, 1, 1, 2, 1)
    assert (f.lapses, f.leeches, f.due_7d) == (9, 1, 3)  # a1 in 3 days, a3 today, a6 overdue
    assert f.last_reviewed_at == _at(clock, 0)
    assert (a.done, a.first_done_day, f.share) == (False, None, 0.2)


def _fsrs_retrievability(stability: float | None, last_review: date | None, day: date) -> float:
    """fsrs's own retrievability of a card reviewed on learner day ``last_review``, on ``day``
    (reviews handed to fsrs at midnight UTC of their learner day, as the adapter does)."""
    if stability is None or last_review is None:
        return 0.0
    card = fsrs.Card(
        card_id=1,
        state=fsrs.State.Review,
        stability=stability,
        difficulty=5.0,
        last_review=datetime.combine(last_review, time(), UTC),
    )
    return float(fsrs.Scheduler().get_card_retrievability(card, datetime.combine(day, time(), UTC)))


def test_retrievability_is_fsrs_for_each_reviewed_card(
    collection: sessionmaker[Session], clock: DayClock
) -> None:
    with collection() as db:
        cards = (
            db.query(CardMemory)
            .join(Card, Card.id == CardMemory.card_id)
            .filter(Card.key.in_(["a1", "a2", "a3", "a6"]))
            .all()
        )
        now = [_fsrs_retrievability(c.stability_days, c.last_review_day, TODAY) for c in cards]
        later = [
            _fsrs_retrievability(c.stability_days, c.last_review_day, TODAY + timedelta(days=30))
            for c in cards
        ]
    f = _report(collection, clock).topic("a").figures
    assert f.recalled == 4
    assert f.retained_now == pytest.approx(sum(now) / 4, rel=1e-12)
    assert f.retained_in_30d == pytest.approx(sum(later) / 4, rel=1e-12)
    assert now[2] == 1.0 and 0 < f.retained_in_30d < f.retained_now < 1  # type: ignore[operator]


@given(st.floats(0.01, 36500), st.integers(-3, 36500))
def test_retrievability_in_sql_is_fsrs_for_any_stability_and_days(
    stability: float, elapsed: int
) -> None:
    scheduler = Scheduler(Settings())
    sql = select(retrievability_sum(scheduler, literal(stability), literal(elapsed)))
    with SQL_ENGINE.connect() as conn:
        value = conn.scalar(sql)
    expected = _fsrs_retrievability(stability, TODAY, TODAY + timedelta(days=max(0, elapsed)))
    assert value == pytest.approx(expected, rel=1e-9)


def test_true_retention_counts_first_daily_ratings_of_review_cards_in_30_days(
    collection: sessionmaker[Session], clock: DayClock
) -> None:
    f = _report(collection, clock).topic("a").figures
    assert f.reviews_30d == 5  # the rating 30 days ago is outside the window
    assert (f.retention_reviews_30d, f.retention_passed_30d, f.true_retention_30d) == (2, 1, 0.5)


def test_first_done_day_is_the_first_crossing_even_after_a_lapse(
    collection: sessionmaker[Session], clock: DayClock
) -> None:
    report = _report(collection, clock)
    assert (report.topic("b").done, report.topic("b").first_done_day) == (True, _day(-27))
    assert (report.topic("c").done, report.topic("c").first_done_day) == (True, _day(-25))
    two = report.sections[1]
    # b was done on -27 but not from -24 to -23; c from -25: both at once first on -25
    assert (two.done, two.first_done_day) == (True, _day(-25))
    assert (report.roadmap_done, report.roadmap_first_done_day) == (False, None)


def test_a_stricter_threshold_moves_the_first_done_day(
    collection: sessionmaker[Session], clock: DayClock
) -> None:
    b = _report(collection, clock, mastery_stability_days=26.0).topic("b")
    # b1 reaches 26+ only on -22 (30 days); b2 never (22): 1 of 2 is below 90%
    assert (b.done, b.first_done_day, b.figures.mastered) == (False, None, 1)
    b = _report(collection, clock, mastery_stability_days=26.0, topic_done_share=0.5).topic("b")
    assert (b.done, b.first_done_day) == (True, _day(-22))


def test_a_card_is_mastered_once_its_stability_reaches_the_threshold(
    collection: sessionmaker[Session], clock: DayClock
) -> None:
    """a1 and b1 hold a stability of exactly 30 days: at a threshold of 30 they count."""
    for threshold, mastered in ((30.0, (1, 1)), (30.001, (0, 0))):
        report = _report(collection, clock, mastery_stability_days=threshold)
        assert (report.topic("a").figures.mastered, report.topic("b").figures.mastered) == mastered
        with reader(engine_of(collection)) as conn:
            progress = roadmap_progress(
                conn, LEARNER, Settings(mastery_stability_days=threshold), clock, NOW
            )
        topics = (progress.mastery.topic("a"), progress.mastery.topic("b"))
        assert (topics[0].mastered, topics[1].mastered) == mastered


def test_a_group_is_done_on_the_latest_done_day_of_its_topics() -> None:
    assert latest_day([_day(6), _day(1), _day(4)]) == _day(6)
    assert latest_day([_day(1)]) == _day(1)
    assert latest_day([_day(1), None]) is None
    assert latest_day([]) is None


def test_forecast_history_and_pace(collection: sessionmaker[Session], clock: DayClock) -> None:
    report = _report(collection, clock)
    forecast = dict(report.forecast)
    assert len(report.forecast) == 30 and report.forecast[0][0] == TODAY
    # today: a3 (learning, due in 5 min) and a6 (overdue); x1 tomorrow; a1 in 3 days
    assert (forecast[_day(0)], forecast[_day(1)], forecast[_day(3)]) == (2, 1, 1)
    assert sum(forecast.values()) == 8  # a1 a3 a6 x1 b2 b1 a2 c1; a5 is retired
    history = {activity.day: activity for activity in report.history}
    assert report.history[0].day.weekday() == 0 and report.history[-1].day == TODAY
    assert len(report.history) == 52 * 7 + TODAY.weekday() + 1
    assert (history[_day(-3)].reviews, history[_day(-3)].retention_reviews) == (2, 1)
    assert history[_day(0)].new_cards == 1
    # one new card started in 30 days (first review 30 days ago): 1/30 a day, 1 card left
    assert report.new_cards_per_day == pytest.approx(1 / 30)
    assert report.completion_day == _day(30)


def test_sections_and_totals_add_up(collection: sessionmaker[Session], clock: DayClock) -> None:
    report = _report(collection, clock)
    assert [s.slug for s in report.sections] == ["one", "two"]
    assert report.totals.cards == 5 + 2 + 1 + 1
    assert report.totals.mastered == sum(s.figures.mastered for s in report.sections) + 0
    assert [d.title for d in report.extra_decks] == [EVIL_DECK]
    assert report.topics_done == 2 and len(report.topics) == 3


def test_scope_narrows_to_a_section_or_topic(
    collection: sessionmaker[Session], clock: DayClock
) -> None:
    topic = _report(collection, clock, Scope(topic="b"))
    assert [t.slug for t in topic.topics] == ["b"] and topic.extra_decks == ()
    assert topic.totals.cards == 2 and topic.roadmap_done
    assert topic.roadmap_first_done_day == _day(-27)
    assert sum(day.reviews for day in topic.history) == 5
    section = _report(collection, clock, Scope(section="ONE"))
    assert [t.slug for t in section.topics] == ["a"] and section.totals.reviews_30d == 5
    with pytest.raises(UsageError, match=r"^--topic a is not in --section two$"):
        _report(collection, clock, Scope(section="two", topic="a"))
    with pytest.raises(UsageError, match="--section nine: no such section"):
        _report(collection, clock, Scope(section="nine"))


def test_an_empty_collection_reports_zeros(factory: sessionmaker[Session], clock: DayClock) -> None:
    report = _report(factory, clock)
    assert report.sections == () and report.totals.cards == 0
    assert report.totals.retained_now is None and report.totals.true_retention_30d is None
    assert (report.new_cards_per_day, report.completion_day) == (0.0, None)
    assert render(report, "markdown") == (
        "# Mastery report\n\n"
        "Learner day 2026-11-29, generated 2026-11-29 10:00 UTC.\n\n"
        "- **Roadmap:** 0 of 0 topics done; 0 of 0 cards mastered (0%)\n"
        "- **Cards:** 0 new, 0 learning, 0 review, 0 mastered; 0 lapses, 0 leeches;"
        " 0 due within 7 days\n"
        f"- **Memory:** {NONE} retained now, {NONE} in 30 days without reviews\n"
        f"- **Last 30 days:** 0 reviews, true retention {NONE}\n"
        "- **Pace:** 0.0 new cards a day (last 30 days); every card is started\n\n"
        "_A card is mastered at an FSRS stability of 21 days or more; a topic is done once 90%"
        " of its cards are mastered. True retention counts each review card's first rating of a"
        " day, passed unless Again._\n"
    )
    assert render(report, "csv") == ",".join(COLUMNS) + "\r\n"
    data = json.loads(render(report, "json"))
    assert (data["sections"], data["extra_decks"]) == ([], [])
    assert {k: v for k, v in data["roadmap"].items() if k != "figures"} == {
        "topics": 0,
        "topics_done": 0,
        "done": False,
        "first_done_day": None,
        "new_cards_per_day": 0.0,
        "completion_day": None,
    }
    figures = data["roadmap"]["figures"]
    assert {k for k, v in figures.items() if v is None} == {
        "retained_now",
        "retained_in_30_days",
        "true_retention_30_days",
        "last_reviewed_at",
    }
    assert not any(figures.values())  # every count and share is zero
    assert [day["due"] for day in data["forecast"]] == [0] * 30
    assert len(data["history"]) == 52 * 7 + TODAY.weekday() + 1
    assert not any(day["reviews"] or day["new_cards"] for day in data["history"])
    page = _Page()
    page.feed(render(report, "html"))
    text = " ".join(" ".join(page.text).split())
    for tile in (
        "0 / 0 topics done",
        "0% 0 of 0 cards mastered",
        f"{NONE} retained now, {NONE} in 30 days",
        "0 reviews, last 30 days",
        "0 due within 7 days",
        "all cards started",
    ):
        assert tile in text
    assert len(page.having("rect", "bar")) == 30 and page.having("svg", "progress") == []


# --- a learner masters a topic over simulated days --------------------------------------------


@pytest.fixture
def small(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """Topics a (3 cards) and b (2 cards) in section "one"."""
    roadmap = (SectionSpec("one", "One", (TopicSpec("a", "A", (), 1), TopicSpec("b", "B", (), 2))),)
    with factory.begin() as db:
        topics = upsert_roadmap(db, roadmap)
        for slug, size in (("a", 3), ("b", 2)):
            deck = Deck(name=slug.upper(), slug=slug, source="builtin", topic_id=topics[slug].id)
            db.add(deck)
            db.flush()
            upsert_cards(db, deck, [CardSpec(f"{slug}{i}", "basic", "Q", "A") for i in range(size)])
    return factory


@recorded_with_fsrs
def test_mastering_a_topic_over_days_ticks_it_in_every_format(
    small: sessionmaker[Session], clock: DayClock
) -> None:
    engine, settings = engine_of(small), Settings()
    first_done = None
    for offset in range(60):  # study topic a every day, rating every card Good
        now = NOW + timedelta(days=offset)
        with ReviewSession(engine, LEARNER, settings, clock, Focus(topic="a"), now) as session:
            while (shown := session.next_card(now)) is not None:
                session.rate(shown, Rating.GOOD, now, 3000)
        with reader(engine) as conn:
            done = roadmap_progress(conn, LEARNER, settings, clock, now).mastery.topic("a").done
        if done and first_done is None:
            first_done = clock.day_of(now)
    assert first_done == date(2026, 12, 13)  # FSRS-6 defaults, seeded fuzz
    later = NOW + timedelta(days=60)
    with reader(engine, snapshot=True) as conn:
        report = build_report(conn, LEARNER, settings, clock, later)
    a, b = report.topic("a"), report.topic("b")
    assert (a.done, a.first_done_day, a.figures.mastered) == (True, first_done, 3)
    assert (b.done, b.first_done_day, b.figures.new) == (False, None, 2)

    markdown = render(report, "markdown")
    assert "- [x] A\n" in markdown and "- [ ] B\n" in markdown
    assert f"3 of 3 cards mastered (100%), done since {first_done.isoformat()}" in markdown
    data = json.loads(render(report, "json"))
    topics = {t["slug"]: t for t in data["sections"][0]["topics"]}
    assert topics["a"]["done"] is True and topics["a"]["first_done_day"] == "2026-12-13"
    assert topics["a"]["figures"]["mastered"] == 3 and topics["b"]["done"] is False
    rows = {r["topic_slug"]: r for r in csv.DictReader(io.StringIO(render(report, "csv")))}
    assert (rows["a"]["done"], rows["a"]["first_done_day"], rows["a"]["mastered"]) == (
        "true",
        "2026-12-13",
        "3",
    )
    assert (rows["b"]["done"], rows["b"]["first_done_day"]) == ("false", "")


# --- formats ------------------------------------------------------------------------------


def test_markdown_is_the_roadmap_checklist_with_figures(
    collection: sessionmaker[Session], clock: DayClock
) -> None:
    markdown = render(_report(collection, clock), "markdown")
    lines = markdown.splitlines()
    assert lines[0] == "# Mastery report"
    assert "## One" in lines and "## Extra decks" in lines
    assert r"- [ ] A (Sub A, \*Sub\* \[B\])" in lines
    assert "- [x] B" in lines
    index = lines.index("- [x] B")
    assert (
        lines[index + 1]
        == f"  - 2 of 2 cards mastered (100%), done since {_day(-27)}, retention 90%"
    )
    assert r"## \<script\>alert('x')\</script\> \& Co" in lines
    assert r"- [x] =cmd\|' /C calc'!A0" in lines  # a | could start a table cell
    assert r"- [ ] \@SUM(1+1)\*cmd" not in lines and r"- [ ] @SUM(1+1)\*cmd" in lines
    assert "  - 1 of 5 cards mastered (20%)" in lines
    assert "<script>" not in markdown


@given(st.text())
def test_markdown_escape_leaves_no_markup(text: str) -> None:
    escaped = escape(text)
    assert "\n" not in escaped
    for special in "`*_[]<>|~&#":
        assert escaped.count(special) == escaped.count("\\" + special)


def test_json_follows_the_documented_schema(
    collection: sessionmaker[Session], clock: DayClock
) -> None:
    data = json.loads(render(_report(collection, clock), "json"))
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(
        data
    )
    assert data["schema_version"] == 1 and data["generated_at"] == "2026-11-29T10:00:00Z"
    b = data["sections"][1]["topics"][0]
    assert b["first_done_day"] == "2026-11-02" and b["figures"]["mastered_share"] == 1.0
    a = data["sections"][0]["topics"][0]["figures"]
    assert a["true_retention_30_days"] == 0.5 and a["last_reviewed_at"] == "2026-11-29T10:00:00Z"
    assert data["extra_decks"][0]["title"] == EVIL_DECK
    assert data["roadmap"]["topics_done"] == 2 and data["roadmap"]["completion_day"] == "2026-12-29"


def test_csv_is_one_row_per_topic_and_never_a_formula(
    collection: sessionmaker[Session], clock: DayClock
) -> None:
    report = _report(collection, clock)
    rows = list(csv.reader(io.StringIO(render(report, "csv"), newline="")))
    assert tuple(rows[0]) == COLUMNS
    assert [row[2] for row in rows[1:]] == ["a", "b", "c", "evil"]  # an extra deck's slug
    assert rows[4][3] == EVIL_DECK.replace("@", "'@", 1)  # its name, never a formula
    for row in rows[1:]:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)
    c = dict(zip(COLUMNS, rows[3], strict=True))
    assert c["section"] == EVIL_SECTION and c["topic"] == "'" + EVIL_TOPIC
    assert (c["done"], c["first_done_day"], c["cards"], c["mastered_share"]) == (
        "true",
        "2026-11-04",
        "1",
        "1.0",
    )
    data = json.loads(render(report, "json"))
    a = dict(zip(COLUMNS, rows[1], strict=True))
    assert float(a["retained_now"]) == data["sections"][0]["topics"][0]["figures"]["retained_now"]


@given(st.text())
def test_inert_cells_never_start_a_formula_and_keep_the_text(text: str) -> None:
    cell = inert(text)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert cell in (text, "'" + text)


class _Page(HTMLParser):
    """Collects the tags, attributes and text of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def having(self, tag: str, css: str | None = None) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and (css is None or a.get("class") == css)]


def test_html_is_one_escaped_self_contained_page(
    collection: sessionmaker[Session], clock: DayClock
) -> None:
    report = _report(collection, clock)
    html = render(report, "html")
    page = _Page()
    page.feed(html)
    tags = {tag for tag, _attrs in page.tags}
    assert not tags & {"script", "link", "img", "iframe", "object", "embed"}
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#39;x&#39;)" in html
    text = "".join(page.text)
    assert EVIL_SECTION in text and EVIL_TOPIC in text and EVIL_DECK in text
    heat = [a for a in page.having("rect") if a.get("class") in ("l0", "l1", "l2", "l3", "l4")]
    assert len(heat) == len(report.history)  # one cell a day
    assert len(page.having("rect", "bar")) == 30  # the due forecast
    assert len(page.having("svg", "progress")) == 2 + 3 + 1  # sections, topics, extra deck
    done_marks = [a for a in page.having("td", "mark") if a.get("title") == "done"]
    assert len(done_marks) == 2
    assert "done since 2026-11-02" in text and "done since 2026-11-04" in text


def test_html_heatmap_tooltips_carry_each_days_reviews(
    collection: sessionmaker[Session], clock: DayClock
) -> None:
    html = render(_report(collection, clock), "html")
    assert f"<title>{_day(-3).isoformat()}: 2 reviews</title>" in html
    assert f"<title>{_day(-2).isoformat()}: 0 reviews</title>" in html


def test_html_templates_are_compiled_once_into_the_user_cache(
    collection: sessionmaker[Session], clock: DayClock, tmp_path: Path
) -> None:
    report = _report(collection, clock)
    page = render(report, "html")
    folder = tmp_path / "cache" / "trainer" / "templates"  # XDG_CACHE_HOME: see conftest
    cached = list(folder.iterdir())
    assert len(cached) == 1 and cached[0].stat().st_size > 0
    compiled = cached[0].read_bytes()
    cached[0].write_bytes(compiled[: len(compiled) // 2])  # a broken entry is compiled again
    assert render(report, "html") == page
    assert cached[0].read_bytes() == compiled


def test_a_changed_template_is_compiled_again(tmp_path: Path) -> None:
    (tmp_path / "page.j2").write_text("one {{ n }}")
    cache = TemplateCache(str(tmp_path))

    def page() -> str:
        loader = FileSystemLoader(str(tmp_path))
        return Environment(loader=loader, bytecode_cache=cache).get_template("page.j2").render(n=1)

    assert page() == "one 1"
    (tmp_path / "page.j2").write_text("two {{ n }}")
    assert page() == "two 1"
    cache = TemplateCache(str(tmp_path / "gone"))  # a folder removed since: no entry, no error
    assert page() == "two 1" and not (tmp_path / "gone").exists()


def test_a_cache_folder_that_cannot_be_made_leaves_the_page_as_it_is(
    collection: sessionmaker[Session],
    clock: DayClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    report = _report(collection, clock)
    page = render(report, "html")
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder would be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    assert render(report, "html") == page
    assert blocked.read_text() == "a file where the cache folder would be"


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium")
def test_html_renders_in_headless_chromium(
    collection: sessionmaker[Session], clock: DayClock, tmp_path: Path
) -> None:
    page, shot = tmp_path / "report.html", tmp_path / "shot.png"
    page.write_text(render(_report(collection, clock), "html"), encoding="utf-8")
    subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1200,900",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1200, 900)
    assert len(data) > 30_000  # a blank page compresses to a few kilobytes


@pytest.mark.parametrize(
    ("peak", "labels"),
    [(1, ["0", "1"]), (5, ["0", "5"]), (7, ["0", "5", "10"]), (2, ["0", "1", "2"])],
)
def test_the_forecast_axis_labels_only_whole_numbers_of_cards(peak: int, labels: list[str]) -> None:
    from types import SimpleNamespace
    from typing import cast

    from trainer.reports.figures import Report
    from trainer.reports.html import forecast_chart

    days = [(TODAY + timedelta(days=i), peak if i == 0 else 0) for i in range(30)]
    chart = forecast_chart(cast(Report, SimpleNamespace(forecast=days)))
    assert [line.label for line in chart.lines] == labels


def test_a_done_topic_stays_done_and_needs_a_refresh_once_forgotten(
    collection: sessionmaker[Session], clock: DayClock
) -> None:
    engine = engine_of(collection)
    with engine.begin() as conn:  # b is done (first on -27): stored; nothing else to store
        topic_b = conn.scalar(select(Topic.id).where(Topic.slug == "b"))
        assert record_done(conn, LEARNER, Settings(), _day(0)) == [
            conn.scalar(select(Topic.id).where(Topic.slug == slug)) for slug in "bc"
        ]
        assert record_done(conn, LEARNER, Settings(), _day(0)) == []
        # its cards forgotten: stability 2 days, last reviewed 40 days ago
        conn.execute(
            update(CardMemory)
            .where(
                CardMemory.learner_id == LEARNER,
                CardMemory.card_id.in_(select(Card.id).join(Deck).where(Deck.topic_id == topic_b)),
            )
            .values(stability_days=2.0, last_review_day=_day(-40))
        )
    b = _report(collection, clock).topic("b")
    retention = _fsrs_retrievability(2.0, _day(-40), _day(0))
    assert (b.done, b.first_done_day, b.figures.mastered) == (True, _day(-27), 0)
    assert b.retention == pytest.approx(retention) and b.needs_refresh
    assert not _report(collection, clock, refresh_retention=retention / 2).topic("b").needs_refresh
    with reader(engine) as conn:  # status reads the same rule
        progress = roadmap_progress(conn, LEARNER, Settings(), clock, NOW)
    status = progress.mastery.topic("b")
    assert (status.done_day, status.needs_refresh) == (_day(-27), True)
    console = Console(width=100, record=True, color_system=None)
    render_roadmap(progress, console, 21.0)
    line = next(line for line in console.export_text().splitlines() if " B " in line)
    assert line.split() == ["↻", "B", "░" * 20, "0/2", f"{_day(-27)}", f"{retention:.0%}"]
    c = _report(collection, clock).topic("c")  # c is kept: no refresh needed
    assert (c.done, c.first_done_day, c.needs_refresh) == (True, _day(-25), False)


def test_cards_a_skip_put_into_review_count_as_no_review(
    collection: sessionmaker[Session], clock: DayClock
) -> None:
    """Skip rows (kind skip: a passed trainer skip's cards, as if first answered Easy) are not
    ratings: reviews, new cards started, retention, today's counts, the plan's rating habits and
    rated: stay what the learner's own ratings make them."""

    def figures() -> tuple[Any, ...]:
        report = _report(collection, clock)
        with reader(engine_of(collection)) as conn:
            today = roadmap_progress(conn, LEARNER, Settings(), clock, NOW).today
            habits = rating_counts(conn, LEARNER)
            context = SearchContext(LEARNER, NOW, clock, Scheduler(Settings()))
            rated, _ = find_cards(conn, parse("rated:30"), context)
        totals = report.totals
        return (
            totals.reviews_30d,
            totals.retention_reviews_30d,
            totals.retention_passed_30d,
            report.new_cards_per_day,
            report.completion_day,
            report.history,
            today,
            habits,
            [card.id for card in rated],
        )

    before = figures()
    with collection.begin() as db:
        for card in db.scalars(select(Card).where(Card.key.in_(["a4", "c1"]))):
            for offset, state in ((0, CardState.NEW), (-1, CardState.REVIEW)):
                db.add(
                    ReviewLog(
                        learner_id=LEARNER,
                        card_id=card.id,
                        rating=int(Rating.EASY),
                        reviewed_at=_at(clock, offset, 7),
                        review_day=_day(offset),
                        duration_ms=0,
                        state_before=int(state),
                        elapsed_days=None if state == CardState.NEW else 2,
                        state=int(CardState.REVIEW),
                        stability_days=8.0,
                        difficulty=5.0,
                        interval_days=8,
                        kind=SKIP,
                    )
                )
    assert figures() == before
    assert before[0] == 11 and before[6].reviewed == 1  # the learner's own: 11 in 30 days, 1 today


# --- whole reports, pinned ---------------------------------------------------------------------

GOLDEN = Path(__file__).parent / "fixtures" / "reports"


@pytest.fixture
def varied(collection: sessionmaker[Session], clock: DayClock) -> sessionmaker[Session]:
    """``collection`` with what every figure's query must tell apart: a suspended card, review
    and learning cards buried past today, a relearning card, a buried card still new, a retired
    card's rating, a skip, and a second learner's memory rows and ratings of the same cards."""
    with collection.begin() as db:
        decks = {deck.slug: deck for deck in db.scalars(select(Deck))}
        cards = {card.key: card for card in db.scalars(select(Card))}
        a, x = decks["a"], decks["evil"]
        a7 = _card(db, a, **_review_card("a7", 25.0, last=-4, due=0), buried_until_day=_day(2))
        _log(db, clock, a7, -4, 25.0, elapsed=6)
        a8 = _card(
            db,
            a,
            "a8",
            state=CardState.RELEARNING,
            step=0,
            stability_days=3.0,
            difficulty=6.0,
            last_review_day=_day(-1),
            last_review_at=_at(clock, -1),
            due_at=NOW + timedelta(days=1),
            reps=6,
            lapses=2,
        )
        _log(db, clock, a8, -1, 3.0, Rating.AGAIN, elapsed=12)
        a9 = _card(db, a, **_review_card("a9", 10.0, last=-4, due=-2, lapses=3), suspended=True)
        _log(db, clock, a9, -4, 10.0, Rating.HARD, elapsed=7)
        _card(db, a, "a10", state=CardState.NEW, buried_until_day=_day(1))
        x2 = _card(
            db,
            x,
            "x2",
            state=CardState.LEARNING,
            step=0,
            stability_days=0.5,
            difficulty=7.0,
            last_review_day=_day(0),
            last_review_at=_at(clock, 0, 2),
            due_at=NOW + timedelta(minutes=10),
            buried_until_day=_day(1),
            reps=1,
        )
        _log(db, clock, x2, 0, 0.5, Rating.HARD, before=CardState.NEW, elapsed=None, hours=2)
        _log(db, clock, cards["a5"], -6, 50.0, elapsed=20)  # retired since
        db.add(
            ReviewLog(
                learner_id=LEARNER,
                card_id=cards["a1"].id,
                rating=int(Rating.EASY),
                reviewed_at=_at(clock, -2),
                review_day=_day(-2),
                duration_ms=0,
                state_before=int(CardState.REVIEW),
                elapsed_days=1,
                state=int(CardState.REVIEW),
                stability_days=31.0,
                difficulty=5.0,
                interval_days=31,
                kind=SKIP,
            )
        )
        other = learner_for_write(db.connection(), "other", NOW)
        for key, stability in (("a4", 50.0), ("b1", 1.0), ("x1", 80.0)):
            card = cards[key]
            db.add(
                CardMemory(
                    learner_id=other,
                    card_id=card.id,
                    **{k: v for k, v in _review_card(key, stability, -1, 0).items() if k != "key"},
                )
            )
            for offset in (-1, 0):
                db.add(
                    ReviewLog(
                        learner_id=other,
                        card_id=card.id,
                        rating=int(Rating.GOOD),
                        reviewed_at=_at(clock, offset),
                        review_day=_day(offset),
                        duration_ms=4000,
                        state_before=int(CardState.REVIEW),
                        elapsed_days=4,
                        state=int(CardState.REVIEW),
                        stability_days=stability,
                        difficulty=5.0,
                        interval_days=9,
                    )
                )
    return collection


@pytest.mark.parametrize(
    ("scope", "fmt", "name"),
    [
        (Scope(), "markdown", "whole.md"),
        (Scope(), "html", "whole.html"),
        (Scope(), "json", "whole.json"),
        (Scope(), "csv", "whole.csv"),
        (Scope(section="one"), "json", "section-one.json"),
        (Scope(topic="b"), "markdown", "topic-b.md"),
        (Scope(deck=EVIL_DECK), "json", "deck-evil.json"),
    ],
)
def test_a_report_is_the_same_text_for_the_same_database_and_clock(
    varied: sessionmaker[Session], clock: DayClock, scope: Scope, fmt: str, name: str
) -> None:
    """Every figure, chart and line of a report, pinned whole: a change to how the figures are
    read or written shows here first. Built as ``trainer report`` builds it: markdown and CSV
    without the charts they do not draw."""
    text = render(_report(varied, clock, scope, charts=fmt in CHARTED), fmt)
    assert text.encode() == (GOLDEN / name).read_bytes()


def test_a_report_built_without_charts_reads_no_history_and_draws_none(
    varied: sessionmaker[Session], clock: DayClock
) -> None:
    bare, whole = _report(varied, clock, charts=False), _report(varied, clock)
    assert (bare.history, bare.forecast) == ((), ())
    assert whole.history and whole.forecast
    for fmt in FORMATS:
        if fmt in CHARTED:
            with pytest.raises(ValueError, match=f"^a {fmt} report draws charts"):
                render(bare, fmt)
        else:
            assert render(bare, fmt) == render(whole, fmt)
