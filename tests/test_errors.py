"""Problems as values: where a problem is, and the one text they all read as."""

from __future__ import annotations

from trainer.errors import DeckError, Problem


def test_a_problem_reads_path_line_or_place_then_message() -> None:
    assert (
        str(Problem("d.toml", 4, "basic card needs 'back'")) == "d.toml:4: basic card needs 'back'"
    )
    assert str(Problem("r.md", None, "no topics")) == "r.md: no topics"
    assert str(Problem("x.apkg", None, "not text", "note 17")) == "x.apkg: note 17: not text"
    assert str(Problem("x.csv", 2, "bad", "column 3")) == "x.csv:2: column 3: bad"


def test_a_deck_error_holds_its_problems_and_reads_one_per_line() -> None:
    problems = [Problem("d.toml", 2, "unknown key 'a'"), Problem("d.toml", None, "empty")]
    error = DeckError(problems)
    assert error.problems == tuple(problems)
    assert str(error) == "d.toml:2: unknown key 'a'\nd.toml: empty"
    assert error.exit_code == 1
