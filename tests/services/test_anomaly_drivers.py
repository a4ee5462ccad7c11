"""Root cause points at what changed: inside the top cell, the new resource, its usage type and tag come
first with their share of the change, not the long-running resource that costs the most."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from cloudoptima.services.anomalies import AnomalyService
from cloudoptima.storage.models import CostDaily, CostRow, Organization
from cloudoptima.storage.partitions import ensure_cost_partitions, months_between
from cloudoptima_agents.root_cause.evidence import KernelEvidence, from_row
from cloudoptima_agents.root_cause.template import offline_explanation

START = date(2031, 3, 1)
DAYS = 60
SPIKE = START + timedelta(days=50)
NOW = datetime(2031, 5, 10, tzinfo=UTC)


def _row(org: uuid.UUID, rid: str, day: date, cost: Decimal, usage: str, tags: dict[str, str]) -> CostRow:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return CostRow(
        id=uuid.uuid4(), organization_id=org, provider="aws", provider_name="AWS",
        charge_period_start=start, charge_period_end=start + timedelta(days=1),
        billing_period_start=datetime(day.year, day.month, 1, tzinfo=UTC),
        billing_period_end=datetime(day.year + (day.month == 12), day.month % 12 + 1, 1, tzinfo=UTC),
        billed_cost=cost, effective_cost=cost, billing_account_id="111122223333", sub_account_id="111122223333",
        billing_currency="USD", charge_category="Usage", service_name="Amazon EC2", region_id="us-east-1",
        resource_id=rid, resource_name=rid, sku_meter=usage, tags=tags,
    )  # fmt: skip


def _estate(session: Session) -> uuid.UUID:
    org = Organization(name=f"drivers-{uuid.uuid4().hex[:6]}", subscription_tier="free", settings={})
    session.add(org)
    session.flush()
    ensure_cost_partitions(session.connection(), months_between(START, START + timedelta(days=DAYS)))
    for n in range(DAYS):
        day = START + timedelta(days=n)
        lines = [("i-big", Decimal(500) + n % 3, "BoxUsage:m5.8xlarge", {"team": "web"})]
        lines.append(("i-small", Decimal(40), "BoxUsage:t3.large", {"team": "web"}))
        if SPIKE <= day < SPIKE + timedelta(days=2):
            lines.append(("i-gpu", Decimal(900), "BoxUsage:p3.8xlarge", {"team": "ml"}))
        for rid, cost, usage, tags in lines:
            session.add(_row(org.id, rid, day, cost, usage, tags))
        total = sum((cost for _rid, cost, _u, _t in lines), Decimal(0))
        session.add(
            CostDaily(
                organization_id=org.id, usage_date=day, provider="aws", billing_account_id="111122223333",
                sub_account_id="111122223333", service_name="Amazon EC2", region_id="us-east-1",
                billing_currency="USD", tag_values={}, billed_cost=total, effective_cost=total,
                list_cost=total, row_count=len(lines),
            )
        )  # fmt: skip
    session.flush()
    return org.id


def test_the_changed_resource_usage_type_and_tag_lead_with_their_share(db_session: Session) -> None:
    org = _estate(db_session)
    service = AnomalyService(db_session, org, now=lambda: NOW)
    service.run(START, START + timedelta(days=DAYS))
    row = next(r for r in service.list() if r.start_date == SPIKE)
    assert row.affected_resources == ["i-gpu"]  # i-big costs more every day but did not change
    drivers = row.drivers or {}
    gpu = drivers["resources"][0]
    assert gpu["key"] == "i-gpu" and gpu["new"] is True
    assert Decimal(gpu["change"]) == Decimal(1800) and float(gpu["share_percent"]) > 95
    assert drivers["usage_types"][0]["key"] == "BoxUsage:p3.8xlarge"
    assert drivers["tags"][0]["key"] == "team=ml"
    assert "i-big" not in (row.root_cause or "")
    assert "Resources whose cost changed: i-gpu (new, +$1,800.00" in (row.root_cause or "")
    assert "Tags: team=ml" in (row.root_cause or "")

    evidence = from_row(row)
    evidence.billed_items = KernelEvidence(db_session, org).billed_items(evidence)
    assert [item.resource_id for item in evidence.billed_items] == ["i-gpu"]
    assert evidence.billed_items[0].change == Decimal("1800.00") and evidence.billed_items[0].new_in_window
    text = offline_explanation(evidence)
    assert "i-gpu" in text and "i-big" not in text and "team=ml" in text


def test_a_lasting_step_is_stored_once_as_a_change(db_session: Session) -> None:
    org = Organization(name=f"step-{uuid.uuid4().hex[:6]}", subscription_tier="free", settings={})
    db_session.add(org)
    db_session.flush()
    for n in range(DAYS):
        day = START + timedelta(days=n)
        cost = Decimal(500 + n % 3) + (Decimal(400) if day >= SPIKE else Decimal(0))
        db_session.add(
            CostDaily(
                organization_id=org.id, usage_date=day, provider="aws", billing_account_id="111122223333",
                sub_account_id="111122223333", service_name="Amazon EC2", region_id="us-east-1",
                billing_currency="USD", tag_values={}, billed_cost=cost, effective_cost=cost, list_cost=cost,
                row_count=1,
            )
        )  # fmt: skip
    db_session.flush()
    service = AnomalyService(db_session, org.id, now=lambda: NOW)
    service.run(START, START + timedelta(days=DAYS))
    rows = [r for r in service.list() if r.start_date is not None and r.start_date >= SPIKE]
    assert len(rows) == 1 and rows[0].start_date == SPIKE and rows[0].kind == "change"
