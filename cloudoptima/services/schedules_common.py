"""What report schedules and cost export schedules share: the recurrence, the period a run covers, and the
bookkeeping of schedule rows (read, list, pause/resume, delete) and of their runs, each organisation's own.

Contract:

- A recurrence is ``frequency`` ``daily``, ``weekly`` (``day_of_week`` 0 = Monday … 6 = Sunday) or
  ``monthly`` (``day_of_month`` 1–28), at ``time`` ``HH:MM`` in ``timezone`` (an IANA name).
  :func:`check_recurrence` raises the caller's error class with a message starting with
  ``schedule.<field>``; weekly needs ``day_of_week`` and takes no ``day_of_month``, monthly the reverse,
  daily neither. :func:`recurrence_from` takes a ``schedule`` object (unknown fields refused), merged onto a
  current recurrence when one is given (a new ``frequency`` drops the day the old one took unless given).
- :func:`scheduled_period` is the last full period before a run in the schedule's zone: daily → the local day
  before, weekly → the last full Monday–Sunday week, monthly → the last full calendar month (end-exclusive).
- :class:`ScheduleRows` reads, lists (newest first), enables/disables and deletes the rows of one schedule
  table, every query scoped to its organisation; another organisation's id raises the caller's not-found
  error. :func:`run_at` finds the run a schedule already recorded for a fire time (runs are idempotent per
  schedule and time). The caller commits.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Generic, Literal, Protocol, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

Frequency = Literal["daily", "weekly", "monthly"]
FREQUENCIES: tuple[Frequency, ...] = ("daily", "weekly", "monthly")
RECURRENCE_FIELDS = ("frequency", "day_of_week", "day_of_month", "time", "timezone")
NAME_LENGTH = 200
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class Recurrence:
    """A checked recurrence: when a schedule fires, in its own time zone."""

    frequency: Frequency
    hour: int
    minute: int
    timezone: str
    day_of_week: int | None = None
    day_of_month: int | None = None

    @property
    def time(self) -> str:
        return f"{self.hour:02d}:{self.minute:02d}"


def _zone(name: object, error: type[ValueError]) -> ZoneInfo:
    if not isinstance(name, str) or not name.strip():
        raise error("schedule.timezone: expected an IANA time zone name such as Europe/Berlin")
    name = name.strip()
    if name not in available_timezones() and name != "UTC":
        raise error(f"schedule.timezone: {name!r} is not an IANA time zone name (e.g. Europe/Berlin)")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise error(f"schedule.timezone: {name!r} is not a known time zone") from exc


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def check_recurrence(
    frequency: object,
    time: object,
    timezone: object,
    *,
    day_of_week: object = None,
    day_of_month: object = None,
    error: type[ValueError],
) -> Recurrence:
    """The recurrence checked (module contract), or ``error`` naming ``schedule.<field>``."""
    if frequency not in FREQUENCIES:
        raise error(f"schedule.frequency: expected one of {', '.join(FREQUENCIES)}, got {frequency!r}")
    match = _TIME.match(time) if isinstance(time, str) else None
    if match is None:
        raise error(f"schedule.time: expected HH:MM on a 24-hour clock (00:00–23:59), got {time!r}")
    zone = _zone(timezone, error)
    weekday: int | None = None
    monthday: int | None = None
    if frequency == "weekly":
        weekday = _int(day_of_week)
        if weekday is None or not 0 <= weekday <= 6:
            raise error(
                f"schedule.day_of_week: weekly needs a day 0 (Monday) … 6 (Sunday), got {day_of_week!r}"
            )
    elif day_of_week is not None:
        raise error(f"schedule.day_of_week: only a weekly schedule takes one, not {frequency}")
    if frequency == "monthly":
        monthday = _int(day_of_month)
        if monthday is None or not 1 <= monthday <= 28:
            raise error(
                f"schedule.day_of_month: monthly needs a day 1 … 28 (every month has it), got {day_of_month!r}"
            )
    elif day_of_month is not None:
        raise error(f"schedule.day_of_month: only a monthly schedule takes one, not {frequency}")
    return Recurrence(
        frequency=frequency,
        hour=int(match.group(1)),
        minute=int(match.group(2)),
        timezone=zone.key,
        day_of_week=weekday,
        day_of_month=monthday,
    )


def recurrence_from(
    schedule: Mapping[str, Any], *, error: type[ValueError], current: Recurrence | None = None
) -> Recurrence:
    """The recurrence of a ``schedule`` object (module contract): alone (``timezone`` defaults to UTC) or
    merged onto ``current``; ``error`` names ``schedule.<field>``."""
    unknown = sorted(set(schedule) - set(RECURRENCE_FIELDS))
    if unknown:
        raise error(f"schedule.{unknown[0]}: not a field of a schedule's recurrence")
    if current is None:
        given: dict[str, Any] = {"timezone": "UTC", **schedule}
    else:
        same = schedule.get("frequency", current.frequency) == current.frequency
        given = {
            "frequency": current.frequency,
            "time": current.time,
            "timezone": current.timezone,
            "day_of_week": current.day_of_week if same else None,
            "day_of_month": current.day_of_month if same else None,
            **schedule,
        }
    return check_recurrence(
        given.get("frequency"),
        given.get("time"),
        given.get("timezone"),
        day_of_week=given.get("day_of_week"),
        day_of_month=given.get("day_of_month"),
        error=error,
    )


def scheduled_period(frequency: str, timezone: str, at: datetime) -> tuple[date, date]:
    """The last full period before ``at`` (aware) for ``frequency``, in ``timezone``'s calendar:
    ``[first day, day after the last)``. Daily: the local day before ``at``'s local date; weekly: the last
    full Monday–Sunday week; monthly: the last full calendar month."""
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    today = at.astimezone(ZoneInfo(timezone)).date()
    if frequency == "daily":
        return today - timedelta(days=1), today
    if frequency == "weekly":
        monday = today - timedelta(days=today.weekday())
        return monday - timedelta(days=7), monday
    if frequency == "monthly":
        end = today.replace(day=1)
        return (end - timedelta(days=1)).replace(day=1), end
    raise ValueError(f"unknown frequency {frequency!r}")


class ScheduleRow(Protocol):
    """The recurrence columns every schedule table has."""

    id: uuid.UUID
    frequency: str
    day_of_week: int | None
    day_of_month: int | None
    time_of_day: str
    timezone: str
    enabled: bool


def row_recurrence(row: ScheduleRow) -> Recurrence:
    """The recurrence a schedule row stores."""
    hour, minute = (int(part) for part in row.time_of_day.split(":"))
    return Recurrence(
        frequency=row.frequency,  # type: ignore[arg-type]  # the CHECK constraint keeps it one of three
        hour=hour,
        minute=minute,
        timezone=row.timezone,
        day_of_week=row.day_of_week,
        day_of_month=row.day_of_month,
    )


def recurrence_columns(recurrence: Recurrence) -> dict[str, Any]:
    """The row columns that store ``recurrence``."""
    return {
        "frequency": recurrence.frequency,
        "day_of_week": recurrence.day_of_week,
        "day_of_month": recurrence.day_of_month,
        "time_of_day": recurrence.time,
        "timezone": recurrence.timezone,
    }


def schedule_name(name: str | None, generated: str, error: type[ValueError]) -> str:
    """The name given (trimmed), else ``generated``; ``error`` naming ``name`` when too long."""
    clean = (name or "").strip() or generated
    if len(clean) > NAME_LENGTH:
        raise error(f"name: at most {NAME_LENGTH} characters")
    return clean


R = TypeVar("R")


class ScheduleRows(Generic[R]):
    """The rows of one schedule table of one organisation (module contract)."""

    def __init__(
        self,
        session: Session,
        organization_id: uuid.UUID,
        model: type[R],
        not_found: Callable[[uuid.UUID], Exception],
    ) -> None:
        self.session = session
        self.organization_id = organization_id
        self.model = model
        self._not_found = not_found

    def _column(self, name: str) -> InstrumentedAttribute[Any]:
        column: InstrumentedAttribute[Any] = getattr(self.model, name)
        return column

    def row(self, schedule_id: uuid.UUID) -> R:
        """The row, or the not-found error for an id that is not this organisation's."""
        row = self.session.scalars(
            select(self.model).where(
                self._column("organization_id") == self.organization_id, self._column("id") == schedule_id
            )
        ).first()
        if row is None:
            raise self._not_found(schedule_id)
        return row

    def rows(self) -> Sequence[R]:
        """Every row of the organisation, newest first."""
        query = (
            select(self.model)
            .where(self._column("organization_id") == self.organization_id)
            .order_by(self._column("created_at").desc(), self._column("id").desc())
        )
        return list(self.session.scalars(query))

    def insert(
        self,
        columns: Mapping[str, Any],
        temporal_id: Callable[[uuid.UUID], str],
        *,
        created_by: uuid.UUID | None,
        now: datetime,
    ) -> R:
        """Insert a new, enabled schedule row of ``columns`` (checked by the caller) whose Temporal Schedule
        id is ``temporal_id(its id)``; nothing fires it yet."""
        schedule_id = uuid.uuid4()
        make: Callable[..., R] = self.model
        row = make(
            id=schedule_id,
            organization_id=self.organization_id,
            **columns,
            enabled=True,
            temporal_schedule_id=temporal_id(schedule_id),
            created_by=created_by,
            created_at=now,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def set_enabled(self, schedule_id: uuid.UUID, enabled: bool) -> R:
        """Record that the schedule runs (``True``) or is paused (``False``)."""
        row = self.row(schedule_id)
        setattr(row, "enabled", enabled)  # noqa: B010  # R is any schedule row class
        self.session.flush()
        return row

    def delete(self, schedule_id: uuid.UUID) -> None:
        """Delete the row (its runs stay, unlinked)."""
        self.session.delete(self.row(schedule_id))
        self.session.flush()


def run_at(
    session: Session,
    organization_id: uuid.UUID,
    run_model: type[R],
    schedule_id: uuid.UUID,
    time_column: str,
    at: datetime,
) -> R | None:
    """The run ``schedule_id`` recorded for the fire time ``at`` (its ``time_column``), if any."""
    query = select(run_model).where(
        getattr(run_model, "organization_id") == organization_id,  # noqa: B009
        getattr(run_model, "schedule_id") == schedule_id,  # noqa: B009
        getattr(run_model, time_column) == at,
    )
    return session.scalars(query).first()


__all__ = [
    "FREQUENCIES",
    "RECURRENCE_FIELDS",
    "Frequency",
    "Recurrence",
    "ScheduleRows",
    "check_recurrence",
    "recurrence_columns",
    "recurrence_from",
    "row_recurrence",
    "run_at",
    "schedule_name",
    "scheduled_period",
]
