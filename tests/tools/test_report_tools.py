"""Report and inbox tools over real Postgres and a Temporal worker on the ``reports`` queue, wired the way the
MCP platform server wires them (``cloudoptima_mcp.runtime.Runtime``); one call through a real MCP client
session against the platform server offering ``--toolsets reports``."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio.to_thread
import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError as McpToolError
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import sessionmaker
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from cloudoptima.domain.inbox import InboxNotice
from cloudoptima.reports.store import ReportStore
from cloudoptima.services.cost_analytics import CostAnalytics
from cloudoptima.services.inbox import Inbox
from cloudoptima.services.reports import ReportsConfig, link_key_from_secret, open_download
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import Notification, ReportRow
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_mcp.identity import Identity
from cloudoptima_mcp.runtime import Runtime
from cloudoptima_mcp.server import build_server
from cloudoptima_tools import catalog
from cloudoptima_tools.context import ToolContext
from cloudoptima_tools.reports import ReportStatusInput, report_status
from cloudoptima_tools.spec import (
    ToolInputError,
    ToolNotFoundError,
    ToolPermissionError,
    ToolUnavailableError,
    run_tool,
)
from cloudoptima_workflows.queues import REPORTS
from cloudoptima_workflows.reports.activities import ReportActivities
from cloudoptima_workflows.reports.workflows import GenerateReportWorkflow
from tests.tools.seed import Estates, SeededOrg

SPECS = catalog.by_name()
START, END = date(2029, 11, 1), date(2029, 12, 1)
PERIOD = {"start_date": START.isoformat(), "end_date": END.isoformat()}
PUBLIC_URL = "https://finops.example.com"
CENT = Decimal("0.01")


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> ReportsConfig:
    root: Path = tmp_path_factory.mktemp("report-tools")
    return ReportsConfig(
        store=ReportStore(root), link_key=link_key_from_secret("report tools test"), public_url=PUBLIC_URL
    )


def _runtime(engine: Engine, env: WorkflowEnvironment, config: ReportsConfig) -> Runtime:
    # The worker stamps completed_at/expires_at with Temporal's clock, so the tools read with real time.
    return Runtime(
        session_factory=sessionmaker(engine, expire_on_commit=False),
        temporal_client=env.client,
        reports=config,
    )


def _identity(org: SeededOrg, role: str) -> Identity:
    return Identity(organization_id=org.organization_id, role=role, principal=f"user:{org.users[role]}")  # type: ignore[arg-type]


@asynccontextmanager
async def _worker(env: WorkflowEnvironment, engine: Engine, config: ReportsConfig) -> AsyncIterator[None]:
    activities = ReportActivities(session_factory(engine), config, None)
    with ThreadPoolExecutor(2) as executor:
        async with Worker(
            env.client,
            task_queue=REPORTS,
            workflows=[GenerateReportWorkflow],
            activities=activities.all(),
            activity_executor=executor,
        ):
            yield


async def _call(ctx: ToolContext, name: str, arguments: dict[str, Any]) -> Any:
    return await anyio.to_thread.run_sync(run_tool, SPECS[name], ctx, arguments)


def _reports_of(engine: Engine, org: SeededOrg) -> int:
    with engine.connect() as connection:
        return int(
            connection.scalar(
                select(func.count())
                .select_from(ReportRow)
                .where(ReportRow.organization_id == org.organization_id)
            )
            or 0
        )


def _download_json(engine: Engine, config: ReportsConfig, url: str) -> dict[str, Any]:
    """The artifact behind a signed link, through the REST download's own check (``open_download``)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    report_id = uuid.UUID(parts.path.split("/")[3])
    with sessionmaker(engine)() as session:
        _, stream = open_download(
            session, config, report_id, int(query["expires"][0]), query["signature"][0], datetime.now(UTC)
        )
    with stream:
        data: dict[str, Any] = json.loads(stream.read())
    return data


def _overview_total(engine: Engine, org: SeededOrg) -> Decimal:
    """What ``GET /v1/costs/overview`` answers for the period (the service the route calls)."""
    with engine.connect() as connection:
        overview = CostAnalytics.for_organisation(connection, org.organization_id).overview(
            START, END, granularity="daily", group_by="service"
        )
    return overview.total_cost


async def test_generate_report_waits_and_answers_a_link_whose_total_matches_the_cost_api(
    engine: Engine, estates: Estates, temporal_env: WorkflowEnvironment, config: ReportsConfig
) -> None:
    runtime = _runtime(engine, temporal_env, config)
    engineer = runtime.tool_context(_identity(estates.a, "engineer"))
    templates = await _call(engineer, "report_templates", {})
    listed = {t.id: t for t in templates.templates}
    assert "start_date" in [p.name for p in listed["monthly_cost_review"].parameters]

    async with _worker(temporal_env, engine, config):
        done = await _call(
            engineer,
            "generate_report",
            {
                "template_id": "monthly_cost_review",
                "parameters": PERIOD,
                "format": "json",
                "wait_seconds": 60,
            },
        )
    assert done.status == "completed", done
    assert done.error is None and done.parameters["start_date"] == START.isoformat()
    assert done.download_url.startswith(f"{PUBLIC_URL}/v1/reports/{done.report_id}/download?expires=")
    document = _download_json(engine, config, done.download_url)
    total = next(h for h in document["document"]["highlights"] if h["label"] == "Total cost")
    overview = _overview_total(engine, estates.a)
    assert overview > 0
    assert Decimal(total["value"]).quantize(CENT) == overview.quantize(CENT)

    status = await _call(engineer, "report_status", {"report_id": str(done.report_id)})
    assert status.status == "completed" and status.size_bytes == done.size_bytes and status.sha256
    assert status.download_url is not None
    # Without export:data the link is withheld. No built-in role reads reports without export:data, so the
    # handler's own rule is checked with a viewer context (run_tool refuses a viewer read:reports first).
    viewer = runtime.tool_context(_identity(estates.a, "viewer"))
    hidden = await anyio.to_thread.run_sync(
        report_status, viewer, ReportStatusInput(report_id=str(done.report_id))
    )
    assert hidden.status == "completed" and hidden.download_url is None
    with pytest.raises(ToolPermissionError, match="read:reports"):
        await _call(viewer, "report_status", {"report_id": str(done.report_id)})
    # Another organisation's report is unknown there.
    other = runtime.tool_context(_identity(estates.b, "admin"))
    with pytest.raises(ToolNotFoundError, match="not found"):
        await _call(other, "report_status", {"report_id": str(done.report_id)})

    # The requester heard of it in the in-app inbox.
    inbox = await _call(engineer, "notifications_inbox", {"unread_only": True})
    ready = [n for n in inbox.items if n.event_type == "report.ready"]
    assert any(n.payload.get("report_id") == str(done.report_id) for n in ready), inbox.items


async def test_bad_or_forbidden_requests_start_nothing(
    engine: Engine, estates: Estates, temporal_env: WorkflowEnvironment, config: ReportsConfig
) -> None:
    runtime = _runtime(engine, temporal_env, config)
    engineer = runtime.tool_context(_identity(estates.a, "engineer"))
    before = _reports_of(engine, estates.a)
    with pytest.raises(ToolInputError, match=r"^template_id: unknown report template 'no_such_report'"):
        await _call(engineer, "generate_report", {"template_id": "no_such_report"})
    with pytest.raises(ToolInputError, match=r"^parameters\.end_date"):
        await _call(
            engineer,
            "generate_report",
            {"template_id": "monthly_cost_review", "parameters": {"start_date": "2029-11-01"}},
        )
    with pytest.raises(ToolInputError, match=r"^delivery\.recipients"):
        await _call(
            engineer,
            "generate_report",
            {"template_id": "monthly_cost_review", "delivery": {"method": "email"}},
        )
    with pytest.raises(ToolInputError, match="wait_seconds"):
        await _call(engineer, "generate_report", {"template_id": "monthly_cost_review", "wait_seconds": 61})
    viewer = runtime.tool_context(_identity(estates.a, "viewer"))
    with pytest.raises(ToolPermissionError, match="create:reports"):
        await _call(viewer, "generate_report", {"template_id": "monthly_cost_review", "parameters": PERIOD})
    assert _reports_of(engine, estates.a) == before

    # Temporal refusing the start: the report is recorded as failed (never left generating) and the tool
    # says the workflow service is unavailable.
    def refuse(start: object) -> str:
        raise ConnectionRefusedError("connection refused")

    down = dataclasses.replace(engineer, start_report=refuse)
    with pytest.raises(ToolUnavailableError, match="unavailable"):
        await _call(down, "generate_report", {"template_id": "monthly_cost_review", "parameters": PERIOD})
    with engine.connect() as connection:
        latest = connection.execute(
            select(ReportRow.status, ReportRow.error)
            .where(ReportRow.organization_id == estates.a.organization_id)
            .order_by(ReportRow.created_at.desc())
            .limit(1)
        ).one()
    assert latest.status == "failed" and "could not start generating" in (latest.error or "")


@pytest.fixture
def notices(engine: Engine, estates: Estates) -> Iterator[dict[str, list[uuid.UUID]]]:
    """Two notices for org A's engineer, one for its viewer, one for org B's engineer."""
    now = datetime(2029, 12, 31, tzinfo=UTC)
    factory = sessionmaker(engine, expire_on_commit=False)
    made: dict[str, list[uuid.UUID]] = {}
    key = uuid.uuid4().hex
    for label, org, role, count in (
        ("mine", estates.a, "engineer", 2),
        ("viewer", estates.a, "viewer", 1),
        ("other_org", estates.b, "engineer", 1),
    ):
        with tenant_session(factory, org.organization_id) as session:
            inbox = Inbox(session, org.organization_id)
            made[label] = [
                inbox.post(
                    [org.users[role]],
                    InboxNotice(event_type="budget.alert", title=f"{label} {n}", summary="over 80%"),
                    idempotency_key=f"{key}-{label}-{n}",
                    now=now,
                )[0].id
                for n in range(count)
            ]
    yield made
    with engine.begin() as connection:
        connection.execute(delete(Notification).where(Notification.idempotency_key.like(f"{key}-%")))


def _read_at(engine: Engine, notice_id: uuid.UUID) -> datetime | None:
    with engine.connect() as connection:
        return connection.scalar(select(Notification.read_at).where(Notification.id == notice_id))


async def test_inbox_tools_read_and_mark_only_the_callers_notices(
    engine: Engine,
    estates: Estates,
    temporal_env: WorkflowEnvironment,
    config: ReportsConfig,
    notices: dict[str, list[uuid.UUID]],
) -> None:
    runtime = _runtime(engine, temporal_env, config)
    engineer = runtime.tool_context(_identity(estates.a, "engineer"))
    with engine.connect() as connection:
        owned = set(
            connection.scalars(
                select(Notification.id).where(Notification.user_id == estates.a.users["engineer"])
            )
        )
    page = await _call(engineer, "notifications_inbox", {"limit": 50})
    shown = {n.id for n in page.items}
    assert set(notices["mine"]) <= shown <= owned
    assert not shown & set(notices["viewer"] + notices["other_org"])
    unread_before = page.unread_count
    assert unread_before >= 2

    for foreign in (notices["viewer"][0], notices["other_org"][0]):
        with pytest.raises(ToolNotFoundError, match=str(foreign)):
            await _call(engineer, "notifications_mark_read", {"ids": [str(notices["mine"][0]), str(foreign)]})
        assert _read_at(engine, foreign) is None
    assert _read_at(engine, notices["mine"][0]) is None, "a refused call marks nothing"
    with pytest.raises(ToolInputError, match="ids"):
        await _call(engineer, "notifications_mark_read", {})

    marked = await _call(engineer, "notifications_mark_read", {"ids": [str(notices["mine"][0])]})
    assert marked.marked == 1 and marked.unread_count == unread_before - 1
    unread = await _call(engineer, "notifications_inbox", {"unread_only": True, "limit": 50})
    assert notices["mine"][0] not in {n.id for n in unread.items}
    assert notices["mine"][1] in {n.id for n in unread.items}

    everything = await _call(engineer, "notifications_mark_read", {"all": True})
    assert everything.unread_count == 0 and everything.marked == unread_before - 1
    assert (
        _read_at(engine, notices["viewer"][0]) is None and _read_at(engine, notices["other_org"][0]) is None
    )

    # Any role may read its own inbox; a caller that is not a user has none.
    viewer = runtime.tool_context(_identity(estates.a, "viewer"))
    assert [n.id for n in (await _call(viewer, "notifications_inbox", {})).items] == notices["viewer"]
    keyed = dataclasses.replace(viewer, principal="api_key:abc")
    with pytest.raises(ToolPermissionError, match="signed-in user"):
        await _call(keyed, "notifications_inbox", {})


async def test_platform_server_offers_the_reports_toolset_to_an_mcp_client(
    engine: Engine, estates: Estates, temporal_env: WorkflowEnvironment, config: ReportsConfig
) -> None:
    runtime = _runtime(engine, temporal_env, config)
    server = build_server(
        "platform", runtime, identity=_identity(estates.a, "engineer"), toolsets=("reports",)
    )
    async with Client(server) as client:
        names = {tool.name for tool in await client.list_tools()}
        assert names == {"report_templates", "generate_report", "report_status"}
        async with _worker(temporal_env, engine, config):
            result = await client.call_tool(
                "generate_report",
                {
                    "template_id": "monthly_cost_review",
                    "parameters": PERIOD,
                    "format": "csv",
                    "wait_seconds": 60,
                },
            )
        assert not result.is_error
        assert result.structured_content["status"] == "completed", result.structured_content
        assert result.structured_content["download_url"].startswith(PUBLIC_URL)
        with pytest.raises(McpToolError, match="template_id"):
            await client.call_tool("generate_report", {"template_id": "nope"})
