"""Kernel auth use cases: tokens, registration, sign-in, refresh rotation and reuse, logout, rate limits."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import redis.asyncio as aioredis
from sqlalchemy.orm import Session

from cloudoptima.services.auth import (
    AuthService,
    EmailTakenError,
    InvalidCredentialsError,
    InvalidRefreshTokenError,
    RefreshTokenReusedError,
)
from cloudoptima.services.rate_limits import LoginThrottle, RateLimiter, burst_limit
from cloudoptima.services.tokens import TokenError, TokenIssuer

SECRET = "s" * 48


def test_token_carries_the_seed_payload_and_rejects_tampering() -> None:
    issuer = TokenIssuer(SECRET)
    user, org = uuid.uuid4(), uuid.uuid4()
    token, claims = issuer.issue(user, org, "engineer")
    payload = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert set(payload) == {"sub", "org_id", "role", "permissions", "iat", "exp", "jti"}
    assert "apply:low_risk_recommendations" in payload["permissions"]
    assert issuer.verify(token) == claims
    forged = jwt.encode({**payload, "role": "admin"}, "x" * 48, algorithm="HS256")
    with pytest.raises(TokenError):
        issuer.verify(forged)
    expired, _ = issuer.issue(user, org, "viewer", now=datetime.now(UTC) - timedelta(hours=2))
    with pytest.raises(TokenError, match="expired"):
        issuer.verify(expired)
    unknown_role = jwt.encode({**payload, "role": "root"}, SECRET, algorithm="HS256")
    with pytest.raises(TokenError, match="role"):
        issuer.verify(unknown_role)


def test_register_login_refresh_reuse_and_logout(db_session: Session) -> None:
    service = AuthService(db_session, TokenIssuer(SECRET))
    pair = service.register("Ann@Example.com", "long password", "Acme", "devops")
    with pytest.raises(EmailTakenError):
        service.register("ann@example.com", "long password", "Other", "cfo")
    with pytest.raises(ValueError, match="8 characters"):
        service.register("bob@example.com", "short", "B", "cfo")
    with pytest.raises(InvalidCredentialsError):
        service.login("ann@example.com", "wrong password")
    with pytest.raises(InvalidCredentialsError):
        service.login("nobody@example.com", "long password")
    login = service.login("ANN@example.com", "long password")
    assert login.role == "admin" and login.organization_id == pair.organization_id
    rotated = service.refresh(login.refresh_token)
    with pytest.raises(RefreshTokenReusedError):
        service.refresh(login.refresh_token)
    with pytest.raises(InvalidRefreshTokenError):
        service.refresh(rotated.refresh_token)  # the family was revoked by the reuse
    assert service.refresh(pair.refresh_token).refresh_token  # the registration's family is separate
    assert not service.is_revoked(pair.claims.jti)
    service.logout(pair.claims)
    assert service.is_revoked(pair.claims.jti)


async def test_rate_limiter_burst_and_login_throttle(redis_url: str) -> None:
    client = aioredis.from_url(redis_url, decode_responses=True)
    caller = f"test:{uuid.uuid4()}"
    limiter = RateLimiter(client, clock=lambda: 1_800_000_000.0)
    decisions = [await limiter.hit(caller, "free") for _ in range(burst_limit("free") + 1)]
    assert all(d.allowed for d in decisions[:-1])
    assert (
        not decisions[-1].allowed
        and decisions[-1].window == "minute"
        and decisions[-1].retry_after == 60 - (1_800_000_000 % 60)
    )
    await client.set(f"deny:{caller}", "1")
    denied = await limiter.hit(f"{caller}-2", "pro", deny_key=f"deny:{caller}")
    assert denied.denied and not denied.allowed

    throttle = LoginThrottle(client)
    email, address = f"{uuid.uuid4()}@example.com", f"10.0.0.{uuid.uuid4().int % 250}"
    for _ in range(LoginThrottle.ACCOUNT_FAILURES - 1):
        await throttle.failed(email, address)
    assert await throttle.retry_after(email, address) is None
    await throttle.failed(email, address)
    assert (await throttle.retry_after(email, address) or 0) > 0
    await throttle.succeeded(email)
    assert await throttle.retry_after(email, address) is None
    await client.aclose()
