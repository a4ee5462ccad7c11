"""Budget names are unique per organisation (#20): a second budget with a taken name (any case, spaces
around) is a 409 naming ``name``; renaming onto another budget's name too; keeping one's own name, or the
same name in another organisation, is fine. Real Postgres, real HTTP stack."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cloudoptima.settings import Settings
from tests.gateway.conftest import add_daily_costs, make_org, recent_days


def test_budget_names_are_unique_per_organisation(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings)
    other = make_org(engine, gateway_settings)
    days = recent_days(3)
    for o in (org, other):
        add_daily_costs(engine, o.id, [(d, "EC2", Decimal(10)) for d in days])
    start = days[0].replace(day=1)
    base: dict[str, Any] = {
        "amount": 100,
        "start_date": str(start),
        "end_date": str(start + timedelta(days=365)),
        "scope": {"type": "service", "values": ["EC2"]},
    }

    def post(headers: dict[str, str], name: str) -> Any:
        return client.post("/v1/budgets", json={**base, "name": name}, headers=headers)

    first = post(org.headers("finops_manager"), "Platform")
    assert first.status_code == 201, first.text
    second = post(org.headers("finops_manager"), "Platform")
    assert second.status_code == 409
    [problem] = second.json()["detail"]
    assert problem["loc"] == ["body", "name"] and "'Platform' already exists" in problem["msg"]
    assert post(org.headers("finops_manager"), "  platform ").status_code == 409
    assert post(other.headers("finops_manager"), "Platform").status_code == 201

    renamed = post(org.headers("finops_manager"), "Data")
    assert renamed.status_code == 201
    data_id = renamed.json()["budget_id"]
    onto = client.put(
        f"/v1/budgets/{data_id}", json={**base, "name": "PLATFORM"}, headers=org.headers("admin")
    )
    assert onto.status_code == 409 and onto.json()["detail"][0]["loc"] == ["body", "name"]
    own = client.put(f"/v1/budgets/{data_id}", json={**base, "name": "Data"}, headers=org.headers("admin"))
    assert own.status_code == 200, own.text
    names = [b["name"] for b in client.get("/v1/budgets", headers=org.headers("viewer")).json()["budgets"]]
    assert sorted(names) == ["Data", "Platform"]
