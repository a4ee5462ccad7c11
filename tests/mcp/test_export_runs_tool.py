"""The ``export_runs`` tool through a real MCP client session on the platform server's opt-in toolset."""

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

from cloudoptima.services.cost_export_schedules import ExportsConfig, check_request, perform_export
from cloudoptima.storage.models import Organization
from cloudoptima_mcp.identity import Identity
from cloudoptima_mcp.runtime import Runtime
from cloudoptima_mcp.server import build_server
from cloudoptima_mcp.toolsets import DEFAULTS

NOW = datetime(2024, 10, 2, tzinfo=UTC)


@pytest.fixture
def org(engine: Engine) -> Iterator[uuid.UUID]:
    org_id = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            Organization.__table__.insert().values(
                id=org_id, name="exports-mcp", subscription_tier="free", settings={}
            )
        )
    yield org_id
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM cost_export_runs WHERE organization_id = :o"), {"o": org_id})
        connection.execute(delete(Organization).where(Organization.id == org_id))


async def test_export_runs_lists_status_error_and_manifest_totals(
    engine: Engine, org: uuid.UUID, tmp_path: Path
) -> None:
    assert "exports" not in DEFAULTS["platform"]  # opt-in: the default tools/list stays as it was
    config = ExportsConfig(root=tmp_path)
    request = check_request("daily", "csv", "month", "2024-09-01", "2024-10-01")
    ok = perform_export(engine, org, request, {"kind": "folder"}, config, now=NOW)
    (tmp_path / str(org) / "file").write_text("x")
    failed = perform_export(
        engine, org, request, {"kind": "folder", "path": "file"}, config, now=NOW.replace(hour=1)
    )
    runtime = Runtime(session_factory=sessionmaker(engine, expire_on_commit=False), now=lambda: NOW)
    identity = Identity(organization_id=org, role="viewer", principal="user:" + str(uuid.uuid4()))
    server = build_server("platform", runtime, identity=identity, toolsets=["exports"])
    async with Client(server) as client:
        assert [tool.name for tool in await client.list_tools()] == ["export_runs"]
        result = await client.call_tool("export_runs", {"limit": 5})
        body = result.structured_content
        assert body is not None
        assert [r["run_id"] for r in body["runs"]] == [str(failed.id), str(ok.id)]
        assert body["runs"][0]["status"] == "failed" and "file" in body["runs"][0]["error"]
        assert body["runs"][1]["status"] == "succeeded" and body["runs"][1]["rows"] == 0
        assert body["runs"][1]["files"] == 0 and body["runs"][1]["billed_cost"] == {}
        with pytest.raises(McpToolError, match="schedule_id"):
            await client.call_tool("export_runs", {"schedule_id": "nope"})
