"""Cached cost reads answered before routing: the gateway's fast path for repeated dashboard queries.

The cost routes (``/v1/costs/overview``, ``/forecast``, ``/by-service``) store every answer they give under
an *edge* text — the request's path, canonical query string and UTC day (defaults such as "the last 30
days" depend on the day) — besides their normal cache entry (``cloudoptima.services.cache``).
:class:`CachedReadMiddleware` answers a later identical GET from that entry without routing, dependency
solving or parameter parsing, but with the same checks the route's dependencies make, in the same order:

1. a bearer access token that verifies (signature, expiry, role) and whose role holds the route's
   permission — anything else (no token, an API key, a bad token, a missing permission) goes down the
   normal path, which gives the normal 401/403 answers;
2. the organisation's tier is known in this process (else the normal path reads it);
3. the answer exists for the organisation's *current* cost version (new data makes it unreachable);
4. the rate limiter's hit, which also refuses revoked tokens, sessions and users
   (``cloudoptima.services.revocation``): 401 or 429 exactly as the dependency
   answers them; otherwise the cached JSON with ``X-Cache: hit`` and the rate-limit headers.
Steps 3 and 4 are one Redis round trip (``RateLimiter.hit_if_present``); a miss counts nothing and falls
through. Nothing here writes; only GETs of the listed paths are
looked at. The middleware sits inside the request-id/metrics, CORS and trusted-host middlewares, so their
headers and checks apply to both paths.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Receive, Scope, Send

from cloudoptima.domain.rbac import has_permission
from cloudoptima.services.rate_limits import Decision
from cloudoptima.services.revocation import deny_keys
from cloudoptima.services.tokens import TokenError
from cloudoptima_gateway.deps import REVOKED_DETAIL, rate_limit_detail
from cloudoptima_gateway.observability import ROUTE_LABEL, send_json
from cloudoptima_gateway.runtime import Runtime

CACHED_READS: Final[Mapping[str, str]] = {
    "/v1/costs/overview": "read:costs",
    "/v1/costs/forecast": "read:costs",
    "/v1/costs/by-service": "read:costs",
}
"""Path → the permission its route requires (the routes' ``Permission(...)``)."""


def edge_text(path: str, query_string: str | bytes, today: str | None = None) -> str:
    """The edge text of a request: path, query with parameters sorted (order-insensitive), UTC day."""
    raw = query_string.decode("latin-1") if isinstance(query_string, bytes) else query_string
    canonical = urlencode(sorted(parse_qsl(raw, keep_blank_values=True)))
    return f"{today or datetime.now(UTC).date().isoformat()}|{path}?{canonical}"


def bearer_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers") or ():
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None


class CachedReadMiddleware:
    """Answers cached cost GETs before routing (see module contract)."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        permission = CACHED_READS.get(scope.get("path", "")) if scope["type"] == "http" else None
        if (
            permission is None
            or scope.get("method") != "GET"
            or not await self._answer(scope, send, permission)
        ):
            await self.app(scope, receive, send)

    async def _answer(self, scope: Scope, send: Send, permission: str) -> bool:
        """True when the request was answered here; False sends it down the normal path."""
        token = bearer_token(scope)
        if token is None or token.startswith("co_"):
            return False
        try:
            claims = self.runtime.issuer().verify(token)
        except TokenError:
            return False
        if not has_permission(claims.role, permission):
            return False
        tier = self.runtime.cached_tier(claims.organization_id)
        if tier is None:
            return False
        version_key, prefix, suffix = self.runtime.cost_cache().edge_address(
            claims.organization_id, edge_text(scope["path"], scope.get("query_string", b""))
        )
        found = await self.runtime.limiter().hit_if_present(
            f"user:{claims.user_id}",
            tier,
            deny_key=deny_keys(claims.user_id, jti=claims.jti, session_id=claims.session_id),
            version_key=version_key,
            prefix=prefix,
            suffix=suffix,
        )
        if found is None:
            return False
        decision, body = found
        scope[ROUTE_LABEL] = scope["path"]  # the metrics' route template (no route was matched)
        if not decision.allowed:
            await send_refusal(send, decision, tier)
        else:
            await send_json(
                send,
                200,
                body.encode(),
                [
                    (b"x-cache", b"hit"),
                    (b"x-ratelimit-limit", str(decision.limit).encode()),
                    (b"x-ratelimit-remaining", str(decision.remaining).encode()),
                ],
            )
        return True


async def send_refusal(send: Send, decision: Decision, tier: str) -> None:
    """The 401 (a revoked token, session or user) or 429 that ``deps.current_principal`` answers for ``decision``."""
    if decision.denied:
        body = json.dumps({"detail": REVOKED_DETAIL}).encode()
        await send_json(send, 401, body, [(b"www-authenticate", b"Bearer")])
        return
    await send_json(
        send,
        429,
        json.dumps({"detail": rate_limit_detail(decision, tier)}).encode(),
        [
            (b"retry-after", str(max(decision.retry_after, 1)).encode()),
            (b"x-ratelimit-limit", str(decision.limit).encode()),
        ],
    )
