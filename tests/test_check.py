"""Cards with an impossible stored memory state: the review skips them with a notice and goes
on; ``trainer check`` rebuilds them from their review log (or resets them) and says so."""

from __future__ import annotations

import math
import sqlite3
from datetime import date
from typing import Any

import pytest
from click.testing import CliRunner

from conftest import SERVER_URL, sql
from trainer.cli.main import cli
from trainer.store.memory import Memory
from trainer.store.models import CardState

FIRST_DAY, LATER = "2026-11-29T10:00:00+00:00", "2026-12-20T10:00:00+00:00"
MEMORY = "state, step, stability_days, difficulty, due_day, last_review_day, reps, lapses"


def run(*args: str, now: str = LATER, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), input=input, env={"TRAINER_NOW": now})
    return result.exit_code, result.output


@pytest.fixture
def reviewed(database: str) -> dict[int, tuple[Any, ...]]:
    """Five cards reviewed on two days, all due again by :data:`LATER`: their memory by id."""
    for now, new in ((FIRST_DAY, "5"), ("2026-12-02T10:00:00+00:00", "0")):
        code, output = run("review", "--new-cards", new, now=now, input=" 3" * 40)
        assert code == 0, output
    rows = sql(
        database, f"SELECT card_id, {MEMORY} FROM card_memory WHERE state != 0 ORDER BY card_id"
    )
    assert len(rows) == 5 and all(row[1] == CardState.REVIEW for row in rows)
    return {row[0]: row[1:] for row in rows}


def _break(database: str, ids: list[int]) -> dict[int, str]:
    """Damage four cards' memory (and one's review log) the ways a bad edit can; their keys."""
    sql(database, "UPDATE card_memory SET stability_days = 0 WHERE card_id = :id", id=ids[0])
    sql(database, "UPDATE card_memory SET stability_days = -3.5 WHERE card_id = :id", id=ids[1])
    sql(database, "UPDATE card_memory SET stability_days = NULL WHERE card_id = :id", id=ids[2])
    sql(database, "UPDATE card_memory SET difficulty = NULL WHERE card_id = :id", id=ids[3])
    first = "SELECT min(id) FROM review_log WHERE card_id = :id"
    sql(database, f"DELETE FROM review_log WHERE id = ({first})", id=ids[3])
    rows = sql(
        database,
        "SELECT id, key FROM card WHERE id IN (:a, :b, :c, :d)",
        **dict(zip("abcd", ids, strict=False)),
    )
    return dict(rows)


def test_a_review_skips_broken_cards_and_reviews_the_rest(
    database: str, reviewed: dict[int, tuple[Any, ...]]
) -> None:
    ids = list(reviewed)
    _break(database, ids)
    code, output = run("review", "--new-cards", "0", input=" 3" * 10)
    assert code == 0, output
    words = " ".join(output.replace("│", " ").split())  # rich wraps lines at 80 columns
    assert " whose stored memory state cannot be scheduled; `trainer check` repairs such" in words
    assert "Reviewed 1 card in" in words
    assert "Skipped 4 cards with a broken memory state: `trainer check` repairs such" in words
    last = sql(database, "SELECT card_id FROM review_log ORDER BY id DESC LIMIT 1")
    assert last == [(ids[4],)]


def test_check_rebuilds_broken_cards_from_their_review_log(
    database: str, reviewed: dict[int, tuple[Any, ...]]
) -> None:
    ids = list(reviewed)
    keys = _break(database, ids)
    card = "learner tester: card {} in deck Data Structures".format
    rebuilt = "rebuilt from its 3 ratings"
    assert run("check") == (
        1,
        f"{card(keys[ids[0]])}: stability 0 in review state; {rebuilt}\n"
        f"{card(keys[ids[1]])}: stability -3.5 in review state; {rebuilt}\n"
        f"{card(keys[ids[2]])}: no stability in review state; {rebuilt}\n"
        f"{card(keys[ids[3]])}: no difficulty in review state; reset to new"
        " (its review log cannot rebuild it)\n"
        "4 problems found, 4 repaired.\n",
    )
    after = {row[0]: row[1:] for row in sql(database, f"SELECT card_id, {MEMORY} FROM card_memory")}
    for card_id in ids[:3] + ids[4:]:  # replayed exactly as they were scheduled
        assert after[card_id] == reviewed[card_id]
    assert after[ids[3]] == (CardState.NEW, None, None, None, None, None, 0, 0)
    assert run("check") == (0, "No problems found.\n")

    code, output = run("review", "--new-cards", "0", input=" 3" * 20)
    assert code == 0 and "Skipped" not in output, output
    assert "Reviewed 4 cards in" in output and "Left for today: 0." in output


def test_check_repairs_every_learner_with_their_own_settings(
    database: str, reviewed: dict[int, tuple[Any, ...]]
) -> None:
    ann = ("--learner", "ann")
    assert run(*ann, "config", "desired_retention", "0.8", now=FIRST_DAY)[0] == 0
    for now, new in ((FIRST_DAY, "2"), ("2026-12-02T10:00:00+00:00", "0")):
        code, output = run(*ann, "review", "--new-cards", new, now=now, input=" 3" * 20)
        assert code == 0, output
    of_ann = f"SELECT card_id, {MEMORY} FROM card_memory WHERE learner_id = 2 ORDER BY card_id"
    before = sql(database, of_ann)
    assert [row[1] for row in before] == [CardState.REVIEW] * 2
    assert [row[5] for row in before] != [reviewed[row[0]][4] for row in before]  # ann's own
    broken = "UPDATE card_memory SET stability_days = 0 WHERE learner_id = :who AND card_id = :id"
    sql(database, broken, who=2, id=before[1][0])
    sql(database, broken, who=1, id=before[0][0])
    (key,) = sql(database, "SELECT key FROM card WHERE id = :id", id=before[1][0])[0]
    code, output = run("check")  # as tester: ann's cards are repaired too
    assert code == 1
    assert output.splitlines()[0] == (
        f"learner ann: card {key} in deck Data Structures: stability 0 in review state;"
        " rebuilt from its 2 ratings"
    )
    assert output.splitlines()[1].startswith("learner tester: card ")
    assert output.splitlines()[2] == "2 problems found, 2 repaired."
    assert sql(database, of_ann) == before  # replayed with ann's desired retention
    assert run(*ann, "check") == (0, "No problems found.\n")


def test_check_reports_rows_whose_parent_is_missing(database: str) -> None:
    assert run("check") == (0, "No problems found.\n")
    # foreign keys are off in a bare SQLite connection; a PostgreSQL superuser can turn them off
    learner = "INSERT INTO learner VALUES (1, 'tester', '2026-11-29 10:00:00')"
    orphan = (
        "INSERT INTO review_log (learner_id, card_id, rating, reviewed_at, review_day,"
        " duration_ms, state_before, state, stability_days, difficulty, interval_days)"
        " VALUES (1, 999999, 3, '2026-11-29 10:00:00', '2026-11-29', 0, 0, 1, 1, 5, 0)"
    )
    if SERVER_URL is None:
        connection = sqlite3.connect(database)
        with connection:
            connection.execute(learner)
            connection.execute(orphan)
        connection.close()
    else:
        sql(database, f"{learner}; SET session_replication_role = replica; {orphan}")
    (row_id,) = sql(database, "SELECT id FROM review_log WHERE card_id = 999999")[0]
    assert run("check") == (
        1,
        f"review_log row {row_id}: its card row is missing\n1 problem found, 0 repaired.\n",
    )


@pytest.mark.parametrize(
    ("memory", "problem"),
    [
        (Memory(CardState.REVIEW, None, 0.0, 5.0, last_review_day=None), "stability 0"),
        (Memory(CardState.REVIEW, None, -1.0, 5.0), "stability -1 in review state"),
        (Memory(CardState.RELEARNING, 0, math.nan, 5.0), "stability nan in relearning state"),
        (Memory(CardState.LEARNING, 1, 2.0, math.inf), "difficulty inf in learning state"),
        (Memory(CardState.REVIEW, None, None, 5.0), "no stability in review state"),
    ],
)
def test_impossible_memory_states_are_named(memory: Memory, problem: str) -> None:
    assert memory.problem is not None and memory.problem.startswith(problem)


def test_sound_memory_states_have_no_problem() -> None:
    assert Memory().problem is None  # a new card has no memory state yet
    sound = Memory(CardState.REVIEW, None, 0.01, 1.0, last_review_day=date(2026, 11, 29))
    assert sound.problem is None
    assert Memory(CardState.REVIEW, None, 3.0, 5.0).problem == "no last review in review state"
