"""The card search language: the parser (trees, errors, round trip) and what each term finds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, insert, update
from sqlalchemy.orm import Session, sessionmaker

from conftest import LEARNER, LEARNER_NAME, NOW
from trainer.cli.cards_view import cards_lines
from trainer.scheduling.adapter import Scheduler
from trainer.scheduling.days import DayClock
from trainer.store.db import open_database
from trainer.store.learners import learner_for_write
from trainer.store.models import Card, CardMemory, CardState, Deck, ReviewLog, Section, Topic
from trainer.store.settings import Settings
from trainer.study.search import SearchContext, find_cards
from trainer.study.search_syntax import (
    OPERATORS,
    PROPERTIES,
    STATES,
    And,
    CardIds,
    Field,
    Is,
    Node,
    Not,
    Operator,
    Or,
    Prop,
    Rated,
    SearchError,
    Text,
    parse,
    render,
)

TODAY = date(2026, 11, 29)  # the learner day of NOW


# -- the parser ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "tree"),
    [
        ("", And(())),
        ("  ", And(())),
        ("dict", Text("dict")),
        ("a b or c", Or((And((Text("a"), Text("b"))), Text("c")))),
        ("a (b or c)", And((Text("a"), Or((Text("b"), Text("c")))))),
        ("a and b OR c", Or((And((Text("a"), Text("b"))), Text("c")))),
        ("-tag:easy", Not(Field("tag", "easy"))),
        ('a\\*b\\_c\\\\d\\"*_', Text('a\\*b\\_c\\\\d"*_')),  # wildcard escapes stay
        ("deck\\_x:y\\*", Text("deck\\_x:y\\*")),
        ("-(a b)", Not(And((Text("a"), Text("b"))))),
        ('deck:"Rocks::Igneous rocks"', Field("deck", "Rocks::Igneous rocks")),
        ('"deck:My deck"', Field("deck", "My deck")),
        ("DECK:x", Field("deck", "x")),
        (
            "topic:http-protocol section:databases",
            And((Field("topic", "http-protocol"), Field("section", "databases"))),
        ),
        ("is:NEW", Is("new")),
        ("prop:r<0.8", Prop("r", "<", 0.8)),
        ("prop:stability>=30", Prop("stability", ">=", 30.0)),
        ("prop:due!=-1", Prop("due", "!=", -1.0)),
        ("rated:7", Rated(7)),
        ("rated:1:1", Rated(1, 1)),
        ("cid:12,15", CardIds((12, 15))),
        ('"or" "a b"', And((Text("or"), Text("a b")))),
        (r"x\:y \-z", And((Text("x:y"), Text("-z")))),
        ("note:x", Text("note:x")),
        ("--a", Not(Not(Text("a")))),
    ],
)
def test_a_query_reads_as_its_tree(query: str, tree: Node) -> None:
    assert parse(query) == tree


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("(a", "bad search at character 1: '(' is not closed: add a ')'"),
        ("a)", "bad search at character 2: ')' closes no '('"),
        ("a or", "bad search at character 5: the query ends where a term should follow"),
        (
            "or a",
            "bad search at character 1: 'or' needs a term on each side (\"or\" finds the word)",
        ),
        ("a - b", "bad search at character 3: '-' needs a term right after it, e.g. -tag:easy"),
        ("x ()", "bad search at character 4: '()' holds no term"),
        ('a "b c', 'bad search at character 3: a quote is not closed: add a " after the text'),
        ("a\\", "bad search at character 2: '\\' at the end: write '\\\\' for a backslash"),
        ('a ""', 'bad search at character 3: "" searches for nothing: put text between the quotes'),
        ("x deck:", "bad search at character 3: 'deck:': deck: needs a value after the colon"),
        (
            "is:done",
            "bad search at character 1: 'is:done': is: takes new, learning, review,"
            " due, suspended, buried, leech or edited",
        ),
        (
            "prop:ease>2",
            "bad search at character 1: 'prop:ease>2': prop: takes stability,"
            " difficulty, r, lapses, reps or due with < <= > >= = or !=, e.g. prop:r<0.8",
        ),
        ("prop:r<x", "bad search at character 1: 'prop:r<x': 'x' is not a number"),
        (
            "rated:0",
            "bad search at character 1: 'rated:0': rated: takes a number of days from"
            " 1 to 4294967295, e.g. rated:7 or rated:7:1",
        ),
        (
            "rated:99999999999999999999",
            "bad search at character 1: 'rated:99999999999999999999': rated: takes a number"
            " of days from 1 to 4294967295, e.g. rated:7 or rated:7:1",
        ),
        (
            "a cid:1,99999999999999999999",
            "bad search at character 3: 'cid:1,99999999999999999999': card ids go up to"
            " 9223372036854775807",
        ),
        (
            "cid:\u0661",
            "bad search at character 1: 'cid:\u0661': cid: takes card ids separated"
            " by commas, e.g. cid:12,15",
        ),
        (
            "(" * 1000,
            "bad search at character 21: '(' and '-' nest deeper than 20 here: simplify the query",
        ),
        (
            "a " + "-(b " * 10 + "-c" + ")" * 10,
            "bad search at character 43: '(' and '-' nest deeper than 20 here: simplify the query",
        ),
        (
            "rated:3:5",
            "bad search at character 1: 'rated:3:5': the rating after rated:DAYS: is"
            " 1 (Again), 2, 3 or 4 (Easy)",
        ),
        (
            "cid:1,,2",
            "bad search at character 1: 'cid:1,,2': cid: takes card ids separated by"
            " commas, e.g. cid:12,15",
        ),
    ],
)
def test_a_bad_query_is_one_line_naming_the_position(query: str, message: str) -> None:
    with pytest.raises(SearchError) as raised:
        parse(query)
    assert str(raised.value) == message


#: Text of a search: any characters, a backslash only in the escape of a wildcard or of itself.
WORDS = st.lists(
    st.characters().filter(lambda char: char != "\\") | st.sampled_from(["\\*", "\\_", "\\\\"]),
    min_size=1,
    max_size=8,
).map("".join)
LEAVES = st.one_of(
    WORDS.map(Text),
    st.builds(Field, st.sampled_from(["deck", "topic", "section", "tag"]), WORDS),
    st.sampled_from(STATES).map(Is),
    st.builds(
        Prop,
        st.sampled_from(PROPERTIES),
        st.sampled_from(OPERATORS),
        st.floats(-1e6, 1e6, allow_nan=False).map(abs)
        | st.floats(allow_nan=False, allow_infinity=False),
    ),
    st.builds(Rated, st.integers(1, 10_000), st.none() | st.integers(1, 4)),
    st.lists(st.integers(0, 10**12), min_size=1, max_size=4).map(tuple).map(CardIds),
)
TREES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        inner.map(Not),
        st.lists(inner, min_size=2, max_size=4).map(tuple).map(And),
        st.lists(inner, min_size=2, max_size=4).map(tuple).map(Or),
    ),
    max_leaves=12,
)


@settings(max_examples=400)
@given(TREES)
def test_a_rendered_tree_reads_back_as_itself(tree: Node) -> None:
    assert parse(render(tree)) == tree


@settings(max_examples=400)
@given(
    st.text(alphabet=st.sampled_from('ab :-()"\\\n\tORandisdeckprop<>=0.1r'), max_size=30)
    | st.text(max_size=30)
)
def test_any_text_reads_as_a_tree_or_one_error_line(query: str) -> None:
    try:
        tree = parse(query)
    except SearchError as error:
        assert "\n" not in str(error)
        assert 1 <= error.position <= len(query) + 1
    else:
        assert parse(render(tree)) == tree


# -- what the terms find -----------------------------------------------------------------------


def _context(clock: DayClock) -> SearchContext:
    return SearchContext(LEARNER, NOW, clock, Scheduler(Settings()))


@pytest.fixture
def cards(factory: sessionmaker[Session]) -> dict[str, int]:
    """A small collection; each card named by what it is for, with its id."""
    ids: dict[str, int] = {}
    with factory.begin() as db:
        section = _insert(db, Section, slug="databases", title="Databases", position=1)
        topic = _insert(db, Topic, section_id=section, slug="sql", title="SQL", position=1)
        other = _insert(db, Topic, section_id=section, slug="orm", title="ORM", position=2)
        decks = {
            "sql": _insert(db, Deck, name="SQL", slug="sql", source="builtin", topic_id=topic),
            "orm": _insert(db, Deck, name="ORM", slug="orm", source="builtin", topic_id=other),
            "rocks": _insert(db, Deck, name="Rocks", slug="rocks", source="import"),
            "rocksalt": _insert(db, Deck, name="Rocksalt", slug="rocksalt", source="import"),
        }
        decks["igneous"] = _insert(
            db,
            Deck,
            name="Rocks::Igneous",
            slug="igneous",
            source="import",
            parent_id=decks["rocks"],
        )
        review = {"state": CardState.REVIEW, "difficulty": 5.0, "reps": 3}
        rows: list[tuple[str, str, str, str, list[str], dict[str, Any]]] = [
            ("new", "sql", "SELECT 100% of rows", "star", ["Easy"], {}),
            (
                "strong",
                "sql",
                "JOIN kinds",
                "inner_outer",
                ["sql-joins"],
                {
                    **review,
                    "stability_days": 40.0,
                    "last_review_day": TODAY - timedelta(days=10),
                    "due_day": TODAY + timedelta(days=30),
                },
            ),
            (
                "weak",
                "orm",
                "QuerySet laziness",
                "Évaluation",
                ["sqlx", "orm"],
                {
                    **review,
                    "stability_days": 5.0,
                    "last_review_day": TODAY - timedelta(days=8),
                    "due_day": TODAY - timedelta(days=1),
                    "lapses": 8,
                    "leech": True,
                },
            ),
            (
                "learning",
                "rocks",
                "Basalt",
                "fine grained",
                [],
                {
                    "state": CardState.LEARNING,
                    "step": 0,
                    "stability_days": 1.0,
                    "difficulty": 6.0,
                    "last_review_day": TODAY,
                    "reps": 1,
                    "due_at": NOW + timedelta(minutes=5),
                },
            ),
            (
                "buried",
                "igneous",
                "Granite",
                "coarse",
                ["Rock"],
                {
                    **review,
                    "stability_days": 12.0,
                    "last_review_day": TODAY - timedelta(days=12),
                    "due_day": TODAY,
                    "buried_until_day": TODAY + timedelta(days=1),
                    "lapses": 2,
                },
            ),
            ("salt", "rocksalt", "Halite", "NaCl", [], {}),
        ]
        for name, deck, front, back, tags, memory in rows:
            ids[name] = _insert(
                db,
                Card,
                deck_id=decks[deck],
                key=name,
                position=len(ids),
                kind="basic",
                front=front,
                back=back,
                tags=tags,
            )
            if memory:
                db.execute(
                    insert(CardMemory).values(learner_id=LEARNER, card_id=ids[name], **memory)
                )
        _insert(
            db,
            Card,
            deck_id=decks["sql"],
            key="gone",
            position=99,
            kind="basic",
            front="Retired JOIN",
            back="x",
            active=False,
        )
        for card, day, rating in (("strong", 10, 3), ("weak", 8, 1), ("learning", 0, 1)):
            _insert(
                db,
                ReviewLog,
                learner_id=LEARNER,
                card_id=ids[card],
                rating=rating,
                reviewed_at=NOW,
                review_day=TODAY - timedelta(days=day),
                duration_ms=1000,
                state_before=CardState.REVIEW,
                state=CardState.REVIEW,
                stability_days=1.0,
                difficulty=5.0,
                interval_days=1,
            )
    return ids


def _insert(db: Session, model: Any, **values: Any) -> int:
    new_id = db.scalar(insert(model).values(**values).returning(model.id))
    assert isinstance(new_id, int)
    return new_id


def _found(
    factory: sessionmaker[Session], cards: dict[str, int], clock: DayClock, query: str
) -> set[str]:
    names = {card_id: name for name, card_id in cards.items()}
    with factory.kw["bind"].connect() as conn:
        found, total = find_cards(conn, parse(query), _context(clock))
    assert total == len(found)
    return {names[card.id] for card in found}


ALL = {"new", "strong", "weak", "learning", "buried", "salt"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ALL),
        ("join", {"strong"}),  # the retired card with JOIN is never found
        ("100%", {"new"}),  # % is text, not a LIKE wildcard
        ("n_r", {"strong"}),  # Anki's _: one character ("ner" in inner)
        ("n\\_r", set()),  # \_ is the character
        ("inner\\_outer", {"strong"}),
        ("sel*of", {"new"}),  # Anki's *: any run of characters
        ("sel\\*of", set()),
        ("gr_nite", {"buried"}),
        ("deck:rock*", {"learning", "buried", "salt"}),
        ("deck:rocks::*", {"buried"}),
        ("deck:r_cks", {"learning", "buried"}),
        ("deck:rock\\*", set()),
        ("tag:sq*", {"strong", "weak"}),
        ("tag:sql*s", {"strong"}),
        ("tag:s*m", set()),  # a wildcard stays inside one tag (weak has sqlx and orm)
        ("tag:sq_x", {"weak"}),
        ("tag:orm", {"weak"}),
        ("GRANITE", {"buried"}),
        ("deck:rocks", {"learning", "buried"}),  # subdecks, and not Rocksalt
        ("deck:ROCKS::igneous", {"buried"}),
        ("deck:igneous", {"buried"}),  # by slug
        ("deck:roc", set()),
        ("topic:SQL", {"new", "strong"}),
        ("topic:orm section:Databases", {"weak"}),
        ("section:databases -topic:sql", {"weak"}),
        ("tag:easy", {"new"}),
        ("tag:sql", set()),  # a whole tag: not sql-joins nor sqlx
        ("tag:sql-*", {"strong"}),
        ("tag:SQL-JOINS", {"strong"}),
        ("tag:rock", {"buried"}),
        ("is:new", {"new", "salt"}),
        ("is:learning", {"learning"}),
        ("is:learn", {"learning"}),  # Anki's name
        ("is:LEARN", {"learning"}),
        ("is:review", {"strong", "weak", "buried"}),
        ("is:due", {"weak", "learning"}),  # the buried card is due today but buried
        ("is:buried", {"buried"}),
        ("is:leech", {"weak"}),
        ("prop:stability>30", {"strong"}),
        ("-prop:stability>30", ALL - {"strong"}),  # new cards have no stability: not > 30
        ("prop:difficulty=6", {"learning"}),
        ("prop:lapses>=2", {"weak", "buried"}),
        ("prop:reps<3", {"new", "salt", "learning"}),
        ("prop:due<0", {"weak"}),
        ("prop:due=0", {"buried"}),
        ("-prop:due>=0", ALL - {"strong", "buried"}),
        ("prop:r<0.9", {"weak"}),  # R(12, 12) = 0.9 exactly is not below 0.9
        ("prop:r<=0.9", {"buried", "weak"}),
        ("prop:r>=0.9", {"strong", "learning", "buried"}),
        ("prop:r=1", {"learning"}),
        ("prop:r<=1", {"strong", "weak", "learning", "buried"}),
        ("prop:r>1", set()),
        ("prop:r<1.5", {"strong", "weak", "learning", "buried"}),
        ("prop:r>0", {"strong", "weak", "learning", "buried"}),
        ("prop:r<=0", set()),
        ("-prop:r<0.9", {"new", "salt", "strong", "learning", "buried"}),
        ("rated:1", {"learning"}),
        ("rated:8", {"learning"}),
        ("rated:9", {"learning", "weak"}),
        ("rated:11", {"learning", "weak", "strong"}),
        ("rated:11:1", {"learning", "weak"}),
        ("rated:1000000", {"learning", "weak", "strong"}),  # from the first calendar day
        ("rated:4294967295:3", {"strong"}),
        ("-(deck:x or " * 10 + "is:new" + ")" * 10, {"new", "salt"}),  # 20 deep: SQL nests
        ("-(is:edited " * 10 + "prop:r<0.9" + ")" * 10, ALL),
        ("is:review or is:learning -prop:lapses>0", {"strong", "weak", "buried", "learning"}),
        ("(is:review or is:learning) -prop:lapses>0", {"strong", "learning"}),
        ("-(is:new or deck:rocks)", {"strong", "weak"}),
    ],
)
def test_each_term_finds_its_cards(
    factory: sessionmaker[Session],
    cards: dict[str, int],
    clock: DayClock,
    query: str,
    expected: set[str],
) -> None:
    assert _found(factory, cards, clock, query) == expected


def test_card_ids_find_those_cards(
    factory: sessionmaker[Session], cards: dict[str, int], clock: DayClock
) -> None:
    query = f"cid:{cards['weak']},{cards['salt']},999999"
    assert _found(factory, cards, clock, query) == {"weak", "salt"}
    with factory.kw["bind"].connect() as conn:  # an id beyond 64 bits names no card
        found, _ = find_cards(conn, CardIds((2**64, cards["new"])), _context(clock))
    assert [card.id for card in found] == [cards["new"]]


def test_found_cards_say_whether_suspended_or_a_leech_and_the_table_marks_them(
    factory: sessionmaker[Session], cards: dict[str, int], clock: DayClock
) -> None:
    with factory.begin() as db:
        db.execute(
            update(CardMemory)
            .where(CardMemory.card_id.in_([cards["weak"], cards["strong"]]))
            .values(suspended=True)
        )
    with factory.kw["bind"].connect() as conn:
        found, total = find_cards(conn, parse("is:review"), _context(clock))
    assert [(card.id, card.suspended, card.leech) for card in found] == [
        (cards["strong"], True, False),
        (cards["weak"], True, True),
        (cards["buried"], False, False),
    ]
    lines = cards_lines(found, total, None)
    at = lines[0].index("state")
    states = [line[at : at + 11] for line in lines[1:-1]]
    assert states == ["suspended  ", "suspended* ", "review     "]
    assert lines[-1] == "3 cards; * a leech"
    assert cards_lines(found[:1], 1, None)[-1] == "1 card"


def test_a_limit_keeps_the_first_cards_and_counts_them_all(
    factory: sessionmaker[Session], cards: dict[str, int], clock: DayClock
) -> None:
    with factory.kw["bind"].connect() as conn:
        found, total = find_cards(conn, parse("is:new or is:review"), _context(clock), limit=2)
    assert ([card.id for card in found], total) == ([cards["new"], cards["strong"]], 5)


def test_found_cards_carry_their_retrievability_now(
    factory: sessionmaker[Session], cards: dict[str, int], clock: DayClock
) -> None:
    with factory.kw["bind"].connect() as conn:
        found, _ = find_cards(conn, parse(""), _context(clock))
    recall = {card.id: card.retrievability for card in found}
    assert recall[cards["new"]] is None
    assert recall[cards["buried"]] == pytest.approx(0.9)
    assert recall[cards["learning"]] == 1.0


@pytest.fixture(scope="module")
def one_card(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A database with one deck, for a single card the example writes."""
    engine = open_database(str(tmp_path_factory.mktemp("one") / "trainer.db"))
    with engine.begin() as conn:
        conn.execute(insert(Deck).values(id=1, name="D", slug="d", source="import"))
        learner_for_write(conn, LEARNER_NAME, NOW)
    yield engine
    engine.dispose()


@settings(max_examples=200, deadline=None)
@given(
    stability=st.floats(0.01, 5000),
    elapsed=st.integers(-3, 3000),
    bound=st.floats(0.001, 1.0),
    operator=st.sampled_from(OPERATORS),
)
def test_prop_r_agrees_with_the_scheduler_s_retrievability(
    one_card: Engine, stability: float, elapsed: int, bound: float, operator: Operator
) -> None:
    scheduler = Scheduler(Settings())
    recall = scheduler.retrievability(stability, elapsed)
    if abs(recall - bound) < 1e-9:
        return  # at the boundary itself the two sides may round apart
    expected = {
        "<": recall < bound,
        "<=": recall <= bound,
        ">": recall > bound,
        ">=": recall >= bound,
        "=": recall == bound,
        "!=": recall != bound,
    }[operator]
    clock = DayClock(rollover_hour=4, zone=ZoneInfo("UTC"))
    context = SearchContext(LEARNER, NOW, clock, scheduler)
    with one_card.begin() as conn:
        conn.execute(delete(CardMemory))
        conn.execute(delete(Card))
        card = insert(Card).values(
            deck_id=1, key="k", position=0, kind="basic", front="f", back="b"
        )
        card_id = conn.execute(card).inserted_primary_key[0]  # type: ignore[index]
        conn.execute(
            insert(CardMemory).values(
                learner_id=LEARNER,
                card_id=card_id,
                state=CardState.REVIEW,
                stability_days=stability,
                difficulty=5.0,
                last_review_day=TODAY - timedelta(days=elapsed),
                due_day=TODAY,
            )
        )
        found, _ = find_cards(conn, Prop("r", operator, bound), context)
    assert bool(found) == expected
