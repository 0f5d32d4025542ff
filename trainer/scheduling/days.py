"""Learner days: the calendar day that starts at the day rollover hour in the learner's time zone.

A review at 01:30 with the default 4 am rollover belongs to the previous learner day. Days are
counted on local calendar dates, never in 24-hour periods, so a 23- or 25-hour day at a DST change,
or a change of time zone, neither skips nor doubles a day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from trainer.store.settings import Settings, zone_in_effect

_MS = timedelta(milliseconds=1)
_HOUR_MS = 3_600_000
_DAY_MS = 86_400_000
_EPOCH_DAY = date(1970, 1, 1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class DayClock:
    """Maps aware UTC instants to learner days and back.

    ``zone`` None means the operating system's local time zone (with its DST rules).
    ``not_before`` is the learner day the learner last studied on: learner days never go back
    before it, so travelling west or a clock set back never brings back a finished day (with
    its limits) and no elapsed time comes out negative.
    """

    rollover_hour: int = 4
    zone: tzinfo | None = None
    not_before: date | None = None
    #: For each UTC hour (Unix time // 3600) met by :meth:`day_of_ms`: its learner day when
    #: the whole hour lies in one, else its UTC offset (ms), None when the offset changes in
    #: it; a cache, no part of the clock's value.
    _hours: dict[int, date | int | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def from_settings(cls, settings: Settings, not_before: date | None = None) -> DayClock:
        """The clock for ``settings.day_rollover_hour`` and the time zone in effect
        (:func:`~trainer.store.settings.zone_in_effect`), never before learner day
        ``not_before``."""
        return cls(settings.day_rollover_hour, ZoneInfo(zone_in_effect(settings)), not_before)

    def day_of(self, at: datetime) -> date:
        """The learner day containing the aware instant ``at`` (``not_before`` at the
        earliest), through :meth:`day_of_ms`'s hour cache (the whole milliseconds of ``at``
        fall on the same side of any rollover, which is on a whole second)."""
        if at.tzinfo is None:  # a naive instant reads as system local time, as astimezone does
            return self._local_day(at)
        return self.day_of_ms((at - _EPOCH) // _MS)

    def _local_day(self, at: datetime) -> date:
        """:meth:`day_of` by converting ``at`` to the clock's time zone."""
        day = (self.local(at) - timedelta(hours=self.rollover_hour)).date()
        return day if self.not_before is None or day >= self.not_before else self.not_before

    def day_of_ms(self, unix_ms: int) -> date:
        """:meth:`day_of` the instant ``unix_ms`` milliseconds after the Unix epoch, by
        integer arithmetic on the UTC offset, which is looked up once per UTC hour (for
        storing tens of thousands of review-log rows); an hour that lies within one learner
        day (a rollover on the hour: every zone offset in whole hours) is a single lookup.
        An hour in which the offset changes (a DST change, a new zone rule) is counted by
        converting the instant to the time zone."""
        hour = unix_ms // _HOUR_MS
        hours = self._hours
        known = hours[hour] if hour in hours else self._hour(hour)
        if isinstance(known, date):
            return known
        if known is None:
            return self._local_day(datetime.fromtimestamp(unix_ms / 1000, UTC))
        return self._clamped(unix_ms + known)

    def _hour(self, hour: int) -> date | int | None:
        """What :attr:`_hours` keeps for the UTC ``hour``, looked up and kept."""
        first, last = (
            self.local(datetime.fromtimestamp(hour * 3600 + second, UTC)).utcoffset()
            for second in (0, 3599)
        )
        known: date | int | None = None
        if first is not None and first == last and not first % _MS:
            known = first // _MS
            start, end = (self._clamped(hour * _HOUR_MS + ms + known) for ms in (0, _HOUR_MS - 1))
            if start == end:
                known = start
        self._hours[hour] = known
        return known

    def _clamped(self, local_ms: int) -> date:
        """The learner day of the local wall-clock instant ``local_ms`` (ms since the epoch),
        ``not_before`` at the earliest."""
        local_ms -= self.rollover_hour * _HOUR_MS
        day = _EPOCH_DAY + timedelta(days=local_ms // _DAY_MS)
        return day if self.not_before is None or day >= self.not_before else self.not_before

    def local(self, at: datetime) -> datetime:
        """The aware instant ``at`` in the clock's time zone (for showing a time of day)."""
        return at.astimezone(self.zone) if self.zone else at.astimezone()

    def day_start(self, day: date) -> datetime:
        """The aware UTC instant at which learner ``day`` begins (its local rollover hour)."""
        local = datetime.combine(day, time(self.rollover_hour))
        if self.zone is None:
            return local.astimezone(UTC)  # a naive datetime is read as system local time
        return local.replace(tzinfo=self.zone).astimezone(UTC)

    def next_rollover(self, at: datetime) -> datetime:
        """The aware UTC instant at which the learner day after the one containing ``at`` begins."""
        return self.day_start(self.day_of(at) + timedelta(days=1))
