"""Report schedule bodies (seed §3 ``POST /reports/schedule``): the recurrence, the request and the answer."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from cloudoptima_gateway.schemas.common import Schema, StrictBody
from cloudoptima_gateway.schemas.reports import DeliveryIn, ReportOut


class RecurrenceIn(StrictBody):
    frequency: str = Field(description="daily, weekly or monthly")
    day_of_week: int | None = Field(default=None, description="weekly: 0 = Monday … 6 = Sunday")
    day_of_month: int | None = Field(default=None, description="monthly: 1 … 28")
    time: str = Field(description="HH:MM (24-hour) in the time zone")
    timezone: str = Field(default="UTC", max_length=64, description="IANA name, e.g. Europe/Berlin")


class ReportScheduleIn(StrictBody):
    template_id: str = Field(min_length=1, max_length=64, description="one of GET /v1/reports/templates")
    parameters: dict[str, Any] = Field(
        default_factory=dict,
        description="the template's parameters except start_date/end_date: each run covers the last full "
        "day, week (Monday-Sunday) or month before it, by frequency, in the schedule's time zone",
    )
    schedule: RecurrenceIn
    recipients: list[str] = Field(
        default_factory=list, max_length=50, description="email recipients (without delivery: email them)"
    )
    format: Literal["pdf", "excel", "csv", "json"] = "pdf"
    delivery: DeliveryIn | None = Field(
        default=None, description="default: email to recipients, else download"
    )
    name: str | None = Field(default=None, max_length=200)


class RecurrencePatch(StrictBody):
    """Only the recurrence fields to change; the others keep their values (a new frequency drops the day
    field the old one took unless it is given)."""

    frequency: str | None = Field(default=None, description="daily, weekly or monthly")
    day_of_week: int | None = Field(default=None, description="weekly: 0 = Monday … 6 = Sunday")
    day_of_month: int | None = Field(default=None, description="monthly: 1 … 28")
    time: str | None = Field(default=None, description="HH:MM (24-hour) in the time zone")
    timezone: str | None = Field(default=None, max_length=64, description="IANA name, e.g. Europe/Berlin")


class ReportSchedulePatch(StrictBody):
    """Only the fields to change; the whole resulting schedule is checked as on create."""

    name: str | None = Field(default=None, max_length=200)
    template_id: str | None = Field(default=None, min_length=1, max_length=64)
    parameters: dict[str, Any] | None = Field(
        default=None, description="replaces the parameters (no start_date/end_date)"
    )
    format: Literal["pdf", "excel", "csv", "json"] | None = None
    delivery: DeliveryIn | None = None
    recipients: list[str] | None = Field(
        default=None,
        max_length=50,
        description="replaces an email delivery's recipients; on another delivery, alone, means email",
    )
    schedule: RecurrencePatch | None = None


class RecurrenceOut(Schema):
    frequency: str
    day_of_week: int | None
    day_of_month: int | None
    time: str
    timezone: str


class ReportScheduleOut(Schema):
    schedule_id: uuid.UUID
    name: str
    template_id: str
    parameters: dict[str, Any]
    format: str
    delivery_method: str
    recipients: list[str]
    schedule: RecurrenceOut
    enabled: bool = Field(description="false while paused")
    paused: bool | None = Field(description="what Temporal says (null if it could not be asked)")
    temporal_schedule_id: str
    next_run_times: list[datetime] = Field(description="the next runs Temporal plans (UTC)")
    created_at: datetime


class ReportScheduleDetail(ReportScheduleOut):
    runs: list[ReportOut] = Field(description="the schedule's reports, newest first")


class ReportScheduleList(Schema):
    items: list[ReportScheduleOut]
