"""``request_remediation`` over MCP against a real Temporal dev server and the real remediation worker:
elicitation confirms, the workflow starts and waits for approval, and nothing changes in the cloud."""

from __future__ import annotations

import asyncio
import base64
import os
import uuid
from typing import Any

import pytest
from fastmcp import Client
from sqlalchemy import Engine, exists, func, select
from sqlalchemy.orm import sessionmaker
from temporalio.testing import WorkflowEnvironment

from cloudoptima.clouds.protocol import CloudProviderClient
from cloudoptima.clouds.registry import ProviderRegistry
from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.storage.models import CloudAccount, PolicyExecution, Recommendation
from cloudoptima_mcp.runtime import Runtime
from cloudoptima_mcp.server import build_server
from cloudoptima_workflows.client import remediation_status
from cloudoptima_workflows.remediation.activities import RemediationDeps
from tests.mcp.conftest import identity_of
from tests.tools.seed import NOW, Estates
from tests.workflows.test_remediation_harness import remediation_worker

UI = "http://127.0.0.1:8233"


def _low_risk_recommendation(engine: Engine, org: uuid.UUID) -> tuple[str, list[str]]:
    with engine.connect() as connection:
        row = connection.execute(
            select(Recommendation.id, Recommendation.resource_ids)
            .where(
                Recommendation.organization_id == org,
                Recommendation.risk_level == "low",
                func.jsonb_array_length(Recommendation.actions) > 0,
                # one an earlier test left with an open (terminated, still pending) execution is not requestable
                ~exists().where(PolicyExecution.recommendation_id == Recommendation.id),
            )
            .order_by(Recommendation.estimated_savings_monthly.desc())
            .limit(1)
        ).one()
    return str(row[0]), list(row[1])


def _executions(engine: Engine, org: uuid.UUID) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count())
                .select_from(PolicyExecution)
                .where(PolicyExecution.organization_id == org)
            ).scalar()
            or 0
        )


@pytest.fixture
def providers(engine: Engine) -> Any:
    cipher = CredentialCipher(base64.urlsafe_b64encode(os.urandom(32)).decode())
    registry = ProviderRegistry(cipher, sandbox_clock=lambda: NOW)
    factory = sessionmaker(engine, expire_on_commit=False)

    def build(account_id: uuid.UUID) -> CloudProviderClient:
        with factory() as session:
            row = session.get(CloudAccount, account_id)
            assert row is not None
            return registry.for_account(row)

    return build


async def test_remediation_is_confirmed_started_and_waits_for_approval(
    engine: Engine, estates: Estates, temporal_env: WorkflowEnvironment, providers: Any
) -> None:
    org = estates.a
    recommendation_id, resource_ids = _low_risk_recommendation(engine, org.organization_id)
    factory = sessionmaker(engine, expire_on_commit=False)
    runtime = Runtime(
        session_factory=factory, temporal_client=temporal_env.client, temporal_ui_url=UI, now=lambda: NOW
    )
    server = build_server("platform", runtime, identity=identity_of(org, "admin"))
    asked: list[str] = []

    async def decline(message: str, response_type: Any, params: Any, context: Any) -> bool:
        asked.append(message)
        return False

    async def accept(message: str, response_type: Any, params: Any, context: Any) -> bool:
        asked.append(message)
        return True

    before = _executions(engine, org.organization_id)
    async with Client(server, elicitation_handler=decline) as client:
        declined = await client.call_tool("request_remediation", {"recommendation_id": recommendation_id})
    assert declined.structured_content["state"] == "awaiting_confirmation"
    assert declined.structured_content["workflow_id"] is None
    assert len(asked) == 1 and "approval" in asked[0]

    deps = RemediationDeps(sessions=factory, providers=providers)
    async with remediation_worker(temporal_env.client, deps):
        async with Client(server, elicitation_handler=accept) as client:
            result = await client.call_tool("request_remediation", {"recommendation_id": recommendation_id})
        data = result.structured_content
        assert len(asked) == 2
        assert data["approval_required"] is True and data["execution_id"]
        workflow_id = data["workflow_id"]
        assert data["temporal_ui_url"] == f"{UI}/namespaces/default/workflows/{workflow_id}"
        state = data["state"]
        for _ in range(300):  # until the workflow has planned (bounded, no timing assertion)
            status = await remediation_status(temporal_env.client, workflow_id)
            state = status.state
            if state not in ("queued", "planning"):
                break
            await asyncio.sleep(0.1)
        assert state == "pending_approval", (status.error, status.logs, status.plan and status.plan.problems)
        assert status.steps == [], "no step may execute before approval"
        await temporal_env.client.get_workflow_handle(workflow_id).terminate("test over")
    assert _executions(engine, org.organization_id) == before + 1
    provider = providers(_account_of(engine, org.organization_id, resource_ids[0]))
    live = {r.resource_id: r for r in provider.inventory().items}
    assert resource_ids[0] in live, "the resource must still exist: nothing was executed"


def _account_of(engine: Engine, org: uuid.UUID, resource_id: str) -> uuid.UUID:
    from cloudoptima.storage.models import ResourceDocument

    with engine.connect() as connection:
        account = connection.execute(
            select(ResourceDocument.cloud_account_id).where(
                ResourceDocument.organization_id == org, ResourceDocument.resource_id == resource_id
            )
        ).scalar()
    assert account is not None
    return account


async def test_without_elicitation_the_first_call_only_previews(engine: Engine, estates: Estates) -> None:
    org = estates.a
    recommendation_id, _ = _low_risk_recommendation(engine, org.organization_id)
    runtime = Runtime(session_factory=sessionmaker(engine, expire_on_commit=False), now=lambda: NOW)
    async with Client(build_server("platform", runtime, identity=identity_of(org, "admin"))) as client:
        preview = await client.call_tool("request_remediation", {"recommendation_id": recommendation_id})
        assert preview.structured_content["state"] == "awaiting_confirmation"
        assert preview.structured_content["preview"]["id"] == recommendation_id
        with pytest.raises(Exception, match="no Temporal connection"):
            await client.call_tool(
                "request_remediation", {"recommendation_id": recommendation_id, "confirm": True}
            )
