"""Verified API keys are cached per gateway process, and a change made through any process takes effect in every
other at once (``cloudoptima.services.api_key_cache``). Two apps on the same database and Redis stand for two
gateway processes: each has its own cache."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cloudoptima.services.api_key_cache import key_digest
from cloudoptima.settings import Settings
from cloudoptima.storage.models import ApiKey
from cloudoptima_gateway.main import build_app
from cloudoptima_gateway.runtime import Runtime
from tests.gateway.conftest import Org, make_org


@pytest.fixture(scope="module")
def other(gateway_settings: Settings) -> Iterator[TestClient]:
    """A second gateway process: same settings, its own runtime and key cache."""
    with TestClient(build_app(gateway_settings)) as test_client:
        yield test_client


def _runtime(client: TestClient) -> Runtime:
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return runtime


def _key(client: TestClient, org: Org, role: str) -> tuple[str, str]:
    created = client.post("/v1/auth/api-keys", headers=org.headers(role), json={"name": f"{role} key"})  # type: ignore[arg-type]
    assert created.status_code == 201, created.text
    return created.json()["id"], created.json()["api_key"]


def _last_used(engine: Engine, key_id: str) -> object:
    with Session(engine) as session:
        return session.scalar(select(ApiKey.last_used_at).where(ApiKey.id == key_id))


def test_a_verified_key_is_reused_without_the_database(
    other: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings)
    client_key_id, key = _key(other, org, "engineer")
    cache = _runtime(other).key_cache()
    assert cache.get(key) is None
    assert other.get("/v1/budgets", headers={"X-API-Key": key}).status_code == 200
    cached = cache.get(key)
    assert cached is not None and str(cached.key_id) == client_key_id and cached.role == "engineer"
    assert key not in cache._entries and key_digest(key) in cache._entries  # the plaintext is never stored
    first_use = _last_used(engine, client_key_id)
    assert first_use is not None
    assert other.get("/v1/budgets", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert _last_used(engine, client_key_id) == first_use  # answered from the cache: no database write


def test_a_revoked_key_is_refused_at_once_by_every_process(
    client: TestClient, other: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings)
    key_id, key = _key(client, org, "engineer")
    for gateway in (client, other):
        assert gateway.get("/v1/budgets", headers={"X-API-Key": key}).status_code == 200
    assert _runtime(other).key_cache().get(key) is not None
    assert client.delete(f"/v1/auth/api-keys/{key_id}", headers=org.headers("engineer")).status_code == 200
    for gateway in (other, client):
        refused = gateway.get("/v1/budgets", headers={"X-API-Key": key})
        assert refused.status_code == 401 and refused.json()["detail"] == "API key is invalid or revoked"
    assert _runtime(other).key_cache().get(key) is None


def test_a_role_change_applies_to_a_cached_key_in_every_process(
    client: TestClient, other: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings)
    _, key = _key(client, org, "viewer")
    refused = other.get("/v1/users", headers={"X-API-Key": key})
    assert refused.status_code == 403 and "manage:users" in refused.json()["detail"]
    assert _runtime(other).key_cache().get(key) is not None
    changed = client.patch(f"/v1/users/{org.users['viewer']}", headers=org.headers(), json={"role": "admin"})
    assert changed.status_code == 200, changed.text
    assert other.get("/v1/users", headers={"X-API-Key": key}).status_code == 200
    assert client.get("/v1/users", headers={"X-API-Key": key}).status_code == 200


def test_a_deactivated_users_cached_key_is_refused_in_every_process(
    client: TestClient, other: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings)
    _, key = _key(client, org, "finops_manager")
    assert other.get("/v1/budgets", headers={"X-API-Key": key}).status_code == 200
    done = client.post(f"/v1/users/{org.users['finops_manager']}/deactivate", headers=org.headers())
    assert done.status_code == 200 and done.json()["revoked_api_keys"] == 1
    for gateway in (other, client):
        assert gateway.get("/v1/budgets", headers={"X-API-Key": key}).status_code == 401
