"""Approvals over REST against the real gateway, Temporal dev server, remediation worker, Postgres and the
sandbox: apply waits for approval by default, the requester's own approval is refused (409) and audited, an
admin's approval executes the step exactly once, and a decision on a finished remediation is refused (404)
and audited."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from temporalio.testing import WorkflowEnvironment

from cloudoptima.domain.inventory import ResourceState
from cloudoptima.security.approval_codes import approval_code, check_approval_code
from cloudoptima.services.auth import AuthService
from cloudoptima.settings import Settings
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import AuditLog, CloudAccount, Recommendation, User
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


@pytest.fixture
def org(engine: Engine, tmp_path: Path) -> Iterator[Tenant]:
    with tenant(engine, sandbox_copy(tmp_path / "sandbox"), name="rest-approvals") as created:
        yield created


def headers_for(engine: Engine, settings: Settings, user_id: uuid.UUID) -> dict[str, str]:
    from cloudoptima_gateway.runtime import Runtime

    with Session(engine) as session:
        user = session.get(User, user_id)
        assert user is not None
        pair = AuthService(session, Runtime(settings).issuer())._new_pair(user, family_id=uuid.uuid4())
        session.commit()
    return {"Authorization": f"Bearer {pair.access_token}"}


def stop_recommendation(engine: Engine, org: Tenant, resource_id: str) -> uuid.UUID:
    with Session(engine) as session:
        account = session.get(CloudAccount, org.cloud_account_id)
        assert account is not None
        row = Recommendation(
            organization_id=org.organization_id,
            fingerprint=uuid.uuid4().hex,
            provider=account.provider,
            account_identifier=account.account_identifier,
            title=f"Stop idle {resource_id}",
            category="compute",
            risk_level="medium",
            resource_ids=[resource_id],
            affected_resources=[{"id": resource_id, "name": resource_id}],
            actions=[{"type": "stop", "resource_id": resource_id, "description": "stop", "parameters": {}}],
            status="active",
        )
        session.add(row)
        session.commit()
        return row.id


def decisions(engine: Engine, org: Tenant, execution_id: str) -> list[tuple[str, str, str, str | None]]:
    with Session(engine) as session:
        rows = session.scalars(
            select(AuditLog)
            .where(
                AuditLog.organization_id == org.organization_id,
                AuditLog.resource_type == "remediation",
                AuditLog.resource_id == execution_id,
            )
            .order_by(AuditLog.timestamp, AuditLog.id)
        ).all()
        return [(r.action, r.result, r.channel, str(r.user_id) if r.user_id else None) for r in rows]


async def test_rest_approval_is_verified_separated_audited_and_executes_once(
    client: TestClient,
    engine: Engine,
    gateway_settings: Settings,
    temporal_env: WorkflowEnvironment,
    org: Tenant,
) -> None:
    vm = org.running_instances(1)[0].resource_id
    recommendation = stop_recommendation(engine, org, vm)
    manager = headers_for(engine, gateway_settings, org.users["finops_manager"])
    admin = headers_for(engine, gateway_settings, org.users["admin"])
    keys = tuple(gateway_settings.resolved_encryption_keys)  # the gateway shows codes the workers check
    deps = RemediationDeps(
        sessions=session_factory(engine), providers=sandbox_factory(org), approval_keys=keys
    )

    def post(path: str, headers: dict[str, str], body: dict[str, object]) -> tuple[int, dict[str, object]]:
        response = client.post(path, headers=headers, json=body)
        return response.status_code, response.json()

    async with remediation_worker(temporal_env.client, deps):
        code, applied = await asyncio.to_thread(
            post, f"/v1/recommendations/{recommendation}/apply", manager, {}
        )
        assert code == 200, applied
        assert applied["approval_required"] is True, "approval is required by default"
        execution_id = str(applied["execution_id"])
        workflow_id = f"remediation-{execution_id}"
        await until_recorded(engine, execution_id, "pending_approval")

        def listed(headers: dict[str, str]) -> list[object]:
            body = client.get("/v1/approvals", headers=headers).json()
            return [a["execution_id"] for a in body["approvals"]]

        assert execution_id in await asyncio.to_thread(listed, admin)
        offered = client.get("/v1/approvals", headers=admin).json()["approvals"]
        (mine,) = [a for a in offered if a["execution_id"] == execution_id]
        admin_id = str(org.users["admin"])
        assert mine["temporal_ui_approval_code"] == approval_code(
            keys, str(org.organization_id), execution_id, admin_id
        )
        assert check_approval_code(
            keys, str(org.organization_id), execution_id, admin_id, mine["temporal_ui_approval_code"]
        )
        assert not check_approval_code(
            keys,
            str(org.organization_id),
            execution_id,
            str(org.users["engineer"]),
            mine["temporal_ui_approval_code"],
        )
        assert execution_id not in await asyncio.to_thread(listed, manager), "not offered to its requester"
        decision = f"/v1/approvals/{execution_id}/decision"
        code, refused = await asyncio.to_thread(post, decision, manager, {"approve": True, "comment": "mine"})
        assert code == 409 and "requester may not approve" in str(refused["detail"])
        code, approved = await asyncio.to_thread(post, decision, admin, {"approve": True, "comment": "go"})
        assert code == 200, approved
        assert (approved["approvals"], approved["approvals_needed"]) == (1, 1)
        handle = temporal_env.client.get_workflow_handle_for(RemediationWorkflow.run, workflow_id)
        final = await handle.result()
        assert final.state == "completed", final.error
        assert final.decision is not None and final.decision.channel == "rest"
        assert final.decision.approver.user_id == str(org.users["admin"])
        code, late = await asyncio.to_thread(post, decision, admin, {"approve": True})
        assert code == 404, late

    assert org.resource(vm).state is ResourceState.STOPPED
    executed = [e.idempotency_key for e in org.journal() if e.idempotency_key.startswith(workflow_id)]
    assert executed == [f"{workflow_id}/step-0"], "the approved step ran exactly once"
    assert decisions(engine, org, execution_id) == [
        ("remediation.approve", "denied", "rest", str(org.users["finops_manager"])),
        ("remediation.approve", "success", "rest", str(org.users["admin"])),
        ("remediation.approve", "denied", "rest", str(org.users["admin"])),
    ]


async def test_bulk_tagging_waits_for_approval_by_default(
    client: TestClient,
    engine: Engine,
    gateway_settings: Settings,
    temporal_env: WorkflowEnvironment,
    org: Tenant,
) -> None:
    vm = org.running_instances(1)[0].resource_id
    engineer = headers_for(engine, gateway_settings, org.users["engineer"])
    body = {"resource_ids": [vm], "tags": {"approvals-test": "yes"}}
    response = await asyncio.to_thread(client.post, "/v1/resources/bulk-tag", headers=engineer, json=body)
    assert response.status_code == 200, response.text
    tagged = response.json()
    assert tagged["approval_required"] is True and tagged["updated_count"] == 0 and tagged["execution_id"]
    await temporal_env.client.get_workflow_handle(f"remediation-{tagged['execution_id']}").terminate(
        "test over"
    )
    assert "approvals-test" not in org.resource(vm).tags, "nothing was tagged before an approval"
