"""``trainer report`` and ``trainer stats`` as a learner uses them: scripted reviews on simulated
days until a built-in topic is mastered, then every report format agrees about it."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from conftest import LEARNER, cli_run, sql
from trainer.cli.main import cli
from trainer.store.db import open_database
from trainer.store.models import Card, CardMemory, CardState, Deck, Topic

START = datetime.fromisoformat("2026-11-29T10:00:00+00:00")
TOPIC, TITLE = "list-comprehensions", "List Comprehensions"


def run(*args: str, now: datetime = START, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), input=input, env={"TRAINER_NOW": now.isoformat()})
    return result.exit_code, result.output


def _next_due_day(database: str) -> date | None:
    """The first learner day on which one of the topic's review cards is due."""
    engine = open_database(database)
    with engine.connect() as conn:
        due = conn.scalar(
            select(func.min(CardMemory.due_day))
            .join(Card, Card.id == CardMemory.card_id)
            .join(Deck, Deck.id == Card.deck_id)
            .join(Topic, Topic.id == Deck.topic_id)
            .where(Topic.slug == TOPIC, CardMemory.state == CardState.REVIEW)
        )
    engine.dispose()
    return due


def _topic_status(now: datetime) -> dict[str, object]:
    code, output = run("status", "--json", now=now)
    assert code == 0, output
    topics = [t for s in json.loads(output)["sections"] for t in s["topics"]]
    return next(t for t in topics if t["slug"] == TOPIC)


def test_a_mastered_topic_is_ticked_and_every_format_agrees(database: str, tmp_path: Path) -> None:
    now, first_done = START, None
    for _ in range(12):  # review the topic on each day it has cards due, rating all Good
        code, output = run(
            "review", "--topic", TOPIC, "--new-cards", "50", now=now, input=" 3" * 200
        )
        assert code == 0, output
        status = _topic_status(now)
        if status["done"]:
            first_done = now.date()
            break
        due = _next_due_day(database)
        assert due is not None
        now = datetime.combine(due, now.timetz())
    assert first_done is not None and status["mastered"] == status["cards"]

    later = now + timedelta(days=3)
    code, markdown = run("report", now=later)
    assert code == 0, markdown
    assert f"- [x] {TITLE}\n" in markdown
    assert f"done since {first_done.isoformat()}" in markdown
    assert "- [ ] Data Structures (Arrays," in markdown

    code, output = run("report", "--format", "json", "--topic", TOPIC, now=later)
    data = json.loads(output)
    topic = data["sections"][0]["topics"][0]
    assert (topic["slug"], topic["done"], topic["first_done_day"]) == (
        TOPIC,
        True,
        first_done.isoformat(),
    )
    assert topic["figures"]["mastered"] == status["mastered"] == topic["figures"]["cards"]
    assert data["roadmap"]["done"] is True and data["scope"]["topic"] == TOPIC

    code, output = run("report", "--format", "csv", now=later)
    rows = {row["topic_slug"]: row for row in csv.DictReader(io.StringIO(output))}
    assert len(rows) == 57
    assert (rows[TOPIC]["done"], rows[TOPIC]["first_done_day"]) == ("true", first_done.isoformat())
    assert rows[TOPIC]["mastered"] == str(topic["figures"]["mastered"])
    assert [r["topic_slug"] for r in rows.values() if r["done"] == "true"] == [TOPIC]

    page = tmp_path / "progress.html"
    code, output = run("report", "-o", str(page), now=later)  # html from the suffix
    assert (code, output) == (0, "")
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and f"done since {first_done.isoformat()}" in html
    assert html.count('<td class="mark" title="done">✓</td>') == 1

    code, output = run("stats", "--section", "Python Advanced Topics", now=later)
    assert code == 0, output
    assert f"{TITLE}  " in output and f"✓ {first_done.isoformat()}" in output
    assert "Reviews per day" in output and "Due in the next 30 days" in output


def test_report_writes_files_and_explains_mistakes(tmp_path: Path) -> None:
    assert run("report", "--format", "html") == (
        2,
        "Error: --format html writes a page for a browser: add -o FILE, e.g. -o report.html\n",
    )
    assert run("report", "--topic", "nope") == (
        2,
        "Error: --topic nope: no such topic (titles and slugs are in 'trainer status --json')\n",
    )
    missing = tmp_path / "nowhere" / "report.md"
    assert run("report", "-o", str(missing)) == (
        1,
        f"Error: cannot write {missing}: No such file or directory\n",
    )
    target = tmp_path / "report.json"
    target.write_text("old")
    assert run("report", "-o", str(target)) == (0, "")
    assert json.loads(target.read_text())["schema_version"] == 1
    written = [
        p.name for p in tmp_path.iterdir() if not p.name.startswith(("trainer.db", "backups"))
    ]
    assert written == ["report.json"]  # no temporary file left behind
    assert run("report", "--format", "markdown", "-o", str(tmp_path / "r.txt")) == (0, "")
    assert (tmp_path / "r.txt").read_text().startswith("# Mastery report\n")


def test_stats_on_a_fresh_database() -> None:
    code, output = run("stats")
    assert code == 0, output
    lines = output.splitlines()
    assert lines[0] == "Mastery  learner day 2026-11-29"
    assert "Roadmap      0 of 57 topics done" in lines
    assert any(line.startswith(" Basic Computer Science Concepts ") for line in lines)
    assert "True retention by week  scale 70%-100%, desired 90%; no ratings yet" in lines


@pytest.mark.parametrize(
    ("at", "east", "west", "today"),
    [
        # Tokyo's learner day 2026-11-30 began at 04:00; in Los Angeles it is still 2026-11-29,
        # but a learner day never goes back before the last day studied.
        ("2026-11-29T20:00:00+00:00", "Asia/Tokyo", "America/Los_Angeles", "2026-11-30"),
        # Kiritimati is on 2026-11-30 04:30; Pago Pago at 03:30 is on learner day 2026-11-28.
        ("2026-11-29T14:30:00+00:00", "Pacific/Kiritimati", "Pacific/Pago_Pago", "2026-11-30"),
    ],
)
def test_reports_after_the_time_zone_moved_west(
    at: str, east: str, west: str, today: str, tmp_path: Path
) -> None:
    """Ratings given on a learner day later than the west zone's day: the reports stay on the
    day studied (learner days never go back) and count the pace over one day; no report
    divides by a span of zero or fewer days."""
    now = datetime.fromisoformat(at)
    assert run("config", "timezone", east)[0] == 0
    code, output = run("review", "--new-cards", "3", now=now, input=" 3" * 20)
    assert code == 0, output
    assert run("config", "timezone", west)[0] == 0

    code, output = run("report", "--format", "json", now=now)
    assert code == 0, output
    data = json.loads(output)
    new_left = data["roadmap"]["figures"]["new"]
    all_started = (date.fromisoformat(today) + timedelta(days=-(-new_left // 3))).isoformat()
    assert data["day"] == today and data["history"][-1]["day"] == today
    assert (data["roadmap"]["new_cards_per_day"], data["roadmap"]["completion_day"]) == (
        3.0,
        all_started,
    )
    pace = f"3.0 new cards a day (last 30 days); {new_left:,} left, all started by {all_started}"
    code, output = run("stats", now=now)
    assert code == 0, output
    assert f"Pace {pace}" in " ".join(output.split())  # rich wraps the line at 80 columns
    code, output = run("report", "--format", "markdown", now=now)
    assert code == 0, output
    assert f"- **Pace:** {pace}" in output.splitlines()
    code, output = run("report", "--format", "csv", now=now)
    assert code == 0, output
    page = tmp_path / "report.html"
    assert run("report", "-o", str(page), now=now) == (0, "")
    assert "new cards started, at 3.0 a day" in page.read_text(encoding="utf-8")


def test_a_topic_a_read_finds_done_is_stored_once_and_stays_done(database: str) -> None:
    """Every card of a topic mastered with no rating history (as an import brings it) and no
    ``topic_done`` row: the first read finds the topic done since today and stores that day,
    so the next read takes it from the row (the same report) and the topic stays done after
    its cards are forgotten."""
    assert cli_run("config", "desired_retention", "0.9")[0] == 0  # the learner's row
    topic_id = sql(database, "SELECT id FROM topic WHERE slug = :slug", slug=TOPIC)[0][0]
    cards = "SELECT card.id FROM card JOIN deck ON deck.id = card.deck_id WHERE deck.topic_id = :t"
    sql(
        database,
        "INSERT INTO card_memory (learner_id, card_id, state, stability_days, difficulty,"
        " due_day, last_review_day, reps, lapses, suspended, leech)"
        f" SELECT :learner, id, 2, 40.0, 5.0, '2027-01-10', '2026-11-29', 1, 0, false, false"
        f" FROM ({cards}) AS topic_cards",
        learner=LEARNER,
        t=topic_id,
    )
    code, first, _ = cli_run("report", "--format", "json")
    assert code == 0
    topic = next(
        t for s in json.loads(first)["sections"] for t in s["topics"] if t["slug"] == TOPIC
    )
    assert (topic["done"], topic["first_done_day"]) == (True, "2026-11-29")
    stored = "SELECT topic_id, done_day FROM topic_done WHERE learner_id = :learner"
    assert [(t, str(d)) for t, d in sql(database, stored, learner=LEARNER)] == [
        (topic_id, "2026-11-29")
    ]
    assert cli_run("report", "--format", "json") == (0, first, "")
    sql(database, "UPDATE card_memory SET stability_days = 2.0 WHERE learner_id = :l", l=LEARNER)
    status = json.loads(cli_run("status", "--json")[1])
    topic = next(t for s in status["sections"] for t in s["topics"] if t["slug"] == TOPIC)
    assert (topic["done"], topic["done_day"], topic["mastered"]) == (True, "2026-11-29", 0)
