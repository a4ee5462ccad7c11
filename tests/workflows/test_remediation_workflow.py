"""The remediation workflow on the time-skipping server with a real worker, real Postgres and the sandbox:
approval, rejection, expiry, schedule, refused decisions, the Signals, rollback and idempotent retries. Every
decider is a real user of the tenant (the workflow looks them up)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import cast

import pytest
import pytest_asyncio
from sqlalchemy import Engine
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from cloudoptima.clouds.protocol import ActionKind, ActionRequest, CloudProviderClient
from cloudoptima.domain.inventory import ResourceState
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import PolicyExecution
from cloudoptima_workflows.client import (
    DecisionRefusedError,
    RemediationRequest,
    RemediationStatus,
    decide,
    remediation_status,
    start_remediation,
)
from cloudoptima_workflows.remediation.activities import RemediationDeps
from cloudoptima_workflows.remediation.inputs import ResourceAction, SafetyControls, SignalDecision
from cloudoptima_workflows.remediation.workflows import RemediationWorkflow
from tests.workflows.history_recording import record_history
from tests.workflows.test_remediation_harness import (
    LostResponseProvider,
    Tenant,
    remediation_worker,
    sandbox_copy,
    sandbox_factory,
    tenant,
    ui_code,
)


@pytest.fixture
def org(engine: Engine, tmp_path: Path) -> Iterator[Tenant]:
    with tenant(engine, sandbox_copy(tmp_path / "sandbox")) as created:
        yield created


@pytest_asyncio.fixture
async def client(
    time_skipping_env: WorkflowEnvironment, engine: Engine, org: Tenant
) -> AsyncIterator[Client]:
    deps = RemediationDeps(sessions=session_factory(engine), providers=sandbox_factory(org))
    async with remediation_worker(time_skipping_env.client, deps):
        yield time_skipping_env.client


def stop_request(org: Tenant, resource_ids: list[str], **overrides: object) -> RemediationRequest:
    actions = [
        ResourceAction(cloud_account_id=str(org.cloud_account_id), resource_id=rid, action="stop")
        for rid in resource_ids
    ]
    fields: dict[str, object] = {
        "organization_id": str(org.organization_id),
        "requested_by": org.approver("engineer"),
        "execution_id": "",
        "actions": actions,
        "title": "stop idle instances",
    }
    fields.update(overrides)
    return RemediationRequest(**fields)  # type: ignore[arg-type]


async def until_state(client: Client, workflow_id: str, states: set[str]) -> RemediationStatus:
    """Poll the status query until the workflow reaches one of ``states`` (bounded)."""
    for _ in range(600):
        try:
            status = await remediation_status(client, workflow_id)
        except Exception:  # the first workflow task may not have run yet
            status = None
        if status is not None and status.state in states:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"{workflow_id} never reached {states}")


async def finish(
    env: WorkflowEnvironment, workflow_id: str, step: timedelta = timedelta(hours=1)
) -> RemediationStatus:
    """Skip time in ``step``s until the workflow closes (a handle not returned by ``start_workflow`` does
    not skip time by itself), then return its result."""
    wf = handle(env.client, workflow_id)
    for _ in range(500):
        if (await wf.describe()).status != WorkflowExecutionStatus.RUNNING:
            return await wf.result()
        await env.sleep(step)
    raise AssertionError(f"{workflow_id} is still running")


def handle(client: Client, workflow_id: str) -> WorkflowHandle[RemediationWorkflow, RemediationStatus]:
    return client.get_workflow_handle_for(RemediationWorkflow.run, workflow_id)


def execution_row(engine: Engine, execution_id: str) -> PolicyExecution:
    with session_factory(engine)() as session:
        row = session.get(PolicyExecution, uuid.UUID(execution_id))
        assert row is not None
        session.expunge(row)
        return row


def step_keys(org: Tenant, workflow_id: str) -> list[str]:
    return [e.idempotency_key for e in org.journal() if e.idempotency_key.startswith(workflow_id)]


async def test_approved_plan_executes_and_verifies(client: Client, org: Tenant, engine: Engine) -> None:
    vm = org.running_instances(1)[0]
    info = await start_remediation(
        client, stop_request(org, [vm.resource_id]), temporal_ui_url="http://ui:8233"
    )
    assert info.status == "queued" and info.estimated_completion is None
    assert info.temporal_ui_url == f"http://ui:8233/namespaces/default/workflows/{info.workflow_id}"

    pending = await until_state(client, info.workflow_id, {"pending_approval"})
    assert pending.plan is not None and pending.plan.risk_level == "medium"
    assert pending.plan.approver_roles == ["finops_manager", "admin"]
    assert pending.plan.steps[0].valid is True and pending.plan.projected_monthly == Decimal("0")
    assert str(pending.plan.projected_monthly) == "0", "the same decimal string as before"
    assert org.resource(vm.resource_id).state is ResourceState.RUNNING, "nothing runs before approval"
    row = execution_row(engine, info.execution_id)
    assert (
        row.status == "pending_approval"
        and row.expires_at is not None
        and row.workflow_id == info.workflow_id
    )

    decided = await decide(client, info.workflow_id, True, "idle for weeks", org.user("finops_manager"))
    assert decided.state == "approved" and decided.decision is not None

    final = await handle(client, info.workflow_id).result()
    assert final.state == "completed", final.error
    await record_history(handle(client, info.workflow_id), "remediation")
    assert org.resource(vm.resource_id).state is ResourceState.STOPPED
    assert step_keys(org, info.workflow_id) == [f"{info.workflow_id}/step-0"]
    assert [v.ok for v in final.verifications] == [True]
    assert final.verifications[0].observed["state"] == "stopped"
    row = execution_row(engine, info.execution_id)
    assert (row.status, row.decision, row.decided_by, row.resources_affected) == (
        "completed",
        "approved",
        org.user("finops_manager"),
        1,
    )
    assert row.completed_at is not None and any("verified step 0: ok" in line for line in row.execution_logs)


async def test_rejection_executes_nothing(client: Client, org: Tenant, engine: Engine) -> None:
    vm = org.running_instances(1)[0]
    info = await start_remediation(client, stop_request(org, [vm.resource_id]))
    await until_state(client, info.workflow_id, {"pending_approval"})
    await decide(client, info.workflow_id, False, "needed for the quarter close", org.user("admin"))
    final = await handle(client, info.workflow_id).result()
    assert final.state == "rejected"
    assert org.journal() == [] and org.resource(vm.resource_id).state is ResourceState.RUNNING
    row = execution_row(engine, info.execution_id)
    assert (row.status, row.decision, row.decision_comment) == (
        "rejected",
        "rejected",
        "needed for the quarter close",
    )


async def test_pending_approval_expires_after_the_ttl(
    client: Client, org: Tenant, engine: Engine, time_skipping_env: WorkflowEnvironment
) -> None:
    vm = org.running_instances(1)[0]
    started = await time_skipping_env.get_current_time()
    info = await start_remediation(client, stop_request(org, [vm.resource_id], approval_ttl_seconds=3600))
    await until_state(client, info.workflow_id, {"pending_approval"})
    final = await finish(time_skipping_env, info.workflow_id)
    assert final.state == "expired" and final.expires_at is not None
    assert final.expires_at - started >= timedelta(hours=1)
    assert org.journal() == []
    assert execution_row(engine, info.execution_id).status == "expired"
    with pytest.raises(DecisionRefusedError):
        await decide(client, info.workflow_id, True, "too late", org.user("admin"))
    assert org.journal() == []


async def test_scheduled_execution_waits_until_its_time(
    client: Client, org: Tenant, time_skipping_env: WorkflowEnvironment, engine: Engine
) -> None:
    vm = org.running_instances(1)[0]
    at = (await time_skipping_env.get_current_time()) + timedelta(hours=6)
    info = await start_remediation(client, stop_request(org, [vm.resource_id], schedule=at))
    await until_state(client, info.workflow_id, {"pending_approval"})
    await decide(client, info.workflow_id, True, "in the maintenance window", org.user("finops_manager"))
    waiting = await until_state(client, info.workflow_id, {"scheduled"})
    assert waiting.scheduled_for == at
    assert org.journal() == [], "a scheduled remediation does not act before its time"
    assert execution_row(engine, info.execution_id).scheduled_for == at

    final = await finish(time_skipping_env, info.workflow_id)
    assert final.state == "completed"
    executing = next(line for line in final.logs if line.endswith(" executing"))
    assert datetime.fromisoformat(executing.split(" ", 1)[0]) >= at
    assert org.resource(vm.resource_id).state is ResourceState.STOPPED


async def test_update_refuses_under_privileged_and_second_decisions(client: Client, org: Tenant) -> None:
    vm = org.running_instances(1)[0]
    info = await start_remediation(client, stop_request(org, [vm.resource_id], risk_level="high"))
    pending = await until_state(client, info.workflow_id, {"pending_approval"})
    assert pending.plan is not None and pending.plan.approver_roles == ["admin"]
    for role in ("engineer", "finops_manager"):
        with pytest.raises(DecisionRefusedError, match=f"role '{role}' may not decide a high-risk"):
            await decide(client, info.workflow_id, True, "ok", org.user(role))
    assert (await remediation_status(client, info.workflow_id)).decision is None
    admin = org.user("admin")
    await decide(client, info.workflow_id, True, "approved", admin)
    with pytest.raises(DecisionRefusedError, match=f"already made: approved by {admin}"):
        await decide(client, info.workflow_id, False, "changed my mind", admin)
    final = await handle(client, info.workflow_id).result()
    assert final.state == "completed" and final.decision is not None
    assert (final.decision.approver.user_id, final.decision.approver.role) == (admin, "admin")


async def test_signals_decide_from_the_temporal_ui(client: Client, org: Tenant) -> None:
    first, second = org.running_instances(2)
    approve = await start_remediation(client, stop_request(org, [first.resource_id], risk_level="high"))
    await until_state(client, approve.workflow_id, {"pending_approval"})
    wf = handle(client, approve.workflow_id)
    engineer, admin = org.user("engineer"), org.user("admin")
    await wf.signal(RemediationWorkflow.approve, SignalDecision(user_id=engineer, role="admin", comment="me"))
    await wf.signal(RemediationWorkflow.approve, SignalDecision(user_id=admin, comment="no code"))
    code = ui_code(org.organization_id, approve.execution_id, admin)
    await wf.signal(
        RemediationWorkflow.approve, SignalDecision(user_id=admin, comment="UI", approval_code=code)
    )
    final = await wf.result()
    assert final.state == "completed"
    assert final.decision is not None and (final.decision.channel, final.decision.approver.user_id) == (
        "temporal_ui",
        org.user("admin"),
    )
    assert any(
        f"refused approval from {engineer} via temporal_ui: role 'engineer'" in line for line in final.logs
    ), "the claimed role 'admin' is ignored: the stored role decides"
    assert any(
        f"refused approval from {admin} via temporal_ui: a Temporal UI decision must carry the approval code"
        in line
        for line in final.logs
    ), "a real admin's id alone proves nothing: the code CloudOptima showed them is required"
    assert org.resource(first.resource_id).state is ResourceState.STOPPED

    reject = await start_remediation(client, stop_request(org, [second.resource_id]))
    await until_state(client, reject.workflow_id, {"pending_approval"})
    manager = org.user("finops_manager")
    await handle(client, reject.workflow_id).signal(
        RemediationWorkflow.reject,
        SignalDecision(
            user_id=manager,
            comment="no",
            approval_code=ui_code(org.organization_id, reject.execution_id, manager),
        ),
    )
    assert (await handle(client, reject.workflow_id).result()).state == "rejected"
    assert org.resource(second.resource_id).state is ResourceState.RUNNING


async def test_failure_mid_execution_rolls_back_the_earlier_steps(
    client: Client, org: Tenant, engine: Engine
) -> None:
    vms = org.running_instances(3)
    info = await start_remediation(client, stop_request(org, [v.resource_id for v in vms]))
    pending = await until_state(client, info.workflow_id, {"pending_approval"})
    assert pending.plan is not None and all(s.valid for s in pending.plan.steps)
    # someone else stops the second instance between the plan and the execution
    org.provider().execute_action(
        ActionRequest(kind=ActionKind.STOP, resource_id=vms[1].resource_id), "outsider"
    )
    await decide(client, info.workflow_id, True, "go", org.user("finops_manager"))
    final = await handle(client, info.workflow_id).result()

    assert final.state == "rolled_back"
    assert final.error is not None and "step 1" in final.error and "refused" in final.error
    assert [(r.index, r.status) for r in final.rollbacks] == [(0, "rolled_back")]
    assert org.resource(vms[0].resource_id).state is ResourceState.RUNNING, "step 0 was rolled back"
    assert org.resource(vms[2].resource_id).state is ResourceState.RUNNING, "step 2 never ran"
    assert step_keys(org, info.workflow_id) == [
        f"{info.workflow_id}/step-0",
        f"{info.workflow_id}/rollback-0",
    ]
    row = execution_row(engine, info.execution_id)
    assert (
        row.status == "rolled_back" and row.resources_affected == 0 and "step 1" in (row.error_message or "")
    )


async def test_dry_run_and_blast_radius_cap_execute_nothing(
    client: Client, org: Tenant, engine: Engine
) -> None:
    vms = org.running_instances(2)
    ids = [v.resource_id for v in vms]
    dry = await start_remediation(client, stop_request(org, ids, dry_run=True))
    planned = await handle(client, dry.workflow_id).result()
    assert planned.state == "dry_run" and planned.plan is not None and len(planned.plan.steps) == 2
    assert planned.plan.savings == sum(v.monthly_cost for v in vms)
    assert str(planned.plan.savings) == str(sum(v.monthly_cost for v in vms))
    assert execution_row(engine, dry.execution_id).dry_run is True

    capped = await start_remediation(
        client, stop_request(org, ids, safety=SafetyControls(max_resources_per_execution=1))
    )
    refused = await handle(client, capped.workflow_id).result()
    assert refused.state == "refused"
    assert refused.error is not None and "touches 2 resources" in refused.error
    assert "max_resources_per_execution is 1" in refused.error
    assert org.journal() == []


async def test_a_lost_response_is_retried_without_acting_twice(
    time_skipping_env: WorkflowEnvironment, engine: Engine, org: Tenant
) -> None:
    flaky = LostResponseProvider(org.provider())
    factory: Callable[[uuid.UUID], CloudProviderClient] = lambda _: cast(CloudProviderClient, flaky)  # noqa: E731
    deps = RemediationDeps(sessions=session_factory(engine), providers=factory)
    vm = org.running_instances(1)[0]
    async with remediation_worker(time_skipping_env.client, deps):
        client = time_skipping_env.client
        info = await start_remediation(client, stop_request(org, [vm.resource_id]))
        await until_state(client, info.workflow_id, {"pending_approval"})
        await decide(client, info.workflow_id, True, "go", org.user("admin"))
        final = await handle(client, info.workflow_id).result()
    assert final.state == "completed"
    assert flaky.calls == 2, "the activity was retried after the lost response"
    assert step_keys(org, info.workflow_id) == [f"{info.workflow_id}/step-0"], "the provider acted once"


async def test_cancelling_a_pending_remediation_executes_nothing(
    client: Client, org: Tenant, engine: Engine
) -> None:
    vm = org.running_instances(1)[0]
    info = await start_remediation(client, stop_request(org, [vm.resource_id]))
    await until_state(client, info.workflow_id, {"pending_approval"})
    await handle(client, info.workflow_id).cancel()
    with pytest.raises(WorkflowFailureError):
        await handle(client, info.workflow_id).result()
    assert org.journal() == []
    row = execution_row(engine, info.execution_id)
    assert (row.status, row.error_message) == ("cancelled", "cancelled") and row.completed_at is not None
