"""Cost exports (#21), over :mod:`cloudoptima.services.cost_export_schedules` and the Temporal Schedule of each
export schedule (:mod:`cloudoptima_gateway.export_schedule_temporal`).

- ``POST /v1/exports/run`` (``export:data``): one export (dataset ``focus_raw`` | ``daily`` |
  ``allocated_daily``, ``csv`` | ``parquet``, ``month`` | ``day`` partitions, end-exclusive period,
  ``focus_version`` ``1.2`` | ``1.3`` for ``focus_raw``, folder or S3 destination) recorded ``queued`` and
  handed to the ``RunCostExport`` workflow on the reports queue (the schedules' queue); answers 202 with the
  run at once. The run then goes ``running`` and ends ``succeeded`` with its manifest or ``failed`` with the
  reason (no manifest is published then): ``GET /v1/exports/runs/{export_run_id}``. Bad input is a 422 naming the
  field; when the workflow service cannot be reached the run is recorded ``failed`` and the answer is 503.
- ``GET /v1/exports/runs`` (``read:costs``): runs newest first (``schedule_id`` filters, ``limit`` ≤ 200);
  ``GET /v1/exports/runs/{export_run_id}``: one run (404 for another organisation's).
- ``POST /v1/exports/schedules`` (``export:data``): checks everything (422 naming the field), records the
  schedule and creates its Temporal Schedule; if Temporal cannot, the row is deleted again and the answer is
  503. ``GET /v1/exports/schedules`` and ``/{id}`` (``read:costs``) show Temporal's paused state and next run
  times. ``PATCH /v1/exports/schedules/{id}`` (``export:data``) checks the whole result, then Temporal, then
  the row. ``POST .../{id}/pause`` and ``/resume``: Temporal first, then the row. ``DELETE .../{id}``: the
  Temporal Schedule, then the row (its runs stay); 204.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, TypeVar

from fastapi import APIRouter, Query, Response, status
from temporalio.common import WorkflowIDReusePolicy

from cloudoptima.services.cost_export_schedules import (
    ExportInputError,
    ExportRunNotFound,
    ExportRunView,
    ExportScheduleNotFound,
    ExportSchedules,
    ExportScheduleView,
    check_request,
    exports_config_from_settings,
)
from cloudoptima_gateway import export_schedule_temporal as temporal
from cloudoptima_gateway.audit import AuditedRoute
from cloudoptima_gateway.deps import Permission, Principal, RuntimeDep
from cloudoptima_gateway.runtime import Runtime
from cloudoptima_gateway.schedule_routes import (
    TEMPORAL_ERRORS,
    UNAVAILABLE,
    create_or_undo,
    in_org,
    invalid_field,
    on_temporal,
    recurrence_fields,
    state_fields,
    temporal_state,
    unavailable,
)
from cloudoptima_gateway.schemas.common import not_found
from cloudoptima_gateway.schemas.exports import (
    ExportRunIn,
    ExportRunList,
    ExportRunOut,
    ExportScheduleIn,
    ExportScheduleList,
    ExportScheduleOut,
    ExportSchedulePatch,
    RecurrenceOut,
)
from cloudoptima_workflows.exports.inputs import (
    RUN_EXPORT_WORKFLOW,
    QueuedExportInput,
    run_export_workflow_id,
)
from cloudoptima_workflows.queues import REPORTS

_log = logging.getLogger(__name__)
router = APIRouter(prefix="/exports", tags=["exports"], route_class=AuditedRoute)
Reader = Annotated[Principal, Permission("read:costs")]
Exporter = Annotated[Principal, Permission("export:data")]
T = TypeVar("T")


async def _in_org(runtime: Runtime, org: uuid.UUID, work: Callable[[ExportSchedules], T]) -> T:
    """Run ``work`` on the organisation's export schedules in a committed session, off the event loop."""
    config = exports_config_from_settings(runtime.settings)
    return await in_org(runtime, org, lambda session: ExportSchedules(session, org, config), work)


async def _found(runtime: Runtime, org: uuid.UUID, schedule_id: uuid.UUID) -> ExportScheduleView:
    try:
        return await _in_org(runtime, org, lambda schedules: schedules.get(schedule_id))
    except ExportScheduleNotFound:
        raise not_found("export schedule", schedule_id) from None


async def _state(runtime: Runtime, view: ExportScheduleView) -> temporal.TemporalScheduleState | None:
    return await temporal_state(runtime, view.temporal_schedule_id)


def _out(view: ExportScheduleView, state: temporal.TemporalScheduleState | None) -> ExportScheduleOut:
    return ExportScheduleOut(
        schedule_id=view.id,
        name=view.name,
        dataset=view.dataset,
        format=view.format,
        partition=view.partition,
        destination=view.destination,
        schedule=RecurrenceOut(**recurrence_fields(view.recurrence)),
        enabled=view.enabled,
        **state_fields(state),
        temporal_schedule_id=view.temporal_schedule_id,
        created_at=view.created_at,
        focus_version=view.focus_version,
    )


def _run_out(run: ExportRunView) -> ExportRunOut:
    return ExportRunOut(
        run_id=run.id,
        schedule_id=run.schedule_id,
        dataset=run.dataset,
        format=run.format,
        partition=run.partition,
        period_start=run.period_start,
        period_end=run.period_end,
        destination=run.destination,
        status=run.status,  # type: ignore[arg-type]  # the CHECK constraint keeps it one of three
        error=run.error,
        manifest=run.manifest,
        started_at=run.started_at,
        finished_at=run.finished_at,
        focus_version=run.focus_version,
    )


@router.post("/run", status_code=status.HTTP_202_ACCEPTED, response_model=ExportRunOut)
async def run_export_now(body: ExportRunIn, runtime: RuntimeDep, principal: Exporter) -> ExportRunOut:
    """Queue an export and answer the queued run; a workflow runs it (module docstring)."""
    org = principal.organization_id
    now = datetime.now(UTC)

    def queue(schedules: ExportSchedules) -> ExportRunView:
        request = check_request(
            body.dataset, body.format, body.partition, body.start, body.end, body.focus_version
        )
        spec = schedules.checked_destination(body.destination)
        return schedules.queue_run(request, spec, now=now, requested_by=principal.user_id)

    try:
        run = await _in_org(runtime, org, queue)
    except ExportInputError as exc:
        raise invalid_field(exc) from None
    try:
        client = await runtime.temporal()
        await client.start_workflow(
            RUN_EXPORT_WORKFLOW,
            QueuedExportInput(run_id=str(run.id), organization_id=str(org)),
            id=run_export_workflow_id(str(run.id)),
            task_queue=REPORTS,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except TEMPORAL_ERRORS as exc:
        _log.warning("could not start the export run %s: %s", run.id, exc)
        await _in_org(runtime, org, lambda schedules: schedules.fail_queued(run.id, UNAVAILABLE, now))
        raise unavailable() from None
    return _run_out(run)


@router.get("/runs/{export_run_id}", response_model=ExportRunOut)
async def get_run(export_run_id: uuid.UUID, principal: Reader, runtime: RuntimeDep) -> ExportRunOut:
    """One run: its status (``queued``, ``running``, ``succeeded``, ``failed``), error and manifest."""
    try:
        run = await _in_org(
            runtime, principal.organization_id, lambda schedules: schedules.run(export_run_id)
        )
    except ExportRunNotFound:
        raise not_found("export run", export_run_id) from None
    return _run_out(run)


@router.get("/runs", response_model=ExportRunList)
async def list_runs(
    principal: Reader,
    runtime: RuntimeDep,
    schedule_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ExportRunList:
    """Runs newest first, with status, error and manifest."""
    runs = await _in_org(
        runtime, principal.organization_id, lambda s: s.runs(schedule_id=schedule_id, limit=limit)
    )
    return ExportRunList(items=[_run_out(run) for run in runs])


@router.post("/schedules", status_code=status.HTTP_201_CREATED, response_model=ExportScheduleOut)
async def create_schedule(
    body: ExportScheduleIn, runtime: RuntimeDep, principal: Exporter
) -> ExportScheduleOut:
    """Schedule a recurring export (module docstring); answers with its next run times."""
    org = principal.organization_id
    now = datetime.now(UTC)

    def record(schedules: ExportSchedules) -> ExportScheduleView:
        return schedules.create(
            dataset=body.dataset,
            format=body.format,
            partition=body.partition,
            destination=body.destination,
            recurrence=ExportSchedules.recurrence(body.schedule),
            now=now,
            name=body.name,
            created_by=principal.user_id,
            focus_version=body.focus_version,
        )

    try:
        view = await _in_org(runtime, org, record)
    except ExportInputError as exc:
        raise invalid_field(exc) from None
    await create_or_undo(
        runtime,
        lambda client: temporal.create(client, view, str(org)),
        lambda: _in_org(runtime, org, lambda schedules: schedules.delete(view.id)),
        str(view.id),
    )
    return _out(view, await _state(runtime, view))


@router.get("/schedules", response_model=ExportScheduleList)
async def list_schedules(principal: Reader, runtime: RuntimeDep) -> ExportScheduleList:
    """The organisation's export schedules, newest first, with their next run times."""
    views = await _in_org(runtime, principal.organization_id, lambda schedules: schedules.list())
    return ExportScheduleList(items=[_out(view, await _state(runtime, view)) for view in views])


@router.get("/schedules/{export_schedule_id}", response_model=ExportScheduleOut)
async def get_schedule(
    export_schedule_id: uuid.UUID, principal: Reader, runtime: RuntimeDep
) -> ExportScheduleOut:
    """One schedule with Temporal's paused state and next run times."""
    view = await _found(runtime, principal.organization_id, export_schedule_id)
    return _out(view, await _state(runtime, view))


@router.patch("/schedules/{export_schedule_id}", response_model=ExportScheduleOut)
async def update_schedule(
    export_schedule_id: uuid.UUID, body: ExportSchedulePatch, runtime: RuntimeDep, principal: Exporter
) -> ExportScheduleOut:
    """Change a schedule: the whole result checked, then Temporal, then the row (module docstring)."""
    org = principal.organization_id
    schedule_id = export_schedule_id
    changes = body.model_dump(exclude_unset=True)
    await _found(runtime, org, schedule_id)

    def plan(schedules: ExportSchedules) -> ExportScheduleView:
        view = schedules.update(schedule_id, changes)
        schedules.session.rollback()  # checked only: the row is written after Temporal accepted it
        return view

    try:
        planned = await _in_org(runtime, org, plan)
    except ExportInputError as exc:
        raise invalid_field(exc) from None
    await on_temporal(
        runtime,
        lambda client: temporal.update(client, planned, str(org)),
        f"update the Temporal schedule of {schedule_id}",
    )
    view = await _in_org(runtime, org, lambda schedules: schedules.update(schedule_id, changes))
    return _out(view, await _state(runtime, view))


async def _pause(
    runtime: Runtime, principal: Principal, schedule_id: uuid.UUID, paused: bool
) -> ExportScheduleOut:
    org = principal.organization_id
    view = await _found(runtime, org, schedule_id)
    await on_temporal(
        runtime,
        lambda client: temporal.set_paused(client, view, paused),
        f"{'pause' if paused else 'resume'} {view.temporal_schedule_id}",
    )
    view = await _in_org(runtime, org, lambda schedules: schedules.set_enabled(schedule_id, not paused))
    return _out(view, await _state(runtime, view))


@router.post("/schedules/{export_schedule_id}/pause", response_model=ExportScheduleOut)
async def pause_schedule(
    export_schedule_id: uuid.UUID, runtime: RuntimeDep, principal: Exporter
) -> ExportScheduleOut:
    """Pause the schedule (Temporal first, then the row)."""
    return await _pause(runtime, principal, export_schedule_id, True)


@router.post("/schedules/{export_schedule_id}/resume", response_model=ExportScheduleOut)
async def resume_schedule(
    export_schedule_id: uuid.UUID, runtime: RuntimeDep, principal: Exporter
) -> ExportScheduleOut:
    """Resume the schedule (Temporal first, then the row)."""
    return await _pause(runtime, principal, export_schedule_id, False)


@router.delete("/schedules/{export_schedule_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_schedule(
    export_schedule_id: uuid.UUID, runtime: RuntimeDep, principal: Exporter
) -> Response:
    """Delete the Temporal Schedule, then the row (its runs stay)."""
    org, schedule_id = principal.organization_id, export_schedule_id
    view = await _found(runtime, org, schedule_id)
    await on_temporal(
        runtime,
        lambda client: temporal.delete(client, view.temporal_schedule_id),
        f"delete {view.temporal_schedule_id}",
    )
    await _in_org(runtime, org, lambda schedules: schedules.delete(schedule_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
