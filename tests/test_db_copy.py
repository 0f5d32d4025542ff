"""``trainer db copy``: a whole database into another engine's and back, row for row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from trainer.cli.main import cli
from trainer.store import copy as store_copy
from trainer.store.db import open_database, shown_location
from trainer.store.models import Base

FIRST, LATER = "2026-11-29T10:00:00+00:00", "2026-12-03T10:00:00+00:00"


def run(*args: str, db: str, now: str = FIRST, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--db", db, *args], input=input, env={"TRAINER_NOW": now})
    return result.exit_code, result.output


def every_row(location: str) -> dict[str, list[tuple[Any, ...]]]:
    """Each trainer table's rows as Python values, in primary-key order."""
    engine = open_database(location)
    with engine.connect() as connection:
        rows = {
            table.name: [
                tuple(row)
                for row in connection.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
        }
    engine.dispose()
    return rows


@pytest.fixture
def studied(tmp_path: Path) -> str:
    """A SQLite database with ratings on two days, a buried card, an imported deck with a
    subdeck (a deck whose parent comes after it) and a setting."""
    source = str(tmp_path / "source.db")
    deck = tmp_path / "words.csv"
    deck.write_text("hola,hello\ngato,cat\n", encoding="utf-8")
    assert run("import", str(deck), "--deck", "Languages::Spanish", db=source)[0] == 0
    assert run("decks", "rename", "Languages", "Words::Languages", db=source)[0] == 0
    assert run("config", "new_cards_per_day", "7", db=source)[0] == 0
    assert run("review", db=source, input=" 3 1 4 3 2s")[0] == 0
    assert run("review", db=source, now=LATER, input=" 3 3 3 1 3 4 3")[0] == 0
    return source


def test_a_round_trip_through_another_database_gives_identical_rows(
    studied: str, database: str, tmp_path: Path
) -> None:
    code, output = run("db", "copy", "--to", database, db=studied)
    assert code == 0, output
    before = every_row(studied)
    assert all(before[name] for name in ("deck", "card", "review_log", "setting"))
    assert every_row(database) == before
    shown = shown_location(database)
    assert output.splitlines()[-1] == (
        f"Copied {sum(map(len, before.values()))} rows in {len(before)} tables to {shown};"
        " counts and checksums match."
    )
    back = str(tmp_path / "back.db")
    code, output = run("db", "copy", "--to", back, db=database)
    assert code == 0, output
    assert every_row(back) == before
    # the copy goes on where the original left off: new rows get new ids
    code, output = run("review", db=database, now=LATER, input=" 3 3 3")
    assert code == 0 and "Reviewed 3 cards" in output, output


def test_a_target_with_rows_is_refused_in_one_line(studied: str, database: str) -> None:
    assert run("status", db=database)[0] == 0  # the built-in roadmap is in it now
    before = every_row(database)
    assert run("db", "copy", "--to", database, db=studied) == (
        1,
        f"Error: database {shown_location(database)}: not empty (table section has 11 rows);"
        " copy into a new, empty database\n",
    )
    assert every_row(database) == before


def test_a_copy_that_fails_leaves_no_row_in_the_target(
    studied: str, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real, cards_summed = store_copy.table_checksum, []

    def wrong_for_cards(connection: Any, table: Any) -> store_copy.TableCopy:
        found = real(connection, table)
        if table.name == "card":  # the source's sum comes first, then the target's
            cards_summed.append(found)
            if len(cards_summed) == 2:
                return store_copy.TableCopy(found.table, found.rows, "0" * 64)
        return found

    monkeypatch.setattr(store_copy, "table_checksum", wrong_for_cards)
    code, output = run("db", "copy", "--to", database, db=studied)
    cards = len(every_row(studied)["card"])
    assert (code, output) == (
        1,
        f"Error: database {shown_location(database)}: table card differs after the copy"
        f" ({cards} rows read, {cards} written); nothing was copied\n",
    )
    assert not any(every_row(database).values())


def test_the_database_copied_from_is_not_a_target(studied: str) -> None:
    assert run("db", "copy", "--to", studied, db=studied) == (
        2,
        f"Error: --to {studied}: that is the database copied from\n",
    )


def test_checksums_read_the_same_values_the_same_way() -> None:
    from datetime import UTC, date, datetime

    assert store_copy.canonical(None) == "\\N"
    assert store_copy.canonical(True) == "t"
    assert store_copy.canonical(0.1) == "0.1"
    assert store_copy.canonical(date(2026, 11, 29)) == "2026-11-29"
    assert store_copy.canonical(datetime(2026, 11, 29, 10, tzinfo=UTC)) == (
        "2026-11-29T10:00:00+00:00"
    )
    assert store_copy.canonical(["b", "a"]) == '["b", "a"]'
