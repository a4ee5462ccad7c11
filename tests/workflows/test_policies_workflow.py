"""Policies on Temporal: a policy's matches go through the remediation workflow (dry run, approval, history),
event triggers start policy executions, and schedule triggers become Temporal Schedules."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import Engine
from temporalio.client import Client, ScheduleActionStartWorkflow
from temporalio.testing import WorkflowEnvironment

from cloudoptima.domain.inventory import ResourceState
from cloudoptima.domain.remediation import PolicyTrigger
from cloudoptima.services.policies import PolicyService, validate_policy
from cloudoptima.services.policy_triggers import PolicyTriggerService
from cloudoptima.services.remediation import RemediationService
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import Policy
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_workflows.client import (
    Approver,
    decide,
    delete_policy_schedule,
    policy_schedule_id,
    start_policy_execution,
    sync_policy_schedule,
)
from cloudoptima_workflows.policies.inputs import PolicyRunResult, PolicyTriggersInput, TriggerEvaluationInput
from cloudoptima_workflows.policies.workflows import PolicyExecutionWorkflow, PolicyTriggersWorkflow
from cloudoptima_workflows.queues import REMEDIATION
from cloudoptima_workflows.remediation.activities import RemediationDeps
from tests.workflows.history_recording import record_history
from tests.workflows.test_remediation_harness import (
    Tenant,
    remediation_worker,
    sandbox_copy,
    sandbox_factory,
    tenant,
)
from tests.workflows.test_remediation_workflow import until_state

SEARCH_STOP: dict[str, Any] = {
    "name": "stop search instances",
    "trigger": {"type": "event", "config": {"event": "anomaly.detected", "filters": {"severity": "high"}}},
    "conditions": [
        {"field": "resource_type", "operator": "eq", "value": "compute_instance"},
        {"field": "status", "operator": "eq", "value": "running"},
        {"field": "tags.team", "operator": "eq", "value": "search"},
    ],
    "actions": [{"type": "stop"}],
    "safety_controls": {"require_approval": True, "max_resources_per_execution": 10},
}


@pytest.fixture
def org(engine: Engine, tmp_path: Path) -> Iterator[Tenant]:
    with tenant(engine, sandbox_copy(tmp_path / "sandbox"), name="policies") as created:
        yield created


@pytest_asyncio.fixture
async def client(
    time_skipping_env: WorkflowEnvironment, engine: Engine, org: Tenant
) -> AsyncIterator[Client]:
    deps = RemediationDeps(sessions=session_factory(engine), providers=sandbox_factory(org))
    async with remediation_worker(time_skipping_env.client, deps):
        yield time_skipping_env.client


def create_policy(engine: Engine, org: Tenant, body: dict[str, Any]) -> uuid.UUID:
    with tenant_session(session_factory(engine), org.organization_id) as session:
        return PolicyService(session, org.organization_id).create(validate_policy(body)).id


def search_instances(org: Tenant) -> list[str]:
    return sorted(
        r.resource_id
        for r in org.resources()
        if r.kind.value == "compute_instance"
        and r.state is ResourceState.RUNNING
        and r.tags.get("team") == "search"
    )


async def test_policy_dry_run_then_approved_execution_with_history(
    client: Client, org: Tenant, engine: Engine
) -> None:
    policy_id = create_policy(engine, org, SEARCH_STOP)
    targets = search_instances(org)
    assert targets, "the sandbox estate has running search instances"

    dry = await start_policy_execution(
        client, str(org.organization_id), str(policy_id), org.approver("engineer"), dry_run=True
    )
    parent = client.get_workflow_handle_for(
        PolicyExecutionWorkflow.run, dry.workflow_id.removesuffix("/remediation")
    )
    outcome: PolicyRunResult = await parent.result()
    assert (outcome.state, outcome.matched_resource_ids) == ("dry_run", targets)
    assert org.journal() == []

    run = await start_policy_execution(
        client, str(org.organization_id), str(policy_id), org.approver("engineer")
    )
    pending = await until_state(client, run.workflow_id, {"pending_approval"})
    assert pending.plan is not None and [s.resource_id for s in pending.plan.steps] == targets
    with tenant_session(session_factory(engine), org.organization_id) as session:
        # The approval window is on the workflow's clock (Temporal's): judge it at a moment inside it.
        inside = pending.expires_at - timedelta(minutes=1) if pending.expires_at else datetime.now(UTC)
        listed = RemediationService(
            session, org.organization_id, sandbox_factory(org), now=lambda: inside
        ).pending_approvals()
    assert [p.workflow_id for p in listed] == [run.workflow_id]
    assert listed[0].policy_id == str(policy_id) and listed[0].impact["savings"] == str(pending.plan.savings)

    await decide(client, run.workflow_id, True, "approved", org.user("finops_manager"))
    parent = client.get_workflow_handle_for(
        PolicyExecutionWorkflow.run, run.workflow_id.removesuffix("/remediation")
    )
    assert (await parent.result()).state == "completed"
    assert all(org.resource(rid).state is ResourceState.STOPPED for rid in targets)
    await record_history(parent, "policy_execution")

    with tenant_session(session_factory(engine), org.organization_id) as session:
        history = RemediationService(session, org.organization_id, sandbox_factory(org)).executions(
            policy_id=policy_id
        )
        policy = session.get(Policy, policy_id)
        assert policy is not None
        counters = (policy.execution_count, policy.success_count, policy.last_executed_at is not None)
    assert [(h.status, h.state, h.dry_run) for h in history] == [
        ("success", "completed", False),
        ("success", "dry_run", True),
    ]
    assert history[0].resources_affected == len(targets) and history[0].decided_by == org.user(
        "finops_manager"
    )
    assert counters == (1, 1, True), "a dry run does not count as an execution"


async def test_event_trigger_starts_the_policy_through_approval(
    client: Client, org: Tenant, engine: Engine
) -> None:
    policy_id = create_policy(engine, org, SEARCH_STOP)
    create_policy(
        engine,
        org,
        {
            **SEARCH_STOP,
            "name": "threshold only",
            "trigger": {"type": "threshold", "config": {"metric": "daily_cost", "value": 10**9}},
        },
    )
    evaluation = TriggerEvaluationInput(
        organization_id=str(org.organization_id),
        event="anomaly.detected",
        payload={"severity": "high"},
    )
    result = await client.execute_workflow(
        PolicyTriggersWorkflow.run,
        PolicyTriggersInput(evaluation=evaluation),
        id=f"triggers-{uuid.uuid4()}",
        task_queue=REMEDIATION,
    )
    assert len(result.started_workflow_ids) == 1, "the threshold policy stays quiet (no cost data)"
    child = f"{result.started_workflow_ids[0]}/remediation"
    pending = await until_state(client, child, {"pending_approval"})
    assert pending.plan is not None and pending.plan.approval_required, (
        "a triggered policy still waits for a human"
    )
    assert org.journal() == []
    with tenant_session(session_factory(engine), org.organization_id) as session:
        [firing] = PolicyTriggerService(session, org.organization_id).firings(policy_id)
        assert firing.workflow_id == result.started_workflow_ids[0]
        assert firing.execution_id == uuid.UUID(pending.execution_id)


async def test_schedule_trigger_becomes_a_temporal_schedule(temporal_env: WorkflowEnvironment) -> None:
    client = temporal_env.client
    policy_id, owner = str(uuid.uuid4()), Approver(user_id="max", role="finops_manager")
    nightly = PolicyTrigger(type="schedule", config={"cron": "0 2 * * *"})
    created = await sync_policy_schedule(
        client, organization_id="org-1", policy_id=policy_id, trigger=nightly, enabled=True, owner=owner
    )
    assert created == policy_schedule_id(policy_id)
    described = await client.get_schedule_handle(created).describe()
    action = described.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow) and action.workflow == "PolicyExecution"
    assert action.task_queue == REMEDIATION
    calendar = described.schedule.spec.calendars[0]
    assert (calendar.hour[0].start, calendar.minute[0].start) == (2, 0), "the cron runs at 02:00"

    hourly = PolicyTrigger(type="schedule", config={"interval_seconds": 3600})
    await sync_policy_schedule(
        client, organization_id="org-1", policy_id=policy_id, trigger=hourly, enabled=True, owner=owner
    )
    updated = await client.get_schedule_handle(created).describe()
    assert [i.every.total_seconds() for i in updated.schedule.spec.intervals] == [3600.0]

    gone = await sync_policy_schedule(
        client, organization_id="org-1", policy_id=policy_id, trigger=hourly, enabled=False, owner=owner
    )
    assert gone is None
    assert await delete_policy_schedule(client, policy_id) is False, "disabling deleted the schedule"
