"""Decks as a tree: one way to find or make a deck by its ``A::B::C`` path, real slugs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from trainer.errors import UsageError
from trainer.store.deck_tree import DeckTaken, DeckTree, deck_for_path, deck_path
from trainer.store.models import Deck, Topic


def _decks(db: Session) -> list[tuple[str, str, str | None]]:
    """(name, slug, parent's name) of every deck not built in, by name."""
    parents = {deck.id: deck.name for deck in db.scalars(select(Deck))}
    return sorted(
        (deck.name, deck.slug, parents.get(deck.parent_id or 0))
        for deck in db.scalars(select(Deck).where(Deck.source != "builtin"))
    )


def test_a_path_makes_each_missing_deck_with_its_parent(factory: sessionmaker[Session]) -> None:
    with factory.begin() as db:
        basalt = deck_for_path(db, "Rocks::Igneous::Basalt")
        again = deck_for_path(db, " rocks :: IGNEOUS::basalt:: ")
        assert again.id == basalt.id
        deck_for_path(db, "Rocks::Metamorphic")
        deck_for_path(db, "Rocks!")  # the same slug as Rocks: a second one gets -2
        assert _decks(db) == [
            ("Rocks", "rocks", None),
            ("Rocks!", "rocks-2", None),
            ("Rocks::Igneous", "rocks-igneous", "Rocks"),
            ("Rocks::Igneous::Basalt", "rocks-igneous-basalt", "Rocks::Igneous"),
            ("Rocks::Metamorphic", "rocks-metamorphic", "Rocks"),
        ]
        tree = DeckTree.read(db.connection())
        rocks = tree.root(basalt.id)
        assert [tree.nodes[i].name for i in tree.subtree(rocks)] == [
            "Rocks",
            "Rocks::Igneous",
            "Rocks::Igneous::Basalt",
            "Rocks::Metamorphic",
        ]
        assert [(n.leaf, n.depth) for n in tree.ordered()][:3] == [
            ("Rocks", 0),
            ("Igneous", 1),
            ("Basalt", 2),
        ]


def test_a_path_through_a_deck_owned_elsewhere_is_refused(
    loaded: sessionmaker[Session],
) -> None:
    with loaded() as db:
        with pytest.raises(DeckTaken) as taken:
            deck_for_path(db, "data structures::Extra")
        assert (taken.value.name, taken.value.owner) == ("Data Structures", "is a built-in deck")
        topic = db.scalars(select(Topic).where(Topic.slug == "algorithms")).one()
        deck_for_path(db, "Spanish")
        with pytest.raises(DeckTaken, match=r"^deck 'Spanish' belongs to no topic$"):
            deck_for_path(db, "Spanish::Verbs", topic_id=topic.id)
        with pytest.raises(UsageError, match=r"^deck name ' :: ': give a name such as"):
            deck_for_path(db, " :: ")


@settings(max_examples=25, deadline=None)
@given(st.lists(st.text(alphabet="ab :", min_size=1, max_size=12), min_size=1, max_size=6))
def test_every_deck_has_its_parent_and_a_unique_slug(names: list[str]) -> None:
    from tempfile import TemporaryDirectory

    from trainer.store.db import open_database

    with TemporaryDirectory() as folder:
        engine = open_database(f"{folder}/t.db")
        with Session(engine) as db, db.begin():
            for name in names:
                if deck_path(name):
                    deck_for_path(db, name)
            decks = list(db.scalars(select(Deck)))
            by_id = {deck.id: deck for deck in decks}
            assert len({deck.slug for deck in decks}) == len(decks)
            assert len({deck.name.lower() for deck in decks}) == len(decks)
            for deck in decks:
                parent = by_id.get(deck.parent_id or 0)
                expected = deck.name.rsplit("::", 1)[0] if "::" in deck.name else None
                assert (parent.name if parent else None) == expected
                assert deck.slug and deck.slug == deck.slug.lower() and " " not in deck.slug
        engine.dispose()


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        (" Rocks :: Igneous::", "Rocks::Igneous"),
        (": : :", ""),  # colons and spaces in any mix at a part's ends
        ("a:: : ::b", "a::b"),
        ("a : b", "a : b"),
    ],
)
def test_a_deck_path_is_tidied_once_for_all(name: str, stored: str) -> None:
    assert deck_path(name) == stored
    assert deck_path(stored) == stored
