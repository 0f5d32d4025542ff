"""Anki's side of the benchmarks, run by the Python of a virtual environment that has the
``anki`` package (``make bench-anki`` makes one); trainer's own environment never imports it.

Run as ``PYTHON anki_side.py COMMAND ARGS...``; each command prints one JSON value (seconds, or
a list of seconds) on stdout, measured with :func:`time.perf_counter` inside this process:

- ``build TRAINER_DB TODAY OUT``: write the collection ``OUT`` mirroring the benchmark database
  ``TRAINER_DB`` (see :func:`build`); ``TODAY`` is that database's learner day (ISO date);
  the number of cards.
- ``rating COLLECTION SYNCHRONOUS WARMUP COUNT``: answer Good and fetch the next card, COUNT
  times after WARMUP untimed ones, with SQLite's ``synchronous`` at SYNCHRONOUS (full, normal);
  a list of seconds per answer.
- ``queue COLLECTION``: open the collection, then the first ``get_queued_cards`` (the queue
  built from nothing); seconds.
- ``first COLLECTION``: open the collection, fetch the first queued card and render its
  question, close; timed from outside as a whole process (prints null).
- ``apkg PACKAGE``: import the package with its scheduling into a new empty collection.
- ``csv CSV``: import the CSV file (Anki's own column and notetype guesses) into a new empty
  collection.
- ``fsrs-params REVLOG``: a new collection with one card per card of the review-log CSV
  ``REVLOG`` (tests/benchmarks/learning_quality.py) and its rated rows in the revlog, then
  Anki's own ``compute_fsrs_params`` over every card; ``{"seconds": s, "params": [...],
  "items": n}``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime

from anki.collection import (  # first: anki.cards alone is a circular import
    AddNoteRequest,
    Card,
    Collection,
    ImportAnkiPackageOptions,
    ImportAnkiPackageRequest,
    ImportCsvRequest,
)
from anki.scheduler.v3 import CardAnswer

#: Anki's highest review limit per day (a larger value is not stored): the queue holds at most
#: this many review cards, where trainer's benchmark queue holds all 100,000.
ANKI_REVIEW_LIMIT = 9999
#: trainer's card states (trainer.store.models.CardState) as Anki's review-log types
#: (0 learning, 1 review, 2 relearning).
LOG_TYPE = {0: 0, 1: 0, 2: 1, 3: 2}


def build(trainer_db: str, today: str, out: str) -> int:
    """A collection with one Basic note per active card of ``trainer_db`` (its front and back),
    each card a review card due as many days before Anki's today as it is before ``today``
    in trainer, with its FSRS stability and difficulty, interval, reps and lapses; FSRS on,
    the review limit at :data:`ANKI_REVIEW_LIMIT`; and one review-log row per trainer row,
    moved by the days between the two todays. Returns the number of cards."""
    source = sqlite3.connect(trainer_db)
    cards = source.execute(
        "SELECT c.id, c.front, c.back, m.stability_days, m.difficulty, m.due_day,"
        " m.last_review_day, m.reps, m.lapses FROM card c JOIN card_memory m ON m.card_id = c.id"
        " WHERE c.active ORDER BY c.id"
    ).fetchall()
    col = Collection(out)
    basic = col.models.by_name("Basic")
    assert basic is not None
    deck_id = col.decks.id("Bench")
    assert deck_id is not None
    requests = []
    for _card_id, front, back, *_ in cards:
        note = col.new_note(basic)
        note["Front"], note["Back"] = front, back
        requests.append(AddNoteRequest(note=note, deck_id=deck_id))
    col.add_notes(requests)
    config = col.decks.config_dict_for_deck_id(deck_id)
    config["rev"]["perDay"] = ANKI_REVIEW_LIMIT
    col.decks.save(config)
    col.decks.select(deck_id)
    col.set_config("fsrs", True)
    anki_today = col.sched.today
    anki_ids = col.db.list("SELECT id FROM cards ORDER BY nid")
    col.close()
    trainer_today = date.fromisoformat(today)
    shift_ms = (datetime.now().date() - trainer_today).days * 86_400_000
    target = sqlite3.connect(out, isolation_level=None)
    target.execute("BEGIN")
    updates = []
    card_map = {}
    for anki_id, (card_id, _, _, stability, difficulty, due, last, reps, lapses) in zip(
        anki_ids, cards, strict=True
    ):
        card_map[card_id] = anki_id
        due_day, last_day = date.fromisoformat(due), date.fromisoformat(last)
        memory = json.dumps({"s": stability, "d": difficulty})
        anki_due = anki_today - (trainer_today - due_day).days
        interval = (due_day - last_day).days
        updates.append((anki_due, interval, reps, lapses, memory, anki_id))
    target.executemany(
        "UPDATE cards SET type = 2, queue = 2, due = ?, ivl = ?, factor = 2500, reps = ?,"
        " lapses = ?, data = ? WHERE id = ?",
        updates,
    )
    rows = []
    last_id = 0
    for card_id, rating, at, interval, duration, before in source.execute(
        "SELECT card_id, rating, reviewed_at, interval_days, duration_ms, state_before"
        " FROM review_log ORDER BY reviewed_at, id"
    ):
        log_id = max(int(datetime.fromisoformat(at).timestamp() * 1000) + shift_ms, last_id + 1)
        last_id = log_id
        rows.append((log_id, card_map[card_id], rating, interval, duration, LOG_TYPE[before]))
    target.executemany(
        "INSERT INTO revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type)"
        " VALUES (?, ?, 0, ?, ?, 0, 0, ?, ?)",
        rows,
    )
    target.execute("COMMIT")
    target.close()
    source.close()
    return len(cards)


def answer_next(col: Collection) -> None:
    """Answer the first queued card Good (5 s taken), then fetch the next queued card."""
    queued = col.sched.get_queued_cards().cards[0]
    col.sched.answer_card(
        CardAnswer(
            card_id=queued.card.id,
            current_state=queued.states.current,
            new_state=queued.states.good,
            rating=CardAnswer.GOOD,
            answered_at_millis=int(time.time() * 1000),
            milliseconds_taken=5000,
        )
    )
    assert col.sched.get_queued_cards().cards


def rating(path: str, synchronous: str, warmup: str, count: str) -> list[float]:
    """Seconds per :func:`answer_next` (each answer committed by Anki), ``count`` of them."""
    col = Collection(path)
    col.db.execute(f"PRAGMA synchronous = {synchronous}")
    times = []
    for number in range(int(warmup) + int(count)):
        start = time.perf_counter()
        answer_next(col)
        if number >= int(warmup):
            times.append(time.perf_counter() - start)
    col.close()
    return times


def queue(path: str) -> float:
    """Seconds for the first ``get_queued_cards`` after opening ``path``."""
    col = Collection(path)
    start = time.perf_counter()
    queued = col.sched.get_queued_cards()
    elapsed = time.perf_counter() - start
    assert queued.review_count == ANKI_REVIEW_LIMIT, queued.review_count
    col.close()
    return elapsed


def first(path: str) -> None:
    """Open ``path``, render the first queued card's question, close."""
    col = Collection(path)
    queued = col.sched.get_queued_cards().cards[0]
    Card(col, backend_card=queued.card).question()
    col.close()


def _empty() -> Collection:
    return Collection(os.path.join(tempfile.mkdtemp(), "collection.anki2"))


def apkg(package: str) -> float:
    """Seconds to import ``package`` with scheduling into an empty collection."""
    col = _empty()
    options = ImportAnkiPackageOptions(with_scheduling=True, with_deck_configs=True)
    start = time.perf_counter()
    col.import_anki_package(ImportAnkiPackageRequest(package_path=package, options=options))
    elapsed = time.perf_counter() - start
    col.close()
    return elapsed


def csv(path: str) -> float:
    """Seconds to read ``path``'s CSV metadata and import it into an empty collection."""
    col = _empty()
    start = time.perf_counter()
    metadata = col.get_csv_metadata(path, None)
    col.import_csv(ImportCsvRequest(path=path, metadata=metadata))
    elapsed = time.perf_counter() - start
    col.close()
    return elapsed


def fsrs_params(revlog: str) -> dict[str, object]:
    """Seconds Anki's optimizer takes over the history in ``revlog``, its parameters and the
    number of training items it built."""
    import csv as csv_module

    with open(revlog, newline="") as handle:
        rows = [r for r in csv_module.DictReader(handle) if r["review_rating"] != "0"]
    card_ids = sorted({int(r["card_id"]) for r in rows})
    col = _empty()
    basic = col.models.by_name("Basic")
    assert basic is not None
    deck_id = col.decks.id("Quality")
    assert deck_id is not None
    requests = []
    for card_id in card_ids:
        note = col.new_note(basic)
        note["Front"], note["Back"] = f"card {card_id}", "answer"
        requests.append(AddNoteRequest(note=note, deck_id=deck_id))
    col.add_notes(requests)
    anki_ids = dict(zip(card_ids, col.db.list("SELECT id FROM cards ORDER BY nid"), strict=True))
    used: set[int] = set()
    revlog_rows = []
    for row in sorted(rows, key=lambda r: int(r["review_time"])):
        log_id = int(row["review_time"])
        while log_id in used:  # revlog ids are unique
            log_id += 1
        used.add(log_id)
        kind = LOG_TYPE[int(row["review_state"])]
        card = anki_ids[int(row["card_id"])]
        rating, taken = int(row["review_rating"]), int(row["review_duration"])
        revlog_rows.append((log_id, card, rating, taken, kind))
    col.db.executemany(
        "INSERT INTO revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type)"
        " VALUES (?, ?, 0, ?, 0, 0, 0, ?, ?)",
        revlog_rows,
    )
    col.db.execute("UPDATE cards SET type = 2, queue = 2")
    col.set_config("fsrs", True)
    start = time.perf_counter()
    result = col._backend.compute_fsrs_params(
        search="",
        current_params=[],
        ignore_revlogs_before_ms=0,
        num_of_relearning_steps=1,
        health_check=False,
    )
    elapsed = time.perf_counter() - start
    col.close()
    return {"seconds": elapsed, "params": list(result.params), "items": result.fsrs_items}


def main(command: str, *args: str) -> None:
    """Run ``command`` (see the module docstring) and print its JSON result."""
    commands: dict[str, Callable[..., object]] = {"build": build, "rating": rating}
    commands |= {"queue": queue, "first": first, "apkg": apkg, "csv": csv}
    commands["fsrs-params"] = fsrs_params
    result = commands[command](*args)
    print(json.dumps(result))


if __name__ == "__main__":
    main(*sys.argv[1:])
