"""Budgets scoped to allocation values and the allocated cost basis, through the real app and database (#21 B).

The budget's spend must equal ``GET /v1/costs/by-allocation`` for its values and days to the cent, follow a
re-allocation (a new rule-set version), feed the budgets report, and stay in its own currency.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cloudoptima.services.allocation.dimensions import AllocationDimensions
from cloudoptima.services.allocation.engine import activate_version, allocate_range, load_rule_set
from cloudoptima.services.report_inputs_budgets import budgets_report_input
from cloudoptima.settings import Settings
from tests.gateway.conftest import Org, make_org
from tests.services.allocation_support import Row, load

JUNE, JULY = date(2026, 6, 1), date(2026, 7, 1)
AS_OF = date(2026, 6, 30)  # a finished budget period: the API counts its days before its last day
NOW = datetime(2026, 7, 1, tzinfo=UTC)


def _allocate(engine: Engine, org: uuid.UUID, rules: object, dimension: uuid.UUID | None = None) -> uuid.UUID:
    """Save ``rules`` as the next version of ``team`` (created when ``dimension`` is None) and do what the
    ReallocateCosts worker does for June."""
    with Session(engine) as session:
        service = AllocationDimensions(session, org)
        dim = dimension or service.create("team", None, NOW).id
        view, _ = service.save_rules(dim, rules, None, NOW)
        session.commit()
    with engine.begin() as connection:
        rule_set = load_rule_set(connection, org, dim, view.latest_version)
        allocate_range(connection, org, dim, view.latest_version, rule_set, JUNE, JULY)
        activate_version(connection, org, dim, view.latest_version, NOW)
    return dim


def _showback(client: TestClient, org: Org, **extra: str) -> dict[str, Any]:
    params = {
        "dimension": "team",
        "start_date": str(JUNE),
        "end_date": str(AS_OF),
        "currency": "USD",
        **extra,
    }
    response = client.get("/v1/costs/by-allocation", headers=org.headers("viewer"), params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _value(body: dict[str, Any], value: str) -> Decimal:
    [usd] = body["currencies"]
    return next((Decimal(v["cost"]) for v in usd["values"] if v["value"] == value), Decimal(0))


def _budget(client: TestClient, org: Org, name: str, scope: dict[str, Any], **extra: Any) -> Any:
    body = {
        "name": name,
        "amount": "10.00",
        "currency": "USD",
        "start_date": str(JUNE),
        "end_date": str(JULY),
        "scope": scope,
        "alerts": [{"threshold": 40, "type": "actual"}],
        **extra,
    }
    return client.post("/v1/budgets", headers=org.headers("finops_manager"), json=body)


def test_allocation_budget_spend_follows_showback_and_reallocation(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings, name="alloc-budget")
    with engine.begin() as connection:
        load(
            connection,
            org.id,
            [
                Row(date(2026, 6, 1), Decimal("4.00"), tags={"Team": "Web"}, effective=Decimal("3.00")),
                Row(date(2026, 6, 2), Decimal("1.50")),
                Row(date(2026, 6, 1), Decimal("1.00"), service="Support", effective=Decimal("0.80")),
                Row(date(2026, 6, 3), Decimal("2.25"), tags={"team": "data"}, effective=Decimal("2.00")),
                Row(date(2026, 6, 1), Decimal("9.99"), tags={"team": "web"}, currency="EUR"),
                Row(date(2026, 6, 30), Decimal("50.00"), tags={"team": "web"}),  # after the budget's as_of
            ],
        )
    rules_v1 = {
        "rules": [{"value_from_tag": "team"}],
        "shared": [{"name": "support", "match": {"services": ["Support"]}}],
    }
    dim = _allocate(engine, org.id, rules_v1)

    # the scope is checked: an unknown dimension is named with close matches, a missing one too
    unknown = _budget(client, org, "Typo", {"type": "allocation", "dimension": "teams", "values": ["web"]})
    assert unknown.status_code == 422, unknown.text
    [problem] = unknown.json()["detail"]
    assert problem["loc"] == ["body", "scope", "dimension"] and problem["ctx"]["suggestions"] == ["team"]
    missing = _budget(client, org, "No dimension", {"type": "allocation", "values": ["web"]})
    assert missing.status_code == 422 and "scope.dimension" in missing.text
    stray = _budget(client, org, "Stray", {"type": "team", "values": ["web"], "dimension": "team"})
    assert stray.status_code == 422 and "scope.dimension" in stray.text

    created = _budget(client, org, "Web team", {"type": "allocation", "dimension": "team", "values": ["web"]})
    assert created.status_code == 201, created.text
    web_id = created.json()["budget_id"]
    # a value with no cost yet is legal (a new team), as is unallocated
    both = _budget(
        client,
        org,
        "Unowned and new",
        {"type": "allocation", "dimension": "team", "values": ["unallocated", "mobile"]},
    )
    assert both.status_code == 201, both.text
    assert both.json()["notes"] == [
        "no cost has been allocated to 'mobile' by the 'team' dimension's active rules yet; the budget counts it "
        "from when it is"
    ]
    assert created.json()["notes"] == []

    def spend(budget_id: str) -> tuple[Decimal, dict[str, Any]]:
        got = client.get(f"/v1/budgets/{budget_id}", headers=org.headers("viewer"))
        assert got.status_code == 200, got.text
        return Decimal(str(got.json()["current_spend"])), got.json()

    showback = _showback(client, org)
    assert showback["cost_basis"] == "billed"
    web, body = spend(web_id)
    # 4.00 of its own + the 1.00 support row split to the only allocated value of June 1; USD only
    assert web == _value(showback, "web") == Decimal("5.00")
    assert body["scope"] == {
        "type": "allocation",
        "filters": {"values": ["web"], "tag_key": None, "dimension": "team"},
    }
    assert body["period_end"] == str(JULY) and body["status"] == "on_track"
    assert [a["triggered"] for a in body["alerts"]] == [True]  # 5.00 > 40 % of 10.00
    unowned, _ = spend(both.json()["budget_id"])
    assert unowned == _value(showback, "unallocated") == Decimal("1.50")

    # effective cost basis: the same rows, FOCUS EffectiveCost; the shared row split with the same weights
    effective = _showback(client, org, cost_basis="effective", reconcile="true")
    assert effective["cost_basis"] == "effective"
    assert [(v["value"], v["cost"]) for v in effective["currencies"][0]["values"]] == [
        ("web", "3.80"),
        ("data", "2.00"),
        ("unallocated", "0"),
    ]
    assert (
        effective["currencies"][0]["total_cost"] == "5.80" and effective["currencies"][0]["pending"] == "0.00"
    )
    bad_basis = client.get(
        "/v1/costs/by-allocation",
        headers=org.headers("viewer"),
        params={"dimension": "team", "start_date": str(JUNE), "end_date": str(JULY), "cost_basis": "list"},
    )
    assert bad_basis.status_code == 422 and bad_basis.json()["detail"][0]["loc"] == ["query", "cost_basis"]

    # the cost forecast of an allocation budget is refused naming budget_id (no cost_daily condition exists)
    forecast = client.get("/v1/costs/forecast", headers=org.headers("viewer"), params={"budget_id": web_id})
    assert forecast.status_code == 422 and forecast.json()["detail"][0]["loc"] == ["query", "budget_id"]

    # re-allocation: version 2 gives every EC2 row to web, support stays unallocated
    _allocate(engine, org.id, {"rules": [{"value": "web", "match": {"services": ["EC2"]}}]}, dim)
    showback = _showback(client, org)
    assert showback["version"] == 2
    web, _ = spend(web_id)
    assert web == _value(showback, "web") == Decimal("7.75")
    unowned, _ = spend(both.json()["budget_id"])
    assert unowned == _value(showback, "unallocated") == Decimal("1.00")

    # the budgets report reads the same numbers
    with engine.connect() as connection:
        report = budgets_report_input(
            connection, org.id, start=JUNE, end=JULY, generated_at=datetime(2026, 7, 2, tzinfo=UTC)
        )
    lines = {line.name: line for line in report.budgets}
    assert lines["Web team"].scope == "team: web"
    # the report's period is over: it counts the whole month (the 50.00 of June 30 included)
    assert lines["Web team"].spent == Decimal("57.75")
    assert lines["Unowned and new"].spent == Decimal("1.00")
