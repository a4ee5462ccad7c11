"""The remediation workflow's state and how it advances: what the ``status`` query shows, the log, and the
recording of each stage in the ``policy_executions`` row (``remediation.record``) before the query shows it.

:class:`RemediationProgress` is the base of ``RemediationWorkflow`` (deterministic: the only I/O is the
``record`` activity).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

import cloudoptima_workflows.remediation.inputs as i
from cloudoptima.domain.remediation import RemediationState
from cloudoptima_workflows.remediation.interface import RemediationActivityInterface

__all__ = ["RECORD_RETRY", "RemediationProgress"]

RECORD_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=1))
"""Recording a stage or an audit row retries until the database takes it."""


class RemediationProgress:
    """The state of one remediation run, and the recording of its stages."""

    def __init__(self) -> None:
        self._state = RemediationState.QUEUED
        # the state being written to the database right now (None when no write is in flight)
        self._recording: RemediationState | None = None
        self._execution_id = ""
        self._plan: i.PlanView | None = None
        self._decision: i.DecisionRecord | None = None
        self._steps: list[i.StepResult] = []
        self._verifications: list[i.VerifyResult] = []
        self._rollbacks: list[i.RollbackResult] = []
        self._logs: list[str] = []
        self._error: str | None = None
        self._expires_at: datetime | None = None
        self._scheduled_for: datetime | None = None
        self._organization_id = ""
        self._requested_by = ""
        self._approvals: list[i.DecisionRecord] = []
        self._approvals_needed = 1
        self._received = 0

    def _status(self) -> i.RemediationStatus:
        """The plan and the progress so far (the ``status`` query)."""
        return i.RemediationStatus(
            workflow_id=workflow.info().workflow_id,
            execution_id=self._execution_id,
            state=self._state,
            plan=self._plan,
            decision=self._decision,
            steps=list(self._steps),
            verifications=list(self._verifications),
            rollbacks=list(self._rollbacks),
            logs=list(self._logs),
            error=self._error,
            expires_at=self._expires_at,
            scheduled_for=self._scheduled_for,
            approvals=list(self._approvals),
            approvals_needed=self._approvals_needed,
        )

    def _log(self, message: str) -> None:
        self._logs.append(f"{workflow.now().isoformat()} {message}")

    async def _record(
        self, state: RemediationState, *, error: str | None = None, affected: int | None = None
    ) -> None:
        """Write ``state`` to the execution row, then show it in the ``status`` query: a reader of the query
        never sees a state the database (REST, the approvals list) does not have yet."""
        if error is not None:
            self._error = error
        self._recording = state
        await workflow.execute_activity_method(
            RemediationActivityInterface.record,
            i.RecordInput(
                organization_id=self._organization_id,
                execution_id=self._execution_id,
                state=state,
                logs=list(self._logs),
                decision=self._decision,
                expires_at=self._expires_at,
                resources_affected=affected,
                error=error,
            ),
            start_to_close_timeout=timedelta(minutes=1),
            retry_policy=RECORD_RETRY,
        )
        self._state = state
        self._recording = None

    async def _finish(
        self, state: RemediationState, *, error: str | None = None, affected: int | None = None
    ) -> i.RemediationStatus:
        self._log(f"finished: {state}" + (f" ({error})" if error else ""))
        await self._record(state, error=error, affected=affected)
        return self._status()
