"""The ``tag_resources`` policy action end to end on the sandbox, through the real remediation workflow: the
plan tags only the required keys each matched resource lacks (aliases honoured, existing values kept), waits
for a person's approval, applies the tags once approved, and its rollback (approval-gated too) removes them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from cloudoptima.domain.tag_policy import TagPolicy
from cloudoptima.services.executions import ExecutionService
from cloudoptima.services.policies import PolicyService, validate_policy
from cloudoptima.services.tag_governance import TagGovernance
from cloudoptima.storage.engine import session_factory
from cloudoptima_workflows.client import RemediationRequest, decide, start_remediation
from cloudoptima_workflows.remediation.activities import RemediationDeps
from cloudoptima_workflows.remediation.inputs import ResourceAction
from tests.workflows.test_remediation_harness import (
    Tenant,
    remediation_worker,
    sandbox_copy,
    sandbox_factory,
    tenant,
    until_recorded,
)
from tests.workflows.test_remediation_workflow import handle, until_state

NOW = datetime(2026, 1, 5, tzinfo=UTC)
POLICY = TagPolicy.model_validate(
    {
        "required": [
            {"key": "cost-center", "aliases": ["CostCentre"], "default_value": "cc-unassigned"},
            {"key": "owner", "default_value": "platform-team"},
            {"key": "review", "aliases": []},  # no default value: never applied
        ]
    }
)
BODY = {
    "name": "tag the databases",
    "trigger": {"type": "event", "config": {"event": "anomaly.detected"}},
    "conditions": [{"field": "resource_type", "operator": "in", "value": ["database", "bucket"]}],
    "actions": [{"type": "tag_resources", "config": {"tags": {"Owner": "data-team"}}}],
}


@pytest.fixture
def org(engine: Engine, tmp_path: Path) -> Iterator[Tenant]:
    with tenant(engine, sandbox_copy(tmp_path / "sandbox"), name="tag-policy") as created:
        yield created


@pytest_asyncio.fixture
async def client(
    time_skipping_env: WorkflowEnvironment, engine: Engine, org: Tenant
) -> AsyncIterator[Client]:
    deps = RemediationDeps(sessions=session_factory(engine), providers=sandbox_factory(org))
    async with remediation_worker(time_skipping_env.client, deps):
        yield time_skipping_env.client


def test_tag_resources_config_is_validated() -> None:
    from cloudoptima.services.policies import PolicyValidationError

    bad = {**BODY, "actions": [{"type": "tag_resources", "config": {"tags": {"owner": ""}, "colour": 1}}]}
    with pytest.raises(PolicyValidationError) as caught:
        validate_policy(bad)
    assert any(p.startswith("actions[0].config.tags") for p in caught.value.problems)
    assert any("colour" in p for p in caught.value.problems)
    assert validate_policy(BODY).risk.value == "low", "tag_resources runs as tag steps: low risk"


async def test_tag_resources_through_approval_then_rollback(
    client: Client, org: Tenant, engine: Engine
) -> None:
    sessions = session_factory(engine)
    before = {r.resource_id: dict(r.tags) for r in org.resources() if r.kind.value in ("database", "bucket")}
    assert before and all("owner" not in tags for tags in before.values())
    with sessions() as session, session.begin():
        TagGovernance(session, org.organization_id).write_policy(POLICY)
        service = PolicyService(session, org.organization_id, now=lambda: NOW)
        policy = service.create(validate_policy(BODY))
        _matched, planned = service.planned_actions(service.definition_of(policy))
        policy_id = str(policy.id)
    expected = {
        rid: {
            **({} if "cost-center" in tags else {"cost-center": "cc-unassigned"}),
            "owner": "data-team",  # the config's value (any spelling of the key) over the default
        }
        for rid, tags in before.items()
    }
    assert {a.resource_id: (a.action, a.parameters) for a in planned} == {
        rid: ("tag", {"tags": tags}) for rid, tags in expected.items()
    }
    request = RemediationRequest(
        organization_id=str(org.organization_id),
        requested_by=org.approver("engineer"),
        execution_id="",
        policy_id=policy_id,
        actions=[ResourceAction(**a.model_dump()) for a in planned],
        title="tag the databases",
    )
    info = await start_remediation(client, request)
    pending = await until_state(client, info.workflow_id, {"pending_approval"})
    assert pending.plan is not None and pending.plan.risk_level == "low"
    assert all(step.valid for step in pending.plan.steps), [s.problems for s in pending.plan.steps]
    assert {r.resource_id: dict(r.tags) for r in org.resources() if r.resource_id in before} == before, (
        "nothing is tagged before approval"
    )

    await decide(client, info.workflow_id, True, "tag them", org.user("finops_manager"))
    final = await handle(client, info.workflow_id).result()
    assert final.state == "completed", final.error
    after = {r.resource_id: dict(r.tags) for r in org.resources() if r.resource_id in before}
    assert after == {rid: {**tags, **expected[rid]} for rid, tags in before.items()}
    await until_recorded(engine, info.execution_id, "completed")

    with sessions() as session, session.begin():
        undo = ExecutionService(session, org.organization_id).rollback_plan(uuid.UUID(info.execution_id))
    assert {a.action for a in undo.actions} == {"untag"}
    rollback = await start_remediation(
        client,
        RemediationRequest(
            organization_id=str(org.organization_id),
            requested_by=org.approver("engineer"),
            execution_id="",
            actions=[ResourceAction(**a.model_dump()) for a in undo.actions],
            title=undo.title,
        ),
    )
    await until_state(client, rollback.workflow_id, {"pending_approval"})
    await decide(client, rollback.workflow_id, True, "undo", org.user("finops_manager"))
    undone = await handle(client, rollback.workflow_id).result()
    assert undone.state == "completed", undone.error
    assert {r.resource_id: dict(r.tags) for r in org.resources() if r.resource_id in before} == before
