"""Gateway test harness: one app over the real embedded Postgres, Redis and Temporal per module, and helpers
that create organisations with users of every role (through the real services)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session
from temporalio.testing import WorkflowEnvironment

from cloudoptima.clouds.protocol import CloudProviderClient, Verification
from cloudoptima.clouds.registry import ProviderRegistry
from cloudoptima.domain.rbac import ROLE_ORDER, Role
from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.security.passwords import hash_password
from cloudoptima.services.auth import AuthService
from cloudoptima.settings import Settings
from cloudoptima.storage.models import CostDaily, Organization, User
from cloudoptima_gateway.main import build_app

PASSWORD = "correct horse battery"
GOOD_ROLE = "arn:aws:iam::123456789012:role/CloudOptimaReader"
_HASH = hash_password(PASSWORD)


class FakeAwsAccount:
    """Strict fake at the edge of the world: verifies only the role the test grants."""

    def __init__(self, credentials: dict[str, object], settings: dict[str, object]) -> None:
        self.credentials, self.settings = credentials, settings

    def verify(self) -> Verification:
        if self.credentials.get("role_arn") == GOOD_ROLE and self.credentials.get("external_id") == "ext-1":
            return Verification(status="verified", account_id="123456789012")
        return Verification(status="failed", detail="AccessDenied: sts:AssumeRole was refused")


def _fake_aws(credentials: dict[str, object], settings: dict[str, object]) -> CloudProviderClient:
    return FakeAwsAccount(credentials, settings)  # type: ignore[return-value]


@pytest.fixture(scope="module")
def gateway_settings(
    tmp_path_factory: pytest.TempPathFactory, pg_url: str, redis_url: str, temporal_env: WorkflowEnvironment
) -> Settings:
    state: Path = tmp_path_factory.mktemp("gateway-state")
    address = temporal_env.client.service_client.config.target_host
    return Settings(
        state_dir=state,
        database_url=pg_url,
        redis_url=redis_url,
        temporal_address=address,
        log_level="WARNING",
        console_url="",  # notices link to the API whether or not web/dist is built (tests/services/test_notice_links)
    )


@pytest.fixture(scope="module")
def client(gateway_settings: Settings) -> Iterator[TestClient]:
    registry = ProviderRegistry(
        CredentialCipher(gateway_settings.resolved_encryption_key), builders={"aws": _fake_aws}
    )
    with TestClient(build_app(gateway_settings, providers=registry)) as test_client:
        yield test_client


@pytest.fixture(autouse=True)
def _fresh_limits(redis_url: str) -> None:
    """Rate-limit and sign-in counters of earlier tests must not leak into this one."""
    connection = redis.Redis.from_url(redis_url)
    for key in connection.scan_iter("cloudoptima:rl:*", count=1000):
        connection.delete(key)
    connection.close()


@dataclass
class Org:
    id: uuid.UUID
    tokens: dict[str, str]
    users: dict[str, uuid.UUID]

    def headers(self, role: Role = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def make_org(engine: Engine, settings: Settings, *, tier: str = "enterprise", name: str = "org") -> Org:
    """An organisation with one active user per role, each with an access token."""
    from cloudoptima_gateway.runtime import Runtime

    issuer = Runtime(settings).issuer()
    tag = uuid.uuid4().hex[:8]
    with Session(engine) as session:
        org = Organization(name=f"{name}-{tag}", subscription_tier=tier, settings={})
        session.add(org)
        session.flush()
        tokens: dict[str, str] = {}
        users: dict[str, uuid.UUID] = {}
        for role in ROLE_ORDER:
            user = User(
                organization_id=org.id,
                email=f"{role}-{tag}@example.com",
                password_hash=_HASH,
                role=role,
                is_active=True,
            )
            session.add(user)
            session.flush()
            pair = AuthService(session, issuer)._new_pair(user, family_id=uuid.uuid4())
            tokens[role], users[role] = pair.access_token, user.id
        session.commit()
        return Org(id=org.id, tokens=tokens, users=users)


def add_daily_costs(engine: Engine, org: uuid.UUID, days: list[tuple[date, str, Decimal]]) -> None:
    with Session(engine) as session:
        for day, service, amount in days:
            session.add(
                CostDaily(
                    organization_id=org,
                    usage_date=day,
                    provider="aws",
                    billing_account_id="123456789012",
                    sub_account_id="123456789012",
                    service_name=service,
                    region_id="us-east-1",
                    charge_category="Usage",
                    billing_currency="USD",
                    tag_values={},
                    billed_cost=amount,
                    effective_cost=amount,
                    list_cost=amount,
                    row_count=1,
                )
            )
        session.commit()


def clear_costs(engine: Engine, org: uuid.UUID) -> None:
    with Session(engine) as session:
        session.execute(delete(CostDaily).where(CostDaily.organization_id == org))
        session.commit()


def recent_days(n: int) -> list[date]:
    from datetime import UTC, datetime

    today = datetime.now(UTC).date()
    return [today - timedelta(days=i) for i in range(n, 0, -1)]


def start_inside_one_minute(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Move the app's rate-limit clock (until the test ends) so that its current minute began one second ago:
    the burst rate limit counts fixed minutes, and a test that fires its 51 requests across a boundary would
    see two windows. The clock still runs at wall-clock speed (59 s left in the window), only shifted back,
    so no test waits for the next wall-clock minute."""
    app: FastAPI = client.app  # type: ignore[assignment]
    limiter = app.state.runtime.limiter()
    shift = time.time() % 60 - 1
    monkeypatch.setattr(limiter, "_clock", lambda: time.time() - shift)
