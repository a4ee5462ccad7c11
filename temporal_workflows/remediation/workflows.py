"""The remediation workflow: plan (dry run + impact) → pending approval → (scheduled) → execute → verify →
roll back on failure, recording a ``policy_executions`` row at every stage.

Contract:

- Nothing executes unless the plan was built, passed its safety controls (no plan problem; with
  ``dry_run_first`` every step validated) and either a valid approval arrived before the TTL or the plan
  does not require one (decided by the plan activity from the request, the safety controls and the
  requester's role). A ``dry_run`` request stops after the plan.
- Decisions: the ``decide`` Update (its validator refuses a second decision, a decision while not pending,
  and an approver whose role lacks the plan's risk permission) or the ``approve`` / ``reject`` Signals
  (same checks; an invalid signal is logged and ignored). Rejection needs the same permission as approval.
- Each step runs as its own activity with the idempotency key ``{workflow_id}/step-{index}``, so a retried
  activity never acts twice. After all steps, each is verified by re-reading state. A refused step, an
  exhausted retry or a failed verification stops execution; with ``rollback_enabled`` the steps that
  succeeded are rolled back in reverse order (irreversible ones are reported).
- Cancelling the workflow while it waits (approval or schedule) ends it as ``cancelled``.
- Activities are referenced by name; this module imports only temporalio and its inputs.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from temporal_workflows.remediation import inputs as i

_QUICK = RetryPolicy(maximum_attempts=5, maximum_interval=timedelta(seconds=30))
_RECORD = RetryPolicy(maximum_interval=timedelta(minutes=1))
_ACT = RetryPolicy(maximum_attempts=5, maximum_interval=timedelta(minutes=1))


def _failure(exc: ActivityError) -> str:
    cause = exc.cause
    return str(cause.message if cause is not None and hasattr(cause, "message") else exc)


@workflow.defn(name="Remediation")
class RemediationWorkflow:
    def __init__(self) -> None:
        self._state = i.QUEUED
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

    # -- status and decisions -------------------------------------------------------------------------

    @workflow.query
    def status(self) -> i.RemediationStatus:
        """The plan and the progress so far."""
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
        )

    def _refusal(self, approver: i.Approver) -> str | None:
        """Why a decision by ``approver`` cannot be accepted now, or None."""
        if self._decision is not None:
            verb = "approved" if self._decision.approve else "rejected"
            return f"a decision was already made: {verb} by {self._decision.approver.user_id}"
        if self._state != i.PENDING_APPROVAL or self._plan is None:
            return f"the remediation is not waiting for approval (state {self._state})"
        if not approver.user_id:
            return "the approver's user id is required"
        if approver.role not in self._plan.approver_roles:
            allowed = ", ".join(self._plan.approver_roles)
            return (
                f"role {approver.role!r} may not decide a {self._plan.risk_level}-risk remediation; "
                f"allowed roles: {allowed}"
            )
        return None

    def _accept(self, approve: bool, comment: str, approver: i.Approver, channel: str) -> None:
        self._decision = i.DecisionRecord(
            approve=approve, comment=comment, approver=approver, decided_at=workflow.now(), channel=channel
        )
        self._state = i.APPROVED if approve else i.REJECTED
        verb = "approved" if approve else "rejected"
        self._log(f"{verb} by {approver.user_id} ({approver.role}) via {channel}: {comment}")

    @workflow.update
    def decide(self, decision: i.DecisionInput) -> i.RemediationStatus:
        """Approve or reject (API / MCP); see the validator for what is refused."""
        self._accept(decision.approve, decision.comment, decision.approver, "update")
        return self.status()

    @decide.validator
    def _validate_decide(self, decision: i.DecisionInput) -> None:
        refusal = self._refusal(decision.approver)
        if refusal is not None:
            raise ValueError(refusal)

    def _signalled(self, approve: bool, payload: i.SignalDecision) -> None:
        approver = i.Approver(user_id=payload.user_id, role=payload.role, email=payload.email)
        refusal = self._refusal(approver)
        if refusal is not None:
            self._log(
                f"ignored {'approve' if approve else 'reject'} signal from {payload.user_id}: {refusal}"
            )
            return
        self._accept(approve, payload.comment, approver, "signal")

    @workflow.signal
    def approve(self, payload: i.SignalDecision) -> None:
        """Approve from the Temporal UI (same checks as ``decide``; invalid signals are ignored)."""
        self._signalled(True, payload)

    @workflow.signal
    def reject(self, payload: i.SignalDecision) -> None:
        """Reject from the Temporal UI (same checks as ``decide``)."""
        self._signalled(False, payload)

    # -- stages -----------------------------------------------------------------------------------------

    def _log(self, message: str) -> None:
        self._logs.append(f"{workflow.now().isoformat()} {message}")

    async def _record(self, state: str, *, error: str | None = None, affected: int | None = None) -> None:
        self._state = state
        if error is not None:
            self._error = error
        await workflow.execute_activity(
            "remediation.record",
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
            retry_policy=_RECORD,
        )

    async def _finish(
        self, state: str, *, error: str | None = None, affected: int | None = None
    ) -> i.RemediationStatus:
        self._log(f"finished: {state}" + (f" ({error})" if error else ""))
        await self._record(state, error=error, affected=affected)
        return self.status()

    @workflow.run
    async def run(self, request: i.RemediationRequest) -> i.RemediationStatus:
        self._execution_id, self._organization_id = request.execution_id, request.organization_id
        self._scheduled_for = request.schedule
        try:
            return await self._run(request)
        except asyncio.CancelledError:
            self._log("cancelled before any action ran" if not self._steps else "cancelled")
            await self._record(i.CANCELLED, error="cancelled")
            raise

    async def _run(self, request: i.RemediationRequest) -> i.RemediationStatus:
        self._state = i.PLANNING
        plan: i.PlanView = await workflow.execute_activity(
            "remediation.plan",
            i.PlanInput(request=request, workflow_id=workflow.info().workflow_id),
            result_type=i.PlanView,
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=_QUICK,
        )
        self._plan = plan
        self._log(
            f"planned {len(plan.steps)} step(s), {plan.risk_level} risk, savings {plan.savings}/month; "
            f"approval {'required' if plan.approval_required else 'waived'}"
        )
        if request.dry_run:
            return await self._finish(i.DRY_RUN, error="; ".join(plan.problems) or None)
        if plan.problems:
            return await self._finish(i.REFUSED, error="; ".join(plan.problems))
        refused = [s for s in plan.steps if s.valid is False]
        if plan.safety.dry_run_first and refused:
            detail = "; ".join(p for s in refused for p in s.problems)
            return await self._finish(
                i.REFUSED, error=f"the dry run refused {len(refused)} step(s): {detail}"
            )

        if plan.approval_required:
            ttl = timedelta(seconds=max(1, request.approval_ttl_seconds))
            self._expires_at = workflow.now() + ttl
            self._log(
                f"waiting for approval by one of {', '.join(plan.approver_roles)} until {self._expires_at.isoformat()}"
            )
            await self._record(i.PENDING_APPROVAL)
            try:
                await workflow.wait_condition(lambda: self._decision is not None, timeout=ttl)
            except TimeoutError:
                return await self._finish(i.EXPIRED, error="no decision before the approval expired")
            assert self._decision is not None
            if not self._decision.approve:
                return await self._finish(i.REJECTED)
            await self._record(i.APPROVED)

        if request.schedule is not None and request.schedule > workflow.now():
            self._log(f"scheduled for {request.schedule.isoformat()}")
            await self._record(i.SCHEDULED)
            await workflow.sleep(request.schedule - workflow.now())
        return await self._execute(request, plan)

    async def _execute(self, request: i.RemediationRequest, plan: i.PlanView) -> i.RemediationStatus:
        workflow_id = workflow.info().workflow_id
        await self._record(i.EXECUTING)
        self._log("executing")
        failure: str | None = None
        for step in plan.steps:
            key = i.STEP_KEY_FORMAT.format(workflow_id=workflow_id, index=step.index)
            try:
                result: i.StepResult = await workflow.execute_activity(
                    "remediation.execute_step",
                    i.StepInput(organization_id=request.organization_id, step=step, idempotency_key=key),
                    result_type=i.StepResult,
                    start_to_close_timeout=timedelta(minutes=15),
                    retry_policy=_ACT,
                )
            except ActivityError as exc:
                failure = f"step {step.index} ({step.action} {step.resource_id}) failed: {_failure(exc)}"
                break
            self._steps.append(result)
            if result.status != "succeeded":
                failure = f"step {step.index} ({step.action} {step.resource_id}) refused: {result.error}"
                break
            self._log(f"step {step.index}: {step.action} {step.resource_id} done")
        if failure is None:
            failure = await self._verify(request, plan)
        done = [r for r in self._steps if r.status == "succeeded"]
        if failure is None:
            return await self._finish(i.COMPLETED, affected=len(done))
        self._log(failure)
        if not plan.safety.rollback_enabled or not done:
            return await self._finish(i.FAILED, error=failure, affected=len(done))
        return await self._roll_back(request, plan, done, failure)

    async def _verify(self, request: i.RemediationRequest, plan: i.PlanView) -> str | None:
        await self._record(i.VERIFYING)
        for result in self._steps:
            step = plan.steps[result.index]
            try:
                check: i.VerifyResult = await workflow.execute_activity(
                    "remediation.verify_step",
                    i.VerifyInput(organization_id=request.organization_id, step=step, result=result),
                    result_type=i.VerifyResult,
                    start_to_close_timeout=timedelta(minutes=5),
                    retry_policy=_ACT,
                )
            except ActivityError as exc:
                return f"verifying step {result.index} failed: {_failure(exc)}"
            self._verifications.append(check)
            self._log(f"verified step {result.index}: {'ok' if check.ok else 'MISMATCH'} ({check.detail})")
            if not check.ok:
                return f"verification of step {result.index} failed: {check.detail}"
        return None

    async def _roll_back(
        self, request: i.RemediationRequest, plan: i.PlanView, done: list[i.StepResult], failure: str
    ) -> i.RemediationStatus:
        workflow_id = workflow.info().workflow_id
        await self._record(i.ROLLING_BACK, error=failure)
        for result in reversed(done):
            key = i.ROLLBACK_KEY_FORMAT.format(workflow_id=workflow_id, index=result.index)
            try:
                undone: i.RollbackResult = await workflow.execute_activity(
                    "remediation.rollback_step",
                    i.RollbackInput(
                        organization_id=request.organization_id,
                        step=plan.steps[result.index],
                        result=result,
                        idempotency_key=key,
                    ),
                    result_type=i.RollbackResult,
                    start_to_close_timeout=timedelta(minutes=15),
                    retry_policy=_ACT,
                )
            except ActivityError as exc:
                undone = i.RollbackResult(result.index, result.resource_id, "failed", _failure(exc))
            self._rollbacks.append(undone)
            self._log(f"rollback of step {result.index}: {undone.status} ({undone.detail})")
        still_changed = sum(1 for r in self._rollbacks if r.status != "rolled_back")
        state = i.ROLLED_BACK if all(r.status != "failed" for r in self._rollbacks) else i.FAILED
        return await self._finish(state, error=failure, affected=still_changed)
