"""``approve_remediation`` / ``reject_remediation`` over MCP (in-memory server, official client) against a real
Temporal dev server, the remediation worker, Postgres and the sandbox: the two-step fallback and elicitation
confirm, the requester is refused and audited, an approval acts as the API key's user and executes exactly
once, a rejection ends the remediation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from cloudoptima.domain.inventory import ResourceState
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import AuditLog
from cloudoptima_mcp.identity import Identity
from cloudoptima_mcp.runtime import Runtime
from cloudoptima_mcp.server import build_server
from cloudoptima_workflows.client import start_remediation
from cloudoptima_workflows.remediation.activities import RemediationDeps
from cloudoptima_workflows.remediation.workflows import RemediationWorkflow
from tests.workflows.test_remediation_harness import (
    Tenant,
    remediation_worker,
    sandbox_copy,
    sandbox_factory,
    tenant,
    until_recorded,
)
from tests.workflows.test_remediation_workflow import stop_request, until_state


@pytest.fixture
def org(engine: Engine, tmp_path: Path) -> Iterator[Tenant]:
    with tenant(engine, sandbox_copy(tmp_path / "sandbox"), name="mcp-approvals") as created:
        yield created


def server_as(engine: Engine, env: WorkflowEnvironment, org: Tenant, role: str) -> Any:
    runtime = Runtime(
        session_factory=sessionmaker(engine, expire_on_commit=False), temporal_client=env.client
    )
    identity = Identity(organization_id=org.organization_id, role=role, principal=f"user:{org.user(role)}")  # type: ignore[arg-type]
    return build_server("platform", runtime, identity=identity)


async def accept(message: str, response_type: Any, params: Any, context: Any) -> bool:
    assert "as your user" in message
    return True


async def test_mcp_decisions_act_as_the_key_user_and_execute_once(
    engine: Engine, temporal_env: WorkflowEnvironment, org: Tenant
) -> None:
    first, second = (vm.resource_id for vm in org.running_instances(2))
    deps = RemediationDeps(sessions=session_factory(engine), providers=sandbox_factory(org))
    requester = org.approver("finops_manager")
    async with remediation_worker(temporal_env.client, deps):
        client = temporal_env.client
        info = await start_remediation(client, stop_request(org, [first], requested_by=requester))
        await until_recorded(engine, info.execution_id, "pending_approval")
        arguments = {"execution_id": info.execution_id, "comment": "idle"}

        async with Client(server_as(engine, temporal_env, org, "finops_manager")) as mcp:
            with pytest.raises(ToolError, match="requester may not approve their own request"):
                await mcp.call_tool("approve_remediation", {**arguments, "confirm": True})
        async with Client(server_as(engine, temporal_env, org, "admin")) as mcp:  # no elicitation: two steps
            preview = (await mcp.call_tool("approve_remediation", arguments)).structured_content
            assert preview["state"] == "awaiting_confirmation"
            assert preview["pending"]["title"] == "stop idle instances"
            assert preview["pending"]["requested_by"] == requester.user_id
        assert (await until_state(client, info.workflow_id, {"pending_approval"})).decision is None
        async with Client(server_as(engine, temporal_env, org, "admin"), elicitation_handler=accept) as mcp:
            approved = (await mcp.call_tool("approve_remediation", arguments)).structured_content
        assert approved["approve"] is True and (approved["approvals"], approved["approvals_needed"]) == (1, 1)
        final = await client.get_workflow_handle_for(RemediationWorkflow.run, info.workflow_id).result()
        assert final.state == "completed", final.error
        assert final.decision is not None and final.decision.channel == "mcp"
        assert final.decision.approver.user_id == org.user("admin")

        rejected = await start_remediation(client, stop_request(org, [second], requested_by=requester))
        await until_recorded(engine, rejected.execution_id, "pending_approval")
        async with Client(server_as(engine, temporal_env, org, "admin")) as mcp:
            done = await mcp.call_tool(
                "reject_remediation", {"execution_id": rejected.execution_id, "confirm": True}
            )
            assert done.structured_content["state"] == "rejected"
            with pytest.raises(ToolError, match="is not waiting for approval"):
                await mcp.call_tool("approve_remediation", {**arguments, "confirm": True})
        handle = client.get_workflow_handle_for(RemediationWorkflow.run, rejected.workflow_id)
        assert (await handle.result()).state == "rejected"

    assert org.resource(first).state is ResourceState.STOPPED
    assert org.resource(second).state is ResourceState.RUNNING
    keys = [e.idempotency_key for e in org.journal()]
    assert [k for k in keys if k.startswith(info.workflow_id)] == [f"{info.workflow_id}/step-0"]
    assert not [k for k in keys if k.startswith(rejected.workflow_id)]
    with Session(engine) as session:
        rows = session.scalars(
            select(AuditLog)
            .where(AuditLog.organization_id == org.organization_id, AuditLog.resource_type == "remediation")
            .order_by(AuditLog.timestamp, AuditLog.id)
        ).all()
        audited = [(r.resource_id, r.action, r.result, r.channel, str(r.user_id)) for r in rows]
    admin, manager = org.user("admin"), org.user("finops_manager")
    assert audited == [
        (info.execution_id, "remediation.approve", "denied", "mcp", manager),
        (info.execution_id, "remediation.approve", "success", "mcp", admin),
        (rejected.execution_id, "remediation.reject", "success", "mcp", admin),
        (info.execution_id, "remediation.approve", "denied", "mcp", admin),
    ]
