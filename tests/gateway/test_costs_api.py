"""Cost endpoints over real rollup rows: numbers, validation, caching with per-organisation invalidation,
rate limits per tier, budgets CRUD and the audit trail of writes."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cloudoptima.services.cache import bump_cost_version
from cloudoptima.settings import Settings
from cloudoptima.storage.models import AuditLog
from tests.gateway.conftest import add_daily_costs, make_org, recent_days, start_inside_one_minute


def test_overview_totals_cache_and_invalidation(
    client: TestClient, engine: Engine, gateway_settings: Settings, redis_url: str
) -> None:
    org, other = make_org(engine, gateway_settings), make_org(engine, gateway_settings)
    days = recent_days(10)
    add_daily_costs(engine, org.id, [(d, "EC2", Decimal("10.10")) for d in days])
    add_daily_costs(engine, org.id, [(d, "S3", Decimal("1.05")) for d in days])
    add_daily_costs(engine, other.id, [(d, "EC2", Decimal("999")) for d in days])
    params = {"start_date": str(days[0]), "end_date": str(days[-1] + timedelta(days=1))}
    first = client.get("/v1/costs/overview", params=params, headers=org.headers("viewer"))
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["total_cost"] == 111.5 and body["currency"] == "USD"
    assert [(b["dimension"], b["cost"]) for b in body["breakdown"]] == [("EC2", 101.0), ("S3", 10.5)]
    assert len(body["time_series"]) == 10 and body["time_series"][0]["cost"] == 11.15
    assert first.headers["X-Cache"] == "miss"
    assert (
        client.get("/v1/costs/overview", params=params, headers=org.headers("viewer")).headers["X-Cache"]
        == "hit"
    )

    add_daily_costs(engine, org.id, [(days[0], "RDS", Decimal("5"))])
    stale = client.get("/v1/costs/overview", params=params, headers=org.headers("viewer"))
    assert stale.json()["total_cost"] == 111.5  # cached until the organisation's data version moves
    other_cached = client.get("/v1/costs/overview", params=params, headers=other.headers("viewer"))
    assert other_cached.json()["total_cost"] == 9990.0
    connection = redis.Redis.from_url(redis_url)
    bump_cost_version(connection, org.id)
    fresh = client.get("/v1/costs/overview", params=params, headers=org.headers("viewer"))
    assert fresh.headers["X-Cache"] == "miss" and fresh.json()["total_cost"] == 116.5
    assert (
        client.get("/v1/costs/overview", params=params, headers=other.headers("viewer")).headers["X-Cache"]
        == "hit"
    )
    connection.close()


def test_query_validation_names_the_field(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings)
    too_long = client.get(
        "/v1/costs/overview",
        params={"start_date": "2024-01-01", "end_date": "2025-01-02"},
        headers=org.headers(),
    )
    assert too_long.status_code == 422
    assert too_long.json()["detail"][0]["loc"] == ["query", "end_date"]
    assert "365" in too_long.json()["detail"][0]["msg"]
    bad_enum = client.get("/v1/costs/overview", params={"granularity": "hourly"}, headers=org.headers())
    assert bad_enum.status_code == 422 and bad_enum.json()["detail"][0]["loc"] == ["query", "granularity"]
    no_key = client.get("/v1/costs/overview", params={"group_by": "tag"}, headers=org.headers())
    assert no_key.status_code == 422 and no_key.json()["detail"][0]["loc"] == ["query", "tag_key"]
    page = client.get("/v1/resources/compute", params={"page_size": 101}, headers=org.headers())
    assert page.status_code == 422 and page.json()["detail"][0]["loc"] == ["query", "page_size"]


def test_forecast_and_by_service(client: TestClient, engine: Engine, gateway_settings: Settings) -> None:
    org = make_org(engine, gateway_settings)
    days = recent_days(60)
    add_daily_costs(engine, org.id, [(d, "EC2", Decimal(100 + (d.weekday() * 5))) for d in days])
    forecast = client.get(
        "/v1/costs/forecast", params={"days_ahead": 14, "model": "fast"}, headers=org.headers()
    )
    assert forecast.status_code == 200, forecast.text
    body = forecast.json()
    assert len(body["forecast"]) == 14
    assert all(p["lower_bound"] <= p["predicted_cost"] <= p["upper_bound"] for p in body["forecast"])
    assert 100 * 14 * 0.8 < body["total_forecasted"] < 130 * 14 * 1.2
    by_service = client.get("/v1/costs/by-service", headers=org.headers()).json()
    assert [s["service_name"] for s in by_service["services"]] == ["EC2"]


def test_free_tier_burst_limit_answers_429_with_retry_after(
    client: TestClient,
    engine: Engine,
    gateway_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    org = make_org(engine, gateway_settings, tier="free")
    start_inside_one_minute(client, monkeypatch)
    statuses = [client.get("/v1/budgets", headers=org.headers("viewer")).status_code for _ in range(51)]
    assert statuses[:50] == [200] * 50
    assert statuses[50] == 429
    refused = client.get("/v1/budgets", headers=org.headers("viewer"))
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    # another user of the same organisation has their own allowance
    assert client.get("/v1/budgets", headers=org.headers("admin")).status_code == 200


def test_budget_crud_status_and_audit(client: TestClient, engine: Engine, gateway_settings: Settings) -> None:
    org = make_org(engine, gateway_settings)
    days = recent_days(5)
    add_daily_costs(engine, org.id, [(d, "EC2", Decimal("50")) for d in days])
    start = days[0].replace(day=1)
    body = {
        "name": "<b>Platform</b>",
        "amount": 100,
        "period": "monthly",
        "start_date": str(start - timedelta(days=40)),
        "end_date": str(start + timedelta(days=400)),
        "scope": {"type": "service", "values": ["EC2"]},
        "alerts": [{"threshold": 80, "channels": ["email"]}],
    }
    created = client.post("/v1/budgets", json=body, headers=org.headers("finops_manager"))
    assert created.status_code == 201, created.text
    budget_id = created.json()["budget_id"]
    listed = client.get("/v1/budgets", headers=org.headers("viewer")).json()["budgets"]
    assert [b["name"] for b in listed] == ["bPlatform/b"]
    assert listed[0]["scope"] == {"type": "service", "filters": {"values": ["EC2"], "tag_key": None}}
    assert listed[0]["status"] in ("exceeded", "at_risk", "on_track") and listed[0]["current_spend"] >= 0
    bad = client.post("/v1/budgets", json={**body, "amount": 0}, headers=org.headers("finops_manager"))
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "amount"]
    update = client.put(
        f"/v1/budgets/{budget_id}", json={**body, "amount": 500}, headers=org.headers("admin")
    )
    assert update.json() == {"success": True}
    assert client.get(f"/v1/budgets/{budget_id}", headers=org.headers()).json()["amount"] == 500
    assert client.delete(f"/v1/budgets/{budget_id}", headers=org.headers("viewer")).status_code == 403
    assert client.delete(f"/v1/budgets/{budget_id}", headers=org.headers()).status_code == 200
    with Session(engine) as session:
        rows = session.scalars(
            select(AuditLog).where(AuditLog.organization_id == org.id).order_by(AuditLog.timestamp)
        ).all()
    trail = [(r.action, r.result, r.user_id) for r in rows]
    assert trail == [
        ("create_budget", "success", org.users["finops_manager"]),
        ("create_budget", "failure", org.users["finops_manager"]),
        ("replace_budget", "success", org.users["admin"]),
        ("remove_budget", "denied", org.users["viewer"]),
        ("remove_budget", "success", org.users["admin"]),
    ]
    assert rows[0].resource_id == budget_id and rows[0].ip_address == "testclient"
    assert rows[0].user_agent == "testclient" and rows[0].details["status"] == 201


def test_forecast_of_a_service_an_account_or_a_budget_scope(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings)
    days = recent_days(60)
    add_daily_costs(
        engine, org.id, [(d, "EC2", Decimal(100)) for d in days] + [(d, "S3", Decimal(10)) for d in days]
    )

    def total(**params: object) -> dict[str, object]:
        answer = client.get(
            "/v1/costs/forecast", params={"days_ahead": 14, "model": "fast", **params}, headers=org.headers()
        )
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    whole, s3, ec2 = total(), total(service="S3"), total(service=["EC2"], provider="aws")
    assert float(whole["total_forecasted"]) == pytest.approx(110 * 14, rel=0.02)
    assert float(s3["total_forecasted"]) == pytest.approx(10 * 14, rel=0.02)
    assert float(ec2["total_forecasted"]) == pytest.approx(100 * 14, rel=0.02)
    assert s3["scope"] == {"provider": None, "accounts": [], "services": ["S3"], "budget": None}
    both = total(service=["S3", "EC2"], account="123456789012")
    assert float(both["total_forecasted"]) == pytest.approx(float(whole["total_forecasted"]), rel=0.001)
    elsewhere = total(account="999999999999")
    assert (
        elsewhere["forecast"] == []
        and elsewhere["message"] == "no cost history in this scope to forecast from"
    )

    budget = client.post(
        "/v1/budgets",
        json={
            "name": "storage",
            "amount": 400,
            "period": "monthly",
            "start_date": str(days[0].replace(day=1)),
            "end_date": str(days[0].replace(day=1) + timedelta(days=400)),
            "scope": {"type": "service", "values": ["S3"]},
        },
        headers=org.headers("finops_manager"),
    )
    assert budget.status_code == 201, budget.text
    scoped = total(budget_id=budget.json()["budget_id"])
    assert scoped["total_forecasted"] == s3["total_forecasted"]
    assert scoped["scope"]["budget"] == {"type": "service", "values": ["S3"], "tag_key": None}
    missing = client.get("/v1/costs/forecast", params={"budget_id": str(uuid.uuid4())}, headers=org.headers())
    assert missing.status_code == 404 and "not found" in missing.json()["detail"]
    bad = client.get("/v1/costs/forecast", params={"provider": "oracle"}, headers=org.headers())
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "provider"]


def test_an_anomaly_lists_its_drivers_with_their_share(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    from cloudoptima.storage.models import Anomaly

    org = make_org(engine, gateway_settings)
    day = recent_days(3)[0]
    driver = {"key": "i-gpu", "label": "gpu", "actual": "1800.00", "expected": "0.00", "change": "1800.00"}
    with Session(engine) as session:
        session.add(
            Anomaly(
                organization_id=org.id, severity="high", fingerprint=uuid.uuid4().hex[:32], start_date=day,
                end_date=day, impact_amount=Decimal(1800), affected_resources=["i-gpu"],
                drivers={
                    "resources": [{**driver, "share_percent": "100.0", "new": True}],
                    "usage_types": [],
                    "tags": [{**driver, "key": "team=ml", "label": None, "share_percent": "100.0", "new": True}],
                },
            )
        )  # fmt: skip
        session.commit()
    listed = client.get("/v1/costs/anomalies", headers=org.headers()).json()["anomalies"]
    assert listed[0]["affected_resources"] == ["i-gpu"]
    assert listed[0]["drivers"]["resources"][0] == {
        "key": "i-gpu", "label": "gpu", "actual": 1800.0, "expected": 0.0, "change": 1800.0,
        "share_percent": 100.0, "new": True,
    }  # fmt: skip
    assert listed[0]["drivers"]["tags"][0]["key"] == "team=ml"


def test_the_clouds_own_forecast_is_shown_beside_ours_for_the_accounts_in_scope(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import update

    from cloudoptima.storage import provider_forecasts
    from cloudoptima.storage.models import CloudAccount, CostDaily

    org = make_org(engine, gateway_settings)
    days = recent_days(60)
    add_daily_costs(engine, org.id, [(d, "EC2", Decimal(100)) for d in days])
    today = days[-1] + timedelta(days=1)
    with Session(engine) as session:
        account = CloudAccount(
            organization_id=org.id,
            provider="aws",
            account_identifier="123456789012",
            account_name="prod",
            credentials_encrypted="x",
        )
        session.add(account)
        session.flush()
        account_id = account.id
        session.execute(
            update(CostDaily).where(CostDaily.organization_id == org.id).values(cloud_account_id=account_id)
        )
        forecast_days = [
            provider_forecasts.ForecastDay(today + timedelta(days=n), Decimal(90), Decimal(80), Decimal(100))
            for n in range(-1, 30)  # a day already past when it is read is dropped
        ]
        provider_forecasts.save(
            session.connection(),
            org.id,
            account_id,
            ("aws_cost_explorer", "USD", Decimal(90 * 31), forecast_days),
            datetime.now(UTC),
        )
        session.commit()

    def forecast(**params: object) -> dict[str, object]:
        answer = client.get("/v1/costs/forecast", params={"model": "fast", **params}, headers=org.headers())
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    (beside,) = forecast()["provider_forecasts"]  # type: ignore[misc]
    assert beside["account"] == "123456789012" and beside["account_name"] == "prod"
    assert beside["source"] == "aws_cost_explorer"
    assert (beside["start"], beside["end"]) == (str(today), str(today + timedelta(days=30)))
    assert beside["provider_total"] == 2700.0  # 30 days from today, not the day before
    assert beside["ours_total"] == pytest.approx(3000.0, rel=0.02)  # our run-rate: 100 a day
    assert beside["difference_percent"] == pytest.approx(11.1, abs=0.8)
    assert len(forecast(account="123456789012")["provider_forecasts"]) == 1  # type: ignore[arg-type]
    assert forecast(provider="azure")["provider_forecasts"] == []
    assert forecast(service="EC2")["provider_forecasts"] == []  # the cloud forecasts whole accounts only
    with Session(engine) as session:  # the cloud offers none any more: the stored one goes
        provider_forecasts.save(session.connection(), org.id, account_id, None, datetime.now(UTC))
        session.commit()
    assert forecast(days_ahead=29)["provider_forecasts"] == []
