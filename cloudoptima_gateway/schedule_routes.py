"""What the report schedule and cost export schedule routes share: a schedule service in a committed
tenant session off the event loop, the Temporal client and a schedule's Temporal state, a Temporal change
that answers 503 when the workflow service cannot be reached, 422s naming the field, and the recurrence and
Temporal state fields of their answers.

Contract:
- :func:`in_org` runs ``work`` on the service ``make`` builds from a tenant session of the organisation,
  committed when ``work`` returns (rolled back when it raises), in a worker thread.
- :func:`temporal_state` is None when Temporal cannot be asked (an answer still shows the row);
  :func:`on_temporal` raises the 503 :data:`UNAVAILABLE` when the client cannot connect or the change fails
  (logged with ``what``); :func:`create_or_undo` runs ``undo`` (the row is deleted again) before that 503.
- :func:`invalid_field` turns an input error ``"<field>: <message>"`` into the 422 at ``body.<field>``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import HTTPException, status
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client
from temporalio.service import RPCError

from cloudoptima.services.schedules_common import Recurrence
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_gateway.report_schedule_temporal import TemporalScheduleState, describe
from cloudoptima_gateway.runtime import Runtime
from cloudoptima_gateway.schemas.common import invalid

_log = logging.getLogger(__name__)
S = TypeVar("S")
T = TypeVar("T")
UNAVAILABLE = "the workflow service is unavailable; try again"
TEMPORAL_ERRORS = (RPCError, OSError, RuntimeError)


def unavailable() -> HTTPException:
    """The 503 answered when the workflow service cannot be reached."""
    return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=UNAVAILABLE)


def invalid_field(exc: ValueError) -> HTTPException:
    """The 422 of an input error whose message starts with the field it names."""
    field, _, message = str(exc).partition(": ")
    return invalid(field, message or str(exc), "body")


async def in_org(runtime: Runtime, org: uuid.UUID, make: Callable[[Session], S], work: Callable[[S], T]) -> T:
    """Run ``work`` on the organisation's service in a committed session, off the event loop."""

    def run() -> T:
        with tenant_session(runtime.sessions(), org) as session:
            return work(make(session))

    return await run_in_threadpool(run)


async def temporal_client(runtime: Runtime) -> Client:
    """The Temporal client, or the 503 when it cannot connect."""
    try:
        return await runtime.temporal()
    except TEMPORAL_ERRORS as exc:
        _log.warning("the workflow service is unreachable: %s", exc)
        raise unavailable() from None


async def temporal_state(runtime: Runtime, temporal_id: str) -> TemporalScheduleState | None:
    """Temporal's view of the schedule, or None when it cannot be asked (the answer still shows the row)."""
    try:
        return await describe(await runtime.temporal(), temporal_id)
    except TEMPORAL_ERRORS as exc:
        _log.warning("could not describe %s: %s", temporal_id, exc)
        return None


async def on_temporal(runtime: Runtime, change: Callable[[Client], Awaitable[T]], what: str) -> T:
    """``change`` applied through the Temporal client; the 503 (logged as ``could not <what>``) if not."""
    client = await temporal_client(runtime)
    try:
        return await change(client)
    except TEMPORAL_ERRORS as exc:
        _log.warning("could not %s: %s", what, exc)
        raise unavailable() from None


async def create_or_undo(
    runtime: Runtime,
    create: Callable[[Client], Awaitable[None]],
    undo: Callable[[], Awaitable[Any]],
    what: str,
) -> None:
    """Create the Temporal Schedule of a recorded row; if Temporal cannot, ``undo`` (delete the row) and
    answer the 503: never one without the other."""
    try:
        await create(await runtime.temporal())
    except TEMPORAL_ERRORS as exc:
        _log.warning("could not create the Temporal schedule of %s: %s", what, exc)
        await undo()
        raise unavailable() from None


def recurrence_fields(recurrence: Recurrence) -> dict[str, Any]:
    """The ``schedule`` object of an answer."""
    return {
        "frequency": recurrence.frequency,
        "day_of_week": recurrence.day_of_week,
        "day_of_month": recurrence.day_of_month,
        "time": recurrence.time,
        "timezone": recurrence.timezone,
    }


def state_fields(state: TemporalScheduleState | None) -> dict[str, Any]:
    """``paused`` (None when Temporal could not be asked or has no such schedule) and ``next_run_times``."""
    return {
        "paused": state.paused if state is not None and state.exists else None,
        "next_run_times": state.next_action_times if state is not None else [],
    }


__all__ = [
    "TEMPORAL_ERRORS",
    "UNAVAILABLE",
    "create_or_undo",
    "in_org",
    "invalid_field",
    "on_temporal",
    "recurrence_fields",
    "state_fields",
    "temporal_client",
    "temporal_state",
    "unavailable",
]
