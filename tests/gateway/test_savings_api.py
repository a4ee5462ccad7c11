"""``/v1/savings``: realised savings measured from seeded cost rows whose true saving is known (10.00/day before,
4.00/day after → 6.00/day × 30.4375), a window the bill does not cover yet (measuring), a rule whose estimates
are systematically off (flagged), buckets, paging, other organisations ignored, and bad input named."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cloudoptima.settings import Settings
from cloudoptima.storage.models import CostRow, Recommendation
from cloudoptima.storage.partitions import ensure_cost_partitions, months_between
from tests.gateway.conftest import make_org

A, B = "111111111111", "222222222222"


def _row(org: uuid.UUID, day: date, rid: str, cost: str, account: str = A) -> CostRow:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return CostRow(
        id=uuid.uuid4(), organization_id=org, provider="aws", provider_name="AWS",
        charge_period_start=start, charge_period_end=start + timedelta(days=1),
        billing_period_start=datetime(day.year, day.month, 1, tzinfo=UTC),
        billing_period_end=datetime(day.year, day.month + 1, 1, tzinfo=UTC),
        billed_cost=Decimal(cost), effective_cost=Decimal(cost), billing_account_id=account,
        sub_account_id=account, billing_currency="USD", charge_category="Usage", service_name="EC2",
        region_id="us-east-1", resource_id=rid, resource_name=rid, tags={},
    )  # fmt: skip


def _costs(org: uuid.UUID, first: date, rid: str, amounts: list[str], account: str = A) -> list[CostRow]:
    return [_row(org, first + timedelta(days=i), rid, a, account) for i, a in enumerate(amounts) if a]


def _rec(
    org: uuid.UUID,
    rid: str,
    rule: str,
    estimate: str,
    status: str = "completed",
    applied: datetime | None = None,
) -> Recommendation:
    return Recommendation(
        organization_id=org, fingerprint=uuid.uuid4().hex, provider="aws", title=f"Act on {rid}", rule_id=rule,
        category="compute", risk_level="low", resource_ids=[rid], affected_resources=[], actions=[],
        status=status, estimated_savings_monthly=Decimal(estimate), applied_at=applied,
    )  # fmt: skip


def _accepted(org: uuid.UUID, rid: str, estimate: str, owner: uuid.UUID, due: date) -> Recommendation:
    row = _rec(org, rid, "rightsize", estimate, status="accepted")
    row.owner_user_id, row.due_date = owner, due
    return row


def _seed(engine: Engine, org: uuid.UUID, owners: tuple[uuid.UUID, uuid.UUID] | None = None) -> None:
    mar = date(2026, 3, 1)
    with Session(engine) as session:
        ensure_cost_partitions(session.connection(), months_between(date(2026, 2, 1), date(2026, 5, 1)))
        rows = _costs(org, mar, "I-GOOD", ["10.00"] * 7 + ["7.00"] + ["4.00"] * 7)  # change on 03-08
        # three changes of rule idle-stop: 5.00/day → 3.00/day (2.00 × 30.4375 = 60.88 vs 100.00 estimated)
        for rid in ("i-idle-1", "i-idle-2", "i-idle-3"):
            rows += _costs(org, mar, rid, ["5.00"] * 7 + ["4.00"] + ["3.00"] * 7)
        # measuring: account B's bill ends on 03-31, the after window of a change on 03-28 ends on 04-04
        rows += _costs(org, date(2026, 3, 21), "i-late", ["5.00"] * 11, account=B)
        session.add_all(rows)
        change = datetime(2026, 3, 8, 14, 30, tzinfo=UTC)
        session.add_all(
            [
                _rec(org, "i-good", "rightsize", "200.00", applied=change),
                *(_rec(org, f"i-idle-{i}", "idle-stop", "100.00", applied=change) for i in (1, 2, 3)),
                _rec(org, "i-late", "rightsize", "40.00", applied=datetime(2026, 3, 28, 9, tzinfo=UTC)),
                _rec(org, "i-open", "rightsize", "50.00", status="active"),
                _rec(org, "i-open-2", "idle-stop", "25.50", status="scheduled"),
                _rec(org, "i-busy", "rightsize", "12.00", status="applied"),
                _rec(org, "i-gone", "idle-stop", "9.00", status="dismissed"),
            ]
        )
        if owners is not None:  # accepted: one long overdue (2020), two due far ahead (not wall-clock bound)
            session.add_all(
                [
                    _accepted(org, "i-own-1", "30.00", owners[0], date(2020, 1, 31)),
                    _accepted(org, "i-own-2", "20.00", owners[0], date(2999, 12, 31)),
                    _accepted(org, "i-own-3", "5.25", owners[1], date(2999, 12, 31)),
                ]
            )
        session.commit()


def test_ledger_measures_known_savings_and_flags_a_rule(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org, other = make_org(engine, gateway_settings), make_org(engine, gateway_settings)
    _seed(engine, org.id, owners=(org.users["finops_manager"], org.users["admin"]))
    viewer = org.headers("viewer")

    answer = client.get("/v1/savings", headers=viewer)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    buckets = {k: (v["count"], Decimal(v["estimated_monthly"])) for k, v in body["buckets"].items()}
    assert buckets == {
        "open": (2, Decimal("75.50")),
        "accepted": (3, Decimal("55.25")),
        "applying": (1, Decimal("12.00")),
        "applied": (1, Decimal("40.00")),
        "realised": (4, Decimal("500.00")),
    }
    assert {k: Decimal(v) for k, v in body["buckets"]["realised"]["realised_monthly"].items()} == {
        "USD": Decimal("182.62") + 3 * Decimal("60.88")
    }
    accepted = body["buckets"]["accepted"]
    assert accepted["overdue"] == 1  # owners by e-mail (make_org: "<role>-<tag>@example.com")
    assert sorted((email.split("-")[0], n) for email, n in accepted["owners"].items()) == [
        ("admin", 1),
        ("finops_manager", 2),
    ]
    assert body["buckets"]["open"]["owners"] == {} and body["buckets"]["open"]["overdue"] == 0
    assert body["total"] == 5
    [march] = body["months"]  # all five changed in March; the measured four are compared
    assert (march["month"], march["completed"], march["measured"]) == ("2026-03", 5, 4)
    assert Decimal(march["estimated_monthly"]) == Decimal("500.00")
    assert march["realised_monthly"] == body["buckets"]["realised"]["realised_monthly"]
    by_resource = {item["resource_ids"][0]: item["measurement"] for item in body["items"]}
    assert by_resource["i-late"]["status"] == "measuring"
    assert "the bill reaches 2026-03-31" in by_resource["i-late"]["reason"]
    good = by_resource["i-good"]  # ids matched case-insensitively (the bill says I-GOOD)
    assert (good["status"], good["confidence"], good["currency"]) == ("measured", "high", "USD")
    assert (good["change_day"], good["before_start"], good["after_start"]) == (
        "2026-03-08",
        "2026-03-01",
        "2026-03-09",
    )
    assert Decimal(good["before_daily"]) == Decimal("10.00") and Decimal(good["after_daily"]) == Decimal(
        "4.00"
    )
    assert Decimal(good["realised_daily"]) == Decimal("6.00")
    assert Decimal(good["realised_monthly"]) == Decimal("182.62")  # 6.00 × 30.4375 = 182.625, half-even
    assert Decimal(good["error_percent"]) == Decimal("-8.69")  # (182.62 − 200) / 200
    assert body["items"][0]["resource_ids"] == ["i-late"]  # latest applied first

    page = client.get("/v1/savings", params={"limit": 2, "offset": 4}, headers=viewer).json()
    assert (page["total"], len(page["items"])) == (5, 1)

    rules = client.get("/v1/savings/by-rule", headers=viewer).json()["rules"]
    summary = {
        r["rule_id"]: (r["measured"], r["measuring"], r["mean_error_percent"], r["flagged"]) for r in rules
    }
    assert summary == {
        "idle-stop": (3, 0, "-39.12", True),  # (60.88 − 100) / 100 on 3 measured items
        "rightsize": (1, 1, "-8.69", False),
    }

    empty = client.get("/v1/savings", headers=other.headers("viewer")).json()
    assert empty["total"] == 0 and empty["buckets"]["realised"]["count"] == 0
    assert client.get("/v1/savings/by-rule", headers=other.headers("viewer")).json()["rules"] == []

    for path, params, field in (
        ("/v1/savings", {"window_days": 0}, "window_days"),
        ("/v1/savings", {"limit": 501}, "limit"),
        ("/v1/savings", {"offset": -1}, "offset"),
        ("/v1/savings/by-rule", {"window_days": 91}, "window_days"),
    ):
        refused = client.get(path, params=params, headers=viewer)
        assert refused.status_code == 422, (path, params, refused.text)
        assert refused.json()["detail"][0]["loc"][-1] == field
    assert client.get("/v1/savings").status_code == 401
