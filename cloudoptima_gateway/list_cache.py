"""Cached list answers: a repeated list GET is answered from this process's memory while nothing it reads changed.

The hot list routes (:data:`CACHED_LISTS`) run several SQL statements on a request thread; dashboards and
agents ask them again and again. :class:`ListCacheMiddleware` files each 200 answer under what it depended on
and answers an identical later request from memory, on the event loop:

- the caller: a bearer access token that verifies and whose role holds the route's permission (anything else —
  an API key, a bad token, a missing permission, an unknown tier — goes down the normal path, which gives the
  normal answers); the user itself where the answer may depend on it (:data:`PER_USER`: ``owner=me``), else the
  organisation and role;
- the request: path, canonical query string and UTC day (``edge_cache.edge_text``: defaults such as "the last
  90 days" move with the day);
- the data: the organisation's :class:`~cloudoptima_gateway.change_feed.ChangeFeed` state after every commit
  made before the request arrived was counted (so a change is seen by the very next request, whichever
  process or worker made it) and the organisation's cost version (``cloudoptima.services.cache``: cost data
  writers bump it).

Every lookup, hit or miss, first counts the request against the caller's rate limit and refuses revoked tokens
in one Redis round trip that also reads the cost version (``RateLimiter.hit_reading``): a refusal is answered
here as the dependency answers it (401/429); on a miss the normal path reuses that decision instead of counting
again (``deps.current_principal``). An answer is kept for ``LIST_CACHE_SECONDS`` at most, less when the route
says it changes sooner by itself (``request.state.cache_until``: a snooze running out), and the cache holds at
most ``max_entries`` answers and ``max_bytes`` of bodies (least recently used go first). Requests that miss while
the same answer is being computed in this process wait for it (one computation after a change, not one per
caller). Without the change feed
(no connection) nothing is answered or stored here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cloudoptima.domain.rbac import has_permission
from cloudoptima.observability.metrics import CACHE_REQUESTS
from cloudoptima.services.cache import cost_version_key
from cloudoptima.services.rate_limits import Decision
from cloudoptima.services.revocation import deny_keys
from cloudoptima.services.tokens import TokenError
from cloudoptima_gateway.deps import CACHE_UNTIL, COUNTED
from cloudoptima_gateway.edge_cache import bearer_token, edge_text, send_refusal
from cloudoptima_gateway.memory_cache import MemoryCache
from cloudoptima_gateway.observability import ROUTE_LABEL, send_json
from cloudoptima_gateway.runtime import Runtime

CACHED_LISTS: Final[Mapping[str, str]] = {
    "/v1/budgets": "read:budgets",
    "/v1/recommendations": "read:recommendations",
    "/v1/resources/compute": "read:resources",
    "/v1/costs/anomalies": "read:costs",
    "/v1/cloud-accounts": "read:resources",
}
"""Path → the permission its route requires."""
PER_USER: Final[Mapping[str, str]] = {"/v1/recommendations": "owner"}
"""Lists whose answer may depend on who asks → the query parameter that makes it so (``owner=me``): with that
parameter the answer is kept per user. Everything else is kept per organisation and role (the routes read the
organisation only; the role is in the key so that a route that ever shows roles different fields stays
correct)."""


_REPLAYED_HEADERS: Final = frozenset({b"cache-control"})
"""Headers of the kept answer sent again with it (``send_json`` sets the length and the JSON
content type; the outer middlewares add theirs, ``Vary`` included, to every answer)."""


class ListCacheMiddleware:
    """Answers repeated list GETs from the runtime's :class:`~cloudoptima_gateway.memory_cache.MemoryCache` (see module contract)."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime
        self._filling: dict[tuple[object, ...], asyncio.Event] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        permission = CACHED_LISTS.get(scope.get("path", "")) if scope["type"] == "http" else None
        if (
            permission is None
            or scope.get("method") != "GET"
            or not await self._serve(scope, receive, send, permission)
        ):
            await self.app(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, permission: str) -> bool:
        """True when the request was answered (from memory, or by the app with its answer kept)."""
        cache = self.runtime.list_cache()
        token = bearer_token(scope)
        if cache is None or token is None or token.startswith("co_"):
            return False
        try:
            claims = self.runtime.issuer().verify(token)
        except TokenError:
            return False
        tier = self.runtime.cached_tier(claims.organization_id)
        if not has_permission(claims.role, permission) or tier is None:
            return False
        caller = f"user:{claims.user_id}"
        state = await self.runtime.change_feed().catch_up(claims.organization_id)
        if state is None:
            return False
        decision, cost_version = await self.runtime.limiter().hit_reading(
            caller,
            tier,
            deny_key=deny_keys(claims.user_id, jti=claims.jti, session_id=claims.session_id),
            read_key=cost_version_key(claims.organization_id),
        )
        if not decision.allowed:
            scope[ROUTE_LABEL] = scope["path"]
            await send_refusal(send, decision, tier)
            return True
        key = (
            claims.organization_id,
            claims.user_id if _per_user(scope) else claims.role,
            state.epoch,
            state.version,
            cost_version or "0",
            edge_text(scope["path"], scope.get("query_string", b"")),
        )
        entry = cache.get(key)
        if entry is None and (running := self._filling.get(key)) is not None:
            await (
                running.wait()
            )  # the same answer is being computed: wait for it instead of computing it again
            entry = cache.get(key)
        CACHE_REQUESTS.labels("list", "hit" if entry else "miss").inc()
        if entry is not None:
            scope[ROUTE_LABEL] = scope["path"]  # the metrics' route template (no route was matched)
            await send_json(
                send, 200, entry.body, [*entry.headers, *_limit_headers(decision), (b"x-cache", b"hit")]
            )
            return True
        scope.setdefault("state", {})[COUNTED] = (caller, decision)
        done = self._filling.setdefault(key, asyncio.Event())
        try:
            await self._fill(scope, receive, send, cache, key, state.epoch)
        finally:
            if self._filling.get(key) is done:
                del self._filling[key]
            done.set()
        return True

    async def _fill(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        cache: MemoryCache,
        key: tuple[object, ...],
        epoch: int,
    ) -> None:
        """Run the app, passing its answer on, and keep a complete 200 JSON answer under ``key``."""
        start: Message | None = None
        chunks: list[bytes] = []
        keep = True

        async def capture(message: Message) -> None:
            nonlocal start, keep
            if message["type"] == "http.response.start":
                start = message
                keep = message["status"] == 200
            elif message["type"] == "http.response.body" and keep:
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, capture)
        if not keep or start is None or self.runtime.change_feed().epoch != epoch:
            return
        raw = [(name.lower(), value) for name, value in start["headers"]]
        if (b"content-type", b"application/json") not in raw:
            return
        headers = tuple((name, value) for name, value in raw if name in _REPLAYED_HEADERS)
        cache.put(key, b"".join(chunks), headers, _seconds_left(scope))


def _per_user(scope: Scope) -> bool:
    """Whether the request's answer may depend on the user (see :data:`PER_USER`)."""
    parameter = PER_USER.get(scope["path"])
    if parameter is None:
        return False
    query = scope.get("query_string", b"").decode("latin-1")
    return any(name == parameter for name, _ in parse_qsl(query, keep_blank_values=True))


def _seconds_left(scope: Scope) -> float:
    """Seconds until the route's ``cache_until`` (infinite when it set none)."""
    until = scope.get("state", {}).get(CACHE_UNTIL)
    if not isinstance(until, datetime):
        return float("inf")
    return (until - datetime.now(UTC)).total_seconds()


def _limit_headers(decision: Decision) -> list[tuple[bytes, bytes]]:
    return [
        (b"x-ratelimit-limit", str(decision.limit).encode()),
        (b"x-ratelimit-remaining", str(decision.remaining).encode()),
    ]
