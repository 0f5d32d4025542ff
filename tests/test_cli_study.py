"""Documented behaviours of the command line, each checked with exact figures: session limits,
the summary's day to come, the time zone setting, undoing a bury, lint's exit codes, a schema
newer than the code, and an import that fails writing no media."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_cli import counts, run

from conftest import sql
from trainer.errors import DeckError, Problem

FIXTURES = Path(__file__).parent / "fixtures" / "anki"


def _screens(output: str) -> list[str]:
    """Each card screen of a review's output, up to its key help."""
    return output.split("[space] show answer")[:-1]


def _question(screen: str) -> str:
    """The first line of the question on a screen (after the header and its rule)."""
    lines = screen.splitlines()
    return lines[1 + max(i for i, line in enumerate(lines) if line.startswith("─"))].strip()


def test_reviews_option_shows_that_many_review_cards_whatever_the_limit_left() -> None:
    assert run("review", input=" 4" * 5 + "q")[0] == 0  # five cards to review later
    assert run("config", "reviews_per_day", "1") == (0, "reviews_per_day = 1\n")
    later = "2027-01-10T10:00:00+00:00"  # all five are due
    code, output = run(
        "review", "--new-cards", "0", "--reviews", "3", input=" 3" * 5 + "q", now=later
    )
    assert code == 0, output
    assert "New 0  Learning 0  Review 3\n" in output
    assert "Reviewed 3 cards" in output
    code, output = run("review", "--new-cards", "0", input="q", now=later)
    assert "New 0  Learning 0  Review 0\n" not in output  # nothing is shown: the day's 1 is used
    assert "Reviewed 0 cards" in output
    assert "2 more due reviews wait behind today's limit (trainer review --reviews N)." in output


def test_the_summary_counts_what_falls_due_on_the_next_learner_day() -> None:
    before_rollover = "2026-11-30T03:55:00+00:00"  # still learner day 2026-11-29
    assert run("config", "timezone", "UTC") == (0, "timezone = UTC\n")
    assert run("config", "learning_steps_minutes", "1", "30")[0] == 0
    # Good: the 30-minute step ends at 04:25, the next learner day and past the 20-minute
    # learn-ahead (a step ending within it comes back in the session); Again: at 03:56, today
    code, output = run("review", input=" 3 1q", now=before_rollover)
    assert code == 0, output
    assert "Reviewed 2 cards" in output and "Falling due tomorrow: 1." in output


def test_the_timezone_setting_moves_the_learner_day() -> None:
    six_utc = "2026-11-30T06:00:00+00:00"  # 01:00 in New York: before its 4 am rollover
    assert run("status", now=six_utc)[1].count("Today (2026-11-30)") == 1  # TZ is UTC
    assert run("config", "timezone", "America/New_York") == (0, "timezone = America/New_York\n")
    assert "Today (2026-11-29)" in run("status", now=six_utc)[1]
    assert run("config", "timezone", "Mars/Base") == (
        2,
        "Error: setting timezone='Mars/Base': is not a known IANA time zone\n",
    )
    assert run("config", "timezone", "--reset") == (0, "timezone = UTC (the system's)\n")
    assert "Today (2026-11-30)" in run("status", now=six_utc)[1]


def test_undo_brings_a_buried_card_back_unburied(database: str) -> None:
    code, output = run("review", input=" su q")
    assert code == 0, output
    first, second, again = _screens(output)
    assert "Buried until tomorrow." in second and _question(first) not in second
    assert "Undone: this card is back as it was." in again and _question(first) in again
    assert "Buried" not in output.split("Undone")[1]  # nor in the summary
    buried = sql(database, "SELECT count(*) FROM card_memory WHERE buried_until_day IS NOT NULL")
    assert buried == [(0,)]
    assert counts(database) == (0, 0)


def test_lint_exits_1_on_an_error_and_0_on_warnings(tmp_path: Path) -> None:
    ok, warned, bad = tmp_path / "ok.toml", tmp_path / "warn.toml", tmp_path / "bad.toml"
    ok.write_text('[[card]]\nid = "a"\nfront = "Q"\nback = "A"\n')
    warned.write_text(f'[[card]]\nid = "f"\nfront = "Long"\nback = "{"word " * 130}"\n')
    bad.write_text('[[card]]\nid = "a"\nfront = "Q"\n')
    assert run("lint", str(ok)) == (0, "1 card, 0 errors, 0 warnings\n")
    assert run("lint", str(warned)) == (
        0,
        f"{warned}:1: warning: card 'f': answer is 649 characters (over 600)\n"
        "1 card, 0 errors, 1 warning\n",
    )
    code, output = run("lint", str(bad), str(ok))
    assert code == 1
    assert output.splitlines() == [
        f"{bad}:1: error: basic card needs 'back'",
        "1 card, 1 error, 0 warnings",
    ]
    assert run("lint", str(bad), "--json")[0] == 1


def test_a_database_of_a_newer_trainer_is_refused_and_left_alone(database: str) -> None:
    assert run("status")[0] == 0
    sql(database, "UPDATE alembic_version SET version_num = '9999_from_the_future'")
    assert run("status") == (
        1,
        "Error: database is at schema revision '9999_from_the_future', newer than this trainer:"
        " upgrade trainer\n",
    )
    assert sql(database, "SELECT version_num FROM alembic_version") == [("9999_from_the_future",)]


def test_an_import_that_fails_writes_no_media(
    media_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "python.apkg"
    shutil.copy(FIXTURES / "current.apkg", package)

    def failing_history(*_args: object) -> int:  # the database work fails late
        raise DeckError([Problem(str(package), None, "history refused")])

    with monkeypatch.context() as patch:
        patch.setattr("trainer.importers.store._store_histories", failing_history)
        code, output = run("import", str(package), "--with-history")
    assert (code, output.splitlines()[-1]) == (1, f"Error: {package}: history refused")
    assert not media_dir.exists()
    code, output = run("import", str(package), "--with-history")  # the same file, unpatched
    assert code == 0 and "1 media file" in output
    assert len(list(media_dir.iterdir())) == 1


def test_without_db_the_database_is_trainer_db_in_the_user_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRAINER_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # platformdirs on Linux
    assert run("status")[0] == 0
    assert (tmp_path / "data" / "trainer" / "trainer.db").is_file()


@pytest.mark.parametrize(
    ("value", "accepted"),
    [("0.70", True), ("0.99", True), ("0.69", False), ("0.995", False), ("1", False)],
)
def test_desired_retention_is_held_to_0_70_through_0_99(value: str, accepted: bool) -> None:
    if accepted:
        code, output = run("config", "desired_retention", value)
        assert code == 0
        # above 0.95 the daily cost comes first (tests/test_plan.py)
        assert output.splitlines()[-1] == f"desired_retention = {float(value):g}"
        assert output.startswith("At retention ") == (float(value) > 0.95)
    else:
        assert run("config", "desired_retention", value) == (
            2,
            f"Error: setting desired_retention='{value}': must be between 0.7 and 0.99\n",
        )


def test_media_go_beside_a_database_given_with_db(tmp_path: Path) -> None:
    package = tmp_path / "python.apkg"
    shutil.copy(FIXTURES / "current.apkg", package)
    database = tmp_path / "study.db"
    code, output = run("--db", str(database), "import", str(package))
    assert code == 0 and "1 media file" in output
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith("-media")] == ["study-media"]


def test_lint_json_lists_coverage_points_and_their_cards(tmp_path: Path) -> None:
    deck = tmp_path / "d.toml"
    deck.write_text(
        '[[coverage]]\nid = "p"\npoint = "The point"\n\n[[coverage]]\nid = "q"\npoint = "Q"\n'
        'source = "https://docs.python.org/3/"\n\n'
        '[[card]]\nid = "a"\ncovers = ["p"]\nkind = "cloze"\ntext = "{{c1::x}} {{c2::y}}"\n'
    )
    code, output = run("lint", str(deck), "--json")
    assert code == 0
    assert json.loads(output)["coverage"] == [
        {
            "path": str(deck),
            "line": 1,
            "topic": None,
            "id": "p",
            "point": "The point",
            "source": None,
            "cards": ["a#c1", "a#c2"],
        },
        {
            "path": str(deck),
            "line": 5,
            "topic": None,
            "id": "q",
            "point": "Q",
            "source": "https://docs.python.org/3/",
            "cards": [],
        },
    ]
    assert json.loads(output)["findings"] == [
        {
            "level": "warning",
            "path": str(deck),
            "line": 5,
            "message": "coverage point 'q' has no card",
            "where": None,
        }
    ]
