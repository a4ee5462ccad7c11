"""Month to date means one thing in the API (#20 M): the complete UTC days of the month through yesterday
against the same days of last month, stated in ``trend_basis``; a budget's spend, the overview's month to
date and by-service agree at a pinned clock (1st of a month, 31 March vs a leap February)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cloudoptima.settings import Settings
from cloudoptima_gateway.routes import budgets as budget_routes
from cloudoptima_gateway.routes import costs as cost_routes
from tests.gateway.conftest import add_daily_costs, make_org


@pytest.mark.parametrize(
    ("today", "basis", "total", "previous"),
    [
        # 1-30 March vs all 29 days of a leap February; today's partial 4.00 on 31 March does not count
        ("2028-03-31", ("2028-03-01", "2028-03-31", "2028-02-01", "2028-03-01", False), 300.0, 290.0),
        # the 1st: no complete day of March yet, so the whole of February against 1-29 January
        ("2028-03-01", ("2028-02-01", "2028-03-01", "2028-01-01", "2028-01-30", True), 290.0, 290.0),
        # 1-6 December vs 1-6 November
        ("2027-12-07", ("2027-12-01", "2027-12-07", "2027-11-01", "2027-11-07", False), 60.0, 60.0),
    ],
)
def test_budget_spend_overview_and_by_service_agree_on_month_to_date(
    client: TestClient,
    engine: Engine,
    gateway_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    today: str,
    basis: tuple[str, str, str, str, bool],
    total: float,
    previous: float,
) -> None:
    pinned = date.fromisoformat(today)
    monkeypatch.setattr(cost_routes, "_today", lambda: pinned)
    monkeypatch.setattr(budget_routes, "_today", lambda: pinned)
    org = make_org(engine, gateway_settings)
    first = pinned.replace(day=1) - timedelta(days=70)
    days = [first + timedelta(days=n) for n in range((pinned - first).days)]
    add_daily_costs(engine, org.id, [(d, "EC2", Decimal("10.00")) for d in days])
    add_daily_costs(engine, org.id, [(pinned, "EC2", Decimal("4.00"))])  # today's first, partial rows
    budget = {
        "name": "Monthly EC2",
        "amount": 1000,
        "period": "monthly",
        "start_date": str(first),
        "end_date": str(pinned + timedelta(days=400)),
        "scope": {"type": "service", "values": ["EC2"]},
    }
    created = client.post("/v1/budgets", json=budget, headers=org.headers("finops_manager"))
    assert created.status_code == 201, created.text

    answer = client.get(
        "/v1/costs/overview", params={"period": "month_to_date"}, headers=org.headers("viewer")
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    start, end, previous_start, previous_end, complete = basis
    assert body["trend_basis"] == {
        "current_start": start,
        "current_end": end,
        "previous_start": previous_start,
        "previous_end": previous_end,
        "rule": "complete_days_of_month_to_date_vs_same_days_of_previous_month",
        "complete_month": complete,
    }
    assert (body["start_date"], body["end_date"]) == (start, end)
    comparison = body["period_comparison"]
    assert (comparison["previous_start"], comparison["previous_end"]) == (previous_start, previous_end)
    assert (body["total_cost"], comparison["previous_period"]) == (total, previous)

    by_service = client.get("/v1/costs/by-service", headers=org.headers("viewer")).json()
    assert by_service["trend_basis"] == body["trend_basis"]
    [ec2] = by_service["services"]
    assert (ec2["current_month"], ec2["last_month_same_days"]) == (total, previous)

    [listed] = client.get("/v1/budgets", headers=org.headers("viewer")).json()["budgets"]
    if complete:
        # On the 1st the budget's period is the new month (nothing complete yet): it has spent nothing, and
        # the overview's month to date is last month, which the budget's previous period spent in full.
        assert (listed["period_start"], listed["current_spend"]) == (today, 0)
    else:
        assert listed["period_start"] == start
        assert listed["current_spend"] == body["total_cost"]


def test_month_to_date_sets_the_dates_itself(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings)
    refused = client.get(
        "/v1/costs/overview",
        params={"period": "month_to_date", "start_date": "2028-03-01"},
        headers=org.headers("viewer"),
    )
    assert refused.status_code == 422, refused.text
    assert "period" in refused.text and "start_date" in refused.text
    explicit = client.get(
        "/v1/costs/overview",
        params={"start_date": "2028-03-01", "end_date": "2028-03-08"},
        headers=org.headers("viewer"),
    ).json()
    assert explicit["trend_basis"] is None
    assert explicit["period_comparison"]["previous_start"] == "2028-02-23"  # the same length just before
