"""Scheduled reports (seed §3 ``POST /reports/schedule``), over :mod:`cloudoptima.services.report_schedules`
and the Temporal Schedule of each (:mod:`cloudoptima_gateway.report_schedule_temporal`).

- ``POST /v1/reports/schedule`` (``create:reports``): checks the template, parameters (no start/end: each
  run covers the last full day/week/month before it in the schedule's zone), format, delivery/recipients
  and the recurrence (a 422 naming ``schedule.<field>`` or the field), records the schedule, creates its
  Temporal Schedule and answers 201 with the schedule and its next run times. If Temporal cannot create it,
  the row is deleted again and the answer is 503: never one without the other.
- ``GET /v1/reports/schedules`` and ``GET /v1/reports/schedules/{schedule_id}`` (``read:reports``): the
  schedules with Temporal's paused state and next run times; one schedule also lists its runs (its reports,
  newest first, shown as ``GET /v1/reports/{id}`` shows them).
- ``POST /v1/reports/schedules/{schedule_id}/pause`` and ``/resume`` (``create:reports``): Temporal first,
  then the row's ``enabled``; 503 (nothing changed) if Temporal cannot be reached.
- ``PATCH /v1/reports/schedules/{schedule_id}`` (``create:reports``): changes any of ``name``,
  ``template_id``, ``parameters``, ``format``, ``delivery``, ``recipients`` and ``schedule`` (only the
  recurrence fields given); the whole result is checked as on create (a 422 naming the field, nothing
  changed). Temporal first (its spec and action replaced, its paused state kept), then the row; if the row
  cannot be written the Temporal Schedule is put back, and if Temporal cannot be reached the answer is 503
  with nothing changed. Answers the schedule with its new next run times.
- ``DELETE /v1/reports/schedules/{schedule_id}`` (``create:reports``): deletes the Temporal Schedule, then the
  row (its reports stay); 204.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, TypeVar

from fastapi import APIRouter, Response, status
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from cloudoptima.services.report_inputs import ReportInputError
from cloudoptima.services.report_schedules import (
    ReportScheduleNotFound,
    ReportSchedules,
    ReportScheduleView,
    validate_recurrence,
)
from cloudoptima.services.reports import reports_config_from_settings
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_gateway import report_schedule_temporal as temporal
from cloudoptima_gateway.audit import AuditedRoute
from cloudoptima_gateway.deps import Permission, Principal, RuntimeDep
from cloudoptima_gateway.routes.reports import _out as report_out
from cloudoptima_gateway.routes.reports import _service as report_service
from cloudoptima_gateway.runtime import Runtime
from cloudoptima_gateway.schedule_routes import (
    TEMPORAL_ERRORS,
    create_or_undo,
    in_org,
    invalid_field,
    on_temporal,
    recurrence_fields,
    state_fields,
    temporal_client,
    temporal_state,
)
from cloudoptima_gateway.schemas.common import not_found
from cloudoptima_gateway.schemas.report_schedules import (
    RecurrenceOut,
    ReportScheduleDetail,
    ReportScheduleIn,
    ReportScheduleList,
    ReportScheduleOut,
    ReportSchedulePatch,
)
from cloudoptima_gateway.schemas.reports import ReportOut

_log = logging.getLogger(__name__)
router = APIRouter(prefix="/reports", tags=["reports"], route_class=AuditedRoute)
Reader = Annotated[Principal, Permission("read:reports")]
Creator = Annotated[Principal, Permission("create:reports")]
T = TypeVar("T")


async def _in_org(runtime: Runtime, org: uuid.UUID, work: Callable[[ReportSchedules], T]) -> T:
    """Run ``work`` on the organisation's schedules in a committed session, off the event loop."""
    config = reports_config_from_settings(runtime.settings)
    return await in_org(runtime, org, lambda session: ReportSchedules(session, org, config), work)


async def _found(runtime: Runtime, org: uuid.UUID, schedule_id: uuid.UUID) -> ReportScheduleView:
    try:
        return await _in_org(runtime, org, lambda schedules: schedules.get(schedule_id))
    except ReportScheduleNotFound:
        raise not_found("report schedule", schedule_id) from None


async def _state(runtime: Runtime, view: ReportScheduleView) -> temporal.TemporalScheduleState | None:
    """Temporal's view of the schedule, or None when it cannot be asked (the answer still shows the row)."""
    return await temporal_state(runtime, view.temporal_schedule_id)


def _out(view: ReportScheduleView, state: temporal.TemporalScheduleState | None) -> ReportScheduleOut:
    return ReportScheduleOut(
        schedule_id=view.id,
        name=view.name,
        template_id=view.template_id,
        parameters=view.parameters,
        format=view.format,
        delivery_method=str(view.delivery.get("method", "download")),
        recipients=view.recipients,
        schedule=RecurrenceOut(**recurrence_fields(view.recurrence)),
        enabled=view.enabled,
        **state_fields(state),
        temporal_schedule_id=view.temporal_schedule_id,
        created_at=view.created_at,
    )


@router.post("/schedule", status_code=status.HTTP_201_CREATED, response_model=ReportScheduleOut)
async def create_schedule(
    body: ReportScheduleIn, runtime: RuntimeDep, principal: Creator
) -> ReportScheduleOut:
    """Schedule a recurring report (module docstring); answers with its next run times."""
    org = principal.organization_id
    now = datetime.now(UTC)

    def record(schedules: ReportSchedules) -> ReportScheduleView:
        recurrence = validate_recurrence(
            body.schedule.frequency,
            body.schedule.time,
            body.schedule.timezone,
            day_of_week=body.schedule.day_of_week,
            day_of_month=body.schedule.day_of_month,
        )
        return schedules.create(
            template_id=body.template_id,
            parameters=body.parameters,
            format=body.format,
            delivery=body.delivery.model_dump() if body.delivery is not None else None,
            recipients=body.recipients,
            recurrence=recurrence,
            now=now,
            name=body.name,
            created_by=principal.user_id,
        )

    try:
        view = await _in_org(runtime, org, record)
    except ReportInputError as exc:
        raise invalid_field(exc) from None
    await create_or_undo(
        runtime,
        lambda client: temporal.create(client, view, str(org)),
        lambda: _in_org(runtime, org, lambda schedules: schedules.delete(view.id)),
        str(view.id),
    )
    return _out(view, await _state(runtime, view))


@router.get("/schedules", response_model=ReportScheduleList)
async def list_schedules(principal: Reader, runtime: RuntimeDep) -> ReportScheduleList:
    """The organisation's report schedules, newest first, with their next run times."""
    views = await _in_org(runtime, principal.organization_id, lambda schedules: schedules.list())
    return ReportScheduleList(items=[_out(view, await _state(runtime, view)) for view in views])


@router.get("/schedules/{schedule_id}", response_model=ReportScheduleDetail)
async def get_schedule(
    schedule_id: uuid.UUID, principal: Reader, runtime: RuntimeDep
) -> ReportScheduleDetail:
    """One schedule with its next run times and its runs (newest first)."""
    org = principal.organization_id
    now = datetime.now(UTC)

    def read(session: Session) -> tuple[ReportScheduleView, list[ReportOut]]:
        config = reports_config_from_settings(runtime.settings)
        schedules = ReportSchedules(session, org, config)
        view = schedules.get(schedule_id)
        service = report_service(runtime, session, org)
        return view, [report_out(service, run, principal, now) for run in schedules.runs(schedule_id)]

    def run() -> tuple[ReportScheduleView, list[ReportOut]]:
        with tenant_session(runtime.sessions(), org) as session:
            return read(session)

    try:
        view, runs = await run_in_threadpool(run)
    except ReportScheduleNotFound:
        raise not_found("report schedule", schedule_id) from None
    summary = _out(view, await _state(runtime, view))
    return ReportScheduleDetail.model_validate({**summary.model_dump(), "runs": runs})


async def _set_paused(
    runtime: Runtime, principal: Principal, schedule_id: uuid.UUID, paused: bool
) -> ReportScheduleOut:
    org = principal.organization_id
    view = await _found(runtime, org, schedule_id)
    await on_temporal(
        runtime,
        lambda client: temporal.set_paused(client, view, paused),
        f"{'pause' if paused else 'resume'} {view.temporal_schedule_id}",
    )
    updated = await _in_org(runtime, org, lambda schedules: schedules.set_enabled(schedule_id, not paused))
    return _out(updated, await _state(runtime, updated))


@router.post("/schedules/{schedule_id}/pause", response_model=ReportScheduleOut)
async def pause_schedule(
    schedule_id: uuid.UUID, principal: Creator, runtime: RuntimeDep
) -> ReportScheduleOut:
    """Pause the schedule: no run fires until it is resumed."""
    return await _set_paused(runtime, principal, schedule_id, True)


@router.post("/schedules/{schedule_id}/resume", response_model=ReportScheduleOut)
async def resume_schedule(
    schedule_id: uuid.UUID, principal: Creator, runtime: RuntimeDep
) -> ReportScheduleOut:
    """Resume a paused schedule (runs missed while paused are not caught up)."""
    return await _set_paused(runtime, principal, schedule_id, False)


@router.patch("/schedules/{schedule_id}", response_model=ReportScheduleOut)
async def update_schedule(
    schedule_id: uuid.UUID, body: ReportSchedulePatch, principal: Creator, runtime: RuntimeDep
) -> ReportScheduleOut:
    """Change the schedule (module docstring); answers it with its new next run times."""
    org = principal.organization_id
    now = datetime.now(UTC)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("schedule") is None:
        changes.pop("schedule", None)
    try:
        planned = await _in_org(
            runtime, org, lambda schedules: schedules.plan_update(schedule_id, changes, now)
        )
    except ReportScheduleNotFound:
        raise not_found("report schedule", schedule_id) from None
    except ReportInputError as exc:
        raise invalid_field(exc) from None
    client = await temporal_client(runtime)
    before = await on_temporal(
        runtime,
        lambda _: temporal.update(client, planned, str(org)),
        f"update {planned.temporal_schedule_id}",
    )
    try:
        updated = await _in_org(runtime, org, lambda schedules: schedules.update(schedule_id, changes, now))
    except BaseException as exc:  # the row is unchanged: put Temporal's schedule back before answering
        try:
            await temporal.restore(client, planned.temporal_schedule_id, before)
        except TEMPORAL_ERRORS as restore_exc:
            _log.error(
                "could not restore %s after the row update failed: %s",
                planned.temporal_schedule_id,
                restore_exc,
            )
        if isinstance(exc, ReportScheduleNotFound):  # deleted meanwhile
            raise not_found("report schedule", schedule_id) from None
        if isinstance(exc, ReportInputError):  # changed meanwhile so that the result no longer passes
            raise invalid_field(exc) from None
        raise
    return _out(updated, await _state(runtime, updated))


@router.delete("/schedules/{schedule_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_schedule(schedule_id: uuid.UUID, principal: Creator, runtime: RuntimeDep) -> Response:
    """Delete the schedule and its Temporal Schedule (its past reports stay)."""
    org = principal.organization_id
    view = await _found(runtime, org, schedule_id)
    await on_temporal(
        runtime,
        lambda client: temporal.delete(client, view.temporal_schedule_id),
        f"delete {view.temporal_schedule_id}",
    )
    with contextlib.suppress(ReportScheduleNotFound):  # deleted concurrently: both are gone, as asked
        await _in_org(runtime, org, lambda schedules: schedules.delete(schedule_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
