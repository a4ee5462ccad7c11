"""Report tools: ``report_templates``, ``generate_report`` and ``report_status`` (issue #19).

Contract (the same service and checks as the Reports REST API, ``cloudoptima_gateway.routes.reports``):
- ``report_templates`` (``read:reports``): every template of ``cloudoptima.services.report_catalog`` with its
  parameters.
- ``generate_report`` (``create:reports``): ``Reports.request`` checks template, parameters, format and
  delivery before anything starts; a bad request is a :class:`ToolInputError` whose message starts with the
  field at fault (``template_id``, ``parameters.<name>``, ``format``, ``delivery.method``,
  ``delivery.recipients``), exactly the REST 422's field and message. The report row is committed, then the
  ``GenerateReport`` workflow is started through ``ToolContext.start_report``; if it cannot be started the
  report is marked failed and the tool raises :class:`ToolUnavailableError` (no report is left generating).
  ``wait_seconds`` (0-60) re-reads the report until it is no longer ``generating`` or the time is up, so one
  call can answer the ``download_url``; the answer always carries the report as it stands.
- ``report_status`` (``read:reports``): one report of the caller's organisation (another organisation's id
  is reported like an unknown one) with status, error, resolved parameters, delivery, size and SHA-256.
- ``download_url``: the signed link (absolute when ``public_url`` is configured) only while the report is
  completed and unexpired, and only when the caller holds ``export:data``; otherwise None.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from cloudoptima.services.report_catalog import TEMPLATES
from cloudoptima.services.report_inputs import ReportInputError
from cloudoptima.services.reports import ReportNotFound, Reports, ReportsConfig, ReportView
from cloudoptima_tools.context import ReportStart, ToolContext
from cloudoptima_tools.platform.ids import parse_id
from cloudoptima_tools.spec import (
    ToolInput,
    ToolInputError,
    ToolNotFoundError,
    ToolSpec,
    ToolUnavailableError,
)

MAX_WAIT_SECONDS = 60
POLL_SECONDS = 0.25


# ---- templates -----------------------------------------------------------------------------------------


class TemplateParameter(BaseModel):
    name: str
    type: str = Field(description="date, string, integer or boolean")
    description: str
    required: bool
    default: str | int | bool | None


class ReportTemplateInfo(BaseModel):
    id: str
    name: str
    description: str
    parameters: list[TemplateParameter]


class TemplatesInput(ToolInput):
    """No arguments."""


class TemplatesOutput(BaseModel):
    templates: list[ReportTemplateInfo]


def report_templates(ctx: ToolContext, params: TemplatesInput) -> TemplatesOutput:
    return TemplatesOutput(
        templates=[ReportTemplateInfo.model_validate(t.as_dict()) for t in TEMPLATES.values()]
    )


# ---- reports -------------------------------------------------------------------------------------------


class ReportDelivery(ToolInput):
    method: Literal["download", "email", "s3"] = "download"
    recipients: list[str] = Field(
        default_factory=list, max_length=50, description="email only: 1-50 addresses the report is sent to"
    )


class GenerateReportInput(ToolInput):
    template_id: str = Field(min_length=1, max_length=64, description="One of report_templates.")
    parameters: dict[str, Any] = Field(
        default_factory=dict,
        description="The template's parameters; a period template without start_date/end_date covers the "
        "last full calendar month (end_date is exclusive).",
    )
    format: Literal["pdf", "excel", "csv", "json"] = "pdf"
    delivery: ReportDelivery = Field(default_factory=ReportDelivery)
    wait_seconds: int = Field(
        default=0,
        ge=0,
        le=MAX_WAIT_SECONDS,
        description="Wait up to this long for the report to finish (answers download_url when it does).",
    )


class ReportStatusInput(ToolInput):
    report_id: str = Field(description="The report_id generate_report answered.")


class ReportStatusOutput(BaseModel):
    report_id: uuid.UUID
    template_id: str
    status: str = Field(description="generating, completed or failed")
    error: str | None = Field(description="Why generation failed.")
    parameters: dict[str, Any] = Field(description="The resolved parameters (the period actually covered).")
    format: str
    delivery_method: str
    recipients: list[str]
    delivery_status: str | None = Field(description="email/s3: pending, delivered or failed")
    delivery_error: str | None
    content_type: str | None
    size_bytes: int | None
    sha256: str | None
    created_at: datetime
    completed_at: datetime | None
    expires_at: datetime | None
    download_url: str | None = Field(
        description="Signed link while completed and unexpired, for callers with export:data."
    )


def _config(ctx: ToolContext) -> ReportsConfig:
    if ctx.reports is None:
        raise ToolUnavailableError("reports are not configured on this server")
    return ctx.reports


def _status(ctx: ToolContext, service: Reports, view: ReportView) -> ReportStatusOutput:
    link = service.download_url(view, ctx.now()) if ctx.can("export:data") else None
    return ReportStatusOutput(
        report_id=view.id,
        template_id=view.template_id,
        status=view.status,
        error=view.error,
        parameters=view.parameters,
        format=view.format,
        delivery_method=view.delivery_method,
        recipients=list(view.delivery.get("recipients", [])),
        delivery_status=view.delivery_status,
        delivery_error=view.delivery_error,
        content_type=view.content_type,
        size_bytes=view.size_bytes,
        sha256=view.sha256,
        created_at=view.created_at,
        completed_at=view.completed_at,
        expires_at=view.expires_at,
        download_url=link,
    )


def _read(ctx: ToolContext, report_id: uuid.UUID) -> ReportStatusOutput:
    config = _config(ctx)
    with ctx.read_session() as session:
        service = Reports(session, ctx.organization_id, config)
        try:
            view = service.get(report_id)
        except ReportNotFound:
            raise ToolNotFoundError(f"report {report_id} not found") from None
        return _status(ctx, service, view)


def _requester(ctx: ToolContext) -> uuid.UUID | None:
    try:
        return uuid.UUID(ctx.principal.removeprefix("user:")) if ctx.principal.startswith("user:") else None
    except ValueError:
        return None


def generate_report(ctx: ToolContext, params: GenerateReportInput) -> ReportStatusOutput:
    config = _config(ctx)
    if ctx.start_report is None:
        raise ToolUnavailableError("report generation needs the workflow service (Temporal), not configured")
    now = ctx.now()
    try:
        with ctx.session() as session:
            view = Reports(session, ctx.organization_id, config).request(
                params.template_id,
                params.parameters,
                params.format,
                params.delivery.model_dump(),
                now=now,
                requested_by=_requester(ctx),
            )
    except ReportInputError as exc:
        raise ToolInputError(str(exc)) from None
    try:
        ctx.start_report(ReportStart(organization_id=ctx.organization_id, report_id=view.id))
    except Exception as exc:  # nothing started: the report would stay generating forever
        with ctx.session() as session:
            Reports(session, ctx.organization_id, config).fail(
                view.id, f"could not start generating: {exc}", now
            )
        raise ToolUnavailableError("the workflow service is unavailable; try again") from exc
    deadline = time.monotonic() + params.wait_seconds
    current = _read(ctx, view.id)
    while current.status == "generating" and time.monotonic() < deadline:
        time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))
        current = _read(ctx, view.id)
    return current


def report_status(ctx: ToolContext, params: ReportStatusInput) -> ReportStatusOutput:
    return _read(ctx, parse_id(params.report_id, "report"))


TOOLS: list[ToolSpec[Any, Any]] = [
    ToolSpec(
        name="report_templates",
        domain="platform",
        title="Report templates",
        description=(
            "The report templates generate_report builds, each with its parameters (name, type, required, "
            "default).\n"
            "Example: {}"
        ),
        input_model=TemplatesInput,
        output_model=TemplatesOutput,
        handler=report_templates,
        permission="read:reports",
        max_output_tokens=4_000,
    ),
    ToolSpec(
        name="generate_report",
        domain="platform",
        title="Generate a report",
        description=(
            "Generate a report from a template as pdf, excel, csv or json, for download, by email or to S3. "
            "Answers report_id and status (generating); with wait_seconds it waits for the result and "
            "answers the signed download_url when completed.\n"
            'Example: {"template_id": "monthly_cost_review", "parameters": {"start_date": "2026-10-01", '
            '"end_date": "2026-11-01"}, "format": "json", "wait_seconds": 30}'
        ),
        input_model=GenerateReportInput,
        output_model=ReportStatusOutput,
        handler=generate_report,
        permission="create:reports",
        read_only=False,
        idempotent=False,
        long_running=True,
        max_output_tokens=4_000,
    ),
    ToolSpec(
        name="report_status",
        domain="platform",
        title="Report status and download link",
        description=(
            "One report: status (generating, completed, failed), error, resolved parameters, delivery, size "
            "and, while completed and unexpired, the signed download_url (needs export:data).\n"
            'Example: {"report_id": "0b6c8a1e-3f4d-4c2a-9d3e-1a2b3c4d5e6f"}'
        ),
        input_model=ReportStatusInput,
        output_model=ReportStatusOutput,
        handler=report_status,
        permission="read:reports",
        max_output_tokens=4_000,
    ),
]
