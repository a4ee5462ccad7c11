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


class ExportRunOutcome(Message):
    """The recorded run (None: the schedule no longer exists), its status and error."""

    run_id: str | None
    status: str | None = None
    error: str | None = None
