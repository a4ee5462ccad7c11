"""The ``realised_savings`` tool through a real MCP client session on the platform server's opt-in toolset."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError as McpToolError
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.storage.models import CostRow, Organization, Recommendation
from cloudoptima.storage.partitions import ensure_cost_partitions, months_between
from cloudoptima_mcp.identity import Identity
from cloudoptima_mcp.runtime import Runtime
from cloudoptima_mcp.server import build_server
from cloudoptima_mcp.toolsets import DEFAULTS

NOW = datetime(2026, 4, 1, tzinfo=UTC)
CHANGE = datetime(2026, 3, 8, 10, tzinfo=UTC)


@pytest.fixture
def org(engine: Engine) -> Iterator[uuid.UUID]:
    org_id = uuid.uuid4()
    with Session(engine) as session:
        session.add(Organization(id=org_id, name="savings-mcp", subscription_tier="free", settings={}))
        session.flush()
        ensure_cost_partitions(session.connection(), months_between(date(2026, 3, 1), date(2026, 4, 1)))
        for i in range(15):  # 8.00/day before the change day (03-08), 2.00/day after
            start = datetime(2026, 3, 1 + i, tzinfo=UTC)
            cost = Decimal("8.00") if i < 7 else Decimal("2.00")
            session.add(
                CostRow(
                    organization_id=org_id, provider="aws", provider_name="AWS", charge_period_start=start,
                    charge_period_end=start + timedelta(days=1), billing_period_start=datetime(2026, 3, 1, tzinfo=UTC),
                    billing_period_end=datetime(2026, 4, 1, tzinfo=UTC), billed_cost=cost, effective_cost=cost,
                    billing_account_id="111111111111", sub_account_id="111111111111", billing_currency="EUR",
                    charge_category="Usage", service_name="EC2", region_id="eu-west-1", resource_id="i-1",
                    resource_name="i-1", tags={},
                )
            )  # fmt: skip
        session.add(
            Recommendation(
                organization_id=org_id, fingerprint=uuid.uuid4().hex, provider="aws", title="Stop i-1",
                rule_id="idle-stop", category="compute", risk_level="low", resource_ids=["i-1"],
                affected_resources=[], actions=[], status="completed",
                estimated_savings_monthly=Decimal("180.00"), applied_at=CHANGE,
            )
        )  # fmt: skip
        session.commit()
    yield org_id
    with Session(engine) as session:
        for model in (CostRow, Recommendation):
            session.execute(delete(model).where(model.organization_id == org_id))
        session.execute(delete(Organization).where(Organization.id == org_id))
        session.commit()


async def test_realised_savings_tool_measures_the_change(engine: Engine, org: uuid.UUID) -> None:
    assert "savings" not in DEFAULTS["platform"]  # opt-in: the default tools/list stays as it was
    runtime = Runtime(session_factory=sessionmaker(engine, expire_on_commit=False), now=lambda: NOW)
    identity = Identity(organization_id=org, role="viewer", principal="user:" + str(uuid.uuid4()))
    server = build_server("platform", runtime, identity=identity, toolsets=["savings"])
    async with Client(server) as client:
        assert [tool.name for tool in await client.list_tools()] == ["realised_savings"]
        result = await client.call_tool("realised_savings", {})
        body = result.structured_content
        assert body is not None and body["total"] == 1
        [row] = body["recent"]
        measured = row["measurement"]
        assert (measured["status"], measured["currency"], measured["confidence"]) == (
            "measured",
            "EUR",
            "high",
        )
        assert Decimal(measured["realised_monthly"]) == Decimal("182.62")  # 6.00 × 30.4375, half-even
        assert body["buckets"]["realised"]["realised_monthly"] == {"EUR": "182.62"}
        assert [(m["month"], m["measured"]) for m in body["months"]] == [("2026-03", 1)]
        [rule] = body["rules"]
        assert (rule["rule_id"], rule["measured"], rule["flagged"]) == ("idle-stop", 1, False)
        with pytest.raises(McpToolError, match="window_days"):
            await client.call_tool("realised_savings", {"window_days": 0})
