"""trainer skip TOPIC: a quiz of one card per must-know point through the review screen; a
pass (90%) puts the topic's other new cards into review as if first answered Easy, a fail
changes nothing else and names the points to study."""

from __future__ import annotations

from datetime import date

from click.testing import CliRunner
from sqlalchemy.orm import Session

from conftest import sql
from trainer.cli.main import cli
from trainer.content.builtin_sync import read_builtin
from trainer.store.db import open_database
from trainer.store.resources import DECKS_DIR
from trainer.study.optimize import learner_log
from trainer.study.skip import plan_skip

NOW = "2026-11-29T10:00:00+00:00"
TOPIC = "database-design-and-normalization"
TITLE = "Database Design and Normalization"
HEADER = (
    f"Skip check for {TITLE}: 9 cards covering its 9 must-know points. Pass 90% of them and"
    " its other 13 new cards enter review."
)


def run(*args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), input=input, env={"TRAINER_NOW": NOW})
    return result.exit_code, result.output


def _log(database: str) -> list[tuple[object, ...]]:
    """(kind, rating, state before, state after) of each review-log row, with their count."""
    return sql(
        database,
        "SELECT kind, rating, state_before, state, count(*) FROM review_log"
        " GROUP BY kind, rating, state_before, state ORDER BY kind, rating",
    )


def test_a_passed_check_puts_the_rest_of_the_topic_into_review(database: str) -> None:
    code, output = run("skip", TOPIC, input=" 3" * 8 + " 2")
    lines = output.splitlines()
    assert code == 0
    assert lines[0] == HEADER
    assert lines[-1] == (
        f"Passed 9 of 9 (100%): 13 other cards of {TITLE} entered review; the first is due"
        " 2026-12-05."
    )
    # the quiz's real ratings (Good, and one Hard) and 13 cards as if first answered Easy
    assert _log(database) == [
        ("review", 2, 0, 1, 1),
        ("review", 3, 0, 1, 8),
        ("skip", 4, 0, 2, 13),
    ]
    due = sql(
        database, "SELECT min(due_day), max(due_day), count(*) FROM card_memory WHERE state = 2"
    )
    assert [tuple(str(v) for v in row) for row in due] == [("2026-12-05", "2026-12-09", "13")]
    # the optimizer never sees the skipped cards' rows; they used no new-card allowance
    engine = open_database(database)
    with Session(engine) as db:
        assert len(learner_log(db, 1, skips=False)) == 9
        assert len(learner_log(db, 1)) == 22
    engine.dispose()
    code, output = run("review", input="q")
    assert "New 11 " in output  # 20 a day, 9 used by the quiz


def test_a_failed_check_changes_nothing_else_and_names_the_points(database: str) -> None:
    code, output = run("skip", TOPIC, input=" 1 1" + " 3" * 7)
    assert code == 0
    assert output.splitlines()[0] == HEADER
    assert output.splitlines()[-4:] == [
        "Passed 7 of 9 (78%), below 90%: nothing else changed.",
        f"Study these points of {TITLE} first:",
        "- Why normalise: each fact stored once, and the update, insert and delete anomalies"
        " of duplicated data",
        "- First, second and third normal form: atomic values, partial and transitive dependencies",
    ]
    assert _log(database) == [("review", 1, 0, 1, 2), ("review", 3, 0, 1, 7)]


def test_a_check_left_early_changes_nothing_else(database: str) -> None:
    code, output = run("skip", TOPIC, input=" 3 3q")
    assert code == 0
    assert output.splitlines()[-1] == "Passed 2 of 9 (22%), 7 not answered: nothing else changed."
    assert _log(database) == [("review", 3, 0, 1, 2)]


def test_a_topic_without_new_cards_or_unknown_is_one_line(database: str) -> None:
    code, output = run("skip", "no-such-topic")
    assert code == 2
    assert output.startswith("Error: no such topic 'no-such-topic' (")
    run("skip", TOPIC, input=" 3" * 9)
    assert run("skip", TOPIC) == (2, f"Error: topic '{TITLE}' has no new cards to skip\n")


def test_a_buried_new_card_is_not_quizzed_but_enters_review_with_the_rest(database: str) -> None:
    run("config", "fuzz", "true")  # the learner, with the built-in decks loaded
    decks = read_builtin(DECKS_DIR)[1]
    engine = open_database(database)
    with engine.connect() as conn:
        before = plan_skip(conn, 1, TOPIC, decks, date(2026, 11, 29))
    sql(
        database,
        "INSERT INTO card_memory (learner_id, card_id, state, reps, lapses, buried_until_day)"
        " VALUES (1, :card, 0, 0, 0, '2026-11-30')",
        card=before.sample[0],
    )
    with engine.connect() as conn:
        after = plan_skip(conn, 1, TOPIC, decks, date(2026, 11, 29))
    engine.dispose()
    assert before.sample[0] not in after.sample and before.sample[0] in after.rest
    assert after.covers[after.sample[0]] == before.covers[before.sample[0]]
