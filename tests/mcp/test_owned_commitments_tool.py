"""The ``commitments`` tool lists the owned commitments (SDK inventory, #22) through a real MCP client session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from fastmcp import Client
from sqlalchemy import Engine, delete, insert
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.domain.owned_commitments import OwnedCommitment, OwnedKind
from cloudoptima.services.owned_commitments import record_read, store
from cloudoptima.storage.models import Organization
from cloudoptima_mcp.identity import Identity
from cloudoptima_mcp.runtime import Runtime
from cloudoptima_mcp.server import build_server

NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)


@pytest.fixture
def org(engine: Engine) -> Iterator[uuid.UUID]:
    org_id = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            insert(Organization).values(id=org_id, name="owned-mcp", subscription_tier="free", settings={})
        )
    yield org_id
    with engine.begin() as connection:
        connection.execute(delete(Organization).where(Organization.id == org_id))  # cascades to its rows


async def test_commitments_tool_lists_owned_soonest_end_first(engine: Engine, org: uuid.UUID) -> None:
    def plan(plan_id: str, days: int) -> OwnedCommitment:
        return OwnedCommitment(
            provider="aws",
            account_id="111111111111",
            commitment_id=plan_id,
            kind=OwnedKind.SAVINGS_PLAN,
            plan_type="Compute",
            hourly_commitment=Decimal("2.5"),
            term_seconds=94608000,
            start=NOW - timedelta(days=900),
            end=NOW + timedelta(days=days, hours=1),
            state="active",
        )

    with Session(engine) as session:
        store(session, org, "aws", "111111111111", [plan("sp-late", 190), plan("sp-soon", 12)], NOW)
        session.commit()
    runtime = Runtime(session_factory=sessionmaker(engine, expire_on_commit=False), now=lambda: NOW)
    identity = Identity(organization_id=org, role="viewer", principal="user:" + str(uuid.uuid4()))
    server = build_server("platform", runtime, identity=identity, toolsets=["commitments"])
    async with Client(server) as client:
        body = (await client.call_tool("commitments", {})).structured_content
        assert body is not None
        assert [(o["commitment_id"], o["days_to_expiry"]) for o in body["owned"]] == [
            ("sp-soon", 12),
            ("sp-late", 190),
        ]
        assert Decimal(body["owned"][0]["hourly_commitment"]) == Decimal("2.5") and body["commitments"] == []
        only = (await client.call_tool("commitments", {"commitment_id": "sp-late"})).structured_content
        assert only is not None and [o["commitment_id"] for o in only["owned"]] == ["sp-late"]


async def test_commitments_tool_lists_a_gcp_cud_and_an_unavailable_inventory_read(
    engine: Engine, org: uuid.UUID
) -> None:
    cud = OwnedCommitment(
        provider="gcp",
        account_id="finops-demo",
        commitment_id="4242",
        kind=OwnedKind.COMMITTED_USE,
        plan_type="GENERAL_PURPOSE_E2",
        region="us-central1",
        instance_family="e2",
        vcpus=8,
        memory_mb=32768,
        term_seconds=31536000,
        start=NOW - timedelta(days=100),
        end=NOW + timedelta(days=265, hours=1),
        state="active",
    )
    with Session(engine) as session:
        store(session, org, "gcp", "finops-demo", [cud], NOW)
        record_read(session, org, "gcp", "finops-demo", NOW)
        record_read(session, org, "azure", "sub-1", NOW, permission="Microsoft.Capacity/reservations/read")
        session.commit()
    runtime = Runtime(session_factory=sessionmaker(engine, expire_on_commit=False), now=lambda: NOW)
    identity = Identity(organization_id=org, role="viewer", principal="user:" + str(uuid.uuid4()))
    server = build_server("platform", runtime, identity=identity, toolsets=["commitments"])
    async with Client(server) as client:
        body = (await client.call_tool("commitments", {})).structured_content
    assert body is not None
    [owned] = body["owned"]
    assert (owned["kind"], owned["vcpus"], owned["memory_mb"], owned["days_to_expiry"]) == (
        "committed_use",
        8,
        32768,
        265,
    )
    assert [(r["provider"], r["status"]) for r in body["inventory_reads"]] == [
        ("azure", "unavailable: Microsoft.Capacity/reservations/read"),
        ("gcp", "read"),
    ]
