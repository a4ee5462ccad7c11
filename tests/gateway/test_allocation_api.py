"""``/v1/allocation`` and ``/v1/costs/by-allocation`` through the real app, database and Temporal server."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cloudoptima.services.allocation.engine import activate_version, allocate_range, load_rule_set
from cloudoptima.settings import Settings
from tests.gateway.conftest import make_org
from tests.services.allocation_support import Row, load


def test_dimensions_rules_versions_and_showback(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings, name="alloc")
    with engine.begin() as connection:
        load(
            connection,
            org.id,
            [
                Row(date(2031, 6, 1), Decimal("4.00"), tags={"Team": "Web"}),
                Row(date(2031, 6, 2), Decimal("1.50")),
                Row(date(2031, 6, 1), Decimal("1.00"), service="Support"),
            ],
        )
    refused = client.post("/v1/allocation/dimensions", headers=org.headers("engineer"), json={"name": "team"})
    assert refused.status_code == 403
    bad_name = client.post(
        "/v1/allocation/dimensions", headers=org.headers("finops_manager"), json={"name": "Team!"}
    )
    assert bad_name.status_code == 422 and bad_name.json()["detail"][0]["loc"] == ["body", "name"]
    created = client.post(
        "/v1/allocation/dimensions",
        headers=org.headers("finops_manager"),
        json={"name": "team", "description": "x"},
    )
    assert created.status_code == 201, created.text
    dim = created.json()["id"]
    assert created.json()["latest_version"] == 0 and created.json()["active_version"] is None
    listed = client.get("/v1/allocation/dimensions", headers=org.headers("viewer")).json()["items"]
    assert [d["name"] for d in listed] == ["team"]

    invalid = client.put(
        f"/v1/allocation/dimensions/{dim}/rules",
        headers=org.headers("admin"),
        json={"rules": [{"value": "web", "match": {"services": ["EC2"]}}, {"match": {}}]},
    )
    assert invalid.status_code == 422 and invalid.json()["detail"][0]["loc"] == ["body", "rules[1].value"]
    rules = {
        "rules": [{"value_from_tag": "team"}],
        "shared": [{"name": "support", "match": {"services": ["Support"]}}],
    }
    saved = client.put(f"/v1/allocation/dimensions/{dim}/rules", headers=org.headers("admin"), json=rules)
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["version"] == 1 and body["reallocation"]["status"] == "started"
    assert body["reallocation"]["workflow_id"] == f"reallocate-{org.id}-{dim}-v1"
    stored = client.get(f"/v1/allocation/dimensions/{dim}/rules", headers=org.headers("viewer")).json()
    assert stored["version"] == 1
    assert [(r["value"], r["value_from_tag"]) for r in stored["rules"]["rules"]] == [(None, "team")]
    assert stored["rules"]["shared"][0]["method"] == "proportional"

    params = {
        "dimension": "team",
        "start_date": "2031-06-01",
        "end_date": "2031-07-01",
        "granularity": "monthly",
        "reconcile": "true",
    }
    before = client.get("/v1/costs/by-allocation", headers=org.headers("viewer"), params=params).json()
    assert before["version"] is None and before["currencies"][0]["pending"] == "6.50"

    # what the ReallocateCosts worker does (its activities are tested in tests/workflows)
    with engine.begin() as connection:
        rule_set = load_rule_set(connection, org.id, uuid.UUID(dim), 1)
        allocate_range(connection, org.id, uuid.UUID(dim), 1, rule_set, date(2031, 6, 1), date(2031, 7, 1))
        activate_version(connection, org.id, uuid.UUID(dim), 1, datetime(2031, 7, 1, tzinfo=UTC))
    after = client.get("/v1/costs/by-allocation", headers=org.headers("viewer"), params=params)
    assert after.status_code == 200, after.text
    [usd] = after.json()["currencies"]
    assert usd["total_cost"] == "6.50" and usd["pending"] == "0.00"
    assert [(v["value"], v["cost"], v["shared_cost"]) for v in usd["values"]] == [
        ("web", "5.00", "1.00"),
        ("unallocated", "1.50", "0"),
    ]
    assert sum(Decimal(v["cost"]) for v in usd["values"]) == Decimal(usd["total_cost"])
    assert usd["values"][0]["series"] == [{"period_start": "2031-06-01", "cost": "5.00"}]

    unknown = client.get(
        "/v1/costs/by-allocation", headers=org.headers("viewer"), params={**params, "dimension": "product"}
    )
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["query", "dimension"]
    again = client.post(f"/v1/allocation/dimensions/{dim}/reallocate", headers=org.headers("admin"))
    assert again.status_code == 200 and again.json()["status"] == "started"
    deleted = client.delete(f"/v1/allocation/dimensions/{dim}", headers=org.headers("admin"))
    assert deleted.status_code == 204
    assert client.get(f"/v1/allocation/dimensions/{dim}", headers=org.headers("admin")).status_code == 404
