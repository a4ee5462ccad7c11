"""Policies through the real gateway, Temporal dev server, worker, Postgres, Redis and a sandbox estate:
a condition, event or metric that does not exist is a 422 naming the field and listing the valid names; a
dry run lists every resource it would touch; each stage of a policy run and of a trigger firing arrives on
the ``policy_executions`` WebSocket channel; the firing is readable; every event type that any code
publishes can be subscribed to."""

from __future__ import annotations

import ast
import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from cloudoptima.clouds.sandbox.state import SandboxEstateStore
from cloudoptima.domain.inventory import ResourceKind, ResourceState
from cloudoptima.services.events import EVENT_TYPES, EventPublisher
from cloudoptima.settings import Settings
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.inventory_store import upsert_resources
from cloudoptima.storage.models import Anomaly, CloudAccount
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_workflows.policies.inputs import PolicyTriggersInput, TriggerEvaluationInput
from cloudoptima_workflows.policies.workflows import PolicyTriggersWorkflow
from cloudoptima_workflows.queues import REMEDIATION
from cloudoptima_workflows.remediation.activities import RemediationDeps
from tests.gateway.conftest import Org, make_org
from tests.gateway.test_executions_api import Frames
from tests.workflows.test_remediation_harness import Tenant, remediation_worker, sandbox_copy, sandbox_factory

ROOT = Path(__file__).resolve().parents[2]
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


def _connect_sandbox(engine: Engine, org: Org, state_dir: Path) -> Tenant:
    """The organisation's sandbox account (the gateway's registry builds its provider) and inventory."""
    store = SandboxEstateStore.open(state_dir)
    account = store.estate().accounts[0]
    with session_factory(engine)() as session, session.begin():
        row = CloudAccount(
            organization_id=org.id,
            provider=account.provider.value,
            account_identifier=account.account_id,
            account_name=account.name,
            credentials_encrypted="",
            settings={"sandbox": {"state_dir": str(state_dir)}},
        )
        session.add(row)
        session.flush()
        live = [r for r in store.estate().account_resources(account.account_id) if r.deleted_at is None]
        upsert_resources(session.connection(), org.id, row.id, live, {}, datetime.now(UTC), complete=True)
        account_row = row.id
    return Tenant(org.id, account_row, account.account_id, state_dir)


@pytest.fixture
def sandbox_dir(tmp_path: Path) -> Path:
    return sandbox_copy(tmp_path / "sandbox")


def test_names_that_do_not_exist_are_a_422_listing_the_valid_ones(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings, name="policy-names")
    bad = {**SEARCH_STOP, "conditions": [{"field": "metrics.cpu_avg.avg", "operator": "lt", "value": 5}]}
    response = client.post("/v1/policies", json=bad, headers=org.headers("finops_manager"))
    assert response.status_code == 422, response.text
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "conditions", 0, "field"]
    assert (
        "unknown metric 'cpu_avg'; known: connections, cpu_percent, disk_io_ops, memory_percent"
        in problem["msg"]
    )

    created = client.post("/v1/policies", json=SEARCH_STOP, headers=org.headers("finops_manager"))
    assert created.status_code == 201, created.text
    policy_id = created.json()["policy_id"]
    unknown_event = {**SEARCH_STOP, "trigger": {"type": "event", "config": {"event": "anomaly.found"}}}
    response = client.put(
        f"/v1/policies/{policy_id}", json=unknown_event, headers=org.headers("finops_manager")
    )
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "trigger", "config", "event"]
    assert "known: anomaly.detected, budget.threshold_crossed, collection.failed" in problem["msg"]
    stored = client.get(f"/v1/policies/{policy_id}", headers=org.headers("viewer")).json()
    assert stored["trigger"] == SEARCH_STOP["trigger"], "a refused update changes nothing"


async def _until_stages(frames: Frames, execution_id: str, wanted: set[str]) -> list[dict[str, Any]]:
    for _ in range(400):
        found = [e for e in frames.events(execution_id) if "stage" in e]
        if wanted <= {e["stage"] for e in found}:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"stages {wanted} of {execution_id} never arrived: {frames.frames}")


async def test_dry_run_lists_resources_and_every_stage_streams_on_policy_executions(
    client: TestClient,
    engine: Engine,
    gateway_settings: Settings,
    temporal_env: WorkflowEnvironment,
    redis_url: str,
    sandbox_dir: Path,
) -> None:
    org = make_org(engine, gateway_settings, name="policy-stream")
    tenant = _connect_sandbox(engine, org, sandbox_dir)
    targets = sorted(
        (r.resource_id, r.name)
        for r in tenant.resources()
        if r.kind is ResourceKind.COMPUTE_INSTANCE
        and r.state is ResourceState.RUNNING
        and r.tags.get("team") == "search"
    )
    assert targets, "the sandbox estate has running search instances"
    headers = org.headers("finops_manager")
    created = await asyncio.to_thread(client.post, "/v1/policies", json=SEARCH_STOP, headers=headers)
    policy_id = created.json()["policy_id"]
    publisher = EventPublisher.from_url(redis_url)
    deps = RemediationDeps(
        sessions=session_factory(engine), providers=sandbox_factory(tenant), publish=publisher
    )
    client_t = temporal_env.client
    with client.websocket_connect(f"/v1/stream?token={org.tokens['viewer']}") as socket:
        socket.send_json({"type": "subscribe", "channel": "policy_executions"})
        assert socket.receive_json() == {"type": "subscribed", "channel": "policy_executions"}
        frames = Frames(socket)
        async with remediation_worker(client_t, deps):
            dry = await asyncio.to_thread(
                client.post, f"/v1/policies/{policy_id}/execute", json={"dry_run": True}, headers=headers
            )
            assert dry.status_code == 202, dry.text
            body = dry.json()
            assert body["matched_resource_ids"] == [rid for rid, _ in targets]
            assert [
                (r["resource_id"], r["resource_name"], r["action"], r["valid"]) for r in body["resources"]
            ] == [(rid, name, "stop", True) for rid, name in targets]
            assert body["plan_problems"] == [] and tenant.journal() == []
            stages = await _until_stages(frames, body["execution_id"], {"started", "finished"})
            finished = next(s for s in stages if s["stage"] == "finished")
            assert (finished["policy_id"], finished["state"], finished["trigger"]) == (
                policy_id,
                "dry_run",
                "manual",
            )

            with tenant_session(session_factory(engine), org.id) as session:
                anomaly = Anomaly(organization_id=org.id, severity="high", detected_at=datetime.now(UTC))
                session.add(anomaly)
                session.flush()
                anomaly_id = str(anomaly.id)
            result = await client_t.execute_workflow(
                PolicyTriggersWorkflow.run,
                PolicyTriggersInput(evaluation=TriggerEvaluationInput(organization_id=str(org.id))),
                id=f"triggers-{uuid.uuid4()}",
                task_queue=REMEDIATION,
            )
            [started] = result.started_workflow_ids
            firings = (
                await asyncio.to_thread(client.get, f"/v1/policies/{policy_id}/firings", headers=headers)
            ).json()
            [firing] = firings["firings"]
            assert (firing["event"], firing["event_id"], firing["workflow_id"]) == (
                "anomaly.detected",
                anomaly_id,
                started,
            )
            stages = await _until_stages(frames, firing["execution_id"], {"fired", "started"})
            fired = next(s for s in stages if s["stage"] == "fired")
            assert (fired["trigger"], fired["event_id"], fired["workflow_id"]) == (
                "event",
                anomaly_id,
                started,
            )
            # the policy execution (its remediation child, if it started yet, is terminated with it)
            await client_t.get_workflow_handle(started).terminate("test over")
    publisher.close()


def _published_event_types() -> set[str]:
    """Every literal event type passed to a publisher anywhere in the product (``publish(org, TYPE, data)``;
    a module-level string constant is resolved)."""
    trees = [
        ast.parse(path.read_text(), str(path))
        for package in (
            "cloudoptima",
            "cloudoptima_workflows",
            "cloudoptima_gateway",
            "cloudoptima_tools",
            "cloudoptima_mcp",
            "cloudoptima_agents",
        )
        for path in (ROOT / package).rglob("*.py")
    ]
    constants: dict[str, set[str]] = {}
    for tree in trees:
        for node in tree.body:
            value = node.value if isinstance(node, ast.Assign) else None
            if (
                isinstance(node, ast.Assign)
                and isinstance(value, ast.Constant)
                and isinstance(value.value, str)
            ):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        constants.setdefault(target.id, set()).add(value.value)
    found: set[str] = set()
    for tree in trees:
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call) or len(call.args) < 2:
                continue
            func = call.func
            name = (
                func.attr
                if isinstance(func, ast.Attribute)
                else func.id
                if isinstance(func, ast.Name)
                else ""
            )
            if "publish" not in name.lower():
                continue
            kind = call.args[1]
            if isinstance(kind, ast.Constant) and isinstance(kind.value, str):
                found.add(kind.value)
            elif isinstance(kind, ast.Name):
                found |= constants.get(kind.id, set())
    return found


def test_every_published_event_type_can_be_subscribed_to(
    client: TestClient, engine: Engine, gateway_settings: Settings, redis_url: str
) -> None:
    published = _published_event_types()
    assert {
        "collection_failed",
        "forecasts",
        "policy_executions",
        "cost_updates",
        "budget_alerts",
    } <= published
    assert published <= EVENT_TYPES, f"published but unknown to the event contract: {published - EVENT_TYPES}"
    org = make_org(engine, gateway_settings, name="every-channel")
    publish = EventPublisher(redis.Redis.from_url(redis_url))
    with client.websocket_connect(f"/v1/stream?token={org.tokens['viewer']}") as socket:
        for kind in sorted(published):
            socket.send_json({"type": "subscribe", "channel": kind})
            assert socket.receive_json() == {"type": "subscribed", "channel": kind}
        for kind in sorted(published):
            data: dict[str, str] = {"kind": kind}
            if kind == "notifications":  # an inbox notice reaches only the user it names
                data["user_id"] = str(org.users["viewer"])
            publish(org.id, kind, data)
            frame = socket.receive_json()
            assert (frame["type"], frame["channel"], frame["data"]) == ("message", kind, data)
    publish.close()
