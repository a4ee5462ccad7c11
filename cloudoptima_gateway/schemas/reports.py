"""Reports API bodies: templates, a generation request, and reports with their status and download link."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from cloudoptima_gateway.schemas.common import Schema, StrictBody


class TemplateParameterOut(Schema):
    name: str
    type: str = Field(description="date, string, integer or boolean")
    description: str
    required: bool
    default: str | int | bool | None


class TemplateOut(Schema):
    id: str
    name: str
    description: str
    parameters: list[TemplateParameterOut]


class TemplateList(Schema):
    templates: list[TemplateOut]


class DeliveryIn(StrictBody):
    method: Literal["download", "email", "s3"] = "download"
    recipients: list[str] = Field(
        default_factory=list, max_length=50, description="email only: 1-50 addresses the report is sent to"
    )


class ReportRequestIn(StrictBody):
    template_id: str = Field(min_length=1, max_length=64, description="one of GET /v1/reports/templates")
    parameters: dict[str, Any] = Field(
        default_factory=dict,
        description="the template's parameters; a period template without start_date/end_date covers the "
        "last full calendar month",
    )
    format: Literal["pdf", "excel", "csv", "json"] = "pdf"
    delivery: DeliveryIn = Field(default_factory=DeliveryIn)


class ReportAccepted(Schema):
    report_id: uuid.UUID
    status: str = Field(description="generating: poll GET /v1/reports/{report_id}")


class ReportOut(Schema):
    id: uuid.UUID
    template_id: str
    parameters: dict[str, Any] = Field(description="the resolved parameters (the period actually covered)")
    format: str
    status: str = Field(description="generating, completed or failed")
    error: str | None = Field(description="why generation failed")
    delivery_method: str
    recipients: list[str]
    delivery_status: str | None = Field(description="email/s3: pending, delivered or failed")
    delivery_error: str | None
    schedule_id: uuid.UUID | None
    content_type: str | None
    size_bytes: int | None
    sha256: str | None
    created_at: datetime
    completed_at: datetime | None
    expires_at: datetime | None
    download_url: str | None = Field(
        description="signed link, while completed and unexpired, for callers with export:data"
    )


class ReportList(Schema):
    items: list[ReportOut]
