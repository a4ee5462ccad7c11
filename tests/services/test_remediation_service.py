"""Remediation use cases on real Postgres and the sandbox: plans from recommendations and actions (dry run,
impact, approval rules, cap), execution + verification + rollback, the execution record and the pending
approvals listing scoped by organisation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from cloudoptima.clouds.protocol import ActionKind, ActionRequest
from cloudoptima.clouds.sandbox.provider import SandboxProvider
from cloudoptima.domain.inventory import ResourceKind, ResourceState
from cloudoptima.domain.recommendations import RiskLevel
from cloudoptima.domain.remediation import Approver, Decision, PlannedAction, RemediationState, SafetyControls
from cloudoptima.services.policies import PolicyService, validate_policy
from cloudoptima.services.remediation import RemediationError, RemediationService
from cloudoptima.storage.models import Organization, PolicyExecution, Recommendation
from cloudoptima.storage.tenancy import scope
from tests.services.test_policies_service import BASE, Stored
from tests.workflows.test_remediation_harness import sandbox_copy

NOW = datetime(2026, 1, 5, tzinfo=UTC)


@pytest.fixture
def stored(db_session: Session, tmp_path: Path) -> Stored:
    return Stored(db_session, sandbox_copy(tmp_path / "sandbox"), "remediation-a")


def service(session: Session, stored: Stored, now: datetime = NOW) -> RemediationService:
    scope(session, stored.org)
    provider = SandboxProvider(stored.state_dir, stored.account_id)

    def factory(account: uuid.UUID) -> SandboxProvider:
        if account != stored.account_row:
            raise LookupError(f"cloud account {account} is not connected")
        return provider

    return RemediationService(session, stored.org, factory, now=lambda: now)


def running(stored: Stored, count: int) -> list[str]:
    found = [
        r.resource_id
        for r in stored.resources
        if r.kind is ResourceKind.COMPUTE_INSTANCE and r.state is ResourceState.RUNNING
    ]
    return found[:count]


def stop(stored: Stored, resource_id: str) -> PlannedAction:
    return PlannedAction(cloud_account_id=str(stored.account_row), resource_id=resource_id, action="stop")


def cost(stored: Stored, resource_id: str) -> Decimal:
    return next(r.monthly_cost for r in stored.resources if r.resource_id == resource_id)


def test_plan_from_a_recommendation_uses_its_actions_savings_and_risk(
    db_session: Session, stored: Stored
) -> None:
    vm = running(stored, 1)[0]
    rec = Recommendation(
        organization_id=stored.org,
        title="Stop idle VM",
        category="compute",
        risk_level="high",
        provider="aws",
        account_identifier=stored.account_id,
        region=next(r.region for r in stored.resources if r.resource_id == vm),
        estimated_savings_monthly=Decimal("100.00"),
        affected_resources=[{"id": vm, "name": vm, "current_cost": "1"}],
        actions=[{"type": "stop", "resource_id": vm, "description": "stop it", "parameters": {}}],
        impact_preview={"risks": ["a monthly batch job may need it"]},
    )
    db_session.add(rec)
    db_session.flush()
    plan = service(db_session, stored).plan_recommendation(
        rec.id, safety=SafetyControls(), requested_by_role="engineer"
    )
    assert plan.valid and plan.source == "recommendation" and plan.source_id == str(rec.id)
    assert [(s.resource_id, s.action, s.valid) for s in plan.steps] == [(vm, "stop", True)]
    assert plan.steps[0].cloud_account_id == str(stored.account_row)
    assert plan.risk_level is RiskLevel.HIGH and plan.approver_roles == ["admin"] and plan.approval_required
    assert plan.impact.current_monthly == cost(stored, vm)
    assert plan.impact.projected_monthly == cost(stored, vm) - Decimal("100.00")
    assert plan.impact.savings == Decimal("100.00")
    assert plan.impact.rollback_available and "a monthly batch job may need it" in plan.impact.risks
    with pytest.raises(RemediationError):
        service(db_session, stored).plan_recommendation(
            uuid.uuid4(), safety=SafetyControls(), requested_by_role="admin"
        )


def test_plan_checks_each_step_and_the_safety_controls(db_session: Session, stored: Stored) -> None:
    remediation = service(db_session, stored)
    stopped = next(r.resource_id for r in stored.resources if r.state is ResourceState.STOPPED)
    vm = running(stored, 1)[0]
    plan = remediation.plan_actions(
        [
            stop(stored, vm),
            stop(stored, stopped),
            PlannedAction(cloud_account_id="", resource_id="x", action="stop"),
        ],
        source="manual",
        source_id=None,
        title="t",
        risk_floor=None,
        safety=SafetyControls(),
        requested_by_role="admin",
    )
    assert [s.valid for s in plan.steps] == [True, False, False] and not plan.valid
    assert "stop needs a running resource" in plan.steps[1].problems[0]
    assert "not connected" in plan.steps[2].problems[0]
    assert any("dry run refused steps [1, 2]" in r for r in plan.impact.risks)

    capped = remediation.plan_actions(
        [stop(stored, r) for r in running(stored, 3)],
        source="manual",
        source_id=None,
        title="t",
        risk_floor=None,
        safety=SafetyControls(max_resources_per_execution=2),
        requested_by_role="admin",
    )
    assert capped.problems == [
        "the plan touches 3 resources but the safety control max_resources_per_execution is 2; "
        "narrow the conditions or raise the cap"
    ]
    assert all(s.valid is None for s in capped.steps), "an over-cap plan is not dry-run"

    waived = SafetyControls(require_approval=False)

    def required(
        action: PlannedAction, role: str, *, requested: bool = False, floor: RiskLevel | None = None
    ) -> bool:
        plan = remediation.plan_actions(
            [action],
            source="manual",
            source_id=None,
            title="t",
            risk_floor=floor,
            safety=waived,
            requested_by_role=role,
            approval_requested=requested,
        )
        return plan.approval_required

    tag = PlannedAction(
        cloud_account_id=str(stored.account_row),
        resource_id=vm,
        action="tag",
        parameters={"tags": {"reviewed": "yes"}},
    )
    # by default nothing skips a person's approval, whoever asks and whatever the request says
    assert [required(stop(stored, vm), "admin"), required(tag, "admin")] == [True, True]
    organisation = db_session.get(Organization, stored.org)
    assert organisation is not None
    organisation.settings = {**(organisation.settings or {}), "auto_approve_low_risk": True}
    db_session.flush()
    # with automatic low-risk approval: only a low-risk reversible plan the requester could approve, when
    # neither the request nor the safety controls ask for approval
    assert required(tag, "engineer") is False
    assert required(tag, "engineer", requested=True) is True
    assert required(tag, "viewer") is True
    assert required(stop(stored, vm), "admin") is True, "medium risk always waits"
    assert required(tag, "admin", floor=RiskLevel.HIGH) is True, "high risk always waits"


def test_execute_verify_and_roll_back_a_step(db_session: Session, stored: Stored) -> None:
    remediation = service(db_session, stored)
    vm = running(stored, 1)[0]
    plan = remediation.plan_actions(
        [stop(stored, vm)],
        source="manual",
        source_id=None,
        title="t",
        risk_floor=None,
        safety=SafetyControls(),
        requested_by_role="admin",
    )
    step = plan.steps[0]
    done = remediation.execute_step(step, "svc/step-0")
    assert (
        done.status == "succeeded"
        and done.rollback_action is not None
        and done.rollback_action.action == "start"
    )
    assert remediation.execute_step(step, "svc/step-0") == done, "the same key does not act twice"
    check = remediation.verify_step(done, step.cloud_account_id, stop(stored, vm))
    assert check.ok and check.observed["state"] == "stopped"
    refused = remediation.execute_step(step, "svc/step-0-again")
    assert refused.status == "failed" and "running" in (refused.error or "")
    undone = remediation.rollback_step(done, step.cloud_account_id, "svc/rollback-0")
    assert undone.status == "rolled_back"
    assert (
        SandboxProvider(stored.state_dir, stored.account_id).store.estate().resource(vm).state
        is ResourceState.RUNNING
    )
    stale = remediation.verify_step(done, step.cloud_account_id, stop(stored, vm))
    assert not stale.ok, "after the rollback the change is no longer visible"


def test_the_execution_record_and_policy_counters(db_session: Session, stored: Stored) -> None:
    remediation = service(db_session, stored)
    policy = PolicyService(db_session, stored.org).create(validate_policy(BASE))
    plan = remediation.plan_actions(
        [stop(stored, running(stored, 1)[0])],
        source="policy",
        source_id=str(policy.id),
        title="p",
        risk_floor=None,
        safety=SafetyControls(),
        requested_by_role="engineer",
    )
    execution_id = uuid.uuid4()
    for _ in range(2):  # a retried activity rewrites the same row
        remediation.open_execution(
            execution_id,
            workflow_id="wf-1",
            plan=plan,
            kind="policy",
            requested_by="eve",
            requested_by_role="engineer",
            dry_run=False,
            scheduled_for=None,
            policy_id=policy.id,
        )
    decision = Decision(
        approved=True, comment="ok", approver=Approver(user_id="max", role="finops_manager"), decided_at=NOW
    )
    remediation.record(
        execution_id, RemediationState.PENDING_APPROVAL, ["planned"], expires_at=NOW + timedelta(hours=72)
    )
    for _ in range(2):
        remediation.record(
            execution_id,
            RemediationState.COMPLETED,
            ["planned", "done"],
            decision=decision,
            resources_affected=1,
        )
    row = db_session.get(PolicyExecution, execution_id)
    assert row is not None and row.execution_logs == ["planned", "done"]
    assert (row.decision, row.decided_by, row.decided_by_role, row.risk_level) == (
        "approved",
        "max",
        "finops_manager",
        "medium",
    )
    db_session.refresh(policy)
    assert (policy.execution_count, policy.success_count) == (1, 1), "a repeated terminal record counts once"
    history = remediation.executions(policy_id=policy.id)
    assert [(h.status, h.state, h.resources_affected) for h in history] == [("success", "completed", 1)]
    # a record activity of an earlier stage that lands late (it was still running when the workflow ended)
    remediation.record(execution_id, RemediationState.PENDING_APPROVAL, ["planned"])
    db_session.refresh(row)
    assert (row.status, row.execution_logs) == ("completed", ["planned", "done"]), "terminal is final"


def test_pending_approvals_are_scoped_to_the_organisation(
    db_session: Session, stored: Stored, tmp_path: Path
) -> None:
    other = Stored(db_session, sandbox_copy(tmp_path / "other"), "remediation-b")

    def pending_row(owner: Stored, workflow_id: str, expires_at: datetime, state: RemediationState) -> None:
        remediation = service(db_session, owner)
        plan = remediation.plan_actions(
            [stop(owner, running(owner, 1)[0])],
            source="manual",
            source_id=None,
            title=workflow_id,
            risk_floor=None,
            safety=SafetyControls(),
            requested_by_role="engineer",
        )
        execution_id = uuid.uuid4()
        remediation.open_execution(
            execution_id,
            workflow_id=workflow_id,
            plan=plan,
            kind="manual",
            requested_by="eve",
            requested_by_role="engineer",
            dry_run=False,
            scheduled_for=None,
        )
        remediation.record(execution_id, state, [], expires_at=expires_at)

    pending_row(stored, "a-waiting", NOW + timedelta(hours=1), RemediationState.PENDING_APPROVAL)
    pending_row(stored, "a-lapsed", NOW - timedelta(minutes=1), RemediationState.PENDING_APPROVAL)
    pending_row(stored, "a-done", NOW + timedelta(hours=1), RemediationState.COMPLETED)
    pending_row(other, "b-waiting", NOW + timedelta(hours=1), RemediationState.PENDING_APPROVAL)

    mine = service(db_session, stored).pending_approvals()
    assert [p.workflow_id for p in mine] == ["a-waiting"]
    assert mine[0].risk_level == "medium" and mine[0].approver_roles == ["finops_manager", "admin"]
    assert Decimal(mine[0].impact["savings"]) > 0 and mine[0].plan["steps"][0]["valid"] is True
    assert [p.workflow_id for p in service(db_session, other).pending_approvals()] == ["b-waiting"]


def test_an_action_the_provider_refuses_in_validation_is_reported(
    db_session: Session, stored: Stored
) -> None:
    remediation = service(db_session, stored)
    vm = running(stored, 1)[0]
    SandboxProvider(stored.state_dir, stored.account_id).execute_action(
        ActionRequest(kind=ActionKind.STOP, resource_id=vm), "k"
    )
    plan = remediation.plan_actions(
        [
            PlannedAction(
                cloud_account_id=str(stored.account_row),
                resource_id=vm,
                action="resize",
                parameters={"size": "nope"},
            )
        ],
        source="manual",
        source_id=None,
        title="t",
        risk_floor=None,
        safety=SafetyControls(),
        requested_by_role="admin",
    )
    assert plan.steps[0].valid is False and "unknown size" in plan.steps[0].problems[0]
    assert plan.steps[0].monthly_cost_after is None
    assert any("not known" in r for r in plan.impact.risks)
