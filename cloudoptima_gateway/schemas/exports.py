"""Request and response bodies of ``/v1/exports`` (cost exports, their schedules and runs)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ExportRunIn(BaseModel):
    """A one-off export: dataset, format, partitioning, the end-exclusive period and the destination
    (``{"kind": "folder", "path"}`` or ``{"kind": "s3", "bucket", "prefix", "endpoint_url", "region",
    "credentials_account_id"}``)."""

    model_config = ConfigDict(extra="forbid")

    dataset: str = "focus_raw"
    format: str = "parquet"
    partition: str = "month"
    start: date
    end: date
    focus_version: str | None = None
    """``1.2`` (the default) or ``1.3``: the FOCUS version of ``focus_raw`` columns (that dataset only)."""
    destination: dict[str, Any] = Field(default_factory=lambda: {"kind": "folder", "path": "."})


class ExportScheduleIn(BaseModel):
    """A recurring export; ``schedule`` is ``{frequency, time, timezone, day_of_week?, day_of_month?}`` as
    for report schedules. Each run covers the last full day/week/month before it in that zone."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    dataset: str = "focus_raw"
    format: str = "parquet"
    partition: str = "month"
    focus_version: str | None = None
    """``1.2`` (the default) or ``1.3``: the FOCUS version of ``focus_raw`` columns (that dataset only)."""
    destination: dict[str, Any] = Field(default_factory=lambda: {"kind": "folder", "path": "."})
    schedule: dict[str, Any]


class ExportSchedulePatch(BaseModel):
    """Only the fields to change (``schedule`` holds only the recurrence fields to change)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    dataset: str | None = None
    format: str | None = None
    partition: str | None = None
    focus_version: str | None = None
    destination: dict[str, Any] | None = None
    schedule: dict[str, Any] | None = None


class RecurrenceOut(BaseModel):
    frequency: Literal["daily", "weekly", "monthly"]
    day_of_week: int | None
    day_of_month: int | None
    time: str
    timezone: str


class ExportScheduleOut(BaseModel):
    schedule_id: uuid.UUID
    name: str
    dataset: str
    format: str
    partition: str
    destination: dict[str, Any]
    schedule: RecurrenceOut
    enabled: bool
    paused: bool | None
    """Temporal's paused state (None when the workflow service could not be asked)."""
    temporal_schedule_id: str
    next_run_times: list[datetime]
    created_at: datetime
    focus_version: str | None = None
    """FOCUS version of ``focus_raw`` columns (None: 1.2 or another dataset)."""


class ExportScheduleList(BaseModel):
    items: list[ExportScheduleOut]


class ExportRunOut(BaseModel):
    run_id: uuid.UUID
    schedule_id: uuid.UUID | None
    dataset: str
    format: str
    partition: str
    period_start: date
    period_end: date
    """End-exclusive."""
    destination: dict[str, Any]
    status: Literal["queued", "running", "succeeded", "failed"]
    """``queued`` (recorded, its workflow not started yet) -> ``running`` -> ``succeeded`` | ``failed``."""
    error: str | None
    manifest: dict[str, Any] | None
    """The published ``manifest.json`` (files with rows, bytes and SHA-256; BilledCost per currency)."""
    started_at: datetime
    """When the run was asked for (queued) or, scheduled, its due time."""
    finished_at: datetime | None
    focus_version: str | None = None
    """FOCUS version of ``focus_raw`` columns (None: 1.2 or another dataset)."""


class ExportRunList(BaseModel):
    items: list[ExportRunOut]
