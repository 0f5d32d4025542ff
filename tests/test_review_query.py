"""`trainer review --query`: a session over exactly the cards a search finds (review cards due
or not), rescheduled as usual or, with --no-reschedule, changing nothing."""

from __future__ import annotations

import json

from click.testing import CliRunner

from conftest import sql
from trainer.cli.main import cli

DAY_ONE = "2026-11-29T10:00:00+00:00"
DAY_TWO = "2026-11-30T10:00:00+00:00"


def run(*args: str, now: str = DAY_TWO, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env={"TRAINER_NOW": now}, input=input)
    return result.exit_code, result.stdout, result.stderr


def _studied(now: str = DAY_TWO) -> list[dict[str, object]]:
    code, out, _ = run("cards", "-is:new", "--json", now=now)
    assert code == 0
    return [
        {key: card[key] for key in ("id", "state", "due_day", "reps", "stability_days")}
        for card in json.loads(out)
    ]


def _three_reviews_and_a_learning_card() -> list[int]:
    """Day one: four Data Structures cards, three answered Easy (review cards due days later),
    one Again (learning); their ids, in the order shown."""
    code, _, _ = run("review", "--new-cards", "4", now=DAY_ONE, input=" 4 4 4 1q")
    assert code == 0
    return [int(str(card["id"])) for card in _studied(DAY_ONE)]


def _logs(database: str) -> int:
    return int(sql(database, "SELECT count(*) FROM review_log")[0][0])


def test_review_ahead_shows_the_review_cards_not_yet_due_and_reschedules_them(
    database: str,
) -> None:
    ids = _three_reviews_and_a_learning_card()
    assert run("review", now=DAY_TWO, input="q")[1].count("Reviewed 0 cards") == 1
    before = _studied()
    assert [card["state"] for card in before] == ["review"] * 3 + ["learning"]
    code, out, err = run("review", "--query", "is:review", input=" 3 3 3q")
    assert (code, err) == (0, "")
    assert "New 0  Learning 0  Review 3" in out  # none of them is due today
    assert "Reviewed 3 cards" in out and "Nothing rescheduled" not in out
    after = _studied()
    assert [card["reps"] for card in after] == [2, 2, 2, 1]
    assert all(a["due_day"] != b["due_day"] for a, b in zip(after[:3], before[:3], strict=True))
    assert after[3] == before[3]  # the learning card: not found by the search
    assert _logs(database) == 4 + 3
    assert ids == [card["id"] for card in after]


def test_no_reschedule_rates_without_changing_anything(database: str) -> None:
    _three_reviews_and_a_learning_card()
    before, logs = _studied(), _logs(database)
    keys = " 1 1u 3 2q"  # Again does not bring a card back; u takes a rating back
    code, out, err = run("review", "--query", "-is:new", "--no-reschedule", input=keys)
    assert (code, err) == (0, "")
    assert "Undone: this card is back as it was." in out
    assert "Reviewed 3 cards" in out and "Again 33%." in out
    assert "Nothing rescheduled (--no-reschedule): no review log rows written." in out
    assert (_studied(), _logs(database)) == (before, logs)


def test_the_session_holds_only_the_cards_found_within_the_limits() -> None:
    ids = _three_reviews_and_a_learning_card()
    code, out, _ = run("review", "--query", f"cid:{ids[1]}", input=" 3q")
    assert code == 0 and "New 0  Learning 0  Review 1" in out and "Reviewed 1 card " in out
    assert [card["reps"] for card in _studied()] == [1, 2, 1, 1]
    code, out, _ = run("review", "--query", "is:review", "--reviews", "1", input=" 3q")
    flat = " ".join(out.replace("│", " ").split())  # the summary's lines unwrapped
    assert code == 0 and "Reviewed 1 card " in flat
    assert "2 more due reviews wait behind today's limit (trainer review --reviews N)." in flat


def test_a_search_that_finds_nothing_is_one_line() -> None:
    assert run("review", "--query", "tag:no-such-tag") == (0, "No cards match.\n", "")
    assert run("review", "--no-reschedule") == (
        2,
        "",
        "Error: --no-reschedule goes with --query\n",
    )
    assert run("review", "--query", "prop:r<") == (
        2,
        "",
        "Error: bad search at character 1: 'prop:r<': '' is not a number\n",
    )


def test_a_search_and_a_topic_with_no_card_in_common_is_the_same_one_line() -> None:
    """The search finds cards and the topic has cards, but none is both: no empty session."""
    assert run("review", "--query", "topic:data-structures", "--topic", "Algorithms") == (
        0,
        "No cards match.\n",
        "",
    )
    options = ("--section", "databases", "--topic", "algorithms")
    assert run("review", "--query", "is:new", *options) == (
        2,
        "",
        "Error: --topic algorithms is not in --section databases\n",
    )
    code, out, _ = run("review", "--query", "is:new", "--topic", "algorithms", input="q")
    assert code == 0 and "Reviewed 0 cards" in out
