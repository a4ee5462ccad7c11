"""The Temporal Schedule behind each cost export schedule, built and managed with the report schedules'
helpers (:mod:`cloudoptima_gateway.report_schedule_temporal`: the calendar spec in the schedule's own IANA
zone, delete, describe).

Each export schedule ``<uuid>`` has the Temporal Schedule ``cloudoptima-export-<uuid>``; each run starts the
``ScheduledCostExport`` workflow on the ``reports`` queue, overlapping runs skipped.
"""

from __future__ import annotations

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from cloudoptima.services.cost_export_schedules import ExportScheduleView
from cloudoptima_gateway.report_schedule_temporal import (
    TemporalScheduleState,
    calendar_spec,
    delete,
    describe,
)
from cloudoptima_workflows.exports.inputs import SCHEDULED_EXPORT_WORKFLOW, ScheduledExportInput
from cloudoptima_workflows.queues import REPORTS

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
    return Schedule(
        action=ScheduleActionStartWorkflow(
            SCHEDULED_EXPORT_WORKFLOW,
            ScheduledExportInput(schedule_id=str(view.id), organization_id=organization_id),
            id=view.temporal_schedule_id,
            task_queue=REPORTS,
        ),
        spec=calendar_spec(view, "cost export schedule"),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
        state=ScheduleState(paused=not view.enabled, note=view.name),
    )


async def create(client: Client, view: ExportScheduleView, organization_id: str) -> None:
    """Create the Temporal Schedule (raises the client's error if it cannot)."""
    await client.create_schedule(view.temporal_schedule_id, temporal_schedule(view, organization_id))


async def update(client: Client, view: ExportScheduleView, organization_id: str) -> None:
    """Replace the Temporal Schedule's spec and action with ``view``'s, keeping its paused state."""

    def updater(given: ScheduleUpdateInput) -> ScheduleUpdate:
        replacement = temporal_schedule(view, organization_id)
        replacement.state = given.description.schedule.state
        return ScheduleUpdate(schedule=replacement)

    await client.get_schedule_handle(view.temporal_schedule_id).update(updater)


async def set_paused(client: Client, view: ExportScheduleView, paused: bool) -> None:
    """Pause or unpause the Temporal Schedule, noting why."""
    handle = client.get_schedule_handle(view.temporal_schedule_id)
    if paused:
        await handle.pause(note="paused through the Exports API")
    else:
        await handle.unpause(note="resumed through the Exports API")
