"""The ``commitments`` tool through a real MCP client session on the platform server's opt-in toolset (#22)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError as McpToolError
from sqlalchemy import Engine, delete, text
from sqlalchemy.orm import sessionmaker

from cloudoptima.services.ingestion import ingest_path
from cloudoptima.storage.models import CostDaily, CostRow, IngestRun, Organization
from cloudoptima_mcp.identity import Identity
from cloudoptima_mcp.runtime import Runtime
from cloudoptima_mcp.server import build_server
from cloudoptima_mcp.toolsets import DEFAULTS

SPEC = Path(__file__).parents[1] / "fixtures" / "focus_spec_examples" / "focus_1.3_cost_and_usage.csv"
NOW = datetime(2023, 1, 20, 9, tzinfo=UTC)


@pytest.fixture
def org(engine: Engine) -> Iterator[uuid.UUID]:
    org_id = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            Organization.__table__.insert().values(
                id=org_id, name="commitments-mcp", subscription_tier="free", settings={}
            )
        )
    yield org_id
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM ingest_file_totals WHERE organization_id = :o"), {"o": org_id})
        for model in (IngestRun, CostDaily, CostRow):
            connection.execute(delete(model).where(model.organization_id == org_id))
        connection.execute(delete(Organization).where(Organization.id == org_id))


async def test_commitments_tool_reports_utilisation_and_coverage(engine: Engine, org: uuid.UUID) -> None:
    assert "commitments" not in DEFAULTS["platform"]  # opt-in: the default tools/list stays as it was
    ingest_path(engine, SPEC, org)
    runtime = Runtime(session_factory=sessionmaker(engine, expire_on_commit=False), now=lambda: NOW)
    identity = Identity(organization_id=org, role="viewer", principal="user:" + str(uuid.uuid4()))
    server = build_server("platform", runtime, identity=identity, toolsets=["commitments"])
    async with Client(server) as client:
        assert [tool.name for tool in await client.list_tools()] == ["commitments"]
        result = await client.call_tool("commitments", {})  # the 30 days before NOW: 2022-12-21 .. 2023-01-20
        body = result.structured_content
        assert body is not None and (body["start_date"], body["end_date"]) == ("2022-12-21", "2023-01-20")
        [plan] = body["commitments"]
        assert (plan["type"], plan["utilisation_percent"], plan["purchase_billed_cost"]) == (
            "Savings Plan",
            "75.00",
            "8760.00",
        )
        assert [t["utilisation_percent"] for t in body["utilisation"]] == ["75.00"]
        assert [c["coverage_percent"] for c in body["coverage"]] == ["9.09"]
        assert body["eligible_services"] == ["ACMECORP/Compute"]
        later = await client.call_tool("commitments", {"start_date": "2023-02-01", "end_date": "2023-03-01"})
        assert later.structured_content is not None and later.structured_content["commitments"] == []
        with pytest.raises(McpToolError, match="end_date"):
            await client.call_tool("commitments", {"start_date": "2023-02-01", "end_date": "2023-01-01"})
        with pytest.raises(McpToolError, match="start_date"):
            await client.call_tool("commitments", {"start_date": "01/02/2023"})
