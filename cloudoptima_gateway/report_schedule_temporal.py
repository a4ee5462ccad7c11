"""The Temporal Schedule behind each report schedule: built from its recurrence, created, paused, resumed,
updated (spec and action replaced, state kept), described and deleted through the Temporal client.

Each report schedule ``<uuid>`` has the Temporal Schedule ``cloudoptima-report-<uuid>`` (the row's
``temporal_schedule_id``): a calendar spec at the schedule's hour and minute (every day; on its weekday; on
its day of the month) evaluated in the schedule's own time zone (``time_zone_name``, so 08:00 Europe/Berlin
stays 08:00 local across daylight saving time), overlapping runs skipped, each run starting the
``ScheduledReport`` workflow on the ``reports`` queue.

The helpers that do not depend on what a schedule runs (:func:`recurring_schedule`, :func:`replace`,
:func:`restore`, :func:`pause`, :func:`delete`, :func:`describe`) serve cost export schedules too
(``cloudoptima_gateway.export_schedule_temporal``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

from cloudoptima.services.report_schedules import ReportScheduleView
from cloudoptima.services.schedules_common import Recurrence
from cloudoptima_workflows.queues import REPORTS
from cloudoptima_workflows.reports.inputs import SCHEDULED_REPORT_WORKFLOW, ScheduledReportInput


def temporal_day_of_week(day: int) -> int:
    """Our day (0 = Monday … 6 = Sunday) as Temporal's calendar counts it (0 = Sunday … 6 = Saturday)."""
    return (day + 1) % 7


class Recurring(Protocol):
    """A schedule row's view as :func:`calendar_spec` reads it (report and cost export schedules)."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def recurrence(self) -> Recurrence: ...


def calendar_spec(view: Recurring, kind: str = "report schedule") -> ScheduleSpec:
    """The schedule's recurrence as a Temporal calendar spec in its time zone (``kind`` names it in the
    calendar's comment)."""
    recurrence = view.recurrence
    calendar = ScheduleCalendarSpec(
        second=[ScheduleRange(0)],
        minute=[ScheduleRange(recurrence.minute)],
        hour=[ScheduleRange(recurrence.hour)],
        day_of_month=[ScheduleRange(recurrence.day_of_month)]
        if recurrence.day_of_month is not None
        else [ScheduleRange(1, 31)],
        day_of_week=[ScheduleRange(temporal_day_of_week(recurrence.day_of_week))]
        if recurrence.day_of_week is not None
        else [ScheduleRange(0, 6)],
        comment=f"{kind} {view.id}",
    )
    return ScheduleSpec(calendars=[calendar], time_zone_name=recurrence.timezone)


class Scheduled(Recurring, Protocol):
    """A schedule row's view as :func:`recurring_schedule` reads it."""

    @property
    def temporal_schedule_id(self) -> str: ...

    @property
    def enabled(self) -> bool: ...

    @property
    def name(self) -> str: ...


def recurring_schedule(view: Scheduled, workflow: str, argument: Any, kind: str) -> Schedule:
    """The whole Temporal Schedule of a schedule row: ``workflow(argument)`` on the ``reports`` queue at
    each time of its recurrence (:func:`calendar_spec`), overlapping runs skipped, paused unless enabled."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            workflow, argument, id=view.temporal_schedule_id, task_queue=REPORTS
        ),
        spec=calendar_spec(view, kind),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
        state=ScheduleState(paused=not view.enabled, note=view.name),
    )


def temporal_schedule(view: ReportScheduleView, organization_id: str) -> Schedule:
    """The whole Temporal Schedule of a report schedule (module docstring)."""
    return recurring_schedule(
        view,
        SCHEDULED_REPORT_WORKFLOW,
        ScheduledReportInput(schedule_id=str(view.id), organization_id=organization_id),
        "report schedule",
    )


@dataclass(frozen=True)
class TemporalScheduleState:
    """What Temporal says about a schedule: paused or not, and its next action times (UTC)."""

    exists: bool
    paused: bool
    next_action_times: list[datetime]


async def create(client: Client, view: ReportScheduleView, organization_id: str) -> None:
    """Create the Temporal Schedule (raises the client's error if it cannot)."""
    await client.create_schedule(view.temporal_schedule_id, temporal_schedule(view, organization_id))


async def update(client: Client, view: ReportScheduleView, organization_id: str) -> Schedule:
    """Replace the Temporal Schedule's spec and action with ``view``'s, keeping its state (paused or not,
    and its note). Returns the schedule as it was before, for :func:`restore`."""
    return await replace(client, view.temporal_schedule_id, temporal_schedule(view, organization_id))


async def replace(client: Client, temporal_id: str, replacement: Schedule) -> Schedule:
    """Replace the Temporal Schedule's spec and action with ``replacement``'s, keeping its state (paused or
    not, and its note). Returns the schedule as it was before, for :func:`restore`."""
    before: list[Schedule] = []

    def updater(given: ScheduleUpdateInput) -> ScheduleUpdate:
        current = given.description.schedule
        before.append(current)
        replacement.state = current.state
        return ScheduleUpdate(schedule=replacement)

    await client.get_schedule_handle(temporal_id).update(updater)
    return before[-1]


async def restore(client: Client, temporal_id: str, schedule: Schedule) -> None:
    """Put ``schedule`` (what :func:`update` returned) back, keeping the current state."""

    def updater(given: ScheduleUpdateInput) -> ScheduleUpdate:
        schedule.state = given.description.schedule.state
        return ScheduleUpdate(schedule=schedule)

    await client.get_schedule_handle(temporal_id).update(updater)


async def set_paused(client: Client, view: ReportScheduleView, paused: bool) -> None:
    """Pause or unpause the Temporal Schedule, noting why."""
    await pause(client, view.temporal_schedule_id, paused, "Reports")


async def pause(client: Client, temporal_id: str, paused: bool, api: str) -> None:
    """Pause or unpause the Temporal Schedule, noting that the ``api`` API did it."""
    handle = client.get_schedule_handle(temporal_id)
    if paused:
        await handle.pause(note=f"paused through the {api} API")
    else:
        await handle.unpause(note=f"resumed through the {api} API")


async def delete(client: Client, temporal_id: str) -> None:
    """Delete the Temporal Schedule; one already gone is fine."""
    try:
        await client.get_schedule_handle(temporal_id).delete()
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise


async def describe(client: Client, temporal_id: str) -> TemporalScheduleState:
    """Paused state and next action times; ``exists=False`` when Temporal has no such schedule."""
    try:
        description = await client.get_schedule_handle(temporal_id).describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return TemporalScheduleState(exists=False, paused=False, next_action_times=[])
        raise
    return TemporalScheduleState(
        exists=True,
        paused=description.schedule.state.paused,
        next_action_times=list(description.info.next_action_times),
    )
