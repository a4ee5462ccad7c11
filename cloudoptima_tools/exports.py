"""``export_runs``: the organisation's recent cost exports (#21) and whether they can be used.

Contract (over :class:`cloudoptima.services.cost_export_schedules.ExportSchedules`, what ``GET
/v1/exports/runs`` uses; permission ``read:costs``; read-only): the newest runs first (at most ``limit``, 1–50,
default 10), each with dataset, format, period (end-exclusive), status, error, destination and, for a
succeeded run, the manifest's summary (files, rows, ``BilledCost`` per currency, FOCUS version) without the
per-file list (the REST API and ``manifest.json`` have it). ``schedule_id`` narrows to one schedule.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from cloudoptima.services.cost_export_schedules import ExportRunView, ExportSchedules, ExportsConfig
from cloudoptima_tools.context import ToolContext
from cloudoptima_tools.spec import ToolInput, ToolInputError, ToolSpec


class ExportRunsInput(ToolInput):
    limit: int = Field(default=10, ge=1, le=50, description="How many runs, newest first (1-50).")
    schedule_id: str | None = Field(default=None, description="Only this export schedule's runs (uuid).")


class ExportRunSummary(BaseModel):
    run_id: str
    schedule_id: str | None
    dataset: str
    format: str
    period_start: date
    period_end: date
    status: str
    error: str | None
    destination: dict[str, Any]
    files: int | None = None
    rows: int | None = None
    billed_cost: dict[str, str] | None = None
    focus_version: str | None = None
    started_at: datetime


class ExportRunsOutput(BaseModel):
    runs: list[ExportRunSummary]


def _summary(run: ExportRunView) -> ExportRunSummary:
    manifest = run.manifest or {}
    return ExportRunSummary(
        run_id=str(run.id),
        schedule_id=str(run.schedule_id) if run.schedule_id else None,
        dataset=run.dataset,
        format=run.format,
        period_start=run.period_start,
        period_end=run.period_end,
        status=run.status,
        error=run.error,
        destination=run.destination,
        files=len(manifest["files"]) if "files" in manifest else None,
        rows=manifest.get("rows"),
        billed_cost=manifest.get("billed_cost"),
        focus_version=manifest.get("focus_version") or run.focus_version,
        started_at=run.started_at,
    )


def export_runs(ctx: ToolContext, params: ExportRunsInput) -> ExportRunsOutput:
    schedule: uuid.UUID | None = None
    if params.schedule_id is not None:
        try:
            schedule = uuid.UUID(params.schedule_id)
        except ValueError:
            raise ToolInputError(f"schedule_id: not a uuid: {params.schedule_id!r}") from None
    with ctx.read_session() as session:
        # Listing runs resolves no destination: the folder root and the cipher are not used.
        schedules = ExportSchedules(session, ctx.organization_id, ExportsConfig(root=Path("/nonexistent")))
        runs = schedules.runs(schedule_id=schedule, limit=params.limit)
    return ExportRunsOutput(runs=[_summary(run) for run in runs])


TOOLS: list[ToolSpec[Any, Any]] = [
    ToolSpec(
        name="export_runs",
        domain="platform",
        title="Cost export runs",
        description=(
            "Recent scheduled and one-off cost exports (raw FOCUS 1.2 or 1.3 rows, daily or allocated daily "
            "rollups as CSV/Parquet to a folder or S3): status (queued, running, succeeded, failed), error, "
            "period and the manifest's totals (rows, "
            "BilledCost per currency) so a reader can check an export is complete.\n"
            'Example: {"limit": 5}'
        ),
        input_model=ExportRunsInput,
        output_model=ExportRunsOutput,
        handler=export_runs,
        permission="read:costs",
        example={"limit": 5},
    ),
]
