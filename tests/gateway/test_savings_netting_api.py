"""``GET /v1/savings`` nets what the bill holds besides the saving (#22): the safety snapshot an execution kept
and the one kept by hand (linked from the inventory), a successor a step reported under a new id, a price cut
after a resize, and a month's 31 days."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cloudoptima.settings import Settings
from cloudoptima.storage.models import CostRow, PolicyExecution, Recommendation, ResourceDocument
from cloudoptima.storage.models.executions import ExecutionEvent
from cloudoptima.storage.partitions import ensure_cost_partitions, months_between
from tests.gateway.conftest import make_org

CHANGE = datetime(2026, 3, 8, 14, 30, tzinfo=UTC)
BEFORE = [date(2026, 3, 1) + timedelta(days=i) for i in range(7)]
AFTER = [date(2026, 3, 9) + timedelta(days=i) for i in range(7)]
Q = Decimal("0.0000000001")
ACCOUNT = "111111111111"


def _row(org: uuid.UUID, day: date, rid: str, sku: str, unit: str, quantity: Decimal, price: str) -> CostRow:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    cost = (quantity * Decimal(price)).quantize(Decimal("0.000001"))
    return CostRow(
        id=uuid.uuid4(), organization_id=org, provider="aws", provider_name="AWS",
        charge_period_start=start, charge_period_end=start + timedelta(days=1),
        billing_period_start=datetime(2026, 3, 1, tzinfo=UTC), billing_period_end=datetime(2026, 4, 1, tzinfo=UTC),
        billed_cost=cost, effective_cost=cost, billing_account_id="111111111111", sub_account_id="111111111111",
        billing_currency="USD", charge_category="Usage", service_name="EC2", region_id="us-east-1",
        resource_id=rid, resource_name=rid, tags={}, sku_price_id=sku, pricing_unit=unit,
        pricing_quantity=quantity, list_unit_price=Decimal(price),
    )  # fmt: skip


def _gb(rid: str, org: uuid.UUID, days: list[date], sku: str, gb: int, price: str) -> list[CostRow]:
    return [_row(org, d, rid, sku, "GB-Mo", (Decimal(gb) / 31).quantize(Q), price) for d in days]


def _rec(org: uuid.UUID, rid: str, action: str, estimate: str) -> Recommendation:
    return Recommendation(
        organization_id=org, fingerprint=uuid.uuid4().hex, provider="aws", title=f"Act on {rid}", rule_id=action,
        category="storage", risk_level="low", resource_ids=[rid], affected_resources=[],
        actions=[{"type": action, "resource_id": rid, "description": action, "parameters": {}}],
        status="completed", estimated_savings_monthly=Decimal(estimate), applied_at=CHANGE,
    )  # fmt: skip


def _snapshot(org: uuid.UUID, rid: str, source: str, created: datetime) -> ResourceDocument:
    return ResourceDocument(
        organization_id=org, resource_id=rid, provider="aws", resource_type="snapshot", status="available",
        region="us-east-1", configuration={"source_disk_id": source, "size_gb": 100, "account_id": ACCOUNT},
        metrics={}, tags={}, recommendations=[], created_at=created,
    )  # fmt: skip


def _seed(engine: Engine, org: uuid.UUID) -> dict[str, uuid.UUID]:
    with Session(engine) as session:
        ensure_cost_partitions(session.connection(), months_between(date(2026, 2, 1), date(2026, 5, 1)))
        by_tool = _rec(org, "vol-1", "snapshot_and_delete_disk", "8.00")
        by_hand = _rec(org, "vol-3", "snapshot_and_delete_disk", "8.00")
        resize = _rec(org, "i-2", "resize", "70.13")
        replaced = _rec(org, "i-4", "resize", "70.13")  # a provider that resizes under a new id
        session.add_all([by_tool, by_hand, resize, replaced])
        session.flush()
        successor = PolicyExecution(
            organization_id=org, recommendation_id=replaced.id, status="completed", kind="remediation"
        )
        session.add(successor)
        session.flush()
        session.add(
            ExecutionEvent(
                organization_id=org, execution_id=successor.id, kind="step", key="0",
                data={"status": "succeeded", "resource_id": "i-4", "after": {"replacement_id": "i-4b"}},
            )
        )  # fmt: skip
        execution = PolicyExecution(
            organization_id=org, recommendation_id=by_tool.id, status="completed", kind="remediation"
        )
        session.add(execution)
        session.flush()
        session.add(
            ExecutionEvent(
                organization_id=org, execution_id=execution.id, kind="snapshot", key="snap-1",
                data={"resource_id": "snap-1", "source_disk_id": "vol-1", "step": 0},
            )
        )  # fmt: skip
        session.add_all(
            [
                _snapshot(org, "snap-3", "vol-3", CHANGE + timedelta(hours=2)),  # kept by hand at the change
                _snapshot(org, "snap-old", "vol-3", CHANGE - timedelta(days=5)),  # a backup from before
            ]
        )
        rows = [
            # 100 GB at 0.08 / GB-Mo each (8.00 a month, 1/31 of it a March day); snapshots 50 GB at 0.05
            *_gb("vol-1", org, BEFORE, "gp3.OnDemand", 100, "0.08"),
            *_gb("snap-1", org, AFTER, "snap.OnDemand", 50, "0.05"),
            *_gb("vol-3", org, BEFORE, "gp3.OnDemand", 100, "0.08"),
            # AWS bills a snapshot under its ARN: linked from the inventoried snap-3
            *_gb(f"arn:aws:ec2:us-east-1:{ACCOUNT}:snapshot/snap-3", org, AFTER, "snap.OnDemand", 50, "0.05"),
            *_gb("snap-old", org, BEFORE + AFTER, "snap.OnDemand", 10, "0.05"),
            # m5.xlarge (0.192/h) → m5.large (0.096/h), cut to 0.08/h from the third day after
            *(_row(org, d, "i-2", "m5.xlarge.OnDemand", "Hours", Decimal(24), "0.192") for d in BEFORE),
            *(
                _row(org, d, "i-2", "m5.large.OnDemand", "Hours", Decimal(24), "0.096" if i < 2 else "0.08")
                for i, d in enumerate(AFTER)
            ),
            *(_row(org, d, "i-4", "m5.xlarge.OnDemand", "Hours", Decimal(24), "0.192") for d in BEFORE),
            *(_row(org, d, "i-4b", "m5.large.OnDemand", "Hours", Decimal(24), "0.096") for d in AFTER),
        ]
        session.add_all(rows)
        session.commit()
        return {"vol-1": by_tool.id, "vol-3": by_hand.id, "i-2": resize.id, "i-4": replaced.id}


def test_the_ledger_nets_kept_snapshots_price_changes_and_month_length(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org, other = make_org(engine, gateway_settings), make_org(engine, gateway_settings)
    ids = _seed(engine, org.id)
    response = client.get("/v1/savings", headers=org.headers("viewer"))
    assert response.status_code == 200, response.text
    items: dict[str, dict[str, Any]] = {
        i["resource_ids"][0]: i["measurement"] for i in response.json()["items"]
    }
    assert {i: str(ids[i]) for i in ids} == {
        i["resource_ids"][0]: i["recommendation_id"] for i in response.json()["items"]
    }
    for disk, snapshot in (("vol-1", "snap-1"), ("vol-3", "snap-3")):
        m = items[disk]
        assert m["status"] == "measured"
        # 8.00 a month saved (whole, not 31/30.4375 of it), 2.50 of it kept as a snapshot
        assert (Decimal(m["realised_monthly"]), Decimal(m["replacement_monthly"])) == (
            Decimal("5.50"),
            Decimal("2.50"),
        )
        assert m["replacement_ids"] == [snapshot]  # snap-old was taken days before: not because of the change
        assert Decimal(m["price_effect_monthly"]) == 0
    vm = items["i-2"]
    assert Decimal(vm["realised_monthly"]) == Decimal("70.13")  # not 78.48: the cut is not a saving
    assert Decimal(vm["price_effect_monthly"]) == Decimal("-8.35") and vm["replacement_ids"] == []
    successor = items["i-4"]  # the successor's cost counts: 0.192 → 0.096 an hour saved half
    assert (successor["replacement_ids"], Decimal(successor["realised_monthly"])) == (
        ["i-4b"],
        Decimal("70.13"),
    )
    assert Decimal(successor["replacement_monthly"]) == Decimal("70.13")
    (basis,) = vm["prices"]
    assert basis["price_key"] == "m5.large.OnDemand|Hours" and basis["basis"] == "first_after_day"
    assert Decimal(basis["reference_unit_price"]) == Decimal("0.096")
    assert client.get("/v1/savings", headers=other.headers("viewer")).json()["items"] == []
    rules = client.get("/v1/savings/by-rule", headers=org.headers("viewer")).json()["rules"]
    netting = {r["rule_id"]: (r["price_effect_monthly"], r["replacement_monthly"]) for r in rules}
    assert {k: (Decimal(a), Decimal(b)) for k, (a, b) in netting.items()} == {
        "resize": (Decimal("-8.35"), Decimal("70.13")),
        "snapshot_and_delete_disk": (Decimal(0), Decimal("5.00")),
    }
