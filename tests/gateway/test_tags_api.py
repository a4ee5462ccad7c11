"""Tag governance through the API: the tag policy (validation naming the field, RBAC), coverage equal to a hand
computation on a seeded estate to the cent (aliases, case variants, allowed values, end-exclusive period,
other organisations ignored), the untagged resources paged, and one currency per answer."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cloudoptima.settings import Settings
from cloudoptima.storage.models import CostRow, ResourceDocument
from cloudoptima.storage.partitions import ensure_cost_partitions, months_between
from tests.gateway.conftest import Org, make_org

A, B = "111111111111", "222222222222"
POLICY = {
    "required": [
        {"key": "team", "aliases": ["owner-team"], "default_value": "unassigned"},
        {"key": "env", "aliases": ["environment"], "allowed_values": ["prod", "staging", "dev"]},
    ]
}
PERIOD = {"start": "2026-03-01", "end": "2026-04-01"}


def _row(
    org: uuid.UUID,
    day: date,
    rid: str | None,
    service: str,
    account: str,
    cost: str,
    tags: dict[str, str],
    currency: str = "USD",
) -> CostRow:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return CostRow(
        id=uuid.uuid4(), organization_id=org, provider="aws", provider_name="AWS",
        charge_period_start=start, charge_period_end=start + timedelta(days=1),
        billing_period_start=datetime(day.year, day.month, 1, tzinfo=UTC),
        billing_period_end=datetime(day.year + (day.month == 12), day.month % 12 + 1, 1, tzinfo=UTC),
        billed_cost=Decimal(cost), effective_cost=Decimal(cost), billing_account_id=account,
        sub_account_id=account, billing_currency=currency, charge_category="Usage", service_name=service,
        region_id="us-east-1", resource_id=rid, resource_name=rid, tags=tags,
    )  # fmt: skip


def _doc(org: uuid.UUID, rid: str, tags: dict[str, str], status: str = "running") -> ResourceDocument:
    return ResourceDocument(
        organization_id=org, resource_id=rid, resource_name=f"name-{rid}", provider="aws",
        resource_type="compute_instance", region="us-east-1", status=status, tags=tags,
    )  # fmt: skip


def _seed(engine: Engine, org: uuid.UUID, other: uuid.UUID) -> None:
    with Session(engine) as session:
        ensure_cost_partitions(session.connection(), months_between(date(2026, 2, 1), date(2026, 5, 1)))
        mar1, mar2 = date(2026, 3, 1), date(2026, 3, 31)
        session.add_all(
            [
                _row(org, mar1, "r-a", "EC2", A, "10.01", {"Team": "web", "env": "prod"}),
                _row(org, mar2, "r-a", "EC2", A, "5.50", {"Team": "web", "env": "prod"}),
                _row(org, mar1, "r-b", "S3", A, "3.33", {"owner-team": "data"}),
                _row(org, mar1, "r-c", "EC2", B, "7.77", {"environment": "Staging"}),
                _row(org, mar2, "r-d", "EC2", B, "2.22", {"team": "ops", "env": "qa"}),
                _row(org, mar2, None, "Support", B, "1.17", {}),
                _row(org, date(2026, 4, 1), "r-a", "EC2", A, "100.00", {}),  # after the period
                _row(org, date(2026, 2, 10), "r-e", "EC2", A, "4.00", {}, currency="EUR"),
                _row(other, mar1, "r-o", "EC2", A, "999.99", {}),  # another organisation
                _doc(org, "r-a", {"team": "web", "env": "prod"}),
                _doc(org, "r-b", {"owner-team": "data", "env": "dev"}),
                _doc(org, "r-x", {}),
                _doc(org, "r-z", {}, status="deleted"),
                _doc(other, "r-o", {}),
            ]
        )
        session.commit()


@pytest.fixture(scope="module")
def orgs(engine: Engine, gateway_settings: Settings) -> tuple[Org, Org]:
    mine, other = (
        make_org(engine, gateway_settings, name="tags"),
        make_org(engine, gateway_settings, name="tags-o"),
    )
    _seed(engine, mine.id, other.id)
    return mine, other


def test_a_bad_tag_policy_is_refused_naming_the_field(client: TestClient, orgs: tuple[Org, Org]) -> None:
    mine, _ = orgs
    cases = [
        ({"required": [{"key": "team"}, {"key": "Team"}]}, "required[1].key"),
        ({"required": [{"key": "aws:team"}]}, "required[0].key"),
        ({"required": [{"key": "team", "aliases": ["ok", "bad\u0007"]}]}, "required[0].aliases[1]"),
        (
            {"required": [{"key": "env", "allowed_values": ["prod"], "default_value": "dev"}]},
            "required[0].default_value",
        ),
        ({"required": [{"key": "team"}, {"key": "owner", "aliases": ["TEAM"]}]}, "required[1].aliases[0]"),
        ({"required": [{"key": "---"}]}, "required[0].key"),
    ]
    for body, field in cases:
        response = client.put("/v1/organization/tag-policy", json=body, headers=mine.headers("admin"))
        assert response.status_code == 422, (body, response.text)
        detail = response.json()["detail"][0]
        assert detail["loc"] == ["body", field], (body, detail)
    unknown = client.put(
        "/v1/organization/tag-policy", json={"required": [{"key": "a", "colour": 1}]}, headers=mine.headers()
    )
    assert unknown.status_code == 422 and "colour" in str(unknown.json()["detail"][0]["loc"])
    refused = client.put("/v1/organization/tag-policy", json=POLICY, headers=mine.headers("engineer"))
    assert refused.status_code == 403 and "write:policies" in refused.text
    assert client.get("/v1/organization/tag-policy", headers=mine.headers("viewer")).json() == {
        "required": []
    }


def test_coverage_equals_the_hand_computation(client: TestClient, orgs: tuple[Org, Org]) -> None:
    mine, _ = orgs
    stored = client.put("/v1/organization/tag-policy", json=POLICY, headers=mine.headers("finops_manager"))
    assert stored.status_code == 200, stored.text
    assert client.get("/v1/organization/tag-policy", headers=mine.headers("viewer")).json() == stored.json()
    assert stored.json()["required"][1] == {
        "key": "env",
        "aliases": ["environment"],
        "allowed_values": ["prod", "staging", "dev"],
        "default_value": None,
    }

    response = client.get("/v1/tags/coverage", params=PERIOD, headers=mine.headers("viewer"))
    assert response.status_code == 200, response.text
    body = response.json()
    # rows: r-a 10.01 + 5.50 (Team/env: both), r-b 3.33 (owner-team alias: team only), r-c 7.77
    # (environment=Staging: env only), r-d 2.22 (env=qa is not allowed: team only), support 1.17 (none).
    assert (body["currency"], body["total_spend"], body["untagged_spend"]) == ("USD", 30.00, 14.49)
    # resources: inventory r-a, r-b (env=dev now), r-x (no tags; r-z deleted) + billed-only r-c, r-d
    assert body["resources"] == 5
    assert body["keys"] == [
        {
            "key": "team",
            "tagged_spend": 21.06,
            "untagged_spend": 8.94,
            "spend_percent": "70.20",
            "tagged_resources": 3,
            "resources": 5,
            "resource_percent": "60.00",
        },
        {
            "key": "env",
            "tagged_spend": 23.28,
            "untagged_spend": 6.72,
            "spend_percent": "77.60",
            "tagged_resources": 3,
            "resources": 5,
            "resource_percent": "60.00",
        },
    ]
    assert body["by_account"] == [{"name": B, "untagged_spend": 11.16}, {"name": A, "untagged_spend": 3.33}]
    assert body["by_service"] == [
        {"name": "EC2", "untagged_spend": 9.99},
        {"name": "S3", "untagged_spend": 3.33},
        {"name": "Support", "untagged_spend": 1.17},
    ]


def test_untagged_resources_are_paged_costliest_first(client: TestClient, orgs: tuple[Org, Org]) -> None:
    mine, _ = orgs
    client.put("/v1/organization/tag-policy", json=POLICY, headers=mine.headers("admin"))
    params = {**PERIOD, "key": "Environment", "limit": 1}
    first = client.get("/v1/tags/untagged-resources", params=params, headers=mine.headers("viewer")).json()
    assert (first["key"], first["total"], first["offset"]) == ("env", 2, 0)
    [d] = first["items"]
    assert (d["resource_id"], d["cost"], d["missing"], d["in_inventory"]) == ("r-d", 2.22, ["env"], False)
    second = client.get(
        "/v1/tags/untagged-resources", params={**params, "offset": 1}, headers=mine.headers("viewer")
    ).json()
    [x] = second["items"]
    assert (x["resource_id"], x["resource_name"], x["cost"], x["missing"], x["in_inventory"]) == (
        "r-x",
        "name-r-x",
        0.0,
        ["team", "env"],
        True,
    )
    bad = client.get(
        "/v1/tags/untagged-resources", params={**PERIOD, "key": "aws:x"}, headers=mine.headers("viewer")
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "key"]
    other = client.get(  # a key outside the policy: every resource lacks it here
        "/v1/tags/untagged-resources", params={**PERIOD, "key": "team-lead"}, headers=mine.headers("viewer")
    ).json()
    assert [(r["resource_id"], r["cost"]) for r in other["items"]] == [
        ("r-a", 15.51),
        ("r-c", 7.77),
        ("r-b", 3.33),
        ("r-d", 2.22),
        ("r-x", 0.0),
    ]


def test_one_currency_per_answer_and_a_valid_period(client: TestClient, orgs: tuple[Org, Org]) -> None:
    mine, _ = orgs
    client.put("/v1/organization/tag-policy", json=POLICY, headers=mine.headers("admin"))
    both = {"start": "2026-02-01", "end": "2026-04-01"}
    mixed = client.get("/v1/tags/coverage", params=both, headers=mine.headers("viewer"))
    assert mixed.status_code == 422 and mixed.json()["detail"][0]["loc"] == ["query", "currency"]
    assert "EUR, USD" in mixed.text
    eur = client.get("/v1/tags/coverage", params={**both, "currency": "eur"}, headers=mine.headers()).json()
    assert (eur["currency"], eur["total_spend"], eur["keys"][0]["spend_percent"]) == ("EUR", 4.0, "0.00")
    backwards = client.get("/v1/tags/coverage", params={"start": "2026-03-02", "end": "2026-03-01"})
    assert backwards.status_code == 401
    backwards = client.get(
        "/v1/tags/coverage", params={"start": "2026-03-02", "end": "2026-03-01"}, headers=mine.headers()
    )
    assert backwards.status_code == 422 and backwards.json()["detail"][0]["loc"] == ["query", "end"]


def test_untagged_spend_by_account_and_service(client: TestClient, orgs: tuple[Org, Org]) -> None:
    mine, _ = orgs
    client.put("/v1/organization/tag-policy", json=POLICY, headers=mine.headers("admin"))
    env = client.get(
        "/v1/tags/untagged-spend",
        params={**PERIOD, "key": "Environment", "group_by": "account"},
        headers=mine.headers("viewer"),
    )
    assert env.status_code == 200, env.text
    # lacking env: r-b 3.33 (A), r-d 2.22 (qa is not allowed) and support 1.17 (B)
    assert env.json() == {
        "key": "env",
        "currency": "USD",
        "group_by": "account",
        "start": "2026-03-01",
        "end": "2026-04-01",
        "untagged_spend": 6.72,
        "items": [{"name": B, "untagged_spend": 3.39}, {"name": A, "untagged_spend": 3.33}],
    }
    team = client.get(
        "/v1/tags/untagged-spend",
        params={**PERIOD, "key": "team", "group_by": "service"},
        headers=mine.headers("viewer"),
    ).json()
    assert (team["untagged_spend"], team["items"]) == (
        8.94,
        [{"name": "EC2", "untagged_spend": 7.77}, {"name": "Support", "untagged_spend": 1.17}],
    )
    for params, field in [({"key": "owner"}, "key"), ({"key": "team", "group_by": "region"}, "group_by")]:
        bad = client.get("/v1/tags/untagged-spend", params={**PERIOD, **params}, headers=mine.headers())
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", field], bad.text
