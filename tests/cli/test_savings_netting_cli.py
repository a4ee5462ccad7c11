"""``cloudoptima savings`` says what a realised saving is net of: the snapshot kept of a deleted disk (linked from
the inventory) and its monthly cost, under the table."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cloudoptima.storage.models import CostRow, Organization, Recommendation, ResourceDocument
from cloudoptima.storage.partitions import ensure_cost_partitions, months_between
from cloudoptima_cli.app import app

CHANGE = datetime(2025, 6, 8, 9, tzinfo=UTC)


def _cost(org: uuid.UUID, day: int, rid: str, cost: str) -> CostRow:
    start = datetime(2025, 6, day, tzinfo=UTC)
    return CostRow(
        organization_id=org, provider="aws", provider_name="AWS", charge_period_start=start,
        charge_period_end=start + timedelta(days=1), billing_period_start=datetime(2025, 6, 1, tzinfo=UTC),
        billing_period_end=datetime(2025, 7, 1, tzinfo=UTC), billed_cost=Decimal(cost), effective_cost=Decimal(cost),
        billing_account_id="111111111111", sub_account_id="111111111111", billing_currency="USD",
        charge_category="Usage", service_name="EBS", region_id="us-east-1", resource_id=rid, resource_name=rid, tags={},
    )  # fmt: skip


@pytest.fixture
def org(engine: Engine) -> Iterator[uuid.UUID]:
    org_id = uuid.uuid4()
    with Session(engine) as session:
        session.add(Organization(id=org_id, name=f"cli-net-{org_id}", subscription_tier="free", settings={}))
        session.flush()
        ensure_cost_partitions(session.connection(), months_between(date(2025, 6, 1), date(2025, 7, 1)))
        session.add_all([_cost(org_id, 1 + i, "vol-1", "4.00") for i in range(7)])  # deleted on 06-08
        session.add_all([_cost(org_id, 9 + i, "snap-1", "1.00") for i in range(7)])  # what it kept
        session.add(
            ResourceDocument(
                organization_id=org_id, resource_id="snap-1", provider="aws", resource_type="snapshot",
                status="available", configuration={"source_disk_id": "vol-1"}, metrics={}, tags={},
                recommendations=[], created_at=CHANGE - timedelta(minutes=5),
            )
        )  # fmt: skip
        session.add(
            Recommendation(
                organization_id=org_id, fingerprint=uuid.uuid4().hex, provider="aws", title="Delete vol-1",
                rule_id="unattached_disk", category="storage", risk_level="low", resource_ids=["vol-1"],
                affected_resources=[], actions=[], status="completed",
                estimated_savings_monthly=Decimal("120.00"), applied_at=CHANGE,
            )
        )  # fmt: skip
        session.commit()
    yield org_id
    with Session(engine) as session:
        for model in (CostRow, Recommendation, ResourceDocument):
            session.execute(delete(model).where(model.organization_id == org_id))
        session.execute(delete(Organization).where(Organization.id == org_id))
        session.commit()


def test_savings_names_the_kept_snapshot_it_counted(
    org: uuid.UUID, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    answer = CliRunner().invoke(app, ["savings", "--org", str(org), "--state-dir", str(tmp_path / "state")])
    assert answer.exit_code == 0, answer.output
    text = answer.output.replace("\n", " ")
    # (4.00 − 1.00) × 30.4375 realised; the snapshot's 1.00 a day is 30.44 a month
    assert "USD 91.31" in text
    assert "netted: Delete vol-1: counts snap-1 (USD 30.44/month) it kept" in text
