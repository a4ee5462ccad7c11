"""The remediation workflow: plan (dry run + impact) → pending approval → (scheduled) → execute → verify →
roll back on failure, recording a ``policy_executions`` row at every stage.

Contract:

- Nothing executes unless the plan was built, passed its safety controls (no plan problem; with
  ``dry_run_first`` every step validated) and either a valid approval arrived before the TTL or the plan
  does not require one (decided by the plan activity from the request, the safety controls and the
  requester's role). A ``dry_run`` request stops after the plan.
- Decisions are verified, never trusted. They arrive as the ``decide`` Update (REST API and MCP: the claimed
  user id and the channel ``rest`` / ``mcp``; a refusal fails the Update with the reason) or as the
  ``approve`` / ``reject`` Signals (the Temporal UI: a payload ``{"user_id": "...", "approval_code":
  "...", "comment": "..."}``, channel ``temporal_ui``; a refusal is logged). Neither carries a role the workflow believes: before
  accepting anything the workflow runs the ``remediation.verify_decision`` activity, which looks the user up
  in Postgres at decision time (``cloudoptima.services.approvals``): a user of this organisation, active,
  whose stored role grants the plan's risk permission; the requester may not approve their own request
  unless the organisation's ``allow_self_approval`` is on; a high-risk plan needs the organisation's
  ``high_risk_approvers`` distinct approvals (the state stays ``pending_approval`` until the last one);
  any valid rejection ends it. Only then, re-checking that no other decision landed meanwhile, does the
  workflow accept. Every decision, accepted or refused (also one that arrives when nothing is pending), is
  written to ``audit_logs`` by the ``remediation.audit_decision`` activity with its channel, user, workflow
  and execution ids and the reason of a refusal. The activities keep the workflow deterministic: the
  verdict is recorded in the history. The Temporal UI signs nobody in as a CloudOptima user and user ids
  are not secret, so a signal must also carry the one-time approval code CloudOptima shows that user, signed
  in to the app, for this remediation (``GET /v1/approvals``; ``cloudoptima.security.approval_codes``: bound
  to the remediation and the user, checked by the same activity): a signal without it, or with another
  user's or another remediation's code, is refused and audited.
- Approval is required unless the plan says otherwise, and the plan (built by the ``remediation.plan``
  activity, ``domain.remediation.needs_approval``) waives it only for a low-risk, reversible plan of an
  organisation that turned on ``auto_approve_low_risk``, never for a high-risk or irreversible one.
- Each step runs as its own activity with the idempotency key ``{workflow_id}/step-{index}``, so a retried
  activity never acts twice. After all steps, each is verified by re-reading state. A refused step, an
  exhausted retry or a failed verification stops execution; with ``rollback_enabled`` the steps that
  succeeded are rolled back in reverse order (irreversible ones are reported).
- Cancelling the workflow while it waits (approval or schedule) ends it as ``cancelled``.
- Activities are referenced as typed methods (``RemediationActivityInterface``); this module imports no
  I/O library (an import contract).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    # By full dotted name: ``from package import module`` would give the sandbox its own copy of the
    # module, whose classes are not the ones the activity interfaces name (pydantic then refuses them).
    import cloudoptima_workflows.remediation.inputs as i
    from cloudoptima.domain.remediation import RemediationState
    from cloudoptima_workflows.remediation.interface import RemediationActivityInterface
    from cloudoptima_workflows.remediation.workflow_state import RECORD_RETRY, RemediationProgress

_QUICK = RetryPolicy(maximum_attempts=5, maximum_interval=timedelta(seconds=30))
_ACT = RetryPolicy(maximum_attempts=5, maximum_interval=timedelta(minutes=1))


def _failure(exc: ActivityError) -> str:
    cause = exc.cause
    return str(cause.message if cause is not None and hasattr(cause, "message") else exc)


@workflow.defn(name="Remediation")
class RemediationWorkflow(RemediationProgress):
    # -- status and decisions -------------------------------------------------------------------------

    @workflow.query
    def status(self) -> i.RemediationStatus:
        """The plan and the progress so far."""
        return self._status()

    def _refusal(self) -> str | None:
        """Why no decision can be accepted now (already decided, not pending), or None."""
        if self._decision is not None:
            verb = "approved" if self._decision.approve else "rejected"
            return f"a decision was already made: {verb} by {self._decision.approver.user_id}"
        if self._state != RemediationState.PENDING_APPROVAL or self._plan is None:
            return f"the remediation is not waiting for approval (state {self._state})"
        return None

    async def _verify_decider(
        self, approve: bool, user_id: str, channel: str, code: str
    ) -> i.DecisionVerdict | str:
        """The database's verdict on the claimed user, or why it could not be had."""
        assert self._plan is not None
        try:
            verdict: i.DecisionVerdict = await workflow.execute_activity_method(
                RemediationActivityInterface.verify_decision,
                i.VerifyDecisionInput(
                    organization_id=self._organization_id,
                    execution_id=self._execution_id,
                    workflow_id=workflow.info().workflow_id,
                    user_id=user_id,
                    approve=approve,
                    channel=channel,
                    risk_level=self._plan.risk_level,
                    requested_by=self._requested_by,
                    approved_by=[a.approver.user_id for a in self._approvals],
                    approval_code=code,
                ),
                start_to_close_timeout=timedelta(minutes=1),
                retry_policy=_QUICK,
            )
        except ActivityError as exc:
            return f"the approver could not be verified: {_failure(exc)}"
        return verdict

    async def _judge(
        self, approve: bool, comment: str, user_id: str, channel: str, code: str = ""
    ) -> str | None:
        """Verify, accept or refuse, and audit one decision; returns the refusal reason or None."""
        self._received += 1
        sequence = self._received
        # REST shows a state as soon as the database has it, a moment before this workflow does: a decision
        # sent on seeing ``pending_approval`` must be judged against that state, not the one before it
        if self._recording is not None:
            await workflow.wait_condition(lambda: self._recording is None)
        claimed = user_id.strip()
        refusal = self._refusal() or (None if claimed else "the approver's user id is required")
        verdict: i.DecisionVerdict | None = None
        if refusal is None:
            checked = await self._verify_decider(approve, claimed, channel, code)
            if isinstance(checked, str):
                refusal = checked
            else:
                verdict = checked
                # another decision may have been accepted while this one was being verified
                refusal = None if verdict.accepted else verdict.reason
                refusal = refusal or self._refusal()
                if refusal is None and approve and verdict.user_id in self._approvers():
                    refusal = f"{verdict.email or verdict.user_id} already approved this remediation"
        if refusal is None:
            assert verdict is not None
            self._accept(approve, comment, verdict, channel)
        else:
            verb = "approval" if approve else "rejection"
            self._log(f"refused {verb} from {claimed or '(no user)'} via {channel}: {refusal}")
        await self._audit(
            sequence, approve, comment, claimed, channel, accepted=refusal is None, reason=refusal or ""
        )
        return refusal

    def _approvers(self) -> set[str]:
        return {a.approver.user_id for a in self._approvals}

    def _accept(self, approve: bool, comment: str, verdict: i.DecisionVerdict, channel: str) -> None:
        approver = i.Approver(user_id=verdict.user_id, role=verdict.role, email=verdict.email)
        record = i.DecisionRecord(
            approve=approve, comment=comment, approver=approver, decided_at=workflow.now(), channel=channel
        )
        self._approvals_needed = max(1, verdict.approvals_needed)
        who = f"{approver.email or approver.user_id} ({approver.role}) via {channel}"
        if not approve:
            self._decision, self._state = record, RemediationState.REJECTED
            self._log(f"rejected by {who}: {comment}")
            return
        self._approvals.append(record)
        if len(self._approvals) < self._approvals_needed:
            self._log(
                f"approval {len(self._approvals)} of {self._approvals_needed} by {who}: {comment}; "
                "waiting for another, distinct approver"
            )
            return
        self._decision, self._state = record, RemediationState.APPROVED
        self._log(f"approved by {who}: {comment}")

    async def _audit(
        self,
        sequence: int,
        approve: bool,
        comment: str,
        user_id: str,
        channel: str,
        *,
        accepted: bool,
        reason: str,
    ) -> None:
        info = workflow.info()
        await workflow.execute_activity_method(
            RemediationActivityInterface.audit_decision,
            i.AuditDecisionInput(
                organization_id=self._organization_id,
                execution_id=self._execution_id,
                workflow_id=info.workflow_id,
                entry_id=f"{info.workflow_id}/{info.run_id}/decision-{sequence}",
                user_id=user_id,
                approve=approve,
                channel=channel,
                accepted=accepted,
                reason=reason,
                comment=comment,
                risk_level=self._plan.risk_level if self._plan is not None else "",
                requested_by=self._requested_by,
                approvals=len(self._approvals),
                approvals_needed=self._approvals_needed,
            ),
            start_to_close_timeout=timedelta(minutes=1),
            retry_policy=RECORD_RETRY,
        )

    @workflow.update
    async def decide(self, decision: i.DecisionInput) -> i.RemediationStatus:
        """Approve or reject from the REST API or MCP (channel ``rest`` / ``mcp``); a refused decision fails
        the Update with the reason (see module contract)."""
        channel = decision.channel if decision.channel in i.UPDATE_CHANNELS else i.CHANNEL_REST
        refusal = await self._judge(decision.approve, decision.comment, decision.user_id, channel)
        if refusal is not None:
            raise ApplicationError(refusal, type="DecisionRefused", non_retryable=True)
        return self._status()

    @workflow.signal
    async def approve(self, payload: i.SignalDecision) -> None:
        """Approve from the Temporal UI: ``{"user_id": "<your user id>", "approval_code": "<shown to you in
        CloudOptima>", "comment": "..."}`` (verified like ``decide``, and the code must be this user's for this
        remediation; a refused signal is logged and audited)."""
        await self._judge(
            True, payload.comment, payload.user_id, i.CHANNEL_TEMPORAL_UI, payload.approval_code
        )

    @workflow.signal
    async def reject(self, payload: i.SignalDecision) -> None:
        """Reject from the Temporal UI (same payload and checks as ``approve``)."""
        await self._judge(
            False, payload.comment, payload.user_id, i.CHANNEL_TEMPORAL_UI, payload.approval_code
        )

    # -- stages -----------------------------------------------------------------------------------------

    @workflow.run
    async def run(self, request: i.RemediationRequest) -> i.RemediationStatus:
        self._execution_id, self._organization_id = request.execution_id, request.organization_id
        self._requested_by = request.requested_by.user_id
        self._scheduled_for = request.schedule
        try:
            await self._run(request)
        except asyncio.CancelledError:
            self._log("cancelled before any action ran" if not self._steps else "cancelled")
            await self._record(RemediationState.CANCELLED, error="cancelled")
            raise
        # decisions that arrived late are still refused and audited before the workflow closes
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._status()

    async def _run(self, request: i.RemediationRequest) -> i.RemediationStatus:
        self._state = RemediationState.PLANNING
        plan: i.PlanView = await workflow.execute_activity_method(
            RemediationActivityInterface.plan,
            i.PlanInput(request=request, workflow_id=workflow.info().workflow_id),
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=_QUICK,
        )
        self._plan = plan
        self._approvals_needed = max(1, plan.approvals_needed)
        self._log(
            f"planned {len(plan.steps)} step(s), {plan.risk_level} risk, savings {plan.savings}/month; "
            f"approval {'required' if plan.approval_required else 'waived'}"
        )
        if request.dry_run:
            return await self._finish(RemediationState.DRY_RUN, error="; ".join(plan.problems) or None)
        if plan.problems:
            return await self._finish(RemediationState.REFUSED, error="; ".join(plan.problems))
        refused = [s for s in plan.steps if s.valid is False]
        if plan.safety.dry_run_first and refused:
            detail = "; ".join(p for s in refused for p in s.problems)
            return await self._finish(
                RemediationState.REFUSED, error=f"the dry run refused {len(refused)} step(s): {detail}"
            )

        if plan.approval_required:
            ttl = timedelta(seconds=max(1, request.approval_ttl_seconds))
            self._expires_at = workflow.now() + ttl
            self._log(
                f"waiting for {self._approvals_needed} approval(s) by one of {', '.join(plan.approver_roles)} "
                f"until {self._expires_at.isoformat()}"
            )
            await self._record(RemediationState.PENDING_APPROVAL)
            try:
                await workflow.wait_condition(lambda: self._decision is not None, timeout=ttl)
            except TimeoutError:
                return await self._finish(
                    RemediationState.EXPIRED, error="no decision before the approval expired"
                )
            assert self._decision is not None
            if not self._decision.approve:
                return await self._finish(RemediationState.REJECTED)
            await self._record(RemediationState.APPROVED)

        if request.schedule is not None and request.schedule > workflow.now():
            self._log(f"scheduled for {request.schedule.isoformat()}")
            await self._record(RemediationState.SCHEDULED)
            await workflow.sleep(request.schedule - workflow.now())
        return await self._execute(request, plan)

    async def _execute(self, request: i.RemediationRequest, plan: i.PlanView) -> i.RemediationStatus:
        workflow_id = workflow.info().workflow_id
        await self._record(RemediationState.EXECUTING)
        self._log("executing")
        failure: str | None = None
        for step in plan.steps:
            key = i.STEP_KEY_FORMAT.format(workflow_id=workflow_id, index=step.index)
            try:
                result: i.StepResult = await workflow.execute_activity_method(
                    RemediationActivityInterface.execute_step,
                    i.StepInput(organization_id=request.organization_id, step=step, idempotency_key=key),
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
            return await self._finish(RemediationState.COMPLETED, affected=len(done))
        self._log(failure)
        if not plan.safety.rollback_enabled or not done:
            return await self._finish(RemediationState.FAILED, error=failure, affected=len(done))
        return await self._roll_back(request, plan, done, failure)

    async def _verify(self, request: i.RemediationRequest, plan: i.PlanView) -> str | None:
        await self._record(RemediationState.VERIFYING)
        for result in self._steps:
            step = plan.steps[result.index]
            try:
                check: i.VerifyResult = await workflow.execute_activity_method(
                    RemediationActivityInterface.verify_step,
                    i.VerifyInput(organization_id=request.organization_id, step=step, result=result),
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
        await self._record(RemediationState.ROLLING_BACK, error=failure)
        for result in reversed(done):
            key = i.ROLLBACK_KEY_FORMAT.format(workflow_id=workflow_id, index=result.index)
            try:
                undone: i.RollbackResult = await workflow.execute_activity_method(
                    RemediationActivityInterface.rollback_step,
                    i.RollbackInput(
                        organization_id=request.organization_id,
                        step=plan.steps[result.index],
                        result=result,
                        idempotency_key=key,
                    ),
                    start_to_close_timeout=timedelta(minutes=15),
                    retry_policy=_ACT,
                )
            except ActivityError as exc:
                undone = i.RollbackResult(
                    index=result.index, resource_id=result.resource_id, status="failed", detail=_failure(exc)
                )
            self._rollbacks.append(undone)
            self._log(f"rollback of step {result.index}: {undone.status} ({undone.detail})")
        still_changed = sum(1 for r in self._rollbacks if r.status != "rolled_back")
        state = (
            RemediationState.ROLLED_BACK
            if all(r.status != "failed" for r in self._rollbacks)
            else RemediationState.FAILED
        )
        return await self._finish(state, error=failure, affected=still_changed)
