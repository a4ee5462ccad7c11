"""The list cache (``cloudoptima_gateway.list_cache``) and its change feed (``cloudoptima_gateway.change_feed``,
migration 0042): a repeated list GET is answered from memory with the normal path's body, and any committed
change to what the list reads — by this app, another process or a worker writing the database directly — is
seen by the very next request; refusals, the feed's absence and snoozes running out are honoured."""

from __future__ import annotations

import importlib
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text, update
from sqlalchemy.orm import Session

from cloudoptima.services.budgets import BudgetService
from cloudoptima.services.revocation import deny_keys
from cloudoptima.settings import Settings
from cloudoptima.storage.models import (
    AllocationDimensionRow,
    Anomaly,
    Budget,
    CloudAccount,
    Recommendation,
    ResourceDocument,
    User,
)
from cloudoptima_gateway.change_feed import CHANNEL, libpq_url
from cloudoptima_gateway.list_cache import CACHED_LISTS
from cloudoptima_gateway.main import build_app
from cloudoptima_gateway.memory_cache import MemoryCache
from tests.gateway.conftest import Org, add_daily_costs, make_org, recent_days, start_inside_one_minute

FEED_TABLES: dict[str, str] = importlib.import_module(
    "cloudoptima.storage.migrations.versions.0042_change_feed"
).TABLES


def _rec(org: uuid.UUID, name: str, status: str = "active", **extra: Any) -> Recommendation:
    return Recommendation(
        organization_id=org, fingerprint=f"fp-{name}-{uuid.uuid4().hex[:6]}", rule_id="idle_vm", provider="aws",
        title=name, category="compute", risk_level="low", resource_ids=[name], affected_resources=[], actions=[],
        status=status, estimated_savings_monthly=Decimal("10.00"), priority=Decimal(1), account_identifier="111",
        **extra,
    )  # fmt: skip


def _anomaly(org: uuid.UUID, day: date, amount: int) -> Anomaly:
    return Anomaly(
        organization_id=org, severity="high", fingerprint=uuid.uuid4().hex[:32], start_date=day, end_date=day,
        impact_amount=Decimal(amount), affected_resources=["i-1"],
        drivers={"resources": [], "usage_types": [], "tags": []},
    )  # fmt: skip


def _vm(org: uuid.UUID, rid: str) -> ResourceDocument:
    return ResourceDocument(
        organization_id=org, resource_id=rid, provider="aws", resource_type="compute_instance", region="us-east-1",
        status="running", configuration={"instance_type": "m5.large"}, metrics={}, cost_monthly=Decimal(70), tags={},
    )  # fmt: skip


def _account(org: uuid.UUID, name: str) -> CloudAccount:
    return CloudAccount(
        organization_id=org, provider="aws", account_identifier=f"{uuid.uuid4().int % 10**12:012d}",
        account_name=name, credentials_encrypted="x", status="active",
    )  # fmt: skip


def _budget(org: uuid.UUID, name: str, amount: int = 1000, **scope: Any) -> Budget:
    today = datetime.now(UTC).date()
    return Budget(
        organization_id=org, name=name, amount=Decimal(amount), currency="USD", period="monthly",
        start_date=today.replace(day=1) - timedelta(days=400), end_date=today + timedelta(days=400),
        scope_type=scope.get("type", "account"), scope_filters=scope or {"type": "account"},
        alert_thresholds=[{"threshold": 50, "type": "actual", "channels": []}], alert_state={},
    )  # fmt: skip


def _add(engine: Engine, *rows: object) -> None:
    """Write as a worker does: its own session and transaction, committed before the next request."""
    with Session(engine) as session:
        session.add_all(rows)
        session.commit()


@pytest.fixture
def estate(engine: Engine, gateway_settings: Settings) -> Org:
    """An organisation with something in each cached list."""
    org = make_org(engine, gateway_settings, name="lists")
    _add(
        engine,
        _rec(org.id, "first"),
        _anomaly(org.id, recent_days(3)[0], 900),
        _vm(org.id, "i-first"),
        _account(org.id, "first account"),
        _budget(org.id, "first budget"),
    )
    return org


LISTS = {
    "/v1/budgets": ("budgets", "name"),
    "/v1/recommendations": ("recommendations", "title"),
    "/v1/costs/anomalies": ("anomalies", "impact_amount"),
    "/v1/resources/compute": ("resources", "id"),
    "/v1/cloud-accounts": ("accounts", "account_name"),
}


def _get(client: TestClient, path: str, headers: dict[str, str]) -> tuple[list[Any], bool]:
    """The list's values of its naming field, and whether the answer came from memory."""
    answer = client.get(path, headers=headers)
    assert answer.status_code == 200, answer.text
    field, name = LISTS[path.partition("?")[0]]
    return sorted(str(item[name]) for item in answer.json()[field]), answer.headers.get("X-Cache") == "hit"


def test_every_cached_list_is_covered_here() -> None:
    assert set(LISTS) == set(CACHED_LISTS)


def test_a_repeated_list_is_answered_from_memory_with_the_same_answer(
    client: TestClient, estate: Org
) -> None:
    viewer = estate.headers("viewer")
    assert (
        client.get("/v1/cloud-accounts", headers=viewer).status_code == 200
    )  # the tier is learnt (normal path)
    for path in LISTS:
        first = client.get(path, headers=viewer)  # kept
        second = client.get(path, headers=viewer)
        third = client.get(path, headers=viewer)
        assert first.status_code == second.status_code == third.status_code == 200
        assert "X-Cache" not in first.headers, path
        assert second.headers["X-Cache"] == third.headers["X-Cache"] == "hit", path
        assert third.json() == second.json() == first.json()
        assert third.headers["content-type"] == "application/json"
        assert int(third.headers["X-RateLimit-Remaining"]) == int(second.headers["X-RateLimit-Remaining"]) - 1
        # another user, another query: their own entries
        assert _get(client, path, estate.headers("analyst"))[1] is False
        assert (
            _get(client, path + "?limit=7" if "compute" not in path else path + "?page_size=7", viewer)[1]
            is False
        )


def test_a_change_committed_by_a_worker_is_seen_by_the_next_request(
    client: TestClient, engine: Engine, estate: Org
) -> None:
    """No waiting between the commit and the read: the feed's round trip is the barrier (20 rounds each)."""
    viewer = estate.headers("viewer")
    day = recent_days(3)[0]
    writes: dict[str, Callable[[int], object]] = {
        "/v1/budgets": lambda n: _budget(estate.id, f"budget {n}"),
        "/v1/recommendations": lambda n: _rec(estate.id, f"new-{n}"),
        "/v1/costs/anomalies": lambda n: _anomaly(estate.id, day, 1000 + n),
        "/v1/resources/compute": lambda n: _vm(estate.id, f"i-new-{n}"),
        "/v1/cloud-accounts": lambda n: _account(estate.id, f"account {n}"),
    }
    for path, new_row in writes.items():
        _get(client, path, viewer)
        seen, _ = _get(client, path, viewer)
        assert _get(client, path, viewer) == (seen, True)
        for n in range(20):
            row = new_row(n)
            _add(engine, row)
            now, hit = _get(client, path, viewer)
            assert not hit and len(now) == len(seen) + 1, (path, n)
            assert _get(client, path, viewer) == (now, True)
            seen = now


def test_updates_deletes_and_other_tables_the_lists_read_invalidate(
    client: TestClient, engine: Engine, estate: Org
) -> None:
    viewer = estate.headers("viewer")
    path = "/v1/cloud-accounts"
    _get(client, path, viewer)
    _get(client, path, viewer)
    assert _get(client, path, viewer) == (["first account"], True)
    with Session(engine) as session:
        session.execute(
            update(CloudAccount)
            .where(CloudAccount.organization_id == estate.id)
            .values(account_name="renamed")
        )
        session.commit()
    assert _get(client, path, viewer) == (["renamed"], False)
    with Session(engine) as session:  # a user's change (e-mail, role) changes what owner filters show
        session.execute(
            update(User).where(User.id == estate.users["admin"]).values(email=f"{uuid.uuid4().hex}@x.io")
        )
        session.commit()
    assert _get(client, path, viewer) == (["renamed"], False)
    with Session(engine) as session:
        session.execute(text("DELETE FROM cloud_accounts WHERE organization_id = :o"), {"o": estate.id})
        session.commit()
    assert _get(client, path, viewer) == ([], False)
    assert _get(client, path, viewer) == ([], True)


def test_a_rolled_back_write_or_another_organisation_keeps_the_answer(
    client: TestClient, engine: Engine, estate: Org, gateway_settings: Settings
) -> None:
    viewer = estate.headers("viewer")
    path = "/v1/recommendations"
    _get(client, path, viewer)
    _get(client, path, viewer)
    with Session(engine) as session:
        session.add(_rec(estate.id, "never"))
        session.flush()
        session.rollback()
    other = make_org(engine, gateway_settings, name="other")
    _add(engine, _rec(other.id, "elsewhere"))
    assert _get(client, path, viewer) == (["first"], True)
    assert _get(client, path, other.headers("viewer"))[0] == ["elsewhere"]


def test_a_write_through_another_gateway_process_is_seen_here(
    client: TestClient, estate: Org, gateway_settings: Settings
) -> None:
    """Two apps with their own feeds and memories over one database: a dismissal through one is seen by the
    other's next list."""
    viewer, manager = estate.headers("viewer"), estate.headers("finops_manager")
    _get(client, "/v1/recommendations", viewer)
    _get(client, "/v1/recommendations", viewer)
    assert _get(client, "/v1/recommendations", viewer) == (["first"], True)
    with TestClient(build_app(gateway_settings)) as other:
        rec_id = other.get("/v1/recommendations", headers=manager).json()["recommendations"][0]["id"]
        answer = other.post(
            f"/v1/recommendations/{rec_id}/false-positive", headers=manager, json={"reason": "not ours"}
        )
        assert answer.status_code == 200, answer.text
    assert _get(client, "/v1/recommendations", viewer) == ([], False)


def test_revoked_tokens_and_rate_limits_are_enforced_on_the_cached_path(
    client: TestClient,
    engine: Engine,
    gateway_settings: Settings,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    org = make_org(engine, gateway_settings, tier="free", name="limits")
    _add(engine, _rec(org.id, "only"))
    start_inside_one_minute(client, monkeypatch)
    viewer = org.headers("viewer")
    answers = [client.get("/v1/recommendations", headers=viewer) for _ in range(51)]
    assert [a.status_code for a in answers[:50]] == [200] * 50
    assert answers[-2].headers["X-Cache"] == "hit"
    refused = answers[-1]
    assert refused.status_code == 429 and "rate limit of 50 requests per minute" in refused.json()["detail"]
    assert refused.headers["Retry-After"]

    analyst = org.headers("analyst")
    for _ in range(3):
        assert client.get("/v1/recommendations", headers=analyst).status_code == 200
    connection = redis.Redis.from_url(redis_url)
    connection.set(deny_keys(org.users["analyst"])[0], "1")
    connection.close()
    revoked = client.get("/v1/recommendations", headers=analyst)
    assert revoked.status_code == 401 and revoked.json()["detail"] == "access token has been revoked"


def test_api_keys_and_missing_permissions_take_the_normal_path(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings, name="keys")
    _add(engine, _rec(org.id, "keyed"))
    created = client.post("/v1/auth/api-keys", headers=org.headers("viewer"), json={"name": "ci"})
    assert created.status_code == 201, created.text
    key = {"X-API-Key": created.json()["api_key"]}
    for _ in range(3):
        answer = client.get("/v1/recommendations", headers=key)
        assert answer.status_code == 200 and "X-Cache" not in answer.headers
    bogus = client.get("/v1/recommendations", headers={"Authorization": "Bearer not-a-token"})
    assert bogus.status_code == 401


def test_without_the_feed_nothing_is_answered_from_memory_until_it_is_back(
    client: TestClient, engine: Engine, estate: Org
) -> None:
    viewer = estate.headers("viewer")
    path = "/v1/resources/compute"
    feed = client.app.state.runtime.change_feed()  # type: ignore[attr-defined]
    _get(client, path, viewer)
    _get(client, path, viewer)
    assert _get(client, path, viewer)[1] is True
    with engine.connect() as connection:
        killed = (
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :a"),
                {"a": feed.application_name},
            )
            .scalars()
            .all()
        )
    assert killed == [True]
    _add(engine, _vm(estate.id, "i-while-down"))  # nobody listens: the feed cannot know
    url, feed._url = feed._url, "postgresql://postgres@127.0.0.1:1/nothing"  # and cannot listen again yet
    assert _get(client, path, viewer) == (["i-first", "i-while-down"], False)  # the lost connection is found
    assert _get(client, path, viewer)[1] is False  # reconnecting failed: no answers from memory
    assert _get(client, path, viewer)[1] is False  # the next attempt waits RETRY_S
    feed._url, feed._last_attempt = url, float("-inf")  # the database is back, the pause over
    assert _get(client, path, viewer)[1] is False  # listening again: a new epoch, a fresh entry
    assert _get(client, path, viewer) == (["i-first", "i-while-down"], True)


def test_an_answer_is_not_kept_past_the_next_snooze_end(
    client: TestClient, engine: Engine, estate: Org
) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    now = [0.0]
    runtime._list_cache = MemoryCache(ttl_s=300, clock=lambda: now[0])
    until = datetime.now(UTC) + timedelta(seconds=120)
    _add(engine, _rec(estate.id, "sleeping", status="snoozed", snoozed_until=until))
    viewer = estate.headers("viewer")
    _get(client, "/v1/recommendations", viewer)
    _get(client, "/v1/recommendations", viewer)
    now[0] = 100.0
    assert _get(client, "/v1/recommendations", viewer)[1] is True
    now[0] = 121.0  # the snooze may have ended: the route runs again (and wakes it when it has)
    assert _get(client, "/v1/recommendations", viewer)[1] is False
    now[0] = 250.0  # entries without a snooze live the full LIST_CACHE_SECONDS
    assert _get(client, "/v1/costs/anomalies", viewer)[1] is False
    now[0] = 549.0
    assert _get(client, "/v1/costs/anomalies", viewer)[1] is True
    now[0] = 551.0
    assert _get(client, "/v1/costs/anomalies", viewer)[1] is False


_TABLE = re.compile(r'\b(?:FROM|JOIN)\s+"?([a-z_][a-z0-9_]*)"?', re.IGNORECASE)


@pytest.fixture
def tables_read(client: TestClient) -> Iterator[set[str]]:
    """Every table named in a FROM/JOIN of the gateway's statements while the fixture lives."""
    engine = client.app.state.runtime.engine()  # type: ignore[attr-defined]
    seen: set[str] = set()

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.update(_TABLE.findall(statement))

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_the_cached_lists_read_only_tables_the_feed_watches(
    client: TestClient, engine: Engine, estate: Org, tables_read: set[str]
) -> None:
    """What a cached list reads must notify the feed (migration 0042) or bump the cost version (``cost_daily``):
    a list that starts reading another table fails here until the feed watches it too."""
    manager = estate.headers("finops_manager")
    with Session(engine) as session:
        session.add(
            AllocationDimensionRow(organization_id=estate.id, name="team", active_version=1, latest_version=1)
        )
        session.add(_budget(estate.id, "by tag", type="tag", tag_key="team", values=["ml"]))
        session.add(_budget(estate.id, "by team", type="allocation", dimension="team", values=["ml"]))
        session.add(_budget(estate.id, "by service", type="service", values=["EC2"]))
        session.add(_rec(estate.id, "owned", status="accepted", owner_user_id=estate.users["finops_manager"]))
        session.add(
            _rec(estate.id, "asleep", status="snoozed", snoozed_until=datetime.now(UTC) + timedelta(days=1))
        )
        session.commit()
    for path in [
        *LISTS,
        "/v1/recommendations?owner=me",
        "/v1/recommendations?status=snoozed&sort_by=savings",
    ]:
        tables_read.clear()
        assert client.get(path, headers=manager).status_code == 200
        assert tables_read, path
        assert tables_read <= set(FEED_TABLES) | {"cost_daily", "subq", "anon_1"}, (path, tables_read)


def test_the_triggers_notify_each_organisation_once_per_transaction_and_only_on_commit(
    engine: Engine, pg_url: str, gateway_settings: Settings
) -> None:
    a, b = make_org(engine, gateway_settings, name="a"), make_org(engine, gateway_settings, name="b")
    with psycopg.connect(libpq_url(pg_url), autocommit=True) as listener:
        listener.execute(f"LISTEN {CHANNEL}")

        def heard() -> list[str]:
            listener.execute("SELECT 1")
            return sorted(n.payload for n in listener.notifies(timeout=0.5, stop_after=None) if n.payload)

        heard()
        with Session(engine) as session:
            session.add_all([_vm(a.id, f"i-{n}") for n in range(500)] + [_vm(b.id, "i-b")])
            session.commit()
        assert heard() == sorted([str(a.id), str(b.id)])
        with Session(engine) as session:
            session.add(_vm(a.id, "i-gone"))
            session.rollback()
        assert heard() == []
        with Session(engine) as session:  # moving a row between organisations tells both
            session.execute(
                update(ResourceDocument)
                .where(ResourceDocument.resource_id == "i-b")
                .values(organization_id=a.id)
            )
            session.commit()
        assert heard() == sorted([str(a.id), str(b.id)])
        with Session(engine) as session:
            session.execute(text("UPDATE organizations SET name = name || '!' WHERE id = :o"), {"o": b.id})
            session.commit()
        assert heard() == [str(b.id)]


def test_reading_budgets_does_not_use_up_a_crossed_threshold(
    client: TestClient, engine: Engine, estate: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A threshold crossed before the alert step runs still fires there (and notifies) after people read the
    budgets: reads store no alert state."""
    from cloudoptima_gateway.routes import budgets as budget_routes

    today = date(2026, 6, 15)
    monkeypatch.setattr(budget_routes, "_today", lambda: today)
    add_daily_costs(engine, estate.id, [(date(2026, 6, d), "EC2", Decimal(100)) for d in range(1, 11)])
    for _ in range(3):
        listed = client.get("/v1/budgets", headers=estate.headers("viewer")).json()["budgets"]
    [first] = [b for b in listed if b["name"] == "first budget"]
    assert first["current_spend"] == 1000.0 and first["alerts"][0]["triggered"] is True
    with Session(engine) as session:
        [row] = [b for b in BudgetService(session, estate.id).list() if b.name == "first budget"]
        assert row.alert_state == {} and row.last_evaluated_at is None
        fired = BudgetService(session, estate.id, now=lambda: datetime(2026, 6, 15, 9, tzinfo=UTC)).evaluate(
            row.id, today
        )
        assert [event.threshold for event in fired.fired] == [50]


def _second_user(engine: Engine, settings: Settings, org: Org, role: str) -> dict[str, str]:
    """Headers of another active user of ``org`` with ``role``."""
    from cloudoptima.services.auth import AuthService
    from cloudoptima_gateway.runtime import Runtime

    with Session(engine) as session:
        user = User(
            organization_id=org.id, email=f"{role}-2-{uuid.uuid4().hex[:8]}@example.com",
            password_hash="x", role=role, is_active=True,
        )  # fmt: skip
        session.add(user)
        session.flush()
        pair = AuthService(session, Runtime(settings).issuer())._new_pair(user, family_id=uuid.uuid4())
        session.commit()
    return {"Authorization": f"Bearer {pair.access_token}"}


def _middleware(client: TestClient) -> Any:
    from cloudoptima_gateway.list_cache import ListCacheMiddleware

    layer = client.app.middleware_stack  # type: ignore[attr-defined]
    while not isinstance(layer, ListCacheMiddleware):
        layer = layer.app
    return layer


def test_users_of_one_role_share_answers_except_their_own_recommendations(
    client: TestClient, engine: Engine, estate: Org, gateway_settings: Settings
) -> None:
    viewer, other_viewer = estate.headers("viewer"), _second_user(engine, gateway_settings, estate, "viewer")
    _get(client, "/v1/cloud-accounts", viewer)
    for path in LISTS:
        _get(client, path, viewer)
        assert _get(client, path, other_viewer)[1] is True, path
    manager = estate.headers("finops_manager")
    other_manager = _second_user(engine, gateway_settings, estate, "finops_manager")
    _add(engine, _rec(estate.id, "mine", status="accepted", owner_user_id=estate.users["finops_manager"]))
    mine = "/v1/recommendations?owner=me"
    assert _get(client, mine, manager) == (["mine"], False)
    assert _get(client, mine, manager) == (["mine"], True)
    assert _get(client, mine, other_manager) == ([], False)  # their own: nothing is theirs
    assert _get(client, "/v1/recommendations?owner=ME", other_manager)[0] == []


def test_concurrent_misses_of_one_answer_compute_it_once(
    client: TestClient,
    engine: Engine,
    estate: Org,
    gateway_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Eight viewers ask at once after a change: the first computes, the other seven wait for its answer."""
    from concurrent.futures import ThreadPoolExecutor

    from cloudoptima.services.cloud_accounts import CloudAccountService

    viewers = [estate.headers("viewer")] + [
        _second_user(engine, gateway_settings, estate, "viewer") for _ in range(7)
    ]
    _get(client, "/v1/cloud-accounts", viewers[0])
    _get(client, "/v1/cloud-accounts", viewers[0])
    _add(engine, _account(estate.id, "second account"))  # what was kept is stale: all eight miss
    middleware = _middleware(client)
    original = CloudAccountService.listing
    calls: list[int] = []

    def listing(self: CloudAccountService, **kwargs: Any) -> Any:
        calls.append(1)
        for _ in range(1000):  # hold the computation until the seven others wait for it (10 s at most)
            if sum(len(e._waiters) for e in middleware._filling.values()) >= 7:
                break
            threading.Event().wait(0.01)
        return original(self, **kwargs)

    monkeypatch.setattr(CloudAccountService, "listing", listing)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda h: client.get("/v1/cloud-accounts", headers=h), viewers))
    assert [a.status_code for a in answers] == [200] * 8
    assert calls == [1]
    assert sorted(a.headers.get("X-Cache", "miss") for a in answers) == ["hit"] * 7 + ["miss"]
    assert len({a.text for a in answers}) == 1
