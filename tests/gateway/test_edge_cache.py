"""The cached-read fast path (``cloudoptima_gateway.edge_cache``): a repeated cost GET is answered before routing with
exactly the normal path's body, checks and refusals — revocation, rate limits, tenancy, new data."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cloudoptima.services.cache import bump_cost_version
from cloudoptima.settings import Settings
from cloudoptima_gateway.edge_cache import edge_text
from tests.gateway.conftest import add_daily_costs, make_org, recent_days, start_inside_one_minute


@pytest.fixture
def early(client: TestClient) -> Iterator[list[bool]]:
    """Records, per request that reached the fast path's lookup, whether it was answered there."""
    limiter = client.app.state.runtime.limiter()  # type: ignore[attr-defined]
    original = limiter.hit_if_present
    answered: list[bool] = []

    async def spy(*args: Any, **kwargs: Any) -> Any:
        found = await original(*args, **kwargs)
        answered.append(found is not None)
        return found

    limiter.hit_if_present = spy
    yield answered
    limiter.hit_if_present = original


def test_edge_text_ignores_parameter_order_and_names_the_day() -> None:
    a = edge_text("/v1/costs/overview", b"start_date=2026-01-01&group_by=region", "2026-11-25")
    b = edge_text("/v1/costs/overview", "group_by=region&start_date=2026-01-01", "2026-11-25")
    assert a == b
    assert a != edge_text("/v1/costs/overview", b"start_date=2026-01-01&group_by=region", "2026-11-26")
    assert a != edge_text("/v1/costs/by-service", b"start_date=2026-01-01&group_by=region", "2026-11-25")


def test_repeated_reads_are_answered_early_with_the_same_body(
    early: list[bool], client: TestClient, engine: Engine, gateway_settings: Settings, redis_url: str
) -> None:
    org, other = make_org(engine, gateway_settings), make_org(engine, gateway_settings)
    days = recent_days(5)
    add_daily_costs(engine, org.id, [(d, "EC2", Decimal("2.50")) for d in days])
    add_daily_costs(engine, other.id, [(d, "EC2", Decimal("700")) for d in days])
    query = f"start_date={days[0]}&group_by=region"
    swapped = f"group_by=region&start_date={days[0]}"
    first = client.get(f"/v1/costs/overview?{query}", headers=org.headers("viewer"))
    assert first.status_code == 200 and first.headers["X-Cache"] == "miss"
    assert early == []  # the organisation's tier is not known yet: straight to the normal path
    again = client.get(f"/v1/costs/overview?{swapped}", headers=org.headers("analyst"))
    assert again.status_code == 200 and again.headers["X-Cache"] == "hit"
    assert early == [True]
    assert again.content == first.content
    assert again.headers["content-type"] == "application/json"
    assert int(again.headers["X-RateLimit-Remaining"]) < int(again.headers["X-RateLimit-Limit"])
    assert again.headers["X-Content-Type-Options"] == "nosniff" and again.headers["X-Request-ID"]

    # Another organisation's identical query is its own answer, never this one's.
    theirs = client.get(f"/v1/costs/overview?{query}", headers=other.headers("viewer"))
    assert theirs.json()["total_cost"] == 3500.0 and first.json()["total_cost"] == 12.5

    # New data for the organisation: the early answer is gone, the normal path computes the new one.
    add_daily_costs(engine, org.id, [(days[0], "S3", Decimal("1"))])
    connection = redis.Redis.from_url(redis_url)
    bump_cost_version(connection, org.id)
    connection.close()
    early.clear()
    fresh = client.get(f"/v1/costs/overview?{query}", headers=org.headers("viewer"))
    assert fresh.headers["X-Cache"] == "miss" and fresh.json()["total_cost"] == 13.5
    assert early == [False]

    # A bad token is never answered early: the normal path's 401.
    bad = client.get(f"/v1/costs/overview?{query}", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.json()["detail"] == "access token is invalid"
    assert early == [False]  # never looked up


def test_revoked_token_and_rate_limit_are_enforced_on_the_fast_path(
    early: list[bool],
    client: TestClient,
    engine: Engine,
    gateway_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    org = make_org(engine, gateway_settings, tier="free")
    add_daily_costs(engine, org.id, [(d, "EC2", Decimal("1")) for d in recent_days(3)])
    headers = org.headers("viewer")
    start_inside_one_minute(client, monkeypatch)
    statuses = [client.get("/v1/costs/by-service", headers=headers) for _ in range(51)]
    assert [r.status_code for r in statuses[:50]] == [200] * 50
    assert {r.headers["X-Cache"] for r in statuses[1:50]} == {"hit"}
    refused = statuses[50]
    assert refused.status_code == 429
    assert "rate limit of 50 requests per minute for the free tier exceeded" in refused.json()["detail"]
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert early == [True] * 50  # the refusal came from the fast path too

    admin = org.headers("admin")
    assert client.get("/v1/costs/by-service", headers=admin).headers["X-Cache"] == "hit"
    out = client.post("/v1/auth/logout", headers=admin, json={})
    assert out.status_code in (200, 204), out.text
    early.clear()
    revoked = client.get("/v1/costs/by-service", headers=admin)
    assert revoked.status_code == 401 and revoked.json()["detail"] == "access token has been revoked"
    assert early == [True]
