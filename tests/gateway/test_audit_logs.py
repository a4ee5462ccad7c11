"""The audit log end to end: MCP tool calls (through the real MCP server, acting as an API key) and REST
writes land in ``audit_logs`` and are read back through ``GET /v1/audit-logs`` by an admin, with filters,
keyset paging, clear 422s, RBAC and organisation isolation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fastmcp import Client
from fastmcp.exceptions import ToolError
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.services.api_keys import ApiKeyService
from cloudoptima.settings import Settings
from cloudoptima.storage.tenancy import scope
from cloudoptima_mcp.identity import Identity, identity_from_api_key
from cloudoptima_mcp.runtime import Runtime
from cloudoptima_mcp.server import build_server
from tests.gateway.conftest import Org, make_org

SECRET_LOOKING = "co_abcdefghij0123456789"


def _api_key(engine: Engine, org: Org, role: str) -> tuple[str, uuid.UUID]:
    with Session(engine) as session:
        scope(session, org.id)
        created = ApiKeyService(session, org.id).create(org.users[role], f"mcp-{role}")
        session.commit()
        return created.plaintext, created.row.id


def _rows(client: TestClient, org: Org, role: str = "admin", **params: Any) -> list[dict[str, Any]]:
    response = client.get("/v1/audit-logs", headers=org.headers(role), params=params)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["returned"] == len(body["items"])
    return list(body["items"])


async def _mcp_calls(engine: Engine, org: Org) -> uuid.UUID:
    """Three MCP calls as the admin's API key (one succeeds, one fails with a secret-looking argument) and
    one as a viewer's key (refused). Returns the admin key's id."""
    factory = sessionmaker(engine, expire_on_commit=False)
    runtime = Runtime(session_factory=factory)
    plaintext, key_id = _api_key(engine, org, "admin")
    identity = identity_from_api_key(factory, plaintext)
    assert identity.credential == f"api_key:{key_id}"
    assert Identity.from_claims(dict(identity.claims())) == identity  # as HTTP bearers carry it per request
    async with Client(build_server("platform", runtime, identity=identity)) as client:
        listed = await client.call_tool("recommendations_list", {"limit": 5})
        assert not listed.is_error
        with pytest.raises(ToolError, match="cursor"):
            await client.call_tool("audit_log", {"cursor": SECRET_LOOKING, "limit": 3})
    viewer = Identity(organization_id=org.id, role="viewer", principal=f"user:{org.users['viewer']}")
    async with Client(build_server("platform", runtime, identity=viewer)) as client:
        with pytest.raises(ToolError, match="lacks permission"):
            await client.call_tool("audit_log", {})
    return key_id


async def test_mcp_calls_and_rest_writes_are_read_back_by_admins_only(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings, name="audited")
    other = make_org(engine, gateway_settings, name="elsewhere")
    started = datetime.now(UTC) - timedelta(seconds=1)
    key_id = await _mcp_calls(engine, org)
    created = client.post(
        "/v1/budgets",
        headers=org.headers("admin"),
        json={"name": "Audited", "amount": 100, "start_date": "2030-01-01", "end_date": "2031-01-01"},
    )
    assert created.status_code == 201, created.text
    refused = client.post("/v1/budgets", headers=org.headers("viewer"), json={})
    assert refused.status_code == 403

    # MCP: caller (API key + its user), organisation, bounded and redacted arguments, size, outcome.
    mcp = _rows(client, org, channel="mcp")
    by_action = {(r["action"], r["outcome"]): r for r in mcp}
    ok = by_action[("recommendations_list", "success")]
    assert ok["actor"] == f"api_key:{key_id}" and ok["user_id"] == str(org.users["admin"])
    assert ok["resource_type"] == "mcp_tool" and ok["resource_id"] == "recommendations_list"
    assert ok["details"]["arguments"]["limit"] == 5 and ok["details"]["server"] == "platform"
    assert ok["details"]["result_chars"] > 0 and ok["details"]["result_rows"] == 0
    assert ok["details"]["duration_ms"] >= 0
    failed = by_action[("audit_log", "failure")]
    assert failed["details"]["arguments"]["cursor"] == "[redacted]"
    assert SECRET_LOOKING not in str(failed)
    assert "cursor" in failed["details"]["error"]
    denied = by_action[("audit_log", "denied")]
    assert denied["actor"] == f"user:{org.users['viewer']}"
    assert len(mcp) == 3

    # REST writes are there too, with their channel and actor.
    rest = _rows(client, org, channel="rest", resource_type="budgets")
    assert {(r["action"], r["outcome"], r["actor"]) for r in rest} >= {
        ("create_budget", "success", f"user:{org.users['admin']}"),
        ("create_budget", "denied", f"user:{org.users['viewer']}"),
    }

    # Filters combine; ``from`` is inclusive and ``to`` exclusive.
    assert [r["action"] for r in _rows(client, org, outcome="denied", channel="mcp")] == ["audit_log"]
    assert {r["channel"] for r in _rows(client, org, actor=f"api_key:{key_id}")} == {"mcp"}
    assert {r["user_id"] for r in _rows(client, org, user_id=str(org.users["viewer"]))} == {
        str(org.users["viewer"])
    }
    assert len(_rows(client, org, action="recommendations_list", resource_id="recommendations_list")) == 1
    everything = _rows(client, org)
    assert len(everything) == len(_rows(client, org, **{"from": started.isoformat()})) >= 5
    newest = datetime.fromisoformat(everything[0]["timestamp"])
    assert _rows(client, org, **{"from": started.isoformat(), "to": newest.isoformat()}) == everything[1:]

    # Keyset pages: newest first, stable order, every row exactly once.
    assert [(r["timestamp"], r["id"]) for r in everything] == sorted(
        ((r["timestamp"], r["id"]) for r in everything), reverse=True
    )
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/audit-logs", headers=org.headers(), params=params).json()
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [r["id"] for r in everything]

    # Bad filters: a 422 naming the field.
    for params, field in (
        ({"channel": "email"}, "channel"),
        ({"outcome": "ok"}, "outcome"),
        ({"user_id": "not-a-uuid"}, "user_id"),
        ({"from": "2026-01-01T00:00:00"}, "from"),
        ({"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "from"),
        ({"cursor": "bm90LWEtY3Vyc29y"}, "cursor"),
        ({"limit": 0}, "limit"),
    ):
        response = client.get("/v1/audit-logs", headers=org.headers(), params=params)
        assert response.status_code == 422, (params, response.text)
        assert field in [str(part) for part in response.json()["detail"][0]["loc"]], response.text

    # Admins only; no token, no log; another organisation sees none of these rows (even with our cursor).
    for role in ("viewer", "engineer", "finops_manager"):
        response = client.get("/v1/audit-logs", headers=org.headers(role))  # type: ignore[arg-type]
        assert response.status_code == 403
        assert "read:audit_logs" in response.json()["detail"]
    assert client.get("/v1/audit-logs").status_code == 401
    mine = {r["id"] for r in everything}
    theirs = _rows(client, other)
    assert not mine & {r["id"] for r in theirs}
    assert not _rows(client, other, actor=f"api_key:{key_id}")
    first = client.get("/v1/audit-logs", headers=org.headers(), params={"limit": 1}).json()
    assert not mine & {r["id"] for r in _rows(client, other, cursor=first["next_cursor"])}
