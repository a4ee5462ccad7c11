"""Every tool at maximum data size stays inside its budget, and no MCP response exceeds 25k tokens.

A third organisation gets org A's estate multiplied (resources, principals, anomalies, recommendations
and the last 30 days of cost rows, each ×COPIES with distinct ids), then every tool is called with its
largest limit and widest options, directly and through an in-memory MCP server.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastmcp import Client
from sqlalchemy import Engine, Table, func, insert, literal, select
from sqlalchemy.orm import Session

from cloudoptima.services.allocation.dimensions import AllocationDimensions
from cloudoptima.services.allocation.engine import activate_version, allocate_range
from cloudoptima.storage.base import Base
from cloudoptima.storage.models import Organization
from cloudoptima_mcp.identity import Identity
from cloudoptima_mcp.server import build_server
from cloudoptima_tools import catalog
from cloudoptima_tools.spec import HARD_TOKEN_LIMIT, estimate_tokens, run_tool
from tests.mcp.conftest import runtime_for
from tests.tools.approval_seed import DECISION_TOOLS, pending_executions, pending_of
from tests.tools.conftest import context_for
from tests.tools.execution_seed import EXECUTION_TOOLS, completed_execution_of
from tests.tools.seed import NOW, Estates, SeededOrg, delete_orgs

COPIES = 12
WIDEST: dict[str, dict[str, Any]] = {
    "cost_forecast": {"days_ahead": 365, "include_daily": True, "history_days": 366},
    "cost_compare_periods": {"top_drivers": 50, "group_by": "account"},
    "cost_by_dimension": {"granularity": "daily", "group_by": "account"},
    "iam_stale_credentials": {"unused_days": 1, "max_age_days": 1},
    "iam_principals": {},
    "compute_utilisation_anomalies": {"days": 93, "direction": "both"},
    "untagged_resources": {"key": "team"},
}


def _copy(
    connection: Any,
    table: Table,
    source: uuid.UUID,
    target: uuid.UUID,
    suffixed: tuple[str, ...],
    where: Any = None,
) -> None:
    copies = select(func.generate_series(1, COPIES).label("n")).subquery()
    columns = []
    names = []
    for column in table.c:
        if column.name == "id" and column.type.python_type is int:
            continue  # a sequence numbers the copies
        names.append(column.name)
        if column.name == "organization_id":
            columns.append(literal(target).label(column.name))
        elif column.name == "id" and column.type.python_type is uuid.UUID:
            columns.append(func.gen_random_uuid().label("id"))
        elif column.name in suffixed:
            columns.append(
                (column + "~" + func.cast(copies.c.n, table.c[column.name].type)).label(column.name)
            )
        else:
            columns.append(column)
    query = (
        select(*columns)
        .select_from(table)
        .join(copies, literal(True))
        .where(table.c.organization_id == source)
    )
    if where is not None:
        query = query.where(where)
    connection.execute(insert(table).from_select(names, query))


@pytest.fixture(scope="module")
def big(engine: Engine, estates: Estates) -> Iterator[SeededOrg]:
    org = uuid.uuid4()
    source = estates.a.organization_id
    tables = Base.metadata.tables
    with engine.begin() as connection:
        connection.execute(
            Organization.__table__.insert().values(
                id=org, name="org-big", subscription_tier="free", settings={}
            )
        )
        _copy(connection, tables["resources"], source, org, ("resource_id",))
        _copy(connection, tables["iam_principals"], source, org, ("principal_id",))
        _copy(connection, tables["recommendations"], source, org, ("fingerprint",))
        _copy(connection, tables["anomalies"], source, org, ("fingerprint",))
        cost = tables["cost_data"]
        _copy(
            connection,
            cost,
            source,
            org,
            ("resource_id",),
            cost.c.charge_period_start >= NOW - timedelta(days=30),
        )
        _copy(connection, tables["cost_daily"], source, org, ("sub_account_id",))
    seeded = SeededOrg(organization_id=org, name="org-big")
    with pending_executions(engine, org):
        yield seeded
    delete_orgs(engine, [org])


WORKER_TOOLS = ("generate_report", "report_status")
"""Need a report and a Temporal worker: tests/tools/test_report_tools.py runs them (run_tool bounds them)."""
USER_TOOLS = ("notifications_inbox", "notifications_mark_read", "recommendation_decide")
"""Act for the signed-in caller (the decider below is a user of the organisation)."""
TRACKER_TOOLS = ("recommendation_ticket",)
"""Need a ticket tracker (a strict fake): tests/mcp/test_ticket_tool.py runs it (one ticket, far inside its budget)."""


def _arguments(name: str, big_org: SeededOrg, engine: Engine) -> dict[str, Any]:
    arguments = dict(WIDEST.get(name, {}))
    spec = catalog.by_name()[name]
    if "limit" in spec.input_model.model_fields:
        arguments["limit"] = spec.input_model.model_json_schema()["properties"]["limit"].get("maximum", 500)
    if name == "notifications_mark_read":
        arguments["all"] = True
    if name == "cost_by_allocation":
        arguments.update(dimension=_allocated_dimension(engine, big_org.organization_id), reconcile=True)
    if name in DECISION_TOOLS:
        arguments["execution_id"] = pending_of(big_org.organization_id)[0]
    if name == "recommendation_decide":  # accept again re-assigns: both tests may call it
        owner = str(pending_of(big_org.organization_id)[1])
        arguments.update(decision="accept", owner_user_id=owner, due_date="2099-12-31")
        table = Base.metadata.tables["recommendations"]
        with engine.connect() as connection:
            arguments["recommendation_id"] = str(
                connection.execute(
                    select(table.c.id)
                    .where(table.c.organization_id == big_org.organization_id)
                    .order_by(table.c.id.desc())
                    .limit(1)
                ).scalar()
            )
    if name in EXECUTION_TOOLS:
        arguments["execution_id"] = completed_execution_of(engine, big_org.organization_id)
    with engine.connect() as connection:
        if name == "anomaly_root_cause":
            arguments["anomaly_id"] = str(
                connection.execute(
                    select(Base.metadata.tables["anomalies"].c.id)
                    .where(Base.metadata.tables["anomalies"].c.organization_id == big_org.organization_id)
                    .limit(1)
                ).scalar()
            )
        if name in ("recommendation_impact_preview", "recommendation_history", "request_remediation"):
            arguments["recommendation_id"] = str(
                connection.execute(
                    select(Base.metadata.tables["recommendations"].c.id)
                    .where(
                        Base.metadata.tables["recommendations"].c.organization_id == big_org.organization_id
                    )
                    .limit(1)
                ).scalar()
            )
    return arguments


def _allocated_dimension(engine: Engine, org: uuid.UUID) -> str:
    """A dimension over the big organisation's last 30 days (one value per tag value), allocated."""
    with Session(engine) as session, session.begin():
        service = AllocationDimensions(session, org)
        if any(d.name == "bounds" for d in service.list()):
            return "bounds"  # allocated by an earlier call
        dimension = service.create("bounds", None, NOW)
        rules = {"rules": [{"value_from_tag": "team"}, {"value_from_tag": "env"}, {"value_from_tag": "app"}]}
        _, rule_set = service.save_rules(dimension.id, rules, None, NOW)
        connection = session.connection()
        start = (NOW - timedelta(days=31)).date()
        allocate_range(connection, org, dimension.id, 1, rule_set, start, NOW.date() + timedelta(days=1))
        activate_version(connection, org, dimension.id, 1, NOW)
    return dimension.name


def test_every_tool_stays_inside_its_budget_at_maximum_size(engine: Engine, big: SeededOrg) -> None:
    ctx = context_for(engine, big)
    decider = dataclasses.replace(ctx, principal=f"user:{pending_of(big.organization_id)[1]}")
    truncated = []
    for spec in catalog.catalog():
        if spec.name in (*WORKER_TOOLS, *TRACKER_TOOLS):
            continue
        arguments = _arguments(spec.name, big, engine)
        output = run_tool(spec, decider if spec.name in (*DECISION_TOOLS, *USER_TOOLS) else ctx, arguments)
        tokens = estimate_tokens(output.model_dump_json())
        assert tokens <= spec.max_output_tokens, (spec.name, tokens)
        if getattr(output, "truncated_for_size", False):
            truncated.append(spec.name)
            resumed = run_tool(spec, ctx, {**arguments, "cursor": output.next_cursor})
            assert resumed.items, spec.name
            first_keys = {
                json.dumps(i, sort_keys=True, default=str) for i in output.model_dump(mode="json")["items"]
            }
            assert not first_keys & {
                json.dumps(i, sort_keys=True, default=str) for i in resumed.model_dump(mode="json")["items"]
            }
    assert {"compute_instances", "cost_top_spenders", "recommendations_list", "iam_principals"} <= set(
        truncated
    )


async def test_no_mcp_response_exceeds_25k_tokens(engine: Engine, big: SeededOrg) -> None:
    decider = pending_of(big.organization_id)[1]
    identity = Identity(organization_id=big.organization_id, role="admin", principal=f"user:{decider}")
    server = build_server("platform", runtime_for(engine), identity=identity)
    async with Client(server) as client:
        for tool in await client.list_tools():
            if tool.name in (*WORKER_TOOLS, *TRACKER_TOOLS):
                continue
            result = await client.call_tool(tool.name, _arguments(tool.name, big, engine))
            assert not result.is_error, tool.name
            payload = json.dumps(
                {
                    "content": [c.model_dump(mode="json") for c in result.content],
                    "structuredContent": result.structured_content,
                }
            )
            assert estimate_tokens(payload) <= HARD_TOKEN_LIMIT, (tool.name, estimate_tokens(payload))
