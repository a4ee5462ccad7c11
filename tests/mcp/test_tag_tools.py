"""``tag_coverage`` and ``untagged_resources`` through a real MCP client session on the platform server's
opt-in ``tags`` toolset: exact decimal money, alias-aware coverage, cursor paging, errors naming the field."""

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

from cloudoptima.domain.tag_policy import TagPolicy
from cloudoptima.services.tag_governance import TagGovernance
from cloudoptima.storage.models import CostRow, Organization, ResourceDocument
from cloudoptima.storage.partitions import ensure_cost_partitions, months_between
from cloudoptima_mcp.identity import Identity
from cloudoptima_mcp.runtime import Runtime
from cloudoptima_mcp.server import build_server
from cloudoptima_mcp.toolsets import DEFAULTS

NOW = datetime(2025, 7, 3, tzinfo=UTC)


def _row(org: uuid.UUID, day: date, rid: str, cost: str, tags: dict[str, str]) -> CostRow:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return CostRow(
        id=uuid.uuid4(), organization_id=org, provider="aws", provider_name="AWS",
        charge_period_start=start, charge_period_end=start + timedelta(days=1),
        billing_period_start=datetime(day.year, day.month, 1, tzinfo=UTC),
        billing_period_end=datetime(day.year, day.month + 1, 1, tzinfo=UTC),
        billed_cost=Decimal(cost), effective_cost=Decimal(cost), billing_account_id="acct", sub_account_id="acct",
        billing_currency="USD", charge_category="Usage", service_name="EC2", region_id="us-east-1",
        resource_id=rid, tags=tags,
    )  # fmt: skip


@pytest.fixture
def org(engine: Engine) -> Iterator[uuid.UUID]:
    org_id = uuid.uuid4()
    with Session(engine) as session:
        session.add(Organization(id=org_id, name="tags-mcp", subscription_tier="free", settings={}))
        session.flush()
        ensure_cost_partitions(session.connection(), months_between(date(2025, 6, 1), date(2025, 7, 1)))
        june = date(2025, 6, 10)
        session.add_all(
            [
                _row(org_id, june, "i-1", "0.10", {"Team": "web"}),
                _row(org_id, june, "i-2", "0.20", {"squad": "data"}),
                _row(org_id, june, "i-3", "0.33", {}),
                _row(org_id, june, "i-4", "0.01", {}),
            ]
        )
        TagGovernance(session, org_id).write_policy(
            TagPolicy.model_validate({"required": [{"key": "team", "aliases": ["squad"]}]})
        )
        session.commit()
    yield org_id
    with Session(engine) as session:
        for model in (CostRow, ResourceDocument):
            session.execute(delete(model).where(model.organization_id == org_id))
        session.execute(delete(Organization).where(Organization.id == org_id))
        session.commit()


async def test_tag_tools_answer_coverage_and_page_the_untagged(engine: Engine, org: uuid.UUID) -> None:
    assert "tags" not in DEFAULTS["platform"]  # opt-in: the default tools/list stays as it was
    runtime = Runtime(session_factory=sessionmaker(engine, expire_on_commit=False), now=lambda: NOW)
    identity = Identity(organization_id=org, role="viewer", principal="user:" + str(uuid.uuid4()))
    server = build_server("platform", runtime, identity=identity, toolsets=["tags"])
    async with Client(server) as client:
        assert sorted(tool.name for tool in await client.list_tools()) == [
            "tag_coverage",
            "untagged_resources",
        ]
        coverage = (await client.call_tool("tag_coverage", {})).structured_content  # default: June
        assert coverage is not None and (coverage["start"], coverage["end"]) == ("2025-06-01", "2025-07-01")
        assert Decimal(coverage["total_spend"]) == Decimal("0.64")
        assert Decimal(coverage["untagged_spend"]) == Decimal("0.34")
        [team] = coverage["keys"]
        assert (Decimal(team["tagged_spend"]), Decimal(team["spend_percent"])) == (
            Decimal("0.30"),
            Decimal("46.88"),
        )
        assert (team["tagged_resources"], team["resources"]) == (2, 4)

        first = (await client.call_tool("untagged_resources", {"key": "TEAM", "limit": 1})).structured_content
        assert first is not None and first["total"] == 2 and first["next_cursor"]
        assert [(r["resource_id"], Decimal(r["cost"])) for r in first["items"]] == [("i-3", Decimal("0.33"))]
        second = (
            await client.call_tool(
                "untagged_resources", {"key": "TEAM", "limit": 1, "cursor": first["next_cursor"]}
            )
        ).structured_content
        assert second is not None and [r["resource_id"] for r in second["items"]] == ["i-4"]
        assert second["next_cursor"] is None
        with pytest.raises(McpToolError, match="key"):
            await client.call_tool("untagged_resources", {"key": "aws:colour"})
        with pytest.raises(McpToolError, match="end"):
            await client.call_tool("tag_coverage", {"start": "2025-06-02", "end": "2025-06-01"})
