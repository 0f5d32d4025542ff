"""An imported deck keeps its Anki preset's FSRS parameters in the live review until the
learner fits their own."""

from __future__ import annotations

from fsrs.scheduler import DEFAULT_PARAMETERS
from sqlalchemy.orm import Session, sessionmaker

from conftest import LEARNER, NOW, engine_of
from trainer.content.builtin_sync import upsert_cards
from trainer.content.parser import CardSpec
from trainer.scheduling.days import DayClock
from trainer.store.models import Deck, LearnerDeck, Rating
from trainer.store.settings import Settings
from trainer.study.queue import Focus
from trainer.study.session import ReviewSession

#: FSRS-6 parameters whose w3, the stability after a first Easy, is 20 days (the default's is
#: about 8.3).
PRESET = (*DEFAULT_PARAMETERS[:3], 20.0, *DEFAULT_PARAMETERS[4:])
OWN = (*DEFAULT_PARAMETERS[:3], 3.0, *DEFAULT_PARAMETERS[4:])


def _first_easy(
    factory: sessionmaker[Session], clock: DayClock, settings: Settings
) -> dict[str, float | None]:
    """Rate Easy each new card; the stability (days) each deck's card got."""
    stability = {}
    with ReviewSession(engine_of(factory), LEARNER, settings, clock, Focus(), NOW) as session:
        while (shown := session.next_card(NOW)) is not None:
            preview = shown.previews[Rating.EASY].memory.stability_days
            outcome = session.rate(shown, Rating.EASY, NOW, 1000)
            assert outcome is not None and outcome.memory.stability_days == preview
            stability[shown.path] = outcome.memory.stability_days
    return stability


def _decks(factory: sessionmaker[Session]) -> None:
    with factory.begin() as db:
        anki, plain = (
            Deck(name="Anki", slug="anki", source="import"),
            Deck(name="Plain", slug="plain", source="import"),
        )
        db.add_all([anki, plain])
        db.flush()
        db.add(LearnerDeck(learner_id=LEARNER, deck_id=anki.id, fsrs_parameters=list(PRESET)))
        db.add(LearnerDeck(learner_id=LEARNER, deck_id=plain.id, new_cards_per_day=5))
        upsert_cards(db, anki, [CardSpec("a", "basic", "Q", "A")])
        upsert_cards(db, plain, [CardSpec("p", "basic", "Q", "A")])


def test_a_deck_with_its_presets_parameters_is_scheduled_with_them(
    factory: sessionmaker[Session], clock: DayClock
) -> None:
    _decks(factory)
    stability = _first_easy(factory, clock, Settings())
    assert stability == {"Anki": 20.0, "Plain": DEFAULT_PARAMETERS[3]}


def test_the_learners_own_parameters_win_once_fitted(
    factory: sessionmaker[Session], clock: DayClock
) -> None:
    _decks(factory)
    stability = _first_easy(factory, clock, Settings(fsrs_parameters=OWN))
    assert stability == {"Anki": 3.0, "Plain": 3.0}
