"""When a digest is due and what period it covers: pure computation over a subscription's schedule.

Contract:
- A schedule says ``frequency`` (``daily`` or ``weekly``), ``day_of_week`` (weekly only; 0 = Monday), the
  local ``time_of_day`` (``HH:MM``, 24 h), the IANA ``timezone`` and the ``channel`` (``email`` or
  ``in_app``); :func:`digest_schedule` checks one and raises :class:`DigestError` naming the first bad field.
- **Send times** are local: every day (weekly: every ``day_of_week``) at ``time_of_day`` in ``timezone``,
  converted to UTC with the rules in force on that date (a time skipped by a DST change is read with the
  offset before the change, e.g. 02:30 on a spring-forward night is sent at 03:30; an ambiguous time is its
  first occurrence). :func:`latest_send_time` is the last send time at or before ``now``.
- **Due**: a subscription is due at ``now`` when its latest send time is after its baseline: ``last_sent_at``,
  or ``created_at`` when it was never sent (so subscribing at 15:00 for 08:00 sends tomorrow, not at once).
  A pass at any cadence (hourly, every 15 minutes) therefore sends each period's digest once; passes missed
  for days catch up with one digest (the latest period), never one per missed period.
- **Period**: the digest sent at local date ``D`` covers the local days ``[D - 1, D)`` (daily) or
  ``[D - 7, D)`` (weekly), end-exclusive; the previous period is the same number of days just before. Instants
  (for "new anomalies") are the local midnights of those dates, so consecutive digests never count an anomaly
  twice.
- No I/O. ``now`` comes from the caller and must carry a time zone (:func:`aware`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cloudoptima.storage.models import NotificationDigestRow

FREQUENCIES = ("daily", "weekly")
CHANNELS = ("email", "in_app")
PERIOD_DAYS = {"daily": 1, "weekly": 7}
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class DigestError(ValueError):
    """Bad input; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class DigestSchedule:
    """A validated subscription schedule and channel (build with :func:`digest_schedule`)."""

    frequency: str
    day_of_week: int | None
    time_of_day: str
    timezone: str
    channel: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def clock(self) -> time:
        hours, minutes = self.time_of_day.split(":")
        return time(int(hours), int(minutes))


def aware(now: datetime) -> datetime:
    """``now`` in UTC; :class:`DigestError` naming ``now`` when it carries no time zone."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise DigestError("now", "must carry a time zone")
    return now.astimezone(UTC)


def digest_schedule(
    *,
    frequency: str,
    day_of_week: int | None = None,
    time_of_day: str = "08:00",
    timezone: str = "UTC",
    channel: str = "email",
) -> DigestSchedule:
    """A checked schedule; :class:`DigestError` naming the first bad field."""
    if frequency not in FREQUENCIES:
        raise DigestError("frequency", f"must be one of {', '.join(FREQUENCIES)} (got {frequency!r})")
    if frequency == "weekly":
        if day_of_week is None:
            raise DigestError("day_of_week", "is required for a weekly digest (0 = Monday … 6 = Sunday)")
        if isinstance(day_of_week, bool) or not isinstance(day_of_week, int) or not 0 <= day_of_week <= 6:
            raise DigestError("day_of_week", f"must be 0 (Monday) to 6 (Sunday) (got {day_of_week!r})")
    elif day_of_week is not None:
        raise DigestError("day_of_week", "is only for weekly digests; leave it out for a daily one")
    if not isinstance(time_of_day, str) or not _TIME.fullmatch(time_of_day):
        raise DigestError("time_of_day", f"must be HH:MM on a 24-hour clock (got {time_of_day!r})")
    if not isinstance(timezone, str) or not timezone or len(timezone) > 64:
        raise DigestError("timezone", "must be an IANA time zone name such as 'Europe/Berlin'")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise DigestError(
            "timezone", f"{timezone!r} is not an IANA time zone name (such as 'Europe/Berlin')"
        ) from exc
    if channel not in CHANNELS:
        raise DigestError("channel", f"must be one of {', '.join(CHANNELS)} (got {channel!r})")
    return DigestSchedule(frequency, day_of_week, time_of_day, timezone, channel)


def schedule_of(row: NotificationDigestRow) -> DigestSchedule:
    return DigestSchedule(row.frequency, row.day_of_week, row.time_of_day, row.timezone, row.channel)


def _send_at(schedule: DigestSchedule, day: date) -> datetime:
    """The send time on local ``day`` in UTC (fold 0: a skipped time takes the offset before the change)."""
    return datetime.combine(day, schedule.clock, tzinfo=schedule.zone).astimezone(UTC)


def _first_day(schedule: DigestSchedule, local_today: date) -> date:
    """The latest sending day on or before ``local_today``."""
    if schedule.frequency == "weekly" and schedule.day_of_week is not None:
        return local_today - timedelta(days=(local_today.weekday() - schedule.day_of_week) % 7)
    return local_today


def latest_send(schedule: DigestSchedule, now: datetime) -> tuple[date, datetime]:
    """The local sending day and UTC send time of the last send time at or before ``now``."""
    now = aware(now)
    step = timedelta(days=PERIOD_DAYS[schedule.frequency])
    day = _first_day(schedule, now.astimezone(schedule.zone).date())
    while (at := _send_at(schedule, day)) > now:
        day -= step
    return day, at


def latest_send_time(schedule: DigestSchedule, now: datetime) -> datetime:
    """The last send time at or before ``now`` (UTC)."""
    return latest_send(schedule, now)[1]


def next_send_time(schedule: DigestSchedule, now: datetime) -> datetime:
    """The first send time after ``now`` (UTC)."""
    day, _ = latest_send(schedule, now)
    step = timedelta(days=PERIOD_DAYS[schedule.frequency])
    while (at := _send_at(schedule, day)) <= aware(now):
        day += step
    return at


def is_due(row: NotificationDigestRow, now: datetime) -> bool:
    """Whether the subscription's latest send time is after its baseline (see module)."""
    baseline = row.last_sent_at or row.created_at
    return latest_send_time(schedule_of(row), now) > baseline


@dataclass(frozen=True)
class DigestPeriod:
    """What one digest covers: the local days ``[start, end)`` in ``timezone``, sent at ``send_at`` (UTC)."""

    frequency: str
    start: date
    end: date
    timezone: str
    send_at: datetime

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def previous(self) -> tuple[date, date]:
        return self.start - timedelta(days=self.days), self.start

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=ZoneInfo(self.timezone)).astimezone(UTC)

    @property
    def starts_at(self) -> datetime:
        return self._midnight(self.start)

    @property
    def ends_at(self) -> datetime:
        return self._midnight(self.end)


def period_at(schedule: DigestSchedule, now: datetime) -> DigestPeriod:
    """The period of the digest due at ``now`` (its latest send time; module contract)."""
    day, at = latest_send(schedule, now)
    start = day - timedelta(days=PERIOD_DAYS[schedule.frequency])
    return DigestPeriod(schedule.frequency, start, day, schedule.timezone, at)
