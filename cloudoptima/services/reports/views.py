"""A report as the API shows it (:class:`ReportView`), the formats the API takes and how they render."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from cloudoptima.reports.renderers import FILE_SUFFIXES, ReportFormat
from cloudoptima.storage.models import ReportRow

ApiFormat = Literal["pdf", "excel", "csv", "json"]
API_FORMATS: tuple[ApiFormat, ...] = ("pdf", "excel", "csv", "json")
RENDER_FORMATS: dict[str, ReportFormat] = {"pdf": "pdf", "excel": "xlsx", "csv": "csv", "json": "json"}


@dataclass(frozen=True)
class ReportView:
    """A report as the API shows it."""

    id: uuid.UUID
    template_id: str
    parameters: dict[str, Any]
    format: str
    delivery: dict[str, Any]
    status: str
    error: str | None
    schedule_id: uuid.UUID | None
    requested_by: uuid.UUID | None
    content_type: str | None
    size_bytes: int | None
    sha256: str | None
    delivery_status: str | None
    delivery_error: str | None
    created_at: datetime
    completed_at: datetime | None
    expires_at: datetime | None
    artifact_key: str | None

    @property
    def delivery_method(self) -> str:
        return str(self.delivery.get("method", "download"))

    @property
    def filename(self) -> str:
        """The file name people get: ``<template>-<first day>-<last day><suffix>``."""
        suffix = FILE_SUFFIXES[RENDER_FORMATS[self.format]]
        start, end = self.parameters.get("start_date"), self.parameters.get("end_date")
        period = ""
        if isinstance(start, str) and isinstance(end, str):
            last = date.fromisoformat(end) - timedelta(days=1)
            period = f"-{start}-{last.isoformat()}"
        return f"{self.template_id}{period}{suffix}"

    def downloadable(self, now: datetime) -> bool:
        """Completed, with an artifact, and not expired at ``now``."""
        return (
            self.status == "completed"
            and self.artifact_key is not None
            and self.expires_at is not None
            and now < self.expires_at
        )


def view_of(row: ReportRow) -> ReportView:
    """The :class:`ReportView` of a stored row."""
    return ReportView(
        id=row.id,
        template_id=row.template_id,
        parameters=dict(row.parameters),
        format=row.format,
        delivery=dict(row.delivery),
        status=row.status,
        error=row.error,
        schedule_id=row.schedule_id,
        requested_by=row.requested_by,
        content_type=row.content_type,
        size_bytes=row.size_bytes,
        sha256=row.sha256,
        delivery_status=row.delivery_status,
        delivery_error=row.delivery_error,
        created_at=row.created_at,
        completed_at=row.completed_at,
        expires_at=row.expires_at,
        artifact_key=row.artifact_key,
    )
