"""`trainer reset`: cards back to new (Anki's Forget), history kept, asking first."""

from __future__ import annotations

import json

from conftest import cli_run as run
from conftest import sql


def _states(query: str) -> list[str]:
    code, out, _ = run("cards", query, "--json")
    assert code == 0
    return [card["state"] for card in json.loads(out)]


def _logs(database: str) -> int:
    return int(sql(database, "SELECT count(*) FROM review_log")[0][0])


def test_reset_puts_a_topic_back_to_new_keeping_its_history(database: str) -> None:
    assert run("review", "--topic", "data-structures", input=" 3 3 1q")[0] == 0
    assert _states("topic:data-structures -is:new") == ["learning", "learning", "learning"]
    assert run("reset", "--topic", "Data Structures", input="n\n") == (
        0,
        "Reset 3 cards to new? Their review history is kept [y/N]: n\nNothing reset.\n",
        "",
    )
    assert run("reset", "--topic", "data-structures", "--yes") == (
        0,
        "Reset 3 cards to new; their review history is kept.\n",
        "",
    )
    assert _states("topic:data-structures -is:new") == []
    assert _logs(database) == 3
    assert run("reset", "--topic", "data-structures", "--yes") == (
        0,
        "Nothing to reset: 34 matching cards, none studied yet.\n",
        "",
    )


def test_reset_takes_a_query_and_leaves_other_cards_alone(database: str) -> None:
    assert run("review", "--topic", "data-structures", input=" 3 3 1q")[0] == 0
    first = json.loads(run("cards", "-is:new", "--json")[1])[0]["id"]
    assert (
        run("reset", f"cid:{first}", "--yes")[1]
        == "Reset 1 card to new; their review history is kept.\n"
    )
    assert _states("-is:new") == ["learning", "learning"]
    assert _states(f"cid:{first}") == ["new"]


def test_reset_needs_cards_to_reset() -> None:
    assert run("reset") == (
        2,
        "",
        "Error: give a QUERY, card ids, --topic or --section: the cards to reset\n",
    )
    assert run("reset", "deck:nothing-here", "--yes") == (0, "No cards match.\n", "")
    assert run("reset", "(") == (
        2,
        "",
        "Error: bad search at character 2: the query ends where a term should follow\n",
    )
    code, _, err = run("reset", "--topic", "nope")
    assert (code, err.splitlines()[0][:32]) == (2, "Error: --topic nope: no such top")


def test_a_card_id_that_names_no_card_is_an_error(database: str) -> None:
    assert run("status")[0] == 0  # the database, which a refused command on a new one never keeps
    assert run("reset", "999999", "--yes") == (
        1,
        "",
        "Error: card 999999: no such card (ids are in 'trainer cards')\n",
    )
    assert run("reset", "1", "999998,999999", "--yes") == (
        1,
        "",
        "Error: cards 999998, 999999: no such cards (ids are in 'trainer cards')\n",
    )
    sql(database, "UPDATE card SET active = false WHERE id IN (3, 4)")
    assert run("reset", "3,4", "--yes") == (
        1,
        "",
        "Error: cards 3, 4: retired: no longer in their deck\n",
    )
    # a search finds what it finds: no error for ids inside a query
    assert run("reset", "cid:999999", "--yes") == (0, "No cards match.\n", "")
