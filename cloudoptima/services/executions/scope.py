"""What the execution reads and rollbacks share: the organisation's session, its executions, an execution's
row and its recorded events, and the progress ledger (``execution_events``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloudoptima.services.execution_progress import ExecutionProgress
from cloudoptima.storage.models import ExecutionEvent, PolicyExecution
from cloudoptima.storage.tenancy import TenantRepository


class Executions(TenantRepository[PolicyExecution]):
    model = PolicyExecution


def event_index(event: ExecutionEvent) -> int:
    """The step index an event is keyed by (-1 when its key is not a number)."""
    try:
        return int(event.key)
    except ValueError:
        return -1


class ExecutionScope:
    """The executions of one organisation over one session (the caller owns the transaction)."""

    def __init__(
        self,
        session: Session,
        organization_id: uuid.UUID,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._session = session
        self._org = organization_id
        self._now = now
        self._executions = Executions(session, organization_id)
        self._progress = ExecutionProgress(session, organization_id, now=now)

    def row(self, execution_id: uuid.UUID) -> PolicyExecution:
        """The execution row; ``LookupError`` when absent (or of another organisation)."""
        row = self._executions.get(execution_id)
        if row is None:
            raise LookupError(f"execution {execution_id} not found")
        return row

    def _events(self, execution_id: uuid.UUID) -> list[ExecutionEvent]:
        return list(
            self._session.scalars(
                select(ExecutionEvent)
                .where(
                    ExecutionEvent.organization_id == self._org, ExecutionEvent.execution_id == execution_id
                )
                .order_by(ExecutionEvent.at, ExecutionEvent.id)
            )
        )
