"""Leeches: Anki's threshold rule, a card driven to 8 lapses in the review is marked, suspended
and listed, `u` undoes it, `leech_action tag` only marks; status, stats and reports count them."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from trainer.cli.main import cli
from trainer.study.leeches import turns_leech

START = datetime.fromisoformat("2026-11-29T10:00:00+00:00")


def run(*args: str, now: datetime = START, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env={"TRAINER_NOW": now.isoformat()}, input=input)
    return result.exit_code, result.stdout, result.stderr


def _card(card_id: int, now: datetime) -> dict[str, object]:
    code, out, _ = run("cards", f"cid:{card_id}", "--json", now=now)
    assert code == 0
    document: dict[str, object] = json.loads(out)[0]
    return document


def _ids(query: str, now: datetime) -> list[int]:
    code, out, _ = run("cards", query, "--json", now=now)
    assert code == 0
    return [card["id"] for card in json.loads(out)]


def _lapse(card_id: int, now: datetime) -> tuple[datetime, str]:
    """On the learner day the review card ``card_id`` is due, rate it Again, then Good when
    its relearning step comes back in the same session; that day's 10:00 and the output."""
    due = date.fromisoformat(str(_card(card_id, now)["due_day"]))
    day = datetime.combine(due, START.timetz())
    code, out, err = run("review", "--new-cards", "0", now=day, input=" 1 3q")
    assert (code, err) == (0, "")
    return day, out


def _drive_to(lapses: int) -> tuple[int, datetime, str]:
    """The first Data Structures card, answered Easy on day one, then lapsed ``lapses`` times;
    its id, the last lapse's day and the output of that review."""
    first = _ids("topic:data-structures", START)[0]
    code, _, _ = run("review", "--topic", "data-structures", "--new-cards", "1", input=" 4q")
    assert code == 0
    now, out = START, ""
    for _ in range(lapses):
        now, out = _lapse(first, now)
    assert _card(first, now)["lapses"] == lapses
    return first, now, out


# -- the threshold rule ------------------------------------------------------------------------


def test_anki_s_own_examples_of_the_rule() -> None:
    """rslib's tests: threshold 3 at 3, 5, 7 (half of 3 rounded up); 8 at 8, 12, 16."""
    assert [n for n in range(20) if turns_leech(n, 3)] == [3, 5, 7, 9, 11, 13, 15, 17, 19]
    assert [n for n in range(20) if turns_leech(n, 8)] == [8, 12, 16]
    assert [n for n in range(20) if turns_leech(n, 7)] == [7, 11, 15, 19]
    assert [n for n in range(6) if turns_leech(n, 1)] == [1, 2, 3, 4, 5]


@given(st.integers(1, 60), st.integers(0, 400))
def test_a_card_turns_leech_at_the_threshold_and_every_half_of_it_after(
    threshold: int, lapses: int
) -> None:
    half = (threshold + 1) // 2  # half of the threshold, rounded up
    marks = set(range(threshold, 401, half))
    assert turns_leech(lapses, threshold) == (lapses in marks)


# -- in the review -----------------------------------------------------------------------------


def test_a_card_driven_to_eight_lapses_is_suspended_and_listed() -> None:
    first, now, out = _drive_to(7)
    assert _ids("is:leech", now) == [] and "leech" not in out
    now, out = _lapse(first, now)
    notice = (
        f"Card {first} is a leech (8 lapses), suspended: trainer unsuspend {first} brings it back."
    )
    # the leech was the session's last card: the notice shows at once, before the summary
    assert out.index(notice) < out.index("Nothing left") < out.index("Session")
    assert "1 card turned leech (trainer cards is:leech lists them)." in out
    assert "Reviewed 1 card" in out  # the relearning step is not shown: suspended
    assert _ids("is:leech", now) == [first]
    assert _ids("is:suspended", now) == [first]
    code, listed, _ = run("cards", "is:leech", now=now)
    rows = listed.splitlines()
    assert (code, len(rows), rows[-1]) == (0, 3, "1 card; * a leech")
    assert "  suspended*  " in rows[1]  # suspended as a leech, and marked one
    assert rows[1].startswith(f"{first}  data-structures  ") and rows[1].endswith(" 8")
    status = run("status", now=now)[1]
    assert "Leeches: Data Structures 1 (trainer cards is:leech lists them)" in status
    topic = json.loads(run("status", "--json", now=now)[1])["sections"][0]["topics"]
    assert [(t["slug"], t["leeches"]) for t in topic if t["leeches"]] == [("data-structures", 1)]
    assert (
        "Leeches      Data Structures 1 (trainer cards is:leech lists them)"
        in run("stats", now=now)[1]
    )
    report = json.loads(run("report", "--format", "json", now=now)[1])
    leeches = {
        t["slug"]: t["figures"]["leeches"]
        for s in report["sections"]
        for t in s["topics"]
        if t["figures"]["leeches"]
    }
    assert leeches == {"data-structures": 1}
    assert report["settings"]["leech_lapses"] == 8


def test_u_undoes_the_leech_mark_and_the_suspension_with_the_rating() -> None:
    first, now, _ = _drive_to(7)
    due = date.fromisoformat(str(_card(first, now)["due_day"]))
    day = datetime.combine(due, START.timetz())
    # a new card follows the leech, so that the learner sees the notice and can undo
    code, out, _ = run("review", "--new-cards", "1", now=day, input=" 1uq")
    notice = (
        f"Card {first} is a leech (8 lapses), suspended: trainer unsuspend {first} brings it back."
    )
    assert code == 0
    assert out.index(notice) < out.index("Undone: this card is back as it was.")
    assert "turned leech" not in out
    assert _card(first, day)["lapses"] == 7
    assert _ids("is:leech", day) == [] and _ids("is:suspended", day) == []


def test_leech_action_tag_marks_the_card_and_keeps_showing_it() -> None:
    assert run("config", "leech_action", "tag")[0] == 0
    first, now, out = _drive_to(8)
    assert f"Card {first} is a leech (8 lapses), trainer cards is:leech lists leeches." in out
    assert "Reviewed 2 cards" in out  # the relearning step came back and was rated Good
    assert _ids("is:leech", now) == [first] and _ids("is:suspended", now) == []


def test_a_leech_is_suspended_again_half_the_threshold_later() -> None:
    assert run("config", "leech_lapses", "4")[0] == 0
    first, now, out = _drive_to(4)
    assert f"Card {first} is a leech (4 lapses)" in out
    assert run("unsuspend", str(first), now=now)[1] == "Unsuspended 1 card.\n"
    later = now + timedelta(minutes=30)  # its relearning step, rated Good: back in review
    assert run("review", now=later, input=" 3q")[0] == 0
    now, out = _lapse(first, now)  # 5 lapses: still a leech, not suspended again
    assert "leech" not in out and _ids("is:suspended", now) == []
    now, out = _lapse(first, now)  # 6 = 4 + 2
    assert f"Card {first} is a leech (6 lapses), suspended" in out
    assert _ids("is:suspended", now) == [first] and _ids("is:leech", now) == [first]


def test_the_leech_settings_are_checked() -> None:
    assert run("config", "leech_lapses", "0") == (
        2,
        "",
        "Error: setting leech_lapses='0': must be a whole number from 1 to 9999\n",
    )
    assert run("config", "leech_action", "delete") == (
        2,
        "",
        "Error: setting leech_action='delete': must be one of suspend, tag\n",
    )
