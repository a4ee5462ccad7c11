"""API polish the console needs (#20): by-service trend basis, account names beside ids, a meaningful
optimisation score, recommendation keyset pages, storage filters and budget scopes checked against what the
organisation knows. Real Postgres, real HTTP stack."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cloudoptima.services.cost_analytics.dashboard import trend_basis
from cloudoptima.settings import Settings
from cloudoptima.storage.models import CloudAccount, Recommendation, ResourceDocument
from tests.gateway.conftest import add_daily_costs, make_org, recent_days


def _account(engine: Engine, org: uuid.UUID, identifier: str, name: str, provider: str = "aws") -> uuid.UUID:
    with Session(engine) as session:
        row = CloudAccount(
            organization_id=org, provider=provider, account_identifier=identifier, account_name=name,
            credentials_encrypted="x", status="active",
        )  # fmt: skip
        session.add(row)
        session.commit()
        return row.id


def test_by_service_says_what_its_trend_compares(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings)
    add_daily_costs(engine, org.id, [(d, "EC2", Decimal(10)) for d in recent_days(40)])
    before = datetime.now(UTC).date()
    body = client.get("/v1/costs/by-service", headers=org.headers("viewer")).json()
    after = datetime.now(UTC).date()
    assert body["trend_basis"] in (
        trend_basis(before).model_dump(mode="json"),
        trend_basis(after).model_dump(mode="json"),
    )
    [ec2] = body["services"]
    assert ec2["trend"] == (
        None
        if ec2["last_month_same_days"] == 0
        else round(
            (ec2["current_month"] - ec2["last_month_same_days"]) / ec2["last_month_same_days"] * 100, 2
        )
    )


def test_cost_by_account_names_the_account_beside_its_id(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings)
    days = recent_days(5)
    add_daily_costs(engine, org.id, [(d, "EC2", Decimal(10)) for d in days])
    _account(engine, org.id, "123456789012", "Sandbox production")
    params = {
        "start_date": str(days[0]),
        "end_date": str(days[-1] + timedelta(days=1)),
        "group_by": "account",
    }
    body = client.get("/v1/costs/overview", params=params, headers=org.headers("viewer")).json()
    assert [(b["dimension"], b["name"], b["cost"]) for b in body["breakdown"]] == [
        ("123456789012", "Sandbox production", 50.0)
    ]
    by_service = client.get(
        "/v1/costs/overview", params={**params, "group_by": "service"}, headers=org.headers("viewer")
    ).json()
    assert by_service["breakdown"][0]["name"] is None


def _vm(
    org: uuid.UUID,
    rid: str,
    *,
    cpu_p99: float | None,
    memory_p99: float | None = None,
    status: str = "running",
    cost: str = "100",
    samples: int = 336,
) -> ResourceDocument:
    metrics: dict[str, Any] = {}
    if cpu_p99 is not None:
        metrics["cpu_percent"] = {
            "avg": cpu_p99 / 2,
            "max": cpu_p99,
            "p95": cpu_p99,
            "p99": cpu_p99,
            "samples": samples,
        }
    if memory_p99 is not None:
        metrics["memory_percent"] = {
            "avg": memory_p99,
            "max": memory_p99,
            "p95": memory_p99,
            "p99": memory_p99,
            "samples": samples,
        }
    return ResourceDocument(
        organization_id=org, resource_id=rid, provider="aws", resource_type="compute_instance", region="us-east-1",
        status=status, configuration={"instance_type": "m5.large"}, metrics=metrics, cost_monthly=Decimal(cost),
        tags={},
    )  # fmt: skip


def test_optimization_score_follows_utilisation_and_open_savings(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings)
    with Session(engine) as session:
        session.add_all(
            [
                _vm(org.id, "i-idle", cpu_p99=8.0),  # 8 / 80 -> 10
                _vm(org.id, "i-half", cpu_p99=20.0, memory_p99=40.0),  # memory 40 / 80 -> 50
                _vm(org.id, "i-busy", cpu_p99=95.0),  # above the ceiling -> 100
                _vm(org.id, "i-new", cpu_p99=5.0, samples=10),  # too little history: savings part only
                _vm(org.id, "i-stopped", cpu_p99=None, status="stopped"),
                _vm(org.id, "i-saving", cpu_p99=90.0),  # busy, but a live recommendation saves 30 of 100
            ]
        )
        session.add(
            Recommendation(
                organization_id=org.id, fingerprint=uuid.uuid4().hex, provider="aws", title="Resize i-saving",
                category="compute", risk_level="low", resource_ids=["i-saving"], affected_resources=[], actions=[], status="active",
                estimated_savings_monthly=Decimal(30),
            )
        )  # fmt: skip
        session.commit()
    body = client.get(
        "/v1/resources/compute", params={"page_size": 100}, headers=org.headers("viewer")
    ).json()
    scores = {r["id"]: (r["optimization_score"], r["score_basis"]) for r in body["resources"]}
    assert scores == {
        "i-idle": (10, "utilisation"),
        "i-half": (50, "utilisation"),
        "i-busy": (100, "utilisation"),
        "i-new": (100, "recommendations"),
        "i-stopped": (100, "recommendations"),
        "i-saving": (70, "utilisation"),
    }


def _disk(org: uuid.UUID, rid: str, *, size: int, disk_type: str, attached: str | None, age_days: int,
          region: str = "us-east-1", account: uuid.UUID | None = None) -> ResourceDocument:  # fmt: skip
    return ResourceDocument(
        organization_id=org, cloud_account_id=account, resource_id=rid, provider="aws", resource_type="disk",
        region=region, status="available" if attached is None else "in-use",
        configuration={"size_gb": size, "disk_type": disk_type, "attached_to": attached},
        metrics={}, cost_monthly=Decimal(size) / 10, tags={},
        created_at=datetime.now(UTC) - timedelta(days=age_days),
    )  # fmt: skip


def test_storage_list_filters_and_names_bad_ones(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings)
    account = _account(engine, org.id, "210987654321", "Data")
    with Session(engine) as session:
        session.add_all(
            [
                _disk(
                    org.id,
                    "vol-big-old",
                    size=500,
                    disk_type="gp3",
                    attached=None,
                    age_days=400,
                    account=account,
                ),
                _disk(org.id, "vol-small", size=20, disk_type="gp3", attached="i-1", age_days=3),
                _disk(
                    org.id,
                    "vol-io",
                    size=200,
                    disk_type="io2",
                    attached="i-2",
                    age_days=100,
                    region="eu-west-1",
                ),
            ]
        )
        session.commit()

    def ids(**params: object) -> list[str]:
        answer = client.get("/v1/resources/storage", params=params, headers=org.headers("viewer"))
        assert answer.status_code == 200, answer.text
        return [v["id"] for v in answer.json()["volumes"]]

    assert ids() == ["vol-big-old", "vol-io", "vol-small"]
    assert ids(state="unattached") == ["vol-big-old"]
    assert ids(state="attached", type="gp3") == ["vol-small"]
    assert ids(region="eu-west-1") == ["vol-io"]
    assert ids(min_size_gb=100, min_age_days=30) == ["vol-big-old", "vol-io"]
    assert ids(account="210987654321") == ["vol-big-old"]
    assert ids(provider="aws", status="in-use") == ["vol-io", "vol-small"]
    misspelt = client.get("/v1/resources/storage", params={"min_size": 5}, headers=org.headers("viewer"))
    assert misspelt.status_code == 422 and misspelt.json()["detail"][0]["loc"] == ["query", "min_size"]
    negative = client.get("/v1/resources/storage", params={"min_age_days": -1}, headers=org.headers("viewer"))
    assert negative.status_code == 422 and negative.json()["detail"][0]["loc"] == ["query", "min_age_days"]
    bad_state = client.get("/v1/resources/storage", params={"state": "lost"}, headers=org.headers("viewer"))
    assert bad_state.status_code == 422 and bad_state.json()["detail"][0]["loc"] == ["query", "state"]


def test_recommendations_page_by_keyset_cursor(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings)
    with Session(engine) as session:
        for n in range(7):
            session.add(
                Recommendation(
                    organization_id=org.id, fingerprint=f"fp-{n}", provider="aws", title=f"rec {n}",
                    category="compute", risk_level="low", resource_ids=[f"i-{n}"], affected_resources=[], actions=[], status="active",
                    estimated_savings_monthly=Decimal(10 * (n % 3)), priority=Decimal(n % 2),
                )
            )  # fmt: skip
        session.commit()

    def walk(sort_by: str) -> list[str]:
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 3, "sort_by": sort_by}
            if cursor:
                params["cursor"] = cursor
            page = client.get("/v1/recommendations", params=params, headers=org.headers("viewer")).json()
            assert page["total"] == len(page["recommendations"]) <= 3
            seen += [r["title"] for r in page["recommendations"]]
            cursor = page["next_cursor"]
            if cursor is None:
                return seen

    everything = client.get(
        "/v1/recommendations", params={"limit": 500, "sort_by": "savings"}, headers=org.headers("viewer")
    ).json()
    assert everything["next_cursor"] is None and everything["total_matching"] == 7
    order = walk("savings")
    assert order == [r["title"] for r in everything["recommendations"]]
    assert order[:3] == ["rec 2", "rec 5", "rec 1"]  # 20, 20, 10 (ties by fingerprint)
    assert sorted(walk("priority")) == sorted(f"rec {n}" for n in range(7))

    first = client.get(
        "/v1/recommendations", params={"limit": 3, "sort_by": "savings"}, headers=org.headers()
    ).json()
    with Session(engine) as session:  # a row sorting before the cursor never shifts the rest
        session.add(
            Recommendation(
                organization_id=org.id, fingerprint="fp-new", provider="aws", title="rec new", category="compute",
                risk_level="low", resource_ids=["i-new"], affected_resources=[], actions=[], status="active",
                estimated_savings_monthly=Decimal(99),
            )
        )  # fmt: skip
        session.commit()
    rest = client.get(
        "/v1/recommendations",
        params={"limit": 10, "sort_by": "savings", "cursor": first["next_cursor"]},
        headers=org.headers(),
    ).json()
    assert [r["title"] for r in rest["recommendations"]] == order[3:]  # rec new sorts first: nothing shifts
    wrong_order = client.get(
        "/v1/recommendations",
        params={"sort_by": "age", "cursor": first["next_cursor"]},
        headers=org.headers(),
    )
    assert wrong_order.status_code == 422 and wrong_order.json()["detail"][0]["loc"] == ["query", "cursor"]
    garbage = client.get("/v1/recommendations", params={"cursor": "not-a-cursor"}, headers=org.headers())
    assert garbage.status_code == 422 and garbage.json()["detail"][0]["loc"] == ["query", "cursor"]


def test_budget_scopes_must_name_what_the_organisation_knows(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings)
    days = recent_days(5)
    add_daily_costs(engine, org.id, [(d, "EC2", Decimal(10)) for d in days])
    _account(engine, org.id, "123456789012", "Production")
    start = days[0].replace(day=1)
    base = {
        "name": "scoped",
        "amount": 100,
        "start_date": str(start),
        "end_date": str(start + timedelta(days=365)),
    }

    def create(scope: dict[str, Any]) -> Any:
        return client.post(
            "/v1/budgets",
            json={**base, "name": f"scoped {uuid.uuid4().hex[:8]}", "scope": scope},
            headers=org.headers("finops_manager"),
        )  # names are unique per organisation

    typo = create({"type": "service", "values": ["EC2", "EC3"]})
    assert typo.status_code == 422
    [problem] = typo.json()["detail"]
    assert problem["loc"] == ["body", "scope", "values", 1] and problem["input"] == "EC3"
    assert problem["ctx"]["suggestions"][0] == "EC2" and "did you mean 'EC2'" in problem["msg"]
    cased = create({"type": "service", "values": ["ec2"]}).json()["detail"][0]
    assert cased["ctx"]["suggestions"][0] == "EC2"
    # No spend yet, but a known service of a provider the organisation uses: accepted.
    assert create({"type": "service", "values": ["AWS Lambda"]}).status_code == 201
    # A known service name of a provider it does not use is not.
    azure_only = create({"type": "service", "values": ["Azure Cosmos DB"]})
    assert azure_only.status_code == 422 and azure_only.json()["detail"][0]["loc"] == [
        "body",
        "scope",
        "values",
        0,
    ]

    by_name = create({"type": "account", "values": ["Production"]}).json()["detail"][0]
    assert by_name["loc"] == ["body", "scope", "values", 0] and by_name["ctx"]["suggestions"] == [
        "123456789012"
    ]
    assert create({"type": "account", "values": ["123456789012"]}).status_code == 201
    assert create({"type": "account", "values": []}).status_code == 201  # every account

    bad_key = create({"type": "tag", "tag_key": "costcentre", "values": ["x"]}).json()["detail"][0]
    assert bad_key["loc"] == ["body", "scope", "tag_key"] and "rollup tag keys" in bad_key["msg"]
    assert "costcenter" in bad_key["ctx"]["suggestions"]
    unseen_team = create({"type": "team", "values": ["web"]}).json()["detail"][0]
    assert unseen_team["loc"] == ["body", "scope", "values", 0]
    with Session(engine) as session:  # a resource tagged team=web (no spend yet) makes the value known
        session.add(
            ResourceDocument(
                organization_id=org.id, resource_id="i-web", provider="aws", resource_type="compute_instance",
                configuration={}, metrics={}, tags={"team": "web"},
            )
        )  # fmt: skip
        session.commit()
    assert create({"type": "team", "values": ["web"]}).status_code == 201
    budget_id = create({"type": "service", "values": ["EC2"]}).json()["budget_id"]
    replaced = client.put(
        f"/v1/budgets/{budget_id}",
        json={**base, "scope": {"type": "service", "values": ["Amazon EC2 typo"]}},
        headers=org.headers("admin"),
    )
    assert replaced.status_code == 422 and replaced.json()["detail"][0]["loc"] == [
        "body",
        "scope",
        "values",
        0,
    ]
