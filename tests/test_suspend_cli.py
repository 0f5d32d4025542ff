"""`trainer suspend` / `trainer unsuspend` and `!` in the review: suspended cards are never
shown, count neither toward nor against mastery, and come back as they were."""

from __future__ import annotations

import json

from conftest import cli_run as run


def _ids(query: str) -> list[int]:
    code, out, _ = run("cards", query, "--json")
    assert code == 0
    return [card["id"] for card in json.loads(out)]


def _topic(slug: str) -> dict[str, object]:
    document = json.loads(run("status", "--json")[1])
    topics = [t for s in document["sections"] for t in s["topics"] if t["slug"] == slug]
    return {"next": document["next_topic"], **topics[0]}


def test_suspend_takes_ids_a_query_or_a_topic_and_unsuspend_undoes_it() -> None:
    assert run("suspend", "1", "2") == (0, "Suspended 2 cards.\n", "")
    assert run("suspend", "1,2,3") == (0, "Suspended 1 card; 2 were suspended already.\n", "")
    assert run("suspend", "cid:1,2") == (
        0,
        "Nothing to suspend: 2 matching cards, all suspended already.\n",
        "",
    )
    assert _ids("is:suspended") == [1, 2, 3]
    assert run("unsuspend", "1", "4") == (0, "Unsuspended 1 card; 1 was not suspended.\n", "")
    assert run("unsuspend", "4") == (
        0,
        "Nothing to unsuspend: 1 matching card, none suspended.\n",
        "",
    )
    assert run("suspend", "--topic", "Data Structures") == (0, "Suspended 34 cards.\n", "")
    assert len(_ids("is:suspended topic:data-structures")) == 34
    assert run("unsuspend", "is:suspended") == (0, "Unsuspended 36 cards.\n", "")
    assert _ids("is:suspended") == []
    assert run("suspend", "deck:nothing-here") == (0, "No cards match.\n", "")


def test_suspend_needs_cards_to_suspend() -> None:
    assert run("suspend") == (
        2,
        "",
        "Error: give a QUERY, card ids, --topic or --section: the cards to suspend\n",
    )
    assert run("unsuspend", "(") == (
        2,
        "",
        "Error: bad search at character 2: the query ends where a term should follow\n",
    )
    code, _, err = run("suspend", "--section", "nope")
    assert (code, err.splitlines()[0][:36]) == (2, "Error: --section nope: no such secti")


def test_a_suspended_card_is_never_shown_and_leaves_the_topics_mastery() -> None:
    first = _ids("topic:data-structures")[0]
    assert _topic("data-structures") == {
        "next": "data-structures",
        "slug": "data-structures",
        "title": "Data Structures",
        "cards": 34,
        "mastered": 0,
        "new": 34,
        "due": 0,
        "leeches": 0,
        "done": False,
        "done_day": None,
        "retention": None,
        "needs_refresh": False,
    }
    assert run("suspend", str(first))[0] == 0
    assert _topic("data-structures")["cards"] == 33
    bury_all = "/s\n" * 40 + "q"  # each card shown is buried: the summary counts them
    code, out, _ = run("review", "--topic", "data-structures", "--new-cards", "40", input=bury_all)
    assert code == 0 and "Buried 33 until tomorrow." in out
    assert _ids("topic:data-structures -is:buried") == [first]  # the one card never shown
    # every card suspended: the topic shows no cards, is not done and is passed over
    assert run("suspend", "--topic", "data-structures")[1] == (
        "Suspended 33 cards; 1 was suspended already.\n"
    )
    assert _topic("data-structures") == {
        "next": "algorithms",
        "slug": "data-structures",
        "title": "Data Structures",
        "cards": 0,
        "mastered": 0,
        "new": 0,
        "due": 0,
        "leeches": 0,
        "done": False,
        "done_day": None,
        "retention": None,
        "needs_refresh": False,
    }
    code, out, _ = run("review", "--topic", "data-structures", input="q")
    assert code == 0 and "Reviewed 0 cards" in out and "›" not in out
    assert run("unsuspend", "--topic", "data-structures")[1] == "Unsuspended 34 cards.\n"
    assert _topic("data-structures")["cards"] == 34
    assert _ids("topic:data-structures -is:buried") == [first]  # the others kept their bury
    assert _ids("is:suspended") == []


def test_bang_in_the_review_suspends_the_card_and_u_undoes_it() -> None:
    first = _ids("topic:data-structures")[0]
    code, out, _ = run("review", "--topic", "data-structures", input="!u! q")
    notice = f"Suspended card {first}: trainer unsuspend {first} brings it back."
    assert code == 0
    assert out.count(notice) == 2
    between = out.split(notice)[1]
    assert "Undone: this card is back as it was." in between
    assert "Suspended 1 card (trainer cards is:suspended lists them)." in out
    assert _ids("is:suspended") == [first]
    code, out, _ = run("review", "--topic", "data-structures", input="!uq")
    assert code == 0 and "Suspended 1 card" not in out  # undone: nothing suspended this time
    assert _ids("is:suspended") == [first]


def test_a_card_id_that_names_no_card_is_an_error() -> None:
    for command in ("suspend", "unsuspend"):
        assert run(command, "999999") == (
            1,
            "",
            "Error: card 999999: no such card (ids are in 'trainer cards')\n",
        )
    assert run("suspend", "2", "999999") == (
        1,
        "",
        "Error: card 999999: no such card (ids are in 'trainer cards')\n",
    )
    assert _ids("is:suspended") == []  # nothing half done
