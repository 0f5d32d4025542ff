"""Learner days start at the rollover hour in local time, through DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from trainer.scheduling.days import DayClock

BERLIN = DayClock(rollover_hour=4, zone=ZoneInfo("Europe/Berlin"))


def test_before_the_rollover_hour_is_still_yesterday() -> None:
    clock = DayClock(rollover_hour=4, zone=ZoneInfo("UTC"))
    assert clock.day_of(datetime(2026, 11, 29, 3, 59, tzinfo=UTC)) == date(2026, 11, 28)
    assert clock.day_of(datetime(2026, 11, 29, 4, 0, tzinfo=UTC)) == date(2026, 11, 29)
    assert clock.next_rollover(datetime(2026, 11, 29, 3, 0, tzinfo=UTC)) == datetime(
        2026, 11, 29, 4, tzinfo=UTC
    )


def test_days_around_spring_forward_are_23_hours_and_none_is_skipped() -> None:
    start = BERLIN.day_start(date(2026, 3, 28))
    nxt = BERLIN.day_start(date(2026, 3, 29))
    assert start == datetime(2026, 3, 28, 3, tzinfo=UTC)  # 04:00 CET
    assert nxt == datetime(2026, 3, 29, 2, tzinfo=UTC)  # 04:00 CEST
    assert nxt - start == timedelta(hours=23)
    assert BERLIN.day_of(datetime(2026, 3, 29, 1, 59, tzinfo=UTC)) == date(2026, 3, 28)
    assert BERLIN.day_of(datetime(2026, 3, 29, 2, 0, tzinfo=UTC)) == date(2026, 3, 29)


def test_autumn_day_is_25_hours() -> None:
    day = date(2026, 10, 24)  # clocks go back at 03:00 on the 25th
    length = BERLIN.day_start(day + timedelta(days=1)) - BERLIN.day_start(day)
    assert length == timedelta(hours=25)


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1)),
    st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC"]),
    st.integers(0, 23),
)
def test_an_instant_lies_within_its_learner_day(naive: datetime, zone: str, hour: int) -> None:
    clock = DayClock(rollover_hour=hour, zone=ZoneInfo(zone))
    at = naive.replace(tzinfo=UTC)
    day = clock.day_of(at)
    assert clock.day_start(day) <= at < clock.day_start(day + timedelta(days=1))


@given(
    st.dates(date(1950, 1, 1), date(2100, 1, 1)),
    st.sampled_from(["Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]),
    st.integers(0, 23),
)
def test_a_learner_day_begins_on_the_microsecond_of_its_rollover(
    day: date, zone: str, hour: int
) -> None:
    clock = DayClock(rollover_hour=hour, zone=ZoneInfo(zone))
    start = clock.day_start(day)
    assert clock.day_of(start) == day
    assert clock.day_of(start - timedelta(microseconds=1)) == day - timedelta(days=1)


def test_a_learner_day_never_goes_back_before_the_last_day_studied() -> None:
    """Tokyo -> Los Angeles: 03:00 on 1 March in LA is still learner day 28 February there,
    but the learner already studied on 1 March in Tokyo."""
    la = DayClock(rollover_hour=4, zone=ZoneInfo("America/Los_Angeles"))
    arrival = datetime(2026, 3, 1, 11, tzinfo=UTC)  # 03:00 PST
    assert la.day_of(arrival) == date(2026, 2, 28)
    travelled = DayClock(4, la.zone, not_before=date(2026, 3, 1))
    assert travelled.day_of(arrival) == date(2026, 3, 1)
    assert travelled.next_rollover(arrival) == la.day_start(date(2026, 3, 2))
    later = datetime(2026, 3, 3, 12, tzinfo=UTC)
    assert travelled.day_of(later) == la.day_of(later) == date(2026, 3, 3)


@given(
    st.lists(st.integers(-3_000_000_000_000, 4_000_000_000_000), min_size=1, max_size=40),
    st.sampled_from(
        ["Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata", "Africa/Monrovia", "UTC"]
    ),
    st.integers(0, 23),
    st.none() | st.dates(date(1950, 1, 1), date(2100, 1, 1)),
)
def test_learner_days_counted_from_milliseconds_are_those_of_the_local_time(
    instants: list[int], zone: str, hour: int, not_before: date | None
) -> None:
    """From 1874 to 2096, in zones with half-hour DST and offsets in odd seconds (Monrovia
    until 1972); one clock for all the instants, so its cache of offsets is used too. An
    instant between two milliseconds has the day of the first."""
    clock = DayClock(rollover_hour=hour, zone=ZoneInfo(zone), not_before=not_before)
    for unix_ms in instants + [ms + 1 for ms in instants]:
        at = datetime.fromtimestamp(unix_ms / 1000, UTC)
        local = (at.astimezone(clock.zone) - timedelta(hours=hour)).date()
        expected = local if not_before is None or local >= not_before else not_before
        within = at + timedelta(microseconds=999)
        assert clock.day_of_ms(unix_ms) == clock.day_of(within) == expected, (unix_ms, at)


def test_learner_days_from_milliseconds_in_an_hour_whose_offset_changes() -> None:
    """Lord Howe Island moved its clocks from +10:30 to +11:30 at 15:30 UTC on 24 October
    1981: on the 3 am rollover, 15:29 UTC is 01:59 local (still the 24th) and 15:30 is 03:00
    local, the 25th. Counted with the hour's first offset, 15:30 would be 02:00 on the 24th."""
    clock = DayClock(rollover_hour=3, zone=ZoneInfo("Australia/Lord_Howe"))
    change = int(datetime(1981, 10, 24, 15, 30, tzinfo=UTC).timestamp()) * 1000
    days = [clock.day_of_ms(change + minutes * 60_000) for minutes in (-30, -1, 0, 29)]
    assert days == [date(1981, 10, 24)] * 2 + [date(1981, 10, 25)] * 2


def test_learner_days_from_milliseconds_in_an_hour_that_the_rollover_splits() -> None:
    """In Kolkata (+05:30) the 4 am rollover falls at 22:30 UTC, in the middle of a UTC hour:
    an instant after it is on the next learner day though the hour's first was not. Every
    minute of two days, in time order on one clock (so each hour's first minute is met first)."""
    clock = DayClock(rollover_hour=4, zone=ZoneInfo("Asia/Kolkata"))
    start = int(datetime(2026, 3, 1, tzinfo=UTC).timestamp()) * 1000
    for minute in range(2 * 24 * 60):
        unix_ms = start + minute * 60_000
        at = datetime.fromtimestamp(unix_ms / 1000, UTC)
        assert clock.day_of_ms(unix_ms) == clock.day_of(at), at
