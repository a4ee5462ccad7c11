"""Executions a person can follow and roll back, through the real gateway, Temporal dev server, worker,
Postgres, Redis and a sandbox estate: apply → events on the WebSocket → approval → completion (snapshot
inventoried and netted) → approval-gated rollback that restores the disk; refusals, isolation and RBAC."""

from __future__ import annotations

import asyncio
import threading
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from temporalio.testing import WorkflowEnvironment

from cloudoptima.clouds.sandbox.state import SandboxEstateStore
from cloudoptima.domain.inventory import ResourceKind, ResourceState
from cloudoptima.domain.recommendations import money
from cloudoptima.services.auth import AuthService
from cloudoptima.services.events import EventPublisher
from cloudoptima.services.safety_snapshots import SAFETY_TAG
from cloudoptima.settings import Settings
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.inventory_store import upsert_resources
from cloudoptima.storage.models import (
    CloudAccount,
    ExecutionEvent,
    PolicyExecution,
    Recommendation,
    ResourceDocument,
    User,
)
from cloudoptima_workflows.remediation.activities import RemediationDeps
from tests.gateway.conftest import _HASH, Org, make_org
from tests.workflows.test_remediation_harness import (
    Tenant,
    remediation_worker,
    sandbox_copy,
    sandbox_factory,
)

TERMINAL = {"completed", "failed", "rolled_back", "rejected", "refused", "expired", "cancelled", "dry_run"}


def _second_admin(engine: Engine, settings: Settings, org: Org) -> dict[str, str]:
    """Another admin of ``org`` (the approver: the requester may not approve their own request)."""
    from cloudoptima_gateway.runtime import Runtime

    with Session(engine) as session:
        user = User(
            organization_id=org.id,
            email=f"approver-{uuid.uuid4().hex[:8]}@example.com",
            password_hash=_HASH,
            role="admin",
            is_active=True,
        )
        session.add(user)
        session.flush()
        pair = AuthService(session, Runtime(settings).issuer())._new_pair(user, family_id=uuid.uuid4())
        session.commit()
        return {"Authorization": f"Bearer {pair.access_token}"}


def _connect_sandbox(engine: Engine, org: Org, state_dir: Path) -> Tenant:
    """The organisation's sandbox account and its stored inventory (like a first collection)."""
    store = SandboxEstateStore.open(state_dir)
    account = store.estate().accounts[0]
    with session_factory(engine)() as session, session.begin():
        row = CloudAccount(
            organization_id=org.id,
            provider=account.provider.value,
            account_identifier=account.account_id,
            account_name=account.name,
            credentials_encrypted="",
            settings={"sandbox": True},
        )
        session.add(row)
        session.flush()
        live = [r for r in store.estate().account_resources(account.account_id) if r.deleted_at is None]
        upsert_resources(session.connection(), org.id, row.id, live, {}, datetime.now(UTC), complete=True)
        account_row = row.id
    return Tenant(org.id, account_row, account.account_id, state_dir)


def _disk_recommendation(engine: Engine, tenant: Tenant) -> tuple[uuid.UUID, str, Decimal]:
    """An unattached-disk recommendation (snapshot and delete) on a free disk of the sandbox account."""
    disk = next(
        r
        for r in tenant.resources()
        if r.kind is ResourceKind.DISK and r.state is ResourceState.AVAILABLE and r.deleted_at is None
    )
    saving = money(disk.monthly_cost)
    with Session(engine) as session:
        rec = Recommendation(
            organization_id=tenant.organization_id,
            fingerprint=uuid.uuid4().hex,
            rule_id="unattached_disks",
            provider=disk.provider.value,
            account_identifier=tenant.account_identifier,
            region=disk.region,
            title=f"Snapshot and delete unattached disk {disk.name}",
            category="storage",
            risk_level="high",
            estimated_savings_monthly=saving,
            estimated_savings_annual=saving * 12,
            resource_ids=[disk.resource_id],
            affected_resources=[{"id": disk.resource_id, "name": disk.name, "current_cost": str(saving)}],
            actions=[
                {
                    "type": "snapshot_and_delete_disk",
                    "resource_id": disk.resource_id,
                    "description": f"Snapshot and delete {disk.name}",
                    "parameters": {},
                }
            ],
            status="active",
        )
        session.add(rec)
        session.commit()
        return rec.id, disk.resource_id, saving


class Frames:
    """Collects a WebSocket's frames in a thread (``receive_json`` blocks) until told to stop."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.frames: list[dict[str, Any]] = []
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                self.frames.append(self.socket.receive_json())
        except Exception:  # the socket closed
            return

    def events(self, execution_id: str) -> list[dict[str, Any]]:
        return [
            f["data"]
            for f in list(self.frames)
            if f.get("type") == "message" and (f.get("data") or {}).get("execution_id") == execution_id
        ]


async def _get(client: TestClient, path: str, headers: dict[str, str]) -> Any:
    return await asyncio.to_thread(client.get, path, headers=headers)


async def _post(client: TestClient, path: str, headers: dict[str, str], body: Any = None) -> Any:
    return await asyncio.to_thread(client.post, path, headers=headers, json=body)


async def _until(client: TestClient, execution_id: str, headers: dict[str, str], states: set[str]) -> Any:
    """Poll ``GET /v1/executions/{id}`` until it reaches one of ``states`` (bounded)."""
    last = None
    for _ in range(400):
        response = await _get(client, f"/v1/executions/{execution_id}", headers)
        if response.status_code == 200:
            last = response.json()
            if last["state"] in states:
                return last
            assert last["state"] not in TERMINAL, last
        await asyncio.sleep(0.05)
    raise AssertionError(f"{execution_id} never reached {states}: {last}")


@pytest.fixture
def sandbox_dir(tmp_path: Path) -> Path:
    return sandbox_copy(tmp_path / "sandbox")


async def test_follow_an_execution_to_completion_and_roll_it_back(
    client: TestClient,
    engine: Engine,
    gateway_settings: Settings,
    temporal_env: WorkflowEnvironment,
    redis_url: str,
    sandbox_dir: Path,
) -> None:
    org = make_org(engine, gateway_settings, name="executions")
    other = make_org(engine, gateway_settings, name="executions-other")
    approver = _second_admin(engine, gateway_settings, org)
    tenant = _connect_sandbox(engine, org, sandbox_dir)
    rec_id, disk_id, gross = _disk_recommendation(engine, tenant)
    admin = org.headers("admin")
    publisher = EventPublisher.from_url(redis_url)
    deps = RemediationDeps(
        sessions=session_factory(engine), providers=sandbox_factory(tenant), publish=publisher
    )
    with client.websocket_connect(f"/v1/stream?token={org.tokens['viewer']}") as socket:
        socket.send_json({"type": "subscribe", "channel": "policy_executions"})
        assert socket.receive_json() == {"type": "subscribed", "channel": "policy_executions"}
        frames = Frames(socket)
        async with remediation_worker(temporal_env.client, deps):
            # -- request: queued → planned → pending approval; nothing changes yet ---------------------
            applied = await _post(
                client, f"/v1/recommendations/{rec_id}/apply", admin, {"approval_required": True}
            )
            assert applied.status_code == 200, applied.text
            execution_id = applied.json()["execution_id"]
            pending = await _until(client, execution_id, admin, {"pending_approval"})
            assert pending["recommendation_id"] == str(rec_id) and pending["risk_level"] == "high"
            assert pending["dry_run_result"]["valid"] is True
            assert pending["dry_run_result"]["steps"][0]["action"] == "snapshot_and_delete_disk"
            assert pending["steps"] == [] and pending["decision"] is None
            # the approver reads the saving net of the safety snapshot the step will keep
            expected = pending["saving"]
            assert expected["snapshots_taken"] is False and Decimal(expected["safety_snapshots_monthly"]) > 0
            assert Decimal(pending["plan"]["impact"]["savings"]) == Decimal(expected["net_monthly"])
            assert Decimal(expected["net_monthly"]) == Decimal(expected["gross_monthly"]) - Decimal(
                expected["safety_snapshots_monthly"]
            )
            assert any("safety snapshot" in r for r in pending["plan"]["impact"]["risks"])
            assert Decimal(pending["plan"]["steps"][0]["monthly_cost_after"]) == Decimal(
                expected["safety_snapshots_monthly"]
            )
            assert tenant.resource(disk_id).state is ResourceState.AVAILABLE

            again = await _post(client, f"/v1/recommendations/{rec_id}/apply", admin, {})
            assert again.status_code == 409 and execution_id in again.json()["detail"], again.text

            # -- approval → executing → step → verified → completed -----------------------------------
            decided = await _post(
                client, f"/v1/approvals/{execution_id}/decision", approver, {"approve": True, "comment": "ok"}
            )
            assert decided.status_code == 200, decided.text
            done = await _until(client, execution_id, admin, {"completed"})
            assert tenant.resource(disk_id).state is ResourceState.DELETED

            # -- rollback: approval-gated, restores the disk ------------------------------------------
            assert (
                await _post(client, f"/v1/executions/{execution_id}/rollback", org.headers("viewer"))
            ).status_code == 403
            started = await _post(client, f"/v1/executions/{execution_id}/rollback", admin)
            assert started.status_code == 202, started.text
            rollback = started.json()
            assert rollback["approval_required"] is True and rollback["rollback_of"] == execution_id
            assert [a["action"] for a in rollback["actions"]] == ["restore_disk"]
            waiting = await _until(client, rollback["execution_id"], admin, {"pending_approval"})
            assert waiting["rollback_of"]["execution_id"] == execution_id
            assert tenant.resource(disk_id).state is ResourceState.DELETED, (
                "nothing is undone before approval"
            )
            twice = await _post(client, f"/v1/executions/{execution_id}/rollback", admin)
            assert twice.status_code == 409 and "open rollback" in twice.json()["detail"]
            decided = await _post(
                client,
                f"/v1/approvals/{rollback['execution_id']}/decision",
                approver,
                {"approve": True, "comment": "undo"},
            )
            assert decided.status_code == 200, decided.text
            await _until(client, rollback["execution_id"], admin, {"completed"})
            assert tenant.resource(disk_id).state is ResourceState.AVAILABLE
            after = (await _get(client, f"/v1/executions/{execution_id}", admin)).json()
        socket.close()
    publisher.close()

    # what the person saw: every stage, from request to completion, on the socket
    events = frames.events(execution_id)
    states = [e["state"] for e in events if e["event"] == "state"]
    for state in ("queued", "pending_approval", "approved", "executing", "verifying", "completed"):
        assert state in states, (state, states)
    assert states.index("queued") < states.index("pending_approval") < states.index("completed")
    kinds = [e["event"] for e in events]
    assert "planned" in kinds and "step" in kinds and "verification" in kinds
    step_event = next(e for e in events if e["event"] == "step")
    assert step_event["step"]["status"] == "succeeded" and step_event["snapshot"]["source_disk_id"] == disk_id
    assert "completed" in [
        e["state"] for e in frames.events(rollback["execution_id"]) if e["event"] == "state"
    ]

    # the GET endpoint: plan, dry run, decision, steps, checks, snapshot, timeline, saving
    assert [s["state"] for s in done["timeline"]][:2] == ["queued", "planned"]
    assert {"pending_approval", "approved", "executing", "verifying", "completed"} <= {
        s["state"] for s in done["timeline"]
    }
    assert done["decision"]["decision"] == "approved" and done["decision"]["user_id"] != str(
        org.users["admin"]
    )
    assert done["decision"]["channel"] and done["decision"]["decided_at"]
    assert done["steps"][0]["status"] == "succeeded" and done["steps"][0]["rollback_action"]["action"] == (
        "restore_disk"
    )
    assert done["verifications"][0]["ok"] is True
    snapshot = done["snapshots"][0]
    cost = Decimal(snapshot["monthly_cost"])
    assert cost > 0 and snapshot["price_source"], snapshot
    saving = done["saving"]
    assert saving["snapshots_taken"] is True and Decimal(saving["safety_snapshots_monthly"]) == cost
    assert Decimal(saving["net_monthly"]) == Decimal(saving["gross_monthly"]) - cost
    assert Decimal(done["plan"]["impact"]["savings"]) == Decimal(saving["net_monthly"]), "the approver saw it"
    assert done["rollback_possible"] is True and done["rollback_refusal"] is None

    # the snapshot is inventoried, the disk is gone from the inventory, the saving is netted
    with Session(engine) as session:
        rows = {
            r.resource_id: r
            for r in session.scalars(
                select(ResourceDocument).where(ResourceDocument.organization_id == org.id)
            )
        }
        snap = rows[snapshot["resource_id"]]
        assert snap.resource_type == "snapshot" and snap.cost_monthly == cost
        assert snap.tags[SAFETY_TAG] == disk_id and snap.configuration["source_disk_id"] == disk_id
        assert rows[disk_id].status == "available", "restored by the rollback"
        rec = session.get(Recommendation, rec_id)
        assert rec is not None
        assert rec.estimated_savings_monthly == money(gross - cost)
        assert rec.evidence is not None and Decimal(rec.evidence["gross_savings_monthly"]) == gross
        assert rec.applied_at is not None
        assert rec.status == "active", "a completed rollback makes the recommendation applicable again"

    # after the rollback: linked both ways, no second rollback
    assert after["rolled_back_by"][0]["execution_id"] == rollback["execution_id"]
    assert after["rolled_back_by"][0]["state"] == "completed"
    assert after["rollback_possible"] is False and "already rolled back" in after["rollback_refusal"]

    # list, isolation and credentials
    listed = client.get("/v1/executions", headers=admin, params={"recommendation_id": str(rec_id)}).json()
    assert [e["id"] for e in listed["executions"]] == [execution_id] and listed["total"] == 1
    assert client.get("/v1/executions", headers=admin, params={"state": "completed"}).json()["total"] == 2
    bad = client.get("/v1/executions", headers=admin, params={"state": "done"})
    assert bad.status_code == 422 and "state" in bad.text
    deep = client.get("/v1/executions", headers=admin, params={"offset": 467089619163219820544})
    assert deep.status_code == 422 and "offset" in deep.text, "an offset beyond any page is a 422, not a 500"
    assert client.get(f"/v1/executions/{execution_id}", headers=org.headers("viewer")).status_code == 200
    theirs = other.headers("admin")
    assert client.get(f"/v1/executions/{execution_id}", headers=theirs).status_code == 404
    assert client.post(f"/v1/executions/{execution_id}/rollback", headers=theirs).status_code == 404
    assert client.get("/v1/executions", headers=theirs).json()["total"] == 0
    assert client.get(f"/v1/executions/{execution_id}").status_code == 401


def test_rollback_is_refused_for_irreversible_steps_and_unfinished_executions(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings, name="irreversible")
    with Session(engine) as session:
        released = PolicyExecution(
            organization_id=org.id,
            status="completed",
            workflow_id=f"remediation-{uuid.uuid4()}",
            kind="manual",
            plan={"title": "release idle IPs"},
        )
        waiting = PolicyExecution(
            organization_id=org.id, status="pending_approval", workflow_id=f"remediation-{uuid.uuid4()}"
        )
        session.add_all([released, waiting])
        session.flush()
        session.add(
            ExecutionEvent(
                organization_id=org.id,
                execution_id=released.id,
                kind="step",
                key="0",
                data={
                    "index": 0,
                    "resource_id": "eipalloc-1",
                    "action": "release_ip",
                    "status": "succeeded",
                    "rollback_action": None,
                    "irreversible": "a released address returns to the provider's pool",
                },
            )
        )
        session.commit()
        released_id, waiting_id = released.id, waiting.id
    admin = org.headers("admin")
    refused = client.post(f"/v1/executions/{released_id}/rollback", headers=admin)
    assert refused.status_code == 409
    detail = refused.json()["detail"]
    assert "cannot be undone" in detail and "step 0 (release_ip eipalloc-1)" in detail
    assert "provider's pool" in detail
    shown = client.get(f"/v1/executions/{released_id}", headers=admin).json()
    assert shown["rollback_possible"] is False and shown["rollback_refusal"] == detail
    unfinished = client.post(f"/v1/executions/{waiting_id}/rollback", headers=admin)
    assert unfinished.status_code == 409
    assert "pending_approval; only a completed execution can be rolled back" in unfinished.json()["detail"]
    engineer = client.post(f"/v1/executions/{uuid.uuid4()}/rollback", headers=org.headers("engineer"))
    assert engineer.status_code == 404
