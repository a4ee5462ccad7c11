"""Request dependencies: the caller (JWT or API key), permissions, rate limits, tenant-scoped sessions.

Every ``/v1`` route except sign-up/sign-in depends on :data:`CurrentPrincipal` (directly or through
:func:`require`), which authenticates, refuses revoked tokens, sessions and deactivated users (the markers
of ``cloudoptima.services.revocation``, read in the same Redis round trip as the rate limit), and counts the
request against the caller's tier limit (429 + ``Retry-After`` when exhausted). An API key verified in the
last ``API_KEY_CACHE_SECONDS`` is taken from this process's cache, unless a change marker of its key or user
exists (``cloudoptima.services.api_key_cache``: then the database decides). :data:`TenantDb` is a session
scoped to the caller's organisation that commits when the route returns and rolls back when it raises.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import anyio
from fastapi import Depends, HTTPException, Request, Response, status
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from cloudoptima.domain.rbac import Role, has_permission
from cloudoptima.observability.log_context import annotate
from cloudoptima.services.api_key_cache import change_markers
from cloudoptima.services.api_keys import KeyIdentity, authenticate_api_key
from cloudoptima.services.rate_limits import Decision
from cloudoptima.services.revocation import deny_keys
from cloudoptima.services.tokens import AccessClaims, TokenError
from cloudoptima.storage.tenancy import scope
from cloudoptima_gateway.runtime import Runtime

REVOKED_PREFIX = "cloudoptima:revoked:"
COUNTED = "rate_counted"
"""``scope["state"]`` key: ``(caller, Decision)`` of a request a middleware already counted against the rate limit
(``cloudoptima_gateway.list_cache``); :func:`current_principal` uses that decision instead of counting again."""
CACHE_UNTIL = "cache_until"
"""``scope["state"]`` key a cached list route may set: an aware datetime after which its answer may change by
itself (``cloudoptima_gateway.list_cache``)."""

_bearer = HTTPBearer(auto_error=False, description="JWT access token, or an API key `co_...`")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key `co_...`")


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    user_id: uuid.UUID
    organization_id: uuid.UUID
    role: Role
    via: Literal["token", "api_key"]
    claims: AccessClaims | None = None
    key_id: uuid.UUID | None = None

    def can(self, permission: str) -> bool:
        return has_permission(self.role, permission)


REVOKED_DETAIL = "access token has been revoked"
KEY_REVOKED_DETAIL = "API key is invalid or revoked"


def principal_deny_keys(principal: Principal) -> list[str]:
    """The revocation markers that refuse ``principal`` (its token, its sign-in, its user)."""
    claims = principal.claims
    if claims is None:
        return deny_keys(principal.user_id)
    return deny_keys(principal.user_id, jti=claims.jti, session_id=claims.session_id)


def rate_limit_detail(decision: Decision, tier: str) -> str:
    """The 429 message naming the limit, its window and the tier."""
    return f"rate limit of {decision.limit} requests per {decision.window} for the {tier} tier exceeded"


def revoked_key(jti: str) -> str:
    return REVOKED_PREFIX + jti


async def get_runtime(request: Request) -> Runtime:
    """The app's :class:`Runtime` (``async``: no I/O, so FastAPI calls it on the event loop, not in a thread)."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def _unauthorised(message: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=message, headers={"WWW-Authenticate": "Bearer"})


def _key_principal(identity: KeyIdentity) -> Principal:
    return Principal(
        identity.user_id, identity.organization_id, identity.role, "api_key", key_id=identity.key_id
    )


async def _check_key(runtime: Runtime, secret: str) -> KeyIdentity | None:
    """The key's identity according to the database (argon2 included), off the event loop."""

    def check() -> KeyIdentity | None:
        with runtime.sessions()() as session:
            identity = authenticate_api_key(session, secret)
            session.commit()
        return identity

    return await run_in_threadpool(check)


async def _identify(runtime: Runtime, secret: str) -> tuple[Principal, KeyIdentity | None]:
    """The caller, and its API key identity when that came from this process's cache (else None)."""
    if secret.startswith("co_"):
        identity, cached = await runtime.key_cache().verify(secret, lambda: _check_key(runtime, secret))
        if identity is None:
            raise _unauthorised(KEY_REVOKED_DETAIL)
        return _key_principal(identity), identity if cached else None
    try:
        claims = runtime.issuer().verify(secret)
    except TokenError as exc:
        raise _unauthorised(str(exc)) from exc
    return Principal(claims.user_id, claims.organization_id, claims.role, "token", claims=claims), None


async def current_principal(
    request: Request,
    response: Response,
    runtime: RuntimeDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Principal:
    """Authenticate, refuse revoked tokens, and apply the tier's rate limit (see module docstring)."""
    secret = bearer.credentials if bearer is not None else api_key
    if not secret:
        raise _unauthorised("authentication required: send 'Authorization: Bearer <token>'")
    principal, cached = await _identify(runtime, secret)
    tier = runtime.cached_tier(principal.organization_id)
    if tier is None:
        tier = await run_in_threadpool(runtime.tier, principal.organization_id)
    caller = f"key:{principal.key_id}" if principal.key_id else f"user:{principal.user_id}"
    deny = principal_deny_keys(principal)
    if cached is not None:
        # A cached key identity also stands down when its key or user changed in any process since
        # (cloudoptima.services.api_key_cache): the database decides again, and that answer is not cached.
        deny += change_markers(cached)
    counted = request.scope.get("state", {}).get(COUNTED)
    if counted is not None and counted[0] == caller and cached is None:
        decision = counted[1]  # the list cache counted this request and checked the same markers
    else:
        decision = await runtime.limiter().hit(caller, tier, deny_key=deny)
    if decision.denied and cached is not None:
        runtime.key_cache().drop(secret)
        identity = await _check_key(runtime, secret)
        if identity is None:
            raise _unauthorised(KEY_REVOKED_DETAIL)
        principal = _key_principal(identity)
        decision = await runtime.limiter().hit(caller, tier, deny_key=principal_deny_keys(principal))
    if decision.denied:
        raise _unauthorised(REVOKED_DETAIL if principal.claims is not None else KEY_REVOKED_DETAIL)
    if not decision.allowed:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=rate_limit_detail(decision, tier),
            headers={
                "Retry-After": str(max(decision.retry_after, 1)),
                "X-RateLimit-Limit": str(decision.limit),
            },
        )
    response.headers["X-RateLimit-Limit"] = str(decision.limit)
    response.headers["X-RateLimit-Remaining"] = str(decision.remaining)
    request.state.principal = principal
    annotate(organization_id=str(principal.organization_id))
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(permission: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency that answers 403, naming ``permission``, when the caller's role lacks it."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.can(permission):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"permission '{permission}' is required; role '{principal.role}' does not grant it",
            )
        return principal

    check.__name__ = f"require_{permission.replace(':', '_')}"
    check.required_permission = permission  # type: ignore[attr-defined]
    return check


def Permission(permission: str) -> Any:  # noqa: N802 - reads as a type in signatures
    """``Annotated[Principal, Permission("write:budgets")]``."""
    return Depends(require(permission))


# Request sessions are bounded by ``Runtime.db_slots`` (back-pressure instead of pool timeouts: a session
# keeps its connection until the response is produced). They are closed on their own small thread pool: if closing waited for a slot in the pool that runs
# the sync route handlers, handlers blocked on a database connection and finished requests waiting to give
# theirs back could wait for each other until the pool times out.
_CLOSE_LIMITER = anyio.CapacityLimiter(64)


async def _finish(session: Session, *, commit: bool) -> None:
    def finish() -> None:
        try:
            if commit:
                session.commit()
            else:
                session.rollback()
        finally:
            session.close()

    await anyio.to_thread.run_sync(finish, limiter=_CLOSE_LIMITER)


async def tenant_db(runtime: RuntimeDep, principal: CurrentPrincipal) -> AsyncIterator[Session]:
    """A session scoped to the caller's organisation; commits on success, rolls back on error."""
    async with runtime.db_slots():
        session = runtime.sessions()()
        scope(session, principal.organization_id)
        try:
            yield session
        except BaseException:
            await _finish(session, commit=False)
            raise
        await _finish(session, commit=True)


# ``scope="function"``: commit (or roll back) before the response is sent. FastAPI's default runs the code after
# ``yield`` once the response has gone out, so a client could act on a 201 before its row was committed (and a
# failed commit would follow a success answer).
TenantDb = Annotated[Session, Depends(tenant_db, scope="function")]


async def system_db(runtime: RuntimeDep) -> AsyncIterator[Session]:
    """An unscoped session (sign-up, sign-in, refresh: no tenant is known yet)."""
    async with runtime.db_slots():
        session = runtime.sessions()()
        try:
            yield session
        except BaseException:
            await _finish(session, commit=False)
            raise
        await _finish(session, commit=True)


SystemDb = Annotated[Session, Depends(system_db, scope="function")]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
