"""``trainer plan``: the simulation's habits, limits and done days, the mastery rule it shares
with ``status``, ``--retention``, ``--by`` and the JSON of the issue."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from functools import partial

import fsrs_rs_python
import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session, sessionmaker

from conftest import LEARNER, NOW, memory_row
from trainer.cli.main import cli
from trainer.scheduling.adapter import Scheduler
from trainer.scheduling.simulate import (
    PRIOR_RATINGS,
    Forecast,
    Habits,
    NewLane,
    SimCard,
    simulate,
)
from trainer.store.models import Card, CardState, Deck, Rating, Topic
from trainer.store.settings import Settings
from trainer.study.mastery import holds_mastery, is_done
from trainer.study.plan import at_retention, forecast, needed_new_cards, read_situation

TODAY = date(2026, 11, 29)  # NOW's learner day


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env={"TRAINER_NOW": NOW.isoformat()})
    return result.exit_code, result.output


def test_default_habits_are_anki_simulators() -> None:
    config = fsrs_rs_python.default_simulator_config()
    habits = Habits.defaults()
    assert habits.first == pytest.approx(config.first_rating_prob, abs=1e-6)
    assert habits.recalled == pytest.approx(config.review_rating_prob, abs=1e-6)
    weights = config.first_rating_prob[:3]
    for mine, rows in (
        (habits.learning, config.learning_step_transitions),
        (habits.relearning, config.relearning_step_transitions),
    ):
        mixed = [sum(w * row[i] for w, row in zip(weights, rows, strict=True)) for i in range(4)]
        assert mine == pytest.approx([share / sum(mixed) for share in mixed], abs=1e-6)
        assert sum(mine) == pytest.approx(1.0)


def test_own_habits_are_smoothed_towards_the_defaults() -> None:
    fresh, defaults = Habits.from_counts({}), Habits.defaults()
    for field in ("first", "learning", "relearning", "recalled"):
        assert getattr(fresh, field) == pytest.approx(getattr(defaults, field))
    counts = {(CardState.NEW, Rating.GOOD): 80, (CardState.REVIEW, Rating.AGAIN): 500}
    counts[(CardState.REVIEW, Rating.EASY)] = 30
    habits = Habits.from_counts(counts)
    first = Habits.defaults().first
    total = 80 + PRIOR_RATINGS
    assert habits.first == pytest.approx(
        (
            PRIOR_RATINGS * first[0] / total,
            PRIOR_RATINGS * first[1] / total,
            (80 + PRIOR_RATINGS * first[2]) / total,
            PRIOR_RATINGS * first[3] / total,
        )
    )
    # Again of a review card is drawn from its retrievability: recalled shares ignore it
    recalled = Habits.defaults().recalled
    passes = 30 + PRIOR_RATINGS
    assert habits.recalled == pytest.approx(
        (PRIOR_RATINGS * recalled[0] / passes, PRIOR_RATINGS * recalled[1] / passes,
         (30 + PRIOR_RATINGS * recalled[2]) / passes)
    )  # fmt: skip
    assert habits.learning == pytest.approx(defaults.learning)


def engine(
    cards: list[SimCard],
    lanes: list[NewLane],
    settings: Settings | None = None,
    reviews: int = 200,
    days: int = 120,
    seed: int = 7,
    habits: Habits | None = None,
) -> Forecast:
    settings = settings or Settings()
    return simulate(
        Scheduler(settings),
        habits or Habits.defaults(),
        cards,
        lanes,
        reviews,
        reviews,
        days,
        seed,
        partial(holds_mastery, settings=settings),
        partial(is_done, settings=settings),
    )


def test_new_cards_come_a_lane_allowance_a_day() -> None:
    cards = [SimCard(0) for _ in range(25)]
    result = engine(cards, [NewLane(tuple(range(10)), 4, 1), NewLane(tuple(range(10, 25)), 6, 6)])
    assert result.new[:5] == (1 + 6, 4 + 6, 4 + 3, 1, 0)
    assert sum(result.new) == 25


def test_the_same_seed_gives_the_same_forecast_and_another_seed_another() -> None:
    cards = [SimCard(i % 3) for i in range(60)]
    lanes = [NewLane(tuple(range(60)), 10, 10)]
    assert engine(cards, lanes) == engine(cards, lanes)
    assert engine(cards, lanes).reviews != engine(cards, lanes, seed=8).reviews


def test_reviews_never_pass_the_limit_and_the_rest_wait() -> None:
    cards = [SimCard(0) for _ in range(300)]
    result = engine(cards, [NewLane(tuple(range(300)), 300, 300)], reviews=40, days=30)
    assert max(result.reviews) == 40
    unlimited = engine(cards, [NewLane(tuple(range(300)), 300, 300)], reviews=9999, days=30)
    assert max(unlimited.reviews) > 40
    # what waited is reviewed later: more review days at the cap than without it
    assert sum(1 for n in result.reviews if n == 40) > sum(1 for n in unlimited.reviews if n >= 40)


def test_a_group_is_done_on_the_day_the_mastery_rule_first_holds() -> None:
    cards = [SimCard(0) for _ in range(20)]
    lanes = [NewLane(tuple(range(20)), 20, 20)]
    strict = engine(cards, lanes, Settings(topic_done_share=1.0), days=365)
    loose = engine(cards, lanes, Settings(topic_done_share=0.5), days=365)
    usual = engine(cards, lanes, Settings(), days=365)
    short = engine(cards, lanes, Settings(mastery_stability_days=5), days=365)
    assert 0 < loose.done_day[0] <= usual.done_day[0] <= strict.done_day[0]
    assert short.done_day[0] < usual.done_day[0]
    # a group never done within the days is absent; one done at the start is done on day 0
    assert engine(cards, lanes, days=3).done_day == {}
    grown = [SimCard(1, CardState.REVIEW, 30.0, 5.0, 10, -20) for _ in range(5)]
    assert engine(grown, []).done_day == {1: 0}


def test_a_higher_retention_costs_more_reviews() -> None:
    cards = [SimCard(0) for _ in range(200)]
    lanes = [NewLane(tuple(range(200)), 20, 20)]
    low = engine(cards, lanes, Settings(desired_retention=0.8), days=200)
    high = engine(cards, lanes, Settings(desired_retention=0.97), days=200)
    assert sum(high.reviews) > 1.5 * sum(low.reviews)


def test_studied_cards_start_from_their_memory() -> None:
    # due in 10 days: no review before then
    cards = [SimCard(0, CardState.REVIEW, 15.0, 5.0, 10, -5) for _ in range(30)]
    result = engine(cards, [], days=20)
    assert sum(result.reviews[:10]) == 0
    assert result.reviews[10] == 30
    # overdue cards are all due on day 0
    overdue = [SimCard(0, CardState.REVIEW, 3.0, 5.0, -4, -8) for _ in range(30)]
    assert engine(overdue, [], days=2).reviews[0] == 30


def test_plan_of_a_new_learner_covers_every_topic(loaded: sessionmaker[Session]) -> None:
    code, output = run("plan", "--json")
    assert code == 0, output
    plan = json.loads(output)
    assert set(plan) == {"roadmap_done_day", "catch_up_days", "days", "sections"}
    assert plan["catch_up_days"] == 0  # a beginner's growing reviews are no backlog
    assert len(plan["days"]) == 365
    assert plan["days"][0] == {"day": "2026-11-29", "reviews": 0, "new": 20}
    topics = [t for s in plan["sections"] for t in s["topics"]]
    with loaded() as db:
        assert len(topics) == db.query(Topic).count() == 57
    assert all(t["done_day"] is not None for t in topics)
    for section in plan["sections"]:
        assert set(section) == {"slug", "done_day", "topics"}
        assert section["done_day"] == max(t["done_day"] for t in section["topics"])
    assert plan["roadmap_done_day"] == max(s["done_day"] for s in plan["sections"])
    # the roadmap's new cards, 20 a day, until every one is learned
    with loaded() as db:
        roadmap_cards = db.query(Card).join(Deck).filter(Deck.topic_id.is_not(None)).count()
    assert sum(day["new"] for day in plan["days"]) == roadmap_cards
    assert {day["new"] for day in plan["days"][: roadmap_cards // 20]} == {20}

    code, output = run("plan", "--new-cards", "40", "--json")
    faster = json.loads(output)
    assert faster["roadmap_done_day"] < plan["roadmap_done_day"]
    code, output = run("plan", "--retention", "0.97", "--json")
    dearer = json.loads(output)
    assert sum(d["reviews"] for d in dearer["days"]) > sum(d["reviews"] for d in plan["days"])


def test_terminal_plan_shows_weeks_load_and_done_days(loaded: sessionmaker[Session]) -> None:
    code, output = run("plan")
    assert code == 0, output
    plan = json.loads(run("plan", "--json")[1])
    lines = output.splitlines()
    assert (
        lines[0] == "Plan from 2026-11-29 for 365 days: retention 0.9, 20 new roadmap cards a day"
    )
    assert lines[1].split() == ["from", "reviews", "a", "day", "new", "a", "day", "topics", "done"]
    assert lines[2].split()[0] == "2026-11-29"
    assert lines[2].split()[-1] == "0/57"
    assert any(set(line) <= set(" ▁▂▃▄▅▆▇█") and "█" in line for line in lines)
    done = date.fromisoformat(plan["roadmap_done_day"])
    days = (done - TODAY).days
    assert lines[-1] == f"Roadmap done: {done.isoformat()} (in {days} days)"


def test_a_topic_mastered_already_is_done_today(loaded: sessionmaker[Session]) -> None:
    with loaded.begin() as db:
        topic = db.query(Topic).order_by(Topic.id).first()
        assert topic is not None
        for card in db.query(Card).join(Deck).filter(Deck.topic_id == topic.id):
            row = memory_row(db, card)
            row.state, row.stability_days, row.difficulty = CardState.REVIEW, 60.0, 5.0
            row.due_day, row.last_review_day = TODAY + timedelta(days=30), TODAY
        slug = topic.slug
    plan = json.loads(run("plan", "--json")[1])
    done = {t["slug"]: t["done_day"] for s in plan["sections"] for t in s["topics"]}
    assert done[slug] == "2026-11-29"
    assert sum(d["new"] for d in plan["days"]) < 1485


def test_by_finds_the_fewest_new_cards_a_day(loaded: sessionmaker[Session]) -> None:
    settings = Settings()
    with loaded() as db:
        situation = read_situation(db.connection(), LEARNER, settings, TODAY)
    by = TODAY + timedelta(days=300)
    needed = needed_new_cards(situation, settings, by)
    assert needed.new_cards is not None and needed.plan is not None
    days = (by - TODAY).days + 1
    done = needed.plan.roadmap_done_day
    assert done is not None and done <= by
    fewer = forecast(situation, settings, days, needed.new_cards - 1).roadmap_done_day
    assert fewer is None or fewer > by

    code, output = run("plan", "--by", by.isoformat(), "--json")
    assert code == 0, output
    shown = json.loads(output)
    assert shown["new_cards_per_day"] == needed.new_cards
    assert shown["roadmap_done_day"] == done.isoformat()
    mean, peak = needed.plan.reviews_until(by)
    assert shown["reviews"] == {"mean": round(mean, 1), "peak": peak}
    code, output = run("plan", "--by", by.isoformat())
    assert output.replace("\n", " ").startswith(
        f"To be through the roadmap by {by.isoformat()}: {needed.new_cards} new roadmap cards a"
    )


def test_a_date_too_soon_cannot_be_met(loaded: sessionmaker[Session]) -> None:
    code, output = run("plan", "--by", "2026-12-10")
    assert code == 0, output
    assert " ".join(output.split()).startswith(
        "The roadmap cannot be done by 2026-12-10: no number of new cards a day finishes it"
    )
    code, output = run("plan", "--by", "2026-12-10", "--json")
    assert json.loads(output) == {"by": "2026-12-10", "new_cards_per_day": None, "reviews": None}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--retention", "1.2"], "Error: --retention 1.2: must be a number from 0.70 to 0.99\n"),
        (["--retention", "x"], "Error: --retention x: must be a number from 0.70 to 0.99\n"),
        (["--by", "2027-02-30"], "Error: --by 2027-02-30: not a date such as 2027-06-30\n"),
        (
            ["--by", "2026-11-28"],
            "Error: --by 2026-11-28: the date has passed (today is 2026-11-29)\n",
        ),
        (
            ["--by", "2027-06-01", "--new-cards", "5"],
            "Error: --by finds the new cards a day itself: leave out --new-cards\n",
        ),
    ],
)
def test_bad_options_get_one_line(
    loaded: sessionmaker[Session], args: list[str], message: str
) -> None:
    code, output = run("plan", *args)
    assert (code, output) == (2, message)


def test_negative_new_cards_names_the_option(loaded: sessionmaker[Session]) -> None:
    code, output = run("plan", "--new-cards", "-1")
    assert code == 2
    assert output.startswith("Error: Invalid value for '--new-cards'")
    assert len(output.splitlines()) == 1


def test_settings_shape_the_plan(loaded: sessionmaker[Session]) -> None:
    with loaded() as db:
        situation = read_situation(db.connection(), LEARNER, Settings(), TODAY)
    usual = forecast(situation, Settings(), 60)
    slow = forecast(situation, replace(Settings(), new_cards_per_day=5), 60)
    assert [d.new for d in usual.days[:3]] == [20, 20, 20]
    assert [d.new for d in slow.days[:3]] == [5, 5, 5]
    capped = forecast(situation, replace(Settings(), reviews_per_day=10), 60)
    assert max(d.reviews for d in capped.days) == 10


def test_a_costly_retention_shows_its_price_before_it_is_set(
    loaded: sessionmaker[Session],
) -> None:
    with loaded() as db:
        situation = read_situation(db.connection(), LEARNER, Settings(), TODAY)
    usual, dear = (
        forecast(situation, Settings()),
        forecast(situation, at_retention(Settings(), 0.97)),
    )
    (usual_mean, _), (dear_mean, _) = (p.reviews_until(p.days[-1].day) for p in (usual, dear))
    assert dear_mean > usual_mean
    assert usual.roadmap_done_day and dear.roadmap_done_day
    price = (
        f"At retention 0.97: about {dear_mean:.0f} reviews a day, roadmap done"
        f" {dear.roadmap_done_day.isoformat()} (now at 0.9: about {usual_mean:.0f} reviews a day,"
        f" roadmap done {usual.roadmap_done_day.isoformat()})."
    )
    code, output = run("config", "desired_retention", "0.97", "--yes")
    assert (code, output) == (0, f"{price}\ndesired_retention = 0.97\n")
    # at or below 0.95 nothing is shown
    assert run("config", "desired_retention", "0.95") == (0, "desired_retention = 0.95\n")


def test_a_costly_retention_is_asked_on_a_terminal(
    loaded: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the runner's streams stand for a terminal
    monkeypatch.setattr("click.testing._NamedTextIOWrapper.isatty", lambda self: True)
    result = CliRunner().invoke(
        cli,
        ["config", "desired_retention", "0.98"],
        input="n\n",
        env={"TRAINER_NOW": NOW.isoformat()},
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("At retention 0.98: about ")
    assert lines[1] == "Set desired_retention to 0.98? [y/N]: n"
    assert lines[2] == "desired_retention stays 0.9."
    assert run("config", "desired_retention") == (0, "desired_retention = 0.9\n")
