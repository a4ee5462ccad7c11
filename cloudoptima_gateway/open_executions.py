"""One open execution per recommendation: the check ``apply`` (REST) runs before starting another.

:func:`refuse_if_open` raises 409 naming the open execution (id and state) when the recommendation already
has an unfinished, non-dry-run execution. The remediation's plan activity refuses a second one again
(``cloudoptima_workflows.remediation.progress``), so two requests racing past this check cannot both act.
"""

from __future__ import annotations

import uuid

from fastapi import HTTPException, status
from starlette.concurrency import run_in_threadpool

from cloudoptima.services.executions import ExecutionService
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_gateway.runtime import Runtime


async def refuse_if_open(runtime: Runtime, organization_id: uuid.UUID, recommendation_id: uuid.UUID) -> None:
    """409 when ``recommendation_id`` has an open execution (see module docstring)."""

    def find() -> tuple[str, str] | None:
        with tenant_session(runtime.sessions(), organization_id) as session:
            row = ExecutionService(session, organization_id).open_execution_of(recommendation_id)
            return None if row is None else (str(row.id), row.status)

    found = await run_in_threadpool(find)
    if found is not None:
        execution_id, state = found
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"recommendation {recommendation_id} already has an open execution {execution_id} "
            f"({state}); follow it at /v1/executions/{execution_id}",
        )
