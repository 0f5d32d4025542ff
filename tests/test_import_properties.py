"""Properties of the importers: junk never crashes them, and a written deck reads back the same."""

from __future__ import annotations

import csv
import gc
import io
import zipfile
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trainer.content.deck_writer import write_deck
from trainer.content.parser import CardSpec, CoveragePoint, DeckSpec, parse_deck
from trainer.errors import DeckError, Problem, TrainerError
from trainer.importers.anki import LATEST_S, MAX_INTERVAL, read_anki
from trainer.importers.anki_history import AnkiSchedule, CardHistory, RevlogEntry, rebuild
from trainer.importers.bulk import without_cycle_collection
from trainer.importers.delimited import (
    _NOT_A_TAG,
    _field_patterns,
    _guess_delimiter,
    _row_at,
    _tags_as_text,
    read_delimited,
    split_rows,
)
from trainer.importers.imported import ImportedDeck
from trainer.importers.markdown import read_markdown
from trainer.importers.native import read_native
from trainer.scheduling.adapter import Scheduler
from trainer.scheduling.days import DayClock
from trainer.store.models import CardState, Rating
from trainer.store.settings import Settings

READERS: dict[str, Callable[[bytes, str], ImportedDeck]] = {
    "native": read_native,
    "csv": read_delimited,
    "markdown": read_markdown,
    "anki": read_anki,
}
#: Bytes that look like the formats often enough to get past their first checks.
TEXTY = st.one_of(
    st.binary(max_size=400),
    st.text(alphabet='Q:A:C?=[]{}c1#:,;\t|"\n\r\\<>&b/ x', max_size=300).map(str.encode),
)


def _reads_or_refuses(reader: str, data: bytes) -> None:
    try:
        deck = READERS[reader](data, "junk")
    except TrainerError as exc:
        assert str(exc).startswith("junk")
    else:
        assert isinstance(deck, ImportedDeck)
        assert all(card.front and card.back for card in deck.cards)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["native", "csv", "markdown", "anki"]), TEXTY)
def test_any_bytes_import_or_raise_the_projects_error(reader: str, data: bytes) -> None:
    _reads_or_refuses(reader, data)


MEMBERS = st.sampled_from(
    ["collection.anki2", "collection.anki21", "collection.anki21b", "media", "meta", "0"]
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(MEMBERS, st.binary(max_size=300), max_size=4))
def test_any_zip_of_junk_members_imports_or_raises_the_projects_error(
    members: dict[str, bytes],
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    _reads_or_refuses("anki", buffer.getvalue())


SLUG = st.from_regex(r"[a-z0-9][a-z0-9-]{0,12}", fullmatch=True)
TEXT = st.text(min_size=1, max_size=60).map(str.strip).filter(bool)


LINK = st.from_regex(r"https://[a-z]{1,10}\.org/[a-z0-9/]{0,10}", fullmatch=True)
POINTS = st.lists(
    st.builds(CoveragePoint, key=SLUG, point=TEXT, source=st.none() | LINK, line=st.just(0)),
    max_size=4,
    unique_by=lambda p: p.key,
)


@st.composite
def cards(draw: st.DrawFn, points: tuple[str, ...] = ()) -> CardSpec:
    key, kind = draw(SLUG), draw(st.sampled_from(["basic", "typed", "output"]))
    tags = tuple(draw(st.lists(SLUG, max_size=3)))
    docs = draw(st.none() | LINK)
    covers = tuple(draw(st.lists(st.sampled_from(points), unique=True))) if points else ()
    extra = draw(st.none() | TEXT)
    if kind == "basic":
        return CardSpec(key, kind, draw(TEXT), draw(TEXT), tags, docs, covers=covers)
    if kind == "typed":
        accepted = tuple(draw(st.lists(TEXT, min_size=1, max_size=3)))
        back = "\n\n".join(p for p in (f"**{accepted[0]}**", extra) if p)
        return CardSpec(key, kind, draw(TEXT), back, tags, docs, accepted, covers=covers)
    code = draw(TEXT.filter(lambda c: c.strip("\n")))
    output = draw(TEXT.filter(lambda o: o.rstrip("\n")))
    prompt = draw(st.just("What does this code print?") | TEXT)
    front = f"{prompt}\n\n```python\n{code.strip(chr(10))}\n```"
    back = "\n\n".join(p for p in (f"```text\n{output.rstrip(chr(10))}\n```", extra) if p)
    return CardSpec(key, kind, front, back, tags, docs, code=code, output=output, covers=covers)


@given(st.none() | SLUG, st.none() | TEXT, POINTS, st.data())
def test_a_deck_written_out_reads_back_identical(
    topic: str | None, name: str | None, points: list[CoveragePoint], data: st.DataObject
) -> None:
    ids = tuple(point.key for point in points)
    deck_cards = data.draw(st.lists(cards(ids), max_size=6, unique_by=lambda c: c.key))
    deck = DeckSpec("deck.toml", topic, name, tuple(deck_cards), tuple(points))
    again = parse_deck(write_deck(deck), "deck.toml")
    assert (
        replace(
            again,
            cards=tuple(replace(c, line=None) for c in again.cards),
            coverage=tuple(replace(p, line=0) for p in again.coverage),
        )
        == deck
    )


ENTRIES = st.builds(
    RevlogEntry,
    id_ms=st.integers(0, LATEST_S * 1000),
    ease=st.integers(0, 4),
    interval=st.integers(-MAX_INTERVAL, MAX_INTERVAL),
    factor=st.sampled_from([0, 1050, 1300, 2500]),
    duration_ms=st.integers(0, 60_000),
    kind=st.integers(0, 5),
)


@st.composite
def schedules(draw: st.DrawFn) -> AnkiSchedule:
    card_type, queue = draw(st.sampled_from([(0, 0), (1, 1), (1, 3), (2, 2), (3, 1), (2, -1)]))
    in_days = card_type == 2 or queue in (2, 3)
    due = draw(st.integers(-MAX_INTERVAL, MAX_INTERVAL) if in_days else st.integers(0, LATEST_S))
    interval = draw(st.integers(0, MAX_INTERVAL))
    counts = draw(st.tuples(st.integers(0, 4000), st.integers(0, 100), st.integers(0, 3003)))
    return AnkiSchedule(card_type, queue, due, interval, draw(st.integers(0, 9000)), *counts, 0, 0)


@settings(max_examples=300, deadline=None)
@given(
    schedules(),
    st.lists(ENTRIES, max_size=12).map(lambda e: tuple(sorted(e, key=lambda r: r.id_ms))),
    st.integers(0, LATEST_S),
)
def test_any_valid_anki_history_rebuilds_into_a_card_the_scheduler_can_review(
    schedule: AnkiSchedule, entries: tuple[RevlogEntry, ...], created: int
) -> None:
    clock = DayClock(4, ZoneInfo("UTC"))
    now = datetime(2026, 11, 29, 10, tzinfo=UTC)
    rebuilt = rebuild(
        CardHistory("k", schedule, entries, created), Scheduler(Settings()), clock, now
    )
    memory = rebuilt.memory
    if memory.state != CardState.NEW:
        assert memory.stability_days is not None and memory.stability_days > 0
        assert memory.difficulty is not None and 1 <= memory.difficulty <= 10
    assert all(1 <= log.rating <= 4 for log in rebuilt.logs)
    Scheduler(Settings()).review(1, memory, Rating.GOOD, now, clock)


FIELD = st.text(alphabet='ab ,;\t|"\n', min_size=1, max_size=12).filter(
    lambda s: s.strip() and not s.startswith(("#", " ")) and s == s.strip()
)


@settings(max_examples=200)
@given(
    st.sampled_from(["\t", ";", ",", "|"]),
    st.lists(st.tuples(FIELD, FIELD), min_size=1, max_size=6),
)
def test_rows_a_spreadsheet_writes_read_back_field_for_field(
    delimiter: str, rows: list[tuple[str, str]]
) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    read = split_rows(buffer.getvalue(), delimiter, 0)
    assert [fields for _line, fields in read] == [list(row) for row in rows]


#: Fields as a spreadsheet fills them: plain words, or text with line breaks or quotes (which the
#: csv module always quotes) holding any of the separators trainer guesses between.
GUESS_FIELD = st.text(alphabet="ab <>/", min_size=1, max_size=8).filter(str.strip).map(
    str.strip
) | st.tuples(
    st.text(alphabet='ab ,;\t|:"<>', max_size=10), st.sampled_from(["\n", '"', "\r\n"])
).map(lambda parts: "a" + parts[1] + parts[0] + "b")


@settings(max_examples=300)
@given(
    st.sampled_from([",", ";", "\t", "|"]),
    st.integers(2, 4).flatmap(
        lambda width: st.lists(
            st.lists(GUESS_FIELD, min_size=width, max_size=width), min_size=1, max_size=6
        )
    ),
)
def test_any_table_the_csv_module_writes_reads_back_with_the_guessed_delimiter(
    delimiter: str, rows: list[list[str]]
) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    body = buffer.getvalue()
    assert [fields for _line, fields in split_rows(body, _guess_delimiter(body), 0)] == rows


def _rows_field_by_field(body: str, delimiter: str, offset: int) -> list[tuple[int, list[str]]]:
    """What :func:`split_rows` gives when every row is read field by field."""
    patterns, rows = _field_patterns(delimiter), []
    position, line = 0, offset + 1
    while position < len(body):
        start = line
        fields, position, line = _row_at(body, position, line, delimiter, patterns)
        if "".join(fields).strip():
            rows.append((start, fields))
    return rows


#: Field text with tags: known and unknown names, any case, attributes, slashes, comments.
TAGGED_TEXT = (
    st.lists(
        st.sampled_from(
            ["word", " ", "<", ">", "/", "b", "B", "br", "div", "C-g", "T", "x", '="1"', "!--"]
        )
    ).map("".join)
    | st.text()
)


@settings(max_examples=1000)
@given(TAGGED_TEXT)
def test_tags_kept_without_a_search_are_those_the_search_keeps(html: str) -> None:
    assert _tags_as_text(html) == _NOT_A_TAG.sub("&lt;", html)


#: Text of rows: words, delimiters, quotes (opening, closing, doubled, stray) and line ends.
ROWS_TEXT = (
    st.lists(
        st.sampled_from(["word", " ", ",", "\t", ";", '"', '""', ',"', '",', "\n", "\r", "\r\n"])
    ).map("".join)
    | st.text()
)


@settings(max_examples=1000)
@given(st.sampled_from(["\t", ";", ",", " "]), ROWS_TEXT, st.integers(0, 3))
def test_lines_split_as_they_are_read_as_field_by_field(
    delimiter: str, body: str, offset: int
) -> None:
    assert list(split_rows(body, delimiter, offset)) == _rows_field_by_field(
        body, delimiter, offset
    )


RATINGS = st.lists(st.tuples(st.integers(1, 4), st.integers(0, 400)), max_size=15)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.none() | st.tuples(st.floats(0.1, 3000), st.floats(1, 10)), RATINGS),
        max_size=6,
    )
)
def test_a_batch_replay_gives_each_card_the_states_of_its_own_replay(
    items: list[tuple[tuple[float, float] | None, list[tuple[int, int]]]],
) -> None:
    """Cards of every length replayed in one batch (padded together inside fsrs-rs) get, after
    each rating, the stability and difficulty of ``next_memory`` one rating at a time (fsrs-rs
    computes in 32-bit floats)."""
    scheduler = Scheduler(Settings())
    batch = scheduler.memory_histories(items)
    assert [len(states) for states in batch] == [len(ratings) for _, ratings in items]
    for (start, ratings), states in zip(items, batch, strict=True):
        stability, difficulty = start if start else (None, None)
        for index, ((rating, elapsed), got) in enumerate(zip(ratings, states, strict=True)):
            first = index == 0 and start is None
            stability, difficulty = scheduler.next_memory(
                stability, difficulty, None if first else elapsed, Rating(rating)
            )
            assert got[0] == pytest.approx(stability, rel=1e-4)
            assert got[1] == pytest.approx(difficulty, rel=1e-4)


def test_the_cycle_collector_runs_again_after_a_paused_step_even_when_it_fails() -> None:
    seen: list[bool] = []

    @without_cycle_collection
    def step(fail: bool) -> None:
        seen.append(gc.isenabled())
        if fail:
            raise DeckError([Problem("f", None, "bad")])

    step(False)
    with pytest.raises(DeckError):
        step(True)
    assert seen == [False, False] and gc.isenabled()
