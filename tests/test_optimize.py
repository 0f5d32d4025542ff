"""``trainer optimize``: training items built from the review log as Anki builds them, the fit
applied only when it predicts the reviews better, memory states recomputed with it, the
parameters shown by ``trainer config`` and kept per learner, ``--dry-run`` and ``--reset``."""

from __future__ import annotations

import json
import random
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from conftest import LEARNER, NOW
from trainer.cli.main import cli
from trainer.scheduling.adapter import Scheduler
from trainer.scheduling.days import DayClock
from trainer.scheduling.optimizer import (
    DEFAULT_PARAMETERS,
    LoggedRating,
    memory_from_log,
    training_set,
)
from trainer.store.memory import Memory, put_memory
from trainer.store.models import Card, CardMemory, CardState, Rating, ReviewLog
from trainer.store.settings import Settings

L, R = CardState.LEARNING, CardState.REVIEW
DAY0 = date(2026, 1, 1)


def logged(card: int, rows: str) -> list[LoggedRating]:
    """Rows written as ``rating@day:state`` (state N, L, R, X for relearning), an hour apart."""
    states = {"N": CardState.NEW, "L": L, "R": R, "X": CardState.RELEARNING}
    out = []
    for index, row in enumerate(rows.split()):
        rating, rest = row.split("@")
        day, state = rest.split(":")
        at = datetime.combine(DAY0 + timedelta(days=int(day)), datetime.min.time(), UTC)
        at += timedelta(hours=6 + card + index)
        out.append(
            LoggedRating(card, int(rating), at, at.date(), states[state], 2.0, 5.0),
        )
    return out


def reviews(item: Any) -> list[tuple[int, int]]:
    """An item's (rating, delta_t) pairs (fsrs_rs_python shows them only in its repr)."""
    pairs = re.findall(r"rating: (\d+), delta_t: (\d+)", repr(item))
    return [(int(rating), int(delta)) for rating, delta in pairs]


def test_items_one_per_later_day_rating_with_same_day_ratings_kept() -> None:
    log = logged(1, "3@0:N 3@0:L 3@2:R 1@9:R 3@9:X 3@10:R 4@10:R")
    built = training_set(log)
    assert [reviews(item) for item in built.items] == [
        [(3, 0), (3, 0), (3, 2)],
        [(3, 0), (3, 0), (3, 2), (1, 7)],
        [(3, 0), (3, 0), (3, 2), (1, 7), (3, 0), (3, 1)],
    ]
    assert built.card_ids == [1, 1, 1]
    assert built.reviews == 7


def test_history_starts_at_the_last_run_of_learning_ratings() -> None:
    # the card was reset to new on day 20 and learnt again: only the second life counts
    log = logged(1, "3@0:N 3@5:R 1@20:N 3@20:L 3@23:R")
    built = training_set(log)
    assert [reviews(item) for item in built.items] == [[(1, 0), (3, 0), (3, 3)]]
    assert built.reviews == 3


def test_a_card_without_learning_ratings_gives_no_item() -> None:
    # an Anki card imported with its history cut: its log starts in review
    assert training_set(logged(1, "3@0:R 3@4:R 3@9:R")).items == []
    assert training_set(logged(1, "3@0:N 3@0:L")).reviews == 0  # no later-day rating


def test_items_of_all_cards_are_ordered_by_time() -> None:
    log = logged(1, "3@0:N 3@5:R") + logged(2, "3@1:N 3@3:R")
    assert training_set(log).card_ids == [2, 1]


def test_memory_from_log_is_the_scheduler_replay() -> None:
    """Stability and difficulty recomputed from the log are those the scheduler's own reviews
    give on the same learner days, with any parameters."""
    clock = DayClock(4, UTC)
    parameters = (0.5, 1.0, 3.0, 10.0, *DEFAULT_PARAMETERS[4:])
    scheduler = Scheduler(Settings(), parameters)
    log = logged(1, "1@0:N 3@0:L 3@0:L 3@3:R 1@11:R 3@11:X 4@12:R")
    memory = Memory()
    for row in log:
        memory = scheduler.review(1, memory, Rating(row.rating), row.reviewed_at, clock).memory
    assert memory_from_log(scheduler, log) == pytest.approx(
        (memory.stability_days, memory.difficulty)
    )
    # a cut history starts from the state its first row recorded
    cut = logged(1, "3@0:R 3@4:R")
    expected = scheduler.next_memory(2.0, 5.0, 4, Rating.GOOD)
    assert memory_from_log(scheduler, cut) == pytest.approx(expected)


#: How the simulated learner really remembers: their memory is weaker than FSRS's defaults
#: assume (lower initial stabilities), so a fit should find it.
TRUE_PARAMETERS = (0.05, 0.2, 0.6, 2.5, *DEFAULT_PARAMETERS[4:])


def simulate(factory: sessionmaker[Session], cards: int, days: int, seed: int = 7) -> None:
    """Give learner LEARNER a review history of ``cards`` built-in cards, each studied from a
    day in the first month of the ``days`` before NOW on every day it fell due, scheduled with
    FSRS's defaults and rated by a learner who remembers as :data:`TRUE_PARAMETERS` say."""
    rng = random.Random(seed)
    clock = DayClock(4, UTC)
    scheduler = Scheduler(Settings())
    truth = Scheduler(Settings(), TRUE_PARAMETERS)
    with factory.begin() as db:
        conn = db.connection()
        card_ids = db.scalars(select(Card.id).order_by(Card.id).limit(cards)).all()
        for card in card_ids:
            at = NOW - timedelta(days=days - rng.randrange(30), hours=1)
            memory, true_s, true_d = Memory(), None, None
            while at < NOW:
                day = clock.day_of(at)
                elapsed = (
                    None if memory.last_review_day is None else (day - memory.last_review_day).days
                )
                if true_s is None:
                    rating = rng.choice((Rating.AGAIN, Rating.GOOD, Rating.GOOD, Rating.EASY))
                else:
                    recall = truth.retrievability(true_s, elapsed or 0)
                    rating = Rating.GOOD if rng.random() < recall else Rating.AGAIN
                true_s, true_d = truth.next_memory(true_s, true_d, elapsed, rating)
                outcome = scheduler.review(card, memory, rating, at, clock)
                after = outcome.memory
                db.add(
                    ReviewLog(
                        learner_id=LEARNER,
                        card_id=card,
                        rating=int(rating),
                        reviewed_at=at,
                        review_day=day,
                        duration_ms=5000,
                        state_before=int(memory.state),
                        elapsed_days=elapsed,
                        state=int(after.state),
                        stability_days=after.stability_days,
                        difficulty=after.difficulty,
                        interval_days=outcome.interval_days,
                    )
                )
                memory = after
                at = memory.due_at or clock.day_start(memory.due_day) + timedelta(hours=6)  # type: ignore[arg-type]
            put_memory(conn, LEARNER, card, memory, None, exists=False)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env={"TRAINER_NOW": NOW.isoformat()})
    return result.exit_code, result.output


def stabilities(factory: sessionmaker[Session]) -> dict[int, tuple[Any, Any, Any]]:
    with factory() as db:
        rows = db.execute(
            select(
                CardMemory.card_id,
                CardMemory.stability_days,
                CardMemory.difficulty,
                CardMemory.due_day,
            ).where(CardMemory.learner_id == LEARNER)
        )
        return {card: (s, d, due) for card, s, d, due in rows}


def test_optimize_applies_better_parameters_and_recomputes_memory(
    loaded: sessionmaker[Session],
) -> None:
    simulate(loaded, cards=150, days=120)
    before = stabilities(loaded)
    code, output = run("optimize", "--json")
    assert code == 0, output
    outcome = json.loads(output)
    assert set(outcome) == {"reviews", "parameters", "log_loss", "rmse", "applied"}
    with loaded() as db:
        assert outcome["reviews"] == db.query(ReviewLog).count()
    assert len(outcome["parameters"]) == 21
    assert outcome["log_loss"]["after"] < outcome["log_loss"]["before"]
    assert outcome["rmse"]["after"] < outcome["rmse"]["before"]
    assert outcome["applied"] is True
    # the learner's weaker memory is found: lower initial stabilities than the defaults
    assert outcome["parameters"][2] < DEFAULT_PARAMETERS[2]

    # every card's memory was recomputed with the new parameters, its due day kept
    after = stabilities(loaded)
    fitted = Scheduler(Settings(), tuple(outcome["parameters"]))
    with loaded() as db:
        for card in (min(after), max(after)):
            rows = db.execute(
                select(ReviewLog.rating, ReviewLog.reviewed_at)
                .where(ReviewLog.card_id == card)
                .order_by(ReviewLog.reviewed_at)
            ).all()
            replayed = fitted.replay(card, [(Rating(r), at) for r, at in rows], DayClock(4, UTC))
            assert after[card][:2] == pytest.approx((replayed.stability_days, replayed.difficulty))
            assert after[card][2] == before[card][2]
            assert after[card][0] != pytest.approx(before[card][0])

    code, output = run("config")
    assert code == 0
    shown = " ".join(f"{value:g}" for value in outcome["parameters"])
    assert f"fsrs_parameters = {shown}" in output
    assert "fsrs_parameters_fitted_on = 2026-11-29" in output

    # fitted again on the same reviews, the stored parameters are the current ones
    code, output = run("optimize", "--dry-run")
    assert code == 0, output
    assert f"Reviews used: {outcome['reviews']}" in output
    assert f"{outcome['log_loss']['after']:.4f} current" in output

    code, output = run("optimize", "--reset")
    assert code == 0, output
    assert (
        output
        == f"Back to the default FSRS parameters; memory state of {len(after)} cards recomputed.\n"
    )
    reset = stabilities(loaded)
    for card in before:
        assert reset[card][:2] == pytest.approx(before[card][:2])
    assert "fsrs_parameters = FSRS-6 defaults" in run("config")[1]


def test_dry_run_changes_nothing(loaded: sessionmaker[Session]) -> None:
    simulate(loaded, cards=80, days=90)
    before = stabilities(loaded)
    code, output = run("optimize", "--dry-run")
    assert code == 0, output
    lines = output.splitlines()
    assert lines[0].startswith("Reviews used: ")
    assert lines[-1] == (
        "Dry run: the new parameters predict your reviews better; nothing was changed."
    )
    assert stabilities(loaded) == before
    assert "fsrs_parameters = FSRS-6 defaults" in run("config")[1]


def test_no_better_fit_is_not_applied(loaded: sessionmaker[Session]) -> None:
    """Fitted again on the same reviews, the fit is no better than the stored parameters
    (Anki keeps the current ones on a tie), and nothing is applied."""
    simulate(loaded, cards=80, days=90)
    assert json.loads(run("optimize", "--json")[1])["applied"] is True
    stored = stabilities(loaded)
    code, output = run("optimize")
    assert code == 0, output
    assert output.splitlines()[-1] == (
        "Kept the current parameters: the new ones do not predict your reviews better."
    )
    assert stabilities(loaded) == stored


def test_too_few_reviews_says_how_many_more(loaded: sessionmaker[Session]) -> None:
    code, output = run("optimize")
    assert code == 1
    assert output == (
        "Error: Not enough review history to optimize yet: 8 more reviews a day or more"
        " after the one before are needed.\n"
    )


def test_parameters_are_the_learners_own(loaded: sessionmaker[Session]) -> None:
    simulate(loaded, cards=80, days=90)
    assert run("optimize")[0] == 0
    result = CliRunner().invoke(
        cli,
        ["--learner", "other", "config", "fsrs_parameters"],
        env={"TRAINER_NOW": NOW.isoformat()},
    )
    assert result.output == "fsrs_parameters = FSRS-6 defaults\n"


def test_config_cannot_set_parameters_by_hand(loaded: sessionmaker[Session]) -> None:
    code, output = run("config", "fsrs_parameters", "1", "2")
    assert code == 2
    assert "unknown setting 'fsrs_parameters'" in output


def test_the_scheduler_uses_the_learners_parameters() -> None:
    own = (0.5, 1.0, 3.0, 10.0, *DEFAULT_PARAMETERS[4:])
    clock = DayClock(4, UTC)
    mine = Scheduler(Settings(fsrs_parameters=own)).review(1, Memory(), Rating.EASY, NOW, clock)
    assert mine.memory.stability_days == pytest.approx(10.0)
    given = Scheduler(replace(Settings(), fsrs_parameters=own), DEFAULT_PARAMETERS)
    assert given.review(1, Memory(), Rating.EASY, NOW, clock).memory.stability_days == (
        pytest.approx(DEFAULT_PARAMETERS[3])
    )
