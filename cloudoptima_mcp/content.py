"""Resources and prompts shared by every CloudOptima MCP server.

Resources (JSON):
- ``cloudoptima://focus/columns``: the FOCUS 1.2 column reference (name, table column, kind, type, level,
  nullable, version introduced, allowed values).
- ``cloudoptima://organisation/summary``: the caller's organisation: accounts per cloud, last 30 days of
  spend per cloud, active recommendations and their savings, active anomalies.
- ``cloudoptima://recommendations/{recommendation_id}`` and ``cloudoptima://anomalies/{anomaly_id}``: one
  item of the caller's organisation (another organisation's id reads as not found).
- ``cloudoptima://results/{result_id}``: every row of an earlier paged tool result (see registration).
Prompts: ``monthly_cost_review``, ``explain_anomaly``, ``savings_plan``.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import anyio
from fastmcp import FastMCP
from fastmcp.exceptions import ResourceError

from cloudoptima.domain.focus import ALLOWED_VALUES, FOCUS_COLUMNS
from cloudoptima.storage.models import CloudAccount, Organization
from cloudoptima.storage.tenancy import TenantRepository
from cloudoptima_mcp.registration import ResultStore, ServerScope, current_identity, full_result
from cloudoptima_mcp.runtime import Runtime
from cloudoptima_tools import catalog
from cloudoptima_tools.spec import ToolError, run_tool

JSON = "application/json"


class _Accounts(TenantRepository[CloudAccount]):
    model = CloudAccount


def focus_columns() -> list[dict[str, Any]]:
    return [
        {
            "name": c.name,
            "column": c.db_name,
            "kind": c.kind.value,
            "type": c.type.value,
            "level": c.level.value,
            "nullable": c.nullable,
            "since": c.since,
            "allowed_values": list(ALLOWED_VALUES.get(c.name, ())),
        }
        for c in FOCUS_COLUMNS
    ]


def register_content(server: FastMCP, scope: ServerScope, runtime: Runtime, results: ResultStore) -> None:
    """Add the resources and prompts (see module contract)."""
    specs = catalog.by_name()

    def run(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        identity = current_identity(scope)
        try:
            output = run_tool(specs[name], runtime.tool_context(identity), arguments)
        except ToolError as exc:
            raise ResourceError(str(exc)) from exc
        data: dict[str, Any] = output.model_dump(mode="json")
        return data

    @server.resource(
        "cloudoptima://focus/columns",
        name="focus_columns",
        description="FOCUS 1.2 column reference: every column, its cost_data name, type, level and allowed values.",
        mime_type=JSON,
    )
    def focus() -> str:
        return json.dumps({"version": "1.2", "columns": focus_columns()})

    @server.resource(
        "cloudoptima://organisation/summary",
        name="organisation_summary",
        description="The caller's organisation: accounts per cloud, 30-day spend per cloud (billing currency), "
        "active recommendations with monthly savings (USD) and active anomalies.",
        mime_type=JSON,
    )
    async def organisation() -> str:
        identity = current_identity(scope)

        def build() -> dict[str, Any]:
            ctx = runtime.tool_context(identity)
            with ctx.read_session() as session:
                org = session.get(Organization, identity.organization_id)
                repo = _Accounts(session, identity.organization_id)
                providers = Counter(account.provider for account in session.scalars(repo.query()))
            spend = run("cost_by_dimension", {"group_by": "provider", "limit": 10})
            recs = run("recommendations_list", {"limit": 1})
            anomalies = run("anomalies_list", {"limit": 1})
            return {
                "organisation": {"id": str(identity.organization_id), "name": org.name if org else None},
                "role": identity.role,
                "accounts": dict(providers),
                "spend_last_30_days": {
                    "currency": spend["currency"],
                    "start_date": spend["start_date"],
                    "end_date": spend["end_date"],
                    "total": spend["total_billed_cost"],
                    "by_provider": {i["key"]: i["billed_cost"] for i in spend["items"]},
                },
                "active_recommendations": recs["total"],
                "active_recommendations_monthly_savings_usd": recs["monthly_savings_total_usd"],
                "active_anomalies": anomalies["total"],
            }

        return json.dumps(await anyio.to_thread.run_sync(build))

    @server.resource(
        "cloudoptima://recommendations/{recommendation_id}",
        name="recommendation",
        description="One recommendation with its impact preview (USD per month).",
        mime_type=JSON,
    )
    async def recommendation(recommendation_id: str) -> str:
        data = await anyio.to_thread.run_sync(
            run, "recommendation_impact_preview", {"recommendation_id": recommendation_id}
        )
        return json.dumps(data)

    @server.resource(
        "cloudoptima://anomalies/{anomaly_id}",
        name="anomaly",
        description="One cost anomaly with its root-cause contributions (billing currency).",
        mime_type=JSON,
    )
    async def anomaly(anomaly_id: str) -> str:
        data = await anyio.to_thread.run_sync(run, "anomaly_root_cause", {"anomaly_id": anomaly_id})
        return json.dumps(data)

    @server.resource(
        "cloudoptima://results/{result_id}",
        name="full_result",
        description="Every row of an earlier paged tool result (linked from that result).",
        mime_type=JSON,
    )
    async def result(result_id: str) -> str:
        identity = current_identity(scope)
        found = results.get(identity, result_id)
        if found is None:
            raise ResourceError(f"result {result_id} not found or expired; call the tool again")
        tool, arguments = found
        data = await anyio.to_thread.run_sync(full_result, specs[tool], runtime, identity, arguments)
        return json.dumps(data)

    @server.prompt(
        name="monthly_cost_review",
        description="Review one month of cloud spend: totals, drivers, anomalies, savings.",
    )
    def monthly_cost_review(month: str) -> str:
        """``month`` is YYYY-MM."""
        return (
            f"Review our cloud spend for {month}.\n"
            f"1. Call cost_compare_periods with start_date={month}-01 and end_date the first day of the next "
            "month, group_by=service, to get the total, the change against the previous month and the drivers.\n"
            "2. Call cost_by_dimension with group_by=account and then group_by=region for the same period.\n"
            "3. Call anomalies_list (status active) and explain the largest with anomaly_root_cause.\n"
            "4. Call recommendations_list sorted by savings and summarise the top five.\n"
            "Write a short report: total and change (amounts with currency), the three biggest drivers, anomalies "
            "and their causes, and the savings available. Quote numbers exactly as the tools return them."
        )

    @server.prompt(name="explain_anomaly", description="Explain one cost anomaly and what to do about it.")
    def explain_anomaly(anomaly_id: str) -> str:
        return (
            f"Explain cost anomaly {anomaly_id}.\n"
            f"Call anomaly_root_cause with anomaly_id={anomaly_id} (or read cloudoptima://anomalies/{anomaly_id}). "
            "Say when it started, how much spend exceeded the expectation (amount and percent), which services, "
            "accounts and regions contributed and how much each. Then call cost_top_spenders for the anomaly's "
            "dates and service to name the resources involved, and suggest whether it looks planned or a problem."
        )

    @server.prompt(name="savings_plan", description="Build a savings plan from recommendations and waste.")
    def savings_plan(target_monthly_savings_usd: str = "1000", max_risk: str = "medium") -> str:
        return (
            f"Build a plan to save at least {target_monthly_savings_usd} USD per month at risk level {max_risk} or "
            "lower.\n"
            "Call recommendations_list (sort_by=savings), compute_idle_instances, compute_rightsizing_options, "
            "storage_unattached_disks and storage_snapshots (all list the same engine findings, by kind). Group "
            "the opportunities by effort "
            "and risk, add up monthly savings in USD, and list the first actions in order. For any action you "
            "propose to carry out, use recommendation_impact_preview first; request_remediation only starts an "
            "approval-gated workflow, it never changes a cloud by itself."
        )
