"""Every server, tool, resource and prompt through ``fastmcp.Client`` in memory."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import mcp_types
import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError
from sqlalchemy import Engine

from cloudoptima_tools import catalog
from tests.mcp.conftest import server_for
from tests.tools.approval_seed import DECISION_TOOLS, pending_executions, pending_of
from tests.tools.execution_seed import EXECUTION_TOOLS
from tests.tools.seed import Estates

SPECS = catalog.by_name()
WORKER_TOOLS = ("generate_report", "report_status")
# Tools whose default call is refused in the seeded estates (no allocation dimension is defined): the refusal must
# name the argument; their answers are checked in their own tests (tests/tools/test_allocation_tool.py).
REFUSED_BY_DEFAULT = {
    "cost_by_allocation": "dimension: no allocation dimension 'team'",
    # a decision changes a shared seeded recommendation: refused here, checked in tests/tools/test_recommendation_decide.py
    "recommendation_decide": "recommendation_id",
    # needs a tracker (a strict fake): checked in tests/mcp/test_ticket_tool.py
    "recommendation_ticket": "recommendation_id",
}
"""Need a report and a Temporal worker: tests/tools/test_report_tools.py covers them (MCP session included)."""
ID_TOOLS = (
    "anomaly_root_cause",
    "recommendation_impact_preview",
    "recommendation_history",
    "request_remediation",
    *EXECUTION_TOOLS,
    *DECISION_TOOLS,
)


@pytest.fixture(scope="module", autouse=True)
def _pending(engine: Engine, estates: Estates) -> Iterator[None]:
    """A remediation waiting for approval in each organisation (for the decision tools)."""
    with pending_executions(engine, estates.a.organization_id, estates.b.organization_id):
        yield


def default_arguments(name: str, estates: Estates, org: str = "a") -> dict[str, Any]:
    seeded = estates.a if org == "a" else estates.b
    if name == "anomaly_root_cause":
        return {"anomaly_id": seeded.anomaly_ids[0]}
    if name in ("recommendation_impact_preview", "recommendation_history", "request_remediation"):
        return {"recommendation_id": seeded.recommendation_ids[0]}
    if name in EXECUTION_TOOLS:
        return {"execution_id": seeded.execution_ids[0]}
    if name in DECISION_TOOLS:
        return {"execution_id": pending_of(seeded.organization_id)[0]}
    if name == "cost_forecast":
        return {"days_ahead": 7}
    if name == "notifications_mark_read":
        return {"all": True}
    if name == "untagged_resources":
        return {"key": "owner"}
    if name == "cost_by_allocation":
        return {"dimension": "team"}
    return {}


async def test_platform_lists_every_tool_with_annotations_and_schemas(
    engine: Engine, estates: Estates
) -> None:
    async with Client(server_for(engine, estates.a)) as client:
        tools = {t.name: t for t in await client.list_tools()}
    assert set(tools) == set(SPECS)
    for name, tool in tools.items():
        spec = SPECS[name]
        hints = tool.annotations
        assert hints is not None
        assert (
            hints.read_only_hint,
            hints.destructive_hint,
            hints.idempotent_hint,
            hints.open_world_hint,
        ) == (
            spec.read_only,
            spec.destructive,
            spec.idempotent,
            spec.open_world,
        )
        assert tool.output_schema and tool.output_schema["type"] == "object"
        assert "Example:" in (tool.description or "")
    assert {"provider", "account"} <= set(tools["cost_by_dimension"].input_schema["properties"])


@pytest.mark.parametrize(
    ("cloud", "selector"), [("aws", "account"), ("azure", "subscription"), ("gcp", "project")]
)
async def test_cloud_servers_fix_the_provider(
    engine: Engine, estates: Estates, cloud: str, selector: str
) -> None:
    async with Client(server_for(engine, estates.a, cloud)) as client:
        tools = {t.name: t for t in await client.list_tools()}
        assert set(tools) == {s.name for s in catalog.for_provider()}
        props = tools["compute_instances"].input_schema["properties"]
        assert selector in props and "provider" not in props
        result = await client.call_tool("compute_instances", {"limit": 500})
        rows = result.structured_content["items"]
        assert rows and {r["provider"] for r in rows} == {cloud}
        account = rows[0]["account"]
        scoped = await client.call_tool("cost_by_dimension", {selector: account, "group_by": "account"})
        assert [g["key"] for g in scoped.structured_content["items"]] == [account]


async def test_every_tool_returns_structured_content_matching_its_model(
    engine: Engine, estates: Estates
) -> None:
    async with Client(server_for(engine, estates.a)) as client:
        for name, spec in SPECS.items():
            if name in WORKER_TOOLS:
                continue
            if name in REFUSED_BY_DEFAULT:
                with pytest.raises(ToolError, match=REFUSED_BY_DEFAULT[name]):
                    await client.call_tool(name, default_arguments(name, estates))
                continue
            result = await client.call_tool(name, default_arguments(name, estates))
            assert not result.is_error, name
            spec.output_model.model_validate(result.structured_content)


async def test_paged_results_link_a_resource_with_every_row(engine: Engine, estates: Estates) -> None:
    async with Client(server_for(engine, estates.a)) as client:
        result = await client.call_tool("compute_instances", {"limit": 3})
        links = [c for c in result.content if isinstance(c, mcp_types.ResourceLink)]
        assert result.structured_content["next_cursor"] and len(links) == 1
        full = json.loads((await client.read_resource(str(links[0].uri)))[0].text)
        assert full["returned"] == result.structured_content["total"] == len(full["items"])
        second = await client.call_tool(
            "compute_instances", {"limit": 3, "cursor": result.structured_content["next_cursor"]}
        )
        ids = [r["resource_id"] for r in full["items"]]
        assert [r["resource_id"] for r in second.structured_content["items"]] == ids[3:6]
    async with Client(server_for(engine, estates.b)) as other:
        with pytest.raises(Exception, match="not found"):
            await other.read_resource(str(links[0].uri))


async def test_resources_and_prompts(engine: Engine, estates: Estates) -> None:
    async with Client(server_for(engine, estates.a)) as client:
        focus = json.loads((await client.read_resource("cloudoptima://focus/columns"))[0].text)
        assert len(focus["columns"]) == 57
        assert {"name": "BilledCost", "column": "billed_cost"}.items() <= focus["columns"][1].items()
        summary = json.loads((await client.read_resource("cloudoptima://organisation/summary"))[0].text)
        assert summary["organisation"]["name"] == "org-a"
        assert summary["accounts"] == {"aws": 1, "azure": 1, "gcp": 1}
        rec_id = estates.a.recommendation_ids[0]
        rec = json.loads((await client.read_resource(f"cloudoptima://recommendations/{rec_id}"))[0].text)
        assert rec["id"] == rec_id
        anomaly_id = estates.a.anomaly_ids[0]
        anomaly = json.loads((await client.read_resource(f"cloudoptima://anomalies/{anomaly_id}"))[0].text)
        assert anomaly["id"] == anomaly_id and anomaly["root_causes"]
        prompts = {p.name for p in await client.list_prompts()}
        assert prompts == {"monthly_cost_review", "explain_anomaly", "savings_plan"}
        review = await client.get_prompt("monthly_cost_review", {"month": "2029-12"})
        assert "2029-12-01" in review.messages[0].content.text
        explain = await client.get_prompt("explain_anomaly", {"anomaly_id": anomaly_id})
        assert anomaly_id in explain.messages[0].content.text
        plan = await client.get_prompt("savings_plan", {"target_monthly_savings_usd": "500"})
        assert "500 USD" in plan.messages[0].content.text


async def test_long_calls_report_progress(engine: Engine, estates: Estates) -> None:
    seen: list[tuple[float, float | None]] = []

    async def progress(value: float, total: float | None, message: str | None) -> None:
        seen.append((value, total))

    async with Client(server_for(engine, estates.a), progress_handler=progress) as client:
        await client.call_tool("cost_forecast", {"days_ahead": 7})
    assert seen[0] == (0, 100) and seen[-1] == (100, 100)


async def test_read_only_mode_hides_destructive_tools(engine: Engine, estates: Estates) -> None:
    async with Client(server_for(engine, estates.a, read_only=True)) as client:
        names = {t.name for t in await client.list_tools()}
        assert "request_remediation" not in names
        assert names == {s.name for s in catalog.catalog(read_only=True)}
        with pytest.raises(ToolError):
            await client.call_tool("request_remediation", default_arguments("request_remediation", estates))


async def test_viewer_role_is_refused_remediation(engine: Engine, estates: Estates) -> None:
    async with Client(server_for(engine, estates.a, role="viewer")) as client:
        with pytest.raises(ToolError, match="lacks permission"):
            await client.call_tool(
                "request_remediation", {**default_arguments("request_remediation", estates), "confirm": True}
            )


async def test_an_org_a_caller_never_sees_org_b_data(engine: Engine, estates: Estates) -> None:
    """Iterate every registered tool (and the resources) as org A and look for any identifier of org B."""
    b = estates.b
    markers = {
        *b.account_ids,
        *b.resource_ids,
        *b.principal_ids,
        *b.anomaly_ids,
        *b.recommendation_ids,
        *b.policy_ids,
        str(b.organization_id),
        "org-b",
    }
    markers -= {*estates.a.account_ids, *estates.a.resource_ids, *estates.a.principal_ids}
    assert len(markers) > 100
    async with Client(server_for(engine, estates.a)) as client:
        for tool in await client.list_tools():
            if tool.name in WORKER_TOOLS:
                continue
            arguments = default_arguments(tool.name, estates, "a")
            if tool.name in REFUSED_BY_DEFAULT:
                with pytest.raises(ToolError, match=REFUSED_BY_DEFAULT[tool.name]) as refused:
                    await client.call_tool(tool.name, arguments)
                assert not [m for m in markers if m in str(refused.value)]
                continue
            if "limit" in tool.input_schema["properties"]:
                arguments["limit"] = tool.input_schema["properties"]["limit"].get("maximum", 500)
            result = await client.call_tool(tool.name, arguments)
            text = json.dumps(result.structured_content)
            if tool.name == "audit_log":
                # A's own audit log quotes the arguments of A's probes below (B's ids, refused as not found):
                # nothing but those quoted arguments may name B.
                rows = result.structured_content["items"]
                assert rows
                text = json.dumps([{k: v for k, v in r.items() if k != "details"} for r in rows])
            leaked = [m for m in markers if m in text]
            assert not leaked, f"{tool.name} leaked {leaked[:3]}"
            if tool.name in ID_TOOLS:
                ids_of_b = default_arguments(tool.name, estates, "b")
                with pytest.raises(ToolError, match="not found"):
                    await client.call_tool(tool.name, ids_of_b)
        for uri in (
            f"cloudoptima://recommendations/{b.recommendation_ids[0]}",
            f"cloudoptima://anomalies/{b.anomaly_ids[0]}",
        ):
            with pytest.raises(Exception, match="not found"):
                await client.read_resource(uri)
        summary = (await client.read_resource("cloudoptima://organisation/summary"))[0].text
        assert not [m for m in markers if m in summary]
