"""The command line as a user meets it: scripted reviews, status, settings, errors, startup."""

from __future__ import annotations

import gc
import json
import os
import select as fds
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import Executable, func, select
from sqlalchemy.orm import Session

from conftest import LEARNER_NAME, database_exists, sqlite_only
from trainer.cli.main import App, cli
from trainer.content.parser import parse_roadmap
from trainer.store.db import open_database
from trainer.store.models import CardMemory, ReviewLog
from trainer.store.resources import DECKS_DIR
from trainer.study import mastery
from trainer.study.queue import ReviewQueue

NOW = "2026-11-29T10:00:00+00:00"
TRAINER = [sys.executable, "-m", "trainer"]


def run(*args: str, input: str | None = None, now: str | None = NOW) -> tuple[int, str]:
    env = {"TRAINER_NOW": now} if now else {}
    result = CliRunner().invoke(cli, list(args), input=input, env=env)
    return result.exit_code, result.output


def counts(database: str) -> tuple[int, int]:
    """(review log rows, cards no longer new) in the database."""
    engine = open_database(database)
    with Session(engine) as db:
        logs = db.scalar(select(func.count(ReviewLog.id)))
        seen = db.scalar(select(func.count()).where(CardMemory.state != 0))
    engine.dispose()
    return int(logs or 0), int(seen or 0)


def test_help_imports_neither_sqlalchemy_nor_alembic() -> None:
    code = (
        "import sys; from trainer.cli.main import cli\n"
        "try:\n    cli.main(['--help'], standalone_mode=False)\nfinally:\n"
        "    print(sorted(m for m in sys.modules if m.split('.')[0] in"
        " ('sqlalchemy', 'alembic', 'rich', 'fsrs')))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip().endswith("[]")


def _loaded_by(command: str, keys: str) -> list[str]:
    """The modules a fresh interpreter has loaded after ``trainer COMMAND`` with ``keys`` on
    its stdin, once an earlier start loaded the built-in decks (through the ORM; later starts
    only check them)."""
    assert run("review", input=" 3q")[0] == 0
    code = (
        "import json, sys; from click.testing import CliRunner; from trainer.cli.main import cli\n"
        f"result = CliRunner().invoke(cli, [{command!r}], input={keys!r})\n"
        "assert result.exit_code == 0, result.output\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    env = {**os.environ, "TRAINER_NOW": NOW}
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout
    loaded: list[str] = json.loads(output.splitlines()[-1])
    return loaded


@pytest.mark.parametrize(("command", "keys"), [("status", ""), ("review", "3q")])
def test_start_up_reads_without_the_orm(command: str, keys: str) -> None:
    loaded = _loaded_by(command, keys)
    assert [m for m in loaded if m.startswith("sqlalchemy.orm")] == []
    assert "trainer.store.models" not in loaded


@pytest.mark.parametrize(
    ("command", "keys", "unused"),
    [
        ("status", "", {"fsrs_rs_python", "trainer.study.search", "trainer.reports.wording"}),
        (
            "review",
            " 3q",
            {"fsrs_rs_python", "trainer.study.search", "trainer.reports.wording", "difflib"},
        ),
    ],
)
def test_start_up_loads_no_module_the_command_does_not_use(
    command: str, keys: str, unused: set[str]
) -> None:
    assert unused.intersection(_loaded_by(command, keys)) == set()


@pytest.mark.parametrize(
    ("command", "keys", "owner", "name"),
    [("status", "", mastery, "roadmap_progress"), ("review", " 3q", ReviewQueue, "build")],
)
def test_start_up_runs_without_the_cycle_collector(
    command: str, keys: str, owner: object, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = getattr(owner, name)
    seen: list[bool] = []

    def watched(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, watched)
    assert run(command, input=keys)[0] == 0
    assert seen == [False] and gc.isenabled()


def test_every_command_has_help() -> None:
    for command in cli.commands:
        code, output = run(command, "--help")
        assert code == 0 and "Usage: " in output and len(output.splitlines()) > 3


def test_a_scripted_review_records_its_ratings(database: str) -> None:
    code, output = run("review", input=" 3 3 1 4q")
    assert code == 0, output
    assert "Reviewed 4 cards" in output and "Again 25%" in output
    assert "Data Structures" in output
    assert counts(database) == (4, 4)


def test_newlines_are_ignored_and_end_of_input_quits(database: str) -> None:
    code, output = run("review", input=" \n3\n \n4\n")
    assert code == 0, output
    assert "Reviewed 2 cards" in output
    assert counts(database) == (2, 2)


def test_undo_and_bury_from_the_keyboard(database: str) -> None:
    code, output = run("review", input=" 3u 3s q")
    assert code == 0, output
    assert "Undone: this card is back as it was." in output and "Buried until tomorrow." in output
    assert counts(database) == (1, 1)


def test_status_json_lists_the_57_topics_in_roadmap_order(database: str) -> None:
    run("review", input=" 3q")
    code, output = run("status", "--json")
    assert code == 0, output
    data = json.loads(output)
    expected = [
        t.slug for s in parse_roadmap((DECKS_DIR / "roadmap.md").read_text(), "") for t in s.topics
    ]
    assert [t["slug"] for s in data["sections"] for t in s["topics"]] == expected
    assert len(data["sections"]) == 11
    assert data["today"] == {"reviewed": 1, "new_seen": 1, "due": 1}
    first = data["sections"][0]["topics"][0]
    assert set(first) >= {"slug", "title", "cards", "mastered", "due", "done"}
    assert first["cards"] >= 3 and first["mastered"] == 0 and first["done"] is False
    assert data["next_topic"] == "data-structures"


def test_status_draws_the_roadmap() -> None:
    code, output = run("status")
    assert code == 0
    assert "1. Basic Computer Science Concepts" in output
    assert "▶" in output and "Today (2026-11-29): 0 reviewed" in output


def test_steps_take_several_words() -> None:
    assert run("config", "learning_steps_minutes", "2", "15") == (
        0,
        "learning_steps_minutes = 2 15\n",
    )


def test_a_topic_by_title_and_session_limits(database: str) -> None:
    code, output = run("review", "--topic", "HTTP Protocol", "--new-cards", "2", input=" 3 3")
    assert code == 0, output
    assert "Web Development Basics › HTTP Protocol" in output
    assert "Reviewed 2 cards" in output
    assert "more new cards wait behind today's limit" in output
    # the daily limit (20) still has 18 left: a plain session continues with them
    code, output = run("review", input="q")
    assert "New 18" in output


def test_settings_are_validated_and_kept(database: str) -> None:
    assert run("config", "desired_retention", "0.85") == (0, "desired_retention = 0.85\n")
    code, output = run("config", "desired_retention", "1.5")
    assert (code, output) == (
        2,
        "Error: setting desired_retention='1.5': must be between 0.7 and 0.99\n",
    )
    assert run("config", "desired_retention")[1] == "desired_retention = 0.85\n"
    assert run("config", "desired_retention", "--reset")[1] == "desired_retention = 0.9\n"
    code, output = run("config", "--json")
    assert json.loads(output)["learning_steps_minutes"] == [1.0, 10.0]


@pytest.mark.parametrize(
    ("args", "env_now", "code", "message"),
    [
        (
            ["review", "--topic", "nope"],
            NOW,
            2,
            "Error: --topic nope: no such topic"
            " (titles and slugs are in 'trainer status --json')\n",
        ),
        (
            ["status"],
            "tomorrow",
            2,
            "Error: TRAINER_NOW='tomorrow': not an ISO 8601 time, e.g. 2026-03-01T09:30:00+01:00\n",
        ),
        (
            ["status"],
            "2026-11-29T10:00:00",
            2,
            "Error: TRAINER_NOW='2026-11-29T10:00:00': add a UTC offset, e.g."
            " 2026-11-29T10:00:00+00:00\n",
        ),
        (
            ["status"],
            "2026-12-01",
            2,
            "Error: TRAINER_NOW='2026-12-01': add a UTC offset, e.g. 2026-12-01T00:00:00+00:00\n",
        ),
        (
            ["review", "--topic", "http-protocol", "--section", "databases"],
            NOW,
            2,
            "Error: --topic http-protocol is not in --section databases\n",
        ),
        (
            ["config", "desired_retention", "0.8", "--reset"],
            NOW,
            2,
            "Error: give either KEY VALUE or KEY --reset\n",
        ),
        (
            ["config", "new_cards_per_day", "-1"],
            NOW,
            2,
            "Error: setting new_cards_per_day='-1': must be a whole number from 0 to 9999\n",
        ),
        (
            ["config", "desired_retention", "abc"],
            NOW,
            2,
            "Error: setting desired_retention='abc': must be a number such as 0.9\n",
        ),
        (
            ["config", "colour", "red"],
            NOW,
            2,
            "Error: unknown setting 'colour'; known: desired_retention, learning_steps_minutes,"
            " relearning_steps_minutes, maximum_interval_days, fuzz, load_balance, easy_days,"
            " new_cards_per_day, deck_new_cards_per_day, reviews_per_day, day_rollover_hour,"
            " learn_ahead_minutes, bury_new_siblings, bury_review_siblings, timezone,"
            " mastery_stability_days, topic_done_share, refresh_retention, backups_daily,"
            " backups_weekly, durability, leech_lapses, leech_action, backlog_days,"
            " backlog_cap\n",
        ),
    ],
)
def test_bad_input_is_one_line_and_an_exit_code(
    args: list[str], env_now: str, code: int, message: str
) -> None:
    assert run(*args, now=env_now) == (code, message)


def test_a_database_in_a_missing_folder(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "x.db"
    assert run("--db", str(missing), "status") == (
        1,
        f"Error: database path {missing}: folder {missing.parent} does not exist\n",
    )


def test_a_file_that_is_not_a_database_is_left_alone(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n" * 200)
    code, output = run("--db", str(notes), "status")
    assert (code, output) == (1, f"Error: database {notes}: file is not a database\n")
    assert notes.read_text() == "my notes\n" * 200


def test_bad_option_is_a_usage_error() -> None:
    code, output = run("review", "--new-cards", "-3")
    assert code == 2 and "Invalid value for '--new-cards'" in output


def _spawn(database: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TRAINER_DB": database, "TRAINER_NOW": NOW, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [*TRAINER, "review"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def _wait_for_logs(database: str, wanted: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if database_exists(database) and counts(database)[0] >= wanted:
            return
        time.sleep(0.1)
    raise AssertionError(f"never saw {wanted} review logs")


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_killing_a_live_session_between_cards_loses_nothing(database: str, sig: int) -> None:
    process = _spawn(database)
    assert process.stdin is not None
    process.stdin.write(b" 3 1 4")
    process.stdin.flush()
    _wait_for_logs(database, 3)
    process.send_signal(sig)
    _out, err = process.communicate(timeout=60)
    assert counts(database) == (3, 3)
    assert b"Traceback" not in err
    if sig == signal.SIGINT:
        assert process.returncode == 0


def _read_until(process: subprocess.Popen[bytes], marker: bytes) -> bytes:
    """What the process printed up to and including ``marker`` (its output is unbuffered)."""
    assert process.stdout is not None
    seen, deadline = b"", time.monotonic() + 60
    while marker not in seen:
        ready, _, _ = fds.select([process.stdout], [], [], max(0, deadline - time.monotonic()))
        chunk = os.read(process.stdout.fileno(), 65536) if ready else b""
        if not chunk:
            raise AssertionError(f"never saw {marker!r} in {seen.decode()!r}")
        seen += chunk
    return seen


def test_a_card_answered_in_another_session_is_not_rated_twice(database: str) -> None:
    run("status")  # create and load the database first
    one, two = _spawn(database), _spawn(database)
    assert one.stdin is not None and two.stdin is not None
    for process in (one, two):  # both show the day's first new card
        _read_until(process, b"[space] show answer")
    one.stdin.write(b" 3")
    one.stdin.flush()
    _wait_for_logs(database, 1)
    two.stdin.write(b" 3")  # the card has changed under session two: its rating is refused
    two.stdin.flush()
    outputs = []
    for process in (one, two):
        out, err = process.communicate(timeout=60)  # closes stdin: end of input quits
        assert process.returncode == 0, err
        outputs.append(" ".join(out.decode().replace("│", " ").split()))
    assert counts(database) == (1, 1)
    assert "Reviewed 1 card in" in outputs[0] and "not recorded" not in outputs[0]
    assert "Reviewed 0 cards in" in outputs[1]
    assert (
        "That card was answered in another session meanwhile; your rating was not recorded."
        in outputs[1]
    )
    assert "1 rating(s) not recorded: answered in another session." in outputs[1]


def _log_rows(database: str) -> list[tuple[int, str, int | None]]:
    """(card id, reviewed at as stored, elapsed days) of every review log row, oldest first."""
    engine = open_database(database)
    with engine.connect() as conn:
        rows = conn.execute(
            select(ReviewLog.card_id, ReviewLog.reviewed_at, ReviewLog.elapsed_days).order_by(
                ReviewLog.id
            )
        ).all()
    engine.dispose()
    return [(card_id, at.isoformat(), elapsed) for card_id, at, elapsed in rows]


def test_travelling_west_never_replays_a_finished_learner_day(database: str) -> None:
    """Tokyo 10:00 on 1 March, then Los Angeles at 03:00 on 1 March (learner day 28 February
    there): the day's one new card is used up, and the learning card rated again in LA has 0
    elapsed days, not -1."""
    assert run("config", "new_cards_per_day", "1")[0] == 0
    assert run("config", "timezone", "Asia/Tokyo")[0] == 0
    code, _ = run("review", input=" 1q", now="2026-03-01T10:00:00+09:00")  # Again: a step
    assert code == 0
    assert run("config", "timezone", "America/Los_Angeles")[0] == 0
    code, output = run("review", input=" 3 3 3q", now="2026-03-01T03:00:00-08:00")
    assert code == 0, output
    rows = _log_rows(database)
    assert [r[0] for r in rows] == [rows[0][0]] * 3  # no second new card
    assert [r[2] for r in rows] == [None, 0, 0]  # Again; Good (a step); Good (graduates)
    code, output = run("status", "--json", now="2026-03-01T03:00:00-08:00")
    status = json.loads(output)
    assert (status["day"], status["today"]["new_seen"]) == ("2026-03-01", 1)


def test_a_clock_set_back_records_no_rating_before_the_cards_last_review(database: str) -> None:
    assert run("config", "new_cards_per_day", "1")[0] == 0
    assert run("review", input=" 1q", now="2026-03-01T10:00:00+00:00")[0] == 0
    # 09:50: the card's step ends at 10:01, within the 20-minute learn-ahead
    code, output = run("review", input=" 3q", now="2026-03-01T09:50:00+00:00")
    assert code == 0
    assert output.splitlines()[0] == (
        "The clock reads 2026-03-01 09:50 UTC, before the last rating at 2026-03-01 10:00:"
        " each rating is recorded as given no earlier than its card's last review."
    )
    rows = _log_rows(database)
    assert [(at, elapsed) for _, at, elapsed in rows] == [
        ("2026-03-01T10:00:00+00:00", None),
        ("2026-03-01T10:00:00+00:00", 0),
    ]


HINT = (
    "; run again with --debug to see the details (a fault of trainer: please report it with them)"
)
BOOM = (
    "import sys\n"
    "import trainer.cli.main as cli_main\n"
    "def boom():\n"
    "    raise RuntimeError('boom\\n[SQL: SELECT 1]')\n"
    "cli_main.wall_clock = boom\n"
    "cli_main.main()\n"
)


def _boom() -> None:
    raise RuntimeError("boom\n[SQL: SELECT 1]")


def test_an_unexpected_error_is_one_line_saying_how_to_see_more(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("trainer.cli.main.wall_clock", _boom)
    result = CliRunner().invoke(cli, ["status"])
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"Error: unexpected RuntimeError: boom{HINT}\n"


@pytest.mark.parametrize(
    ("args", "env"), [(["--debug", "status"], {}), (["status"], {"TRAINER_DEBUG": "1"})]
)
def test_debug_lets_the_unexpected_error_through(
    database: str, monkeypatch: pytest.MonkeyPatch, args: list[str], env: dict[str, str]
) -> None:
    monkeypatch.setattr("trainer.cli.main.wall_clock", _boom)
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 1
    assert isinstance(result.exception, RuntimeError)
    assert str(result.exception) == "boom\n[SQL: SELECT 1]"
    assert "unexpected" not in result.stderr


def test_the_console_script_shows_one_line_or_with_debug_the_traceback(database: str) -> None:
    plain = subprocess.run(
        [sys.executable, "-c", BOOM, "status"], capture_output=True, text=True, timeout=120
    )
    assert (plain.returncode, plain.stdout) == (1, "")
    assert plain.stderr == f"Error: unexpected RuntimeError: boom{HINT}\n"
    debug = subprocess.run(
        [sys.executable, "-c", BOOM, "--debug", "status"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (debug.returncode, debug.stdout) == (1, "")
    assert debug.stderr.startswith("Traceback (most recent call last):\n")
    assert ", in boom\n" in debug.stderr
    assert debug.stderr.endswith("RuntimeError: boom\n[SQL: SELECT 1]\n")


def test_what_click_raises_on_purpose_is_not_unexpected(database: str) -> None:
    result = CliRunner().invoke(cli, ["status", "--help"])  # click's Exit, a RuntimeError
    assert (result.exit_code, result.stderr) == (0, "")
    result = CliRunner().invoke(cli, ["stats", "--topic"])
    assert result.exit_code == 2 and "unexpected" not in result.stderr


def test_a_time_in_a_message_is_in_the_timezone_setting_not_the_systems() -> None:
    """The system is on UTC (tests/conftest.py); the learner's zone is Tokyo (UTC+9)."""
    for key, value in (("timezone", "Asia/Tokyo"), ("learn_ahead_minutes", "0")):
        assert run("config", key, value)[0] == 0
    code, output = run("review", "--new-cards", "1", input=" 1q", now="2026-03-01T01:00:00+00:00")
    assert code == 0, output
    assert "Nothing left for now; learning cards wait until 10:01." in output.splitlines()


def test_config_shows_the_time_zone_in_effect(database: str) -> None:
    env = {**os.environ, "TRAINER_DB": database, "TZ": "Pacific/Auckland"}
    shown = subprocess.run(
        [*TRAINER, "config", "timezone"], env=env, capture_output=True, text=True, check=True
    )
    assert shown.stdout == "timezone = Pacific/Auckland (the system's)\n"
    listed = subprocess.run([*TRAINER, "config"], env=env, capture_output=True, text=True)
    assert "timezone = Pacific/Auckland (the system's)    # IANA time zone" in listed.stdout
    assert run("config", "timezone", "Europe/Berlin") == (0, "timezone = Europe/Berlin\n")


@sqlite_only("SQLite's synchronous level; PostgreSQL's synchronous_commit is the server's")
def test_the_durability_setting_is_each_connections_synchronous_level(database: str) -> None:
    levels = []
    for value in ("", "normal", "full"):  # "": the default
        if value:
            assert run("config", "durability", value) == (0, f"durability = {value}\n")
        with click.Context(cli).scope():
            opened = App(database, LEARNER_NAME).open()
            with opened.engine.connect() as conn:
                levels.append(conn.exec_driver_sql("PRAGMA synchronous").scalar())
    assert levels == [2, 1, 2]  # FULL, NORMAL, FULL
    assert run("config", "durability", "fast") == (
        2,
        "Error: setting durability='fast': must be one of full, normal\n",
    )


def _rows(database: str, query: Executable) -> list[tuple[Any, ...]]:
    engine = open_database(database)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(query)]
    finally:
        engine.dispose()


def test_lowering_the_maximum_interval_says_what_happens_to_later_due_dates(
    database: str,
) -> None:
    assert run("review", "--new-cards", "2", input=" 4 4q")[0] == 0  # Easy: due in days
    engine = open_database(database)
    with engine.connect() as conn:
        studied = select(CardMemory.due_day).where(CardMemory.state == 2)
        due_days = list(conn.scalars(studied.order_by(CardMemory.card_id)))
    engine.dispose()
    assert len(due_days) == 2 and all(d is not None for d in due_days)
    code, output = run("config", "maximum_interval_days", "1")
    assert (code, output) == (
        0,
        "maximum_interval_days = 1\n2 review cards are due after 2026-11-30, beyond the new"
        " maximum: they keep their due dates (as in Anki); from their next review on, no"
        " interval exceeds 1 day. To move them in: trainer config maximum_interval_days 1"
        " --bring-in\n",
    )
    query = (
        select(CardMemory.due_day, CardMemory.last_review_day)
        .where(CardMemory.state == 2)
        .order_by(CardMemory.card_id)
    )
    assert [due for due, _last in _rows(database, query)] == due_days  # left where they were
    code, output = run("config", "maximum_interval_days", "--bring-in")
    assert (code, output) == (
        0,
        "maximum_interval_days = 1\n2 review cards brought in to at most 1 day after their"
        " last review.\n",
    )
    moved = _rows(database, query)
    assert [due for due, _last in moved] == [date(2026, 11, 30), date(2026, 11, 30)]
    assert all(last is not None and due == last + timedelta(days=1) for due, last in moved)
    assert run("config", "maximum_interval_days", "--bring-in")[1] == (
        "maximum_interval_days = 1\n0 review cards brought in to at most 1 day after their"
        " last review.\n"
    )
    assert run("config", "fuzz", "off", "--bring-in") == (
        2,
        "Error: --bring-in goes with maximum_interval_days\n",
    )
    assert run("config", "maximum_interval_days", "36500") == (0, "maximum_interval_days = 36500\n")
