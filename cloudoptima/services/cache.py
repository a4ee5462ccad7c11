"""Cached cost answers per organisation, invalidated by bumping the organisation's cost-data version.

Contract:
- Every cached answer's key contains the organisation's current *cost version*
  (``cloudoptima:costver:{organization_id}``). Whoever lands new cost data for an organisation (ingestion,
  collection, a purge) calls :func:`bump_cost_version` (sync Redis client) or :func:`abump_cost_version`
  (asyncio client) after committing; every earlier answer of that organisation is then unreachable and
  expires by TTL. Other organisations' answers are untouched.
- :class:`CostCache` stores JSON text under ``cloudoptima:cache:{org}:{version}:{name}:{sha256(params)}``.
- An answer may also be stored under a caller-chosen *edge* text (the gateway uses the request's path,
  canonical query and UTC day): ``cloudoptima:edge:{org}:{version}:{sha256(edge)}``, so a later identical
  request can be answered before any routing or parameter parsing by a script that reads the version and
  the entry in one round trip (:meth:`CostCache.edge_address`; the gateway uses
  ``RateLimiter.hit_if_present``). Same version rule, same TTL.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Final

import redis
import redis.asyncio as aioredis

from cloudoptima.observability.metrics import CACHE_REQUESTS

DEFAULT_TTL_S: Final = 300
EDGE_PREFIX: Final = "cloudoptima:edge:"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def cost_version_key(organization_id: uuid.UUID) -> str:
    return f"cloudoptima:costver:{organization_id}"


def bump_cost_version(client: redis.Redis, organization_id: uuid.UUID) -> int:
    """Invalidate the organisation's cached cost answers (sync callers: ingestion, activities)."""
    value: Any = client.incr(cost_version_key(organization_id))
    return int(value)


async def abump_cost_version(client: aioredis.Redis, organization_id: uuid.UUID) -> int:
    """As :func:`bump_cost_version`, for asyncio callers."""
    return int(await client.incr(cost_version_key(organization_id)))


class CostCache:
    """Read-through cache of cost answers (see module contract)."""

    def __init__(self, client: aioredis.Redis, *, ttl_s: int = DEFAULT_TTL_S) -> None:
        self._client = client
        self._ttl = ttl_s

    async def _version(self, organization_id: uuid.UUID) -> str:
        return str(await self._client.get(cost_version_key(organization_id)) or "0")

    async def key(self, organization_id: uuid.UUID, name: str, params: dict[str, Any]) -> str:
        version = await self._version(organization_id)
        return self._key(organization_id, version, name, params)

    @staticmethod
    def _key(organization_id: uuid.UUID, version: str, name: str, params: dict[str, Any]) -> str:
        digest = _digest(json.dumps(params, sort_keys=True, default=str))
        return f"cloudoptima:cache:{organization_id}:{version}:{name}:{digest}"

    async def get_or_compute(
        self,
        organization_id: uuid.UUID,
        name: str,
        params: dict[str, Any],
        compute: Callable[[], Awaitable[str]],
        *,
        edge: str | None = None,
    ) -> tuple[str, bool]:
        """``(json_text, hit)``: the cached answer, or ``compute()``'s, stored for next time (and under
        ``edge`` when given, see :meth:`edge_address`)."""
        version = await self._version(organization_id)
        key = self._key(organization_id, version, name, params)
        found = await self._client.get(key)
        hit = found is not None
        CACHE_REQUESTS.labels("cost", "hit" if hit else "miss").inc()
        value = str(found) if hit else await compute()
        if hit and edge is None:
            return value, True
        async with self._client.pipeline(transaction=False) as pipe:
            if not hit:
                pipe.set(key, value, ex=self._ttl)
            if edge is not None:
                _, prefix, suffix = self.edge_address(organization_id, edge)
                pipe.set(f"{prefix}{version}{suffix}", value, ex=self._ttl)
            await pipe.execute()
        return value, hit

    @staticmethod
    def edge_address(organization_id: uuid.UUID, edge: str) -> tuple[str, str, str]:
        """``(version_key, prefix, suffix)``: the entry is ``prefix + current version + suffix``, for callers
        that read it inside their own Redis script (``RateLimiter.hit_if_present``)."""
        return cost_version_key(organization_id), f"{EDGE_PREFIX}{organization_id}:", f":{_digest(edge)}"
