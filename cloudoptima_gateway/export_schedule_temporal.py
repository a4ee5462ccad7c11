"""The Temporal Schedule behind each cost export schedule, built and managed with the report schedules'
helpers (:mod:`cloudoptima_gateway.report_schedule_temporal`: the schedule and its calendar spec in the
schedule's own IANA zone, replace, pause, delete, describe).

Each export schedule ``<uuid>`` has the Temporal Schedule ``cloudoptima-export-<uuid>``; each run starts the
``ScheduledCostExport`` workflow on the ``reports`` queue, overlapping runs skipped.
"""

from __future__ import annotations

from temporalio.client import Client, Schedule

from cloudoptima.services.cost_export_schedules import ExportScheduleView
from cloudoptima_gateway.report_schedule_temporal import (
    TemporalScheduleState,
    delete,
    describe,
    pause,
    recurring_schedule,
    replace,
)
from cloudoptima_workflows.exports.inputs import SCHEDULED_EXPORT_WORKFLOW, ScheduledExportInput

__all__ = [
    "TemporalScheduleState",
    "create",
    "delete",
    "describe",
    "set_paused",
    "temporal_schedule",
    "update",
]


def temporal_schedule(view: ExportScheduleView, organization_id: str) -> Schedule:
    """The whole Temporal Schedule of an export schedule (module docstring)."""
    return recurring_schedule(
        view,
        SCHEDULED_EXPORT_WORKFLOW,
        ScheduledExportInput(schedule_id=str(view.id), organization_id=organization_id),
        "cost export schedule",
    )


async def create(client: Client, view: ExportScheduleView, organization_id: str) -> None:
    """Create the Temporal Schedule (raises the client's error if it cannot)."""
    await client.create_schedule(view.temporal_schedule_id, temporal_schedule(view, organization_id))


async def update(client: Client, view: ExportScheduleView, organization_id: str) -> Schedule:
    """Replace the Temporal Schedule's spec and action with ``view``'s, keeping its paused state; returns
    the schedule as it was before."""
    return await replace(client, view.temporal_schedule_id, temporal_schedule(view, organization_id))


async def set_paused(client: Client, view: ExportScheduleView, paused: bool) -> None:
    """Pause or unpause the Temporal Schedule, noting why."""
    await pause(client, view.temporal_schedule_id, paused, "Exports")
