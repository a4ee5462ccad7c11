"""What the scheduled cost export workflow and activity take and return."""

from __future__ import annotations

from datetime import datetime

from cloudoptima_workflows.message import Message

SCHEDULED_EXPORT_WORKFLOW = "ScheduledCostExport"
"""The workflow type each export schedule's Temporal Schedule starts (on the ``reports`` queue)."""


class ScheduledExportInput(Message):
    """One run of the export schedule ``schedule_id`` (what its Temporal Schedule passes)."""

    schedule_id: str
    organization_id: str


class ScheduledExportRunInput(ScheduledExportInput):
    """Run the export due at ``now``: the last full period before it in the schedule's zone."""

    now: datetime


RUN_EXPORT_WORKFLOW = "RunCostExport"
"""The workflow type ``POST /v1/exports/run`` starts for a queued run (on the ``reports`` queue)."""


def run_export_workflow_id(run_id: str) -> str:
    """The workflow id of queued run ``run_id`` (one workflow per run)."""
    return f"cloudoptima-export-run-{run_id}"


class QueuedExportInput(Message):
    """Run the queued export run ``run_id`` of ``organization_id``."""

    run_id: str
    organization_id: str


class ExportRunOutcome(Message):
    """The recorded run (None: the schedule no longer exists), its status and error."""

    run_id: str | None
    status: str | None = None
    error: str | None = None
