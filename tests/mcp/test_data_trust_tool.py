"""The ``data_trust`` tool through a real MCP client session on the platform server's opt-in toolset."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError as McpToolError
from sqlalchemy import Engine, delete, text
from sqlalchemy.orm import sessionmaker

from cloudoptima.domain.data_trust import (
    AccountFreshness,
    AccountKey,
    Reconciliation,
    ReconciliationReport,
    TrustFinding,
    TrustPolicy,
)
from cloudoptima.services.ingestion import ingest_path
from cloudoptima.storage.models import CostDaily, CostRow, IngestRun, Organization
from cloudoptima_mcp.identity import Identity
from cloudoptima_mcp.runtime import Runtime
from cloudoptima_mcp.server import build_server
from cloudoptima_mcp.toolsets import DEFAULTS
from cloudoptima_tools.data_trust import BUDGET, bounded_output
from cloudoptima_tools.spec import estimate_tokens

AWS_CUR = Path(__file__).parents[1] / "fixtures" / "focus_converters" / "aws_cur_v1_anonymized_2023-11.csv"
NOW = datetime(2024, 1, 10, tzinfo=UTC)


@pytest.fixture
def org(engine: Engine) -> Iterator[uuid.UUID]:
    org_id = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            Organization.__table__.insert().values(
                id=org_id, name="trust-mcp", subscription_tier="free", settings={}
            )
        )
    yield org_id
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM ingest_file_totals WHERE organization_id = :o"), {"o": org_id})
        for model in (IngestRun, CostDaily, CostRow):
            connection.execute(delete(model).where(model.organization_id == org_id))
        connection.execute(delete(Organization).where(Organization.id == org_id))


async def test_data_trust_tool_reports_a_double_counted_file(
    engine: Engine, org: uuid.UUID, tmp_path: Path
) -> None:
    assert "data_trust" not in DEFAULTS["platform"]  # opt-in: the default tools/list stays as it was
    folder = tmp_path / "export"
    folder.mkdir()
    shutil.copy(AWS_CUR, folder / "one.csv")
    shutil.copy(AWS_CUR, folder / "two.csv")
    ingest_path(engine, folder, org)
    runtime = Runtime(session_factory=sessionmaker(engine, expire_on_commit=False), now=lambda: NOW)
    identity = Identity(organization_id=org, role="viewer", principal="user:" + str(uuid.uuid4()))
    server = build_server("platform", runtime, identity=identity, toolsets=["data_trust"])
    async with Client(server) as client:
        assert [tool.name for tool in await client.list_tools()] == ["data_trust"]
        result = await client.call_tool("data_trust", {"month": "2023-11"})
        body = result.structured_content
        assert body is not None and body["month"] == "2023-11"
        [item] = body["reconciliation"]
        assert item["status"] == "mismatch" and Decimal(item["delta"]) == Decimal(item["provider_total"])
        assert item["findings"][0]["kind"] == "duplicate_file" and item["findings"][0]["double_counted"]
        assert [a["latest_usage_day"] for a in body["freshness"]] == ["2023-11-14"]
        default = await client.call_tool("data_trust", {})  # last month before NOW: nothing stored
        assert default.structured_content is not None and default.structured_content["month"] == "2023-12"
        assert default.structured_content["reconciliation"] == []
        with pytest.raises(McpToolError, match="month"):
            await client.call_tool("data_trust", {"month": "2023-13"})


def test_the_answer_stays_inside_its_budget_for_many_large_accounts() -> None:
    key = AccountKey(
        provider="azure", billing_account_id="/providers/Microsoft.Billing/billingAccounts/8611537"
    )
    amount = Decimal("12345678.1234567890123")
    names = [f"/data/exports/azure/2024/09/part-{i:04d}-of-0032-with-a-long-name.csv.gz" for i in range(32)]
    finding = TrustFinding(
        kind="duplicate_file", message=f"{names[0]} has the same content as {names[1]} " * 2, files=names[:2]
    )
    item = Reconciliation(
        account=key,
        month="2024-09",
        currency="USD",
        origin="file",
        provider_basis="FOCUS BilledCost",
        provider_source="billing file totals: " + ", ".join(names),
        our_total=amount,
        provider_total=amount,
        delta=amount,
        delta_percent=Decimal("1.2345"),
        tolerance=amount,
        status="mismatch",
        month_closed=True,
        first_day=date(2024, 9, 1),
        last_day=date(2024, 9, 30),
        findings=[finding] * 6,
    )
    fresh = AccountFreshness(
        account=key,
        origin="file",
        last_arrived_at=NOW,
        latest_usage_day=date(2024, 9, 30),
        restating_from=date(2024, 9, 27),
        restating_days=[date(2024, 9, 27)] * 30,
    )
    report = ReconciliationReport(month="2024-09", as_of=NOW, policy=TrustPolicy(), accounts=[item] * 200)
    output = bounded_output(report, [fresh] * 200)
    assert estimate_tokens(output.model_dump_json()) <= BUDGET
    assert output.reconciliation and output.freshness
    assert output.accounts_left_off == 400 - len(output.reconciliation) - len(output.freshness)
    assert all(
        len(r.findings) <= 3 and r.provider_source == "billing file totals: 32 files"
        for r in output.reconciliation
    )
