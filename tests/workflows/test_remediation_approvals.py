"""Verified approvals on the time-skipping server with a real worker, real Postgres and the sandbox: forged
Temporal-UI signals are refused and audited, separation of duties, two distinct approvers for high risk when
the organisation asks, and approval required by default with automatic approval only for low-risk,
reversible plans."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import Engine, delete, select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from cloudoptima.domain.inventory import ResourceState
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import AuditLog, Organization
from cloudoptima_workflows.client import DecisionRefusedError, decide, remediation_status, start_remediation
from cloudoptima_workflows.remediation.activities import RemediationDeps
from cloudoptima_workflows.remediation.inputs import ResourceAction, SafetyControls, SignalDecision
from cloudoptima_workflows.remediation.workflows import RemediationWorkflow
from tests.workflows.test_remediation_harness import (
    Tenant,
    add_user,
    remediation_worker,
    sandbox_copy,
    sandbox_factory,
    set_settings,
    tenant,
    ui_code,
)
from tests.workflows.test_remediation_workflow import (
    execution_row,
    handle,
    step_keys,
    stop_request,
    until_state,
)


@pytest.fixture
def org(engine: Engine, tmp_path: Path) -> Iterator[Tenant]:
    with tenant(engine, sandbox_copy(tmp_path / "sandbox"), name="approvals") as created:
        yield created


@pytest_asyncio.fixture
async def client(
    time_skipping_env: WorkflowEnvironment, engine: Engine, org: Tenant
) -> AsyncIterator[Client]:
    deps = RemediationDeps(sessions=session_factory(engine), providers=sandbox_factory(org))
    async with remediation_worker(time_skipping_env.client, deps):
        yield time_skipping_env.client


def extra_user(engine: Engine, organization_id: uuid.UUID, role: str, *, active: bool = True) -> str:
    with session_factory(engine)() as session, session.begin():
        return str(add_user(session, organization_id, role, active=active).id)


def decision_audit(engine: Engine, org: Tenant, execution_id: str) -> list[AuditLog]:
    with session_factory(engine)() as session:
        rows = session.scalars(
            select(AuditLog)
            .where(
                AuditLog.organization_id == org.organization_id,
                AuditLog.resource_type == "remediation",
                AuditLog.resource_id == execution_id,
            )
            .order_by(AuditLog.timestamp, AuditLog.id)
        ).all()
        session.expunge_all()
        return list(rows)


async def until_logged(client: Client, workflow_id: str, fragment: str, count: int) -> list[str]:
    for _ in range(600):
        logs = (await remediation_status(client, workflow_id)).logs
        if sum(fragment in line for line in logs) >= count:
            return logs
        await asyncio.sleep(0.05)
    raise AssertionError(f"{workflow_id} never logged {count} x {fragment!r}")


def tag_request(org: Tenant, resource_id: str, **overrides: Any) -> Any:
    action = ResourceAction(
        cloud_account_id=str(org.cloud_account_id),
        resource_id=resource_id,
        action="tag",
        parameters={"tags": {"reviewed": "yes"}},
    )
    return stop_request(org, [], actions=[action], title="tag for review", **overrides)


async def test_forged_temporal_ui_signals_are_refused_and_audited_then_a_real_admin_executes_once(
    client: Client, org: Tenant, engine: Engine
) -> None:
    with session_factory(engine)() as session, session.begin():
        other = Organization(name=f"other-{uuid.uuid4().hex[:8]}", subscription_tier="free", settings={})
        session.add(other)
        session.flush()
        other_org, other_admin = other.id, str(add_user(session, other.id, "admin").id)
    try:
        vm = org.running_instances(1)[0]
        requester = org.approver("admin")
        info = await start_remediation(
            client, stop_request(org, [vm.resource_id], risk_level="high", requested_by=requester)
        )
        await until_state(client, info.workflow_id, {"pending_approval"})
        forged = {
            str(uuid.uuid4()): "is not a user of this organisation",
            other_admin: "is not a user of this organisation",
            org.user("viewer"): "role 'viewer' may not decide a high-risk remediation",
            extra_user(engine, org.organization_id, "admin", active=False): "is deactivated",
            requester.user_id: "the requester may not approve their own request",
            # real admins of this organisation, but the signal does not prove who sent it
            extra_user(engine, org.organization_id, "admin"): "must carry the approval code",
            extra_user(engine, org.organization_id, "admin"): "the code given is wrong",
        }
        wrong_code = list(forged)[-1]
        codes = {wrong_code: ui_code(org.organization_id, str(uuid.uuid4()), wrong_code)}  # another's
        wf = handle(client, info.workflow_id)
        for user_id in forged:  # each claims to be an admin: the claim is ignored
            await wf.signal(
                RemediationWorkflow.approve,
                SignalDecision(user_id=user_id, role="admin", approval_code=codes.get(user_id, "")),
            )
        await until_logged(client, info.workflow_id, "refused approval from", len(forged))
        status = await remediation_status(client, info.workflow_id)
        assert status.state == "pending_approval" and status.decision is None and status.approvals == []
        assert org.journal() == [], "nothing ran"

        approver = extra_user(engine, org.organization_id, "admin")
        code = ui_code(org.organization_id, info.execution_id, approver)
        await wf.signal(
            RemediationWorkflow.approve,
            SignalDecision(user_id=approver, comment="checked it", approval_code=code.lower()),
        )
        final = await wf.result()
        assert final.state == "completed", final.error
        assert final.decision is not None and final.decision.channel == "temporal_ui"
        assert (final.decision.approver.user_id, final.decision.approver.role) == (approver, "admin")
        assert org.resource(vm.resource_id).state is ResourceState.STOPPED
        assert step_keys(org, info.workflow_id) == [f"{info.workflow_id}/step-0"], "executed exactly once"
        assert execution_row(engine, info.execution_id).decided_by == approver

        audit = decision_audit(engine, org, info.execution_id)
        denied = [row for row in audit if row.result == "denied"]
        assert len(denied) == len(forged) and [r.result for r in audit].count("success") == 1
        for row in audit:
            assert row.action == "remediation.approve"
            assert row.channel == row.details["channel"] == "temporal_ui"
            assert row.details["workflow_id"] == info.workflow_id
        for row in denied:
            expected = forged[row.details["claimed_user_id"]]
            assert expected in row.details["reason"], (expected, row.details["reason"])
        by_claim = {r.details["claimed_user_id"]: r for r in audit}
        assert by_claim[other_admin].user_id is None, "another organisation's user is not named as ours"
        assert by_claim[other_admin].actor == f"unverified:{other_admin}"
        assert str(by_claim[org.user("viewer")].user_id) == org.user("viewer")
        assert str(by_claim[approver].user_id) == approver and by_claim[approver].result == "success"
    finally:
        with session_factory(engine)() as session, session.begin():
            session.execute(delete(Organization).where(Organization.id == other_org))


async def test_separation_of_duties_and_two_distinct_approvers_for_high_risk(
    client: Client, org: Tenant, engine: Engine
) -> None:
    first, second, third = (vm.resource_id for vm in org.running_instances(3))
    manager = org.approver("finops_manager")

    # the requester cannot approve their own request ...
    own = await start_remediation(client, stop_request(org, [first], requested_by=manager))
    await until_state(client, own.workflow_id, {"pending_approval"})
    with pytest.raises(DecisionRefusedError, match="requester may not approve their own request"):
        await decide(client, own.workflow_id, True, "mine", manager.user_id)
    # ... unless the organisation allows it, checked at decision time
    set_settings(engine, org.organization_id, allow_self_approval=True)
    await decide(client, own.workflow_id, True, "mine, allowed", manager.user_id)
    assert (await handle(client, own.workflow_id).result()).state == "completed"
    set_settings(engine, org.organization_id, allow_self_approval=False)

    # a high-risk request waits for two distinct approvers when the organisation says so
    set_settings(engine, org.organization_id, high_risk_approvers=2)
    admin, other_admin = org.user("admin"), extra_user(engine, org.organization_id, "admin")
    info = await start_remediation(client, stop_request(org, [second], risk_level="high"))
    pending = await until_state(client, info.workflow_id, {"pending_approval"})
    assert pending.approvals_needed == 2
    one = await decide(client, info.workflow_id, True, "first look", admin)
    assert (one.state, len(one.approvals), one.approvals_needed) == ("pending_approval", 1, 2)
    with pytest.raises(DecisionRefusedError, match="already approved"):
        await decide(client, info.workflow_id, True, "again", admin)
    assert org.journal() == [] or step_keys(org, info.workflow_id) == [], "nothing runs on one approval"
    await decide(client, info.workflow_id, True, "second look", other_admin)
    final = await handle(client, info.workflow_id).result()
    assert final.state == "completed"
    assert [a.approver.user_id for a in final.approvals] == [admin, other_admin]
    assert step_keys(org, info.workflow_id) == [f"{info.workflow_id}/step-0"]

    # any valid rejection ends it, even after a first approval
    rejected = await start_remediation(client, stop_request(org, [third], risk_level="high"))
    await until_state(client, rejected.workflow_id, {"pending_approval"})
    await decide(client, rejected.workflow_id, True, "ok by me", admin)
    with pytest.raises(DecisionRefusedError, match="role 'finops_manager' may not decide"):
        await decide(client, rejected.workflow_id, False, "no", manager.user_id)
    await decide(client, rejected.workflow_id, False, "not this week", other_admin)
    assert (await handle(client, rejected.workflow_id).result()).state == "rejected"
    assert step_keys(org, rejected.workflow_id) == []
    audit = decision_audit(engine, org, rejected.execution_id)
    assert [(r.action, r.result, r.channel) for r in audit] == [
        ("remediation.approve", "success", "rest"),
        ("remediation.reject", "denied", "rest"),
        ("remediation.reject", "success", "rest"),
    ]


async def test_approval_is_required_by_default_and_automatic_only_for_low_risk_reversible(
    client: Client, org: Tenant, engine: Engine
) -> None:
    first, second = (vm.resource_id for vm in org.running_instances(2))
    waived = {"approval_required": False, "safety": SafetyControls(require_approval=False)}

    # an admin asking to skip approval still waits, by default
    by_default = await start_remediation(
        client, tag_request(org, first, requested_by=org.approver("admin"), **waived)
    )
    waiting = await until_state(client, by_default.workflow_id, {"pending_approval"})
    assert waiting.plan is not None and waiting.plan.approval_required is True
    await handle(client, by_default.workflow_id).cancel()

    set_settings(engine, org.organization_id, auto_approve_low_risk=True)
    # a medium-risk stop is never approved automatically
    stop = await start_remediation(
        client, stop_request(org, [second], requested_by=org.approver("admin"), **waived)
    )
    stopping = await until_state(client, stop.workflow_id, {"pending_approval"})
    assert stopping.plan is not None and stopping.plan.approval_required is True
    await handle(client, stop.workflow_id).cancel()
    # a low-risk, reversible tag runs without waiting once the organisation allows it
    automatic = await start_remediation(client, tag_request(org, first, **waived))
    final = await handle(client, automatic.workflow_id).result()
    assert final.state == "completed" and final.decision is None
    assert final.plan is not None and final.plan.approval_required is False
    assert step_keys(org, automatic.workflow_id) == [f"{automatic.workflow_id}/step-0"]
    assert org.resource(first).tags.get("reviewed") == "yes"
    # ... but only when the request does not ask for approval (the default on every channel)
    asked = await start_remediation(client, tag_request(org, second))
    assert (await until_state(client, asked.workflow_id, {"pending_approval"})).plan is not None
    await handle(client, asked.workflow_id).cancel()
