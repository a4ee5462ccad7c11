"""Cached cost answers per organisation, invalidated by bumping the organisation's cost-data version.

Contract:
- Every cached answer's key contains the organisation's current *cost version*
  (``cloudoptima:costver:{organization_id}``). Whoever lands new cost data for an organisation (ingestion,
  collection, a purge) calls :func:`bump_cost_version` (sync Redis client) or :func:`abump_cost_version`
  (asyncio client) after committing; every earlier answer of that organisation is then unreachable and
  expires by TTL. Other organisations' answers are untouched.
- :class:`CostCache` stores JSON text under ``cloudoptima:cache:{org}:{version}:{name}:{sha256(params)}``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Final

import redis
import redis.asyncio as aioredis

DEFAULT_TTL_S: Final = 300


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

    async def key(self, organization_id: uuid.UUID, name: str, params: dict[str, Any]) -> str:
        version = await self._client.get(cost_version_key(organization_id)) or "0"
        digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:40]
        return f"cloudoptima:cache:{organization_id}:{version}:{name}:{digest}"

    async def get_or_compute(
        self,
        organization_id: uuid.UUID,
        name: str,
        params: dict[str, Any],
        compute: Callable[[], Awaitable[str]],
    ) -> tuple[str, bool]:
        """``(json_text, hit)``: the cached answer, or ``compute()``'s, stored for next time."""
        key = await self.key(organization_id, name, params)
        found = await self._client.get(key)
        if found is not None:
            return str(found), True
        value = await compute()
        await self._client.set(key, value, ex=self._ttl)
        return value, False
