"""Lazily created connections the gateway shares: database engine, Redis client, Temporal client.

Besides the connections it holds the per-process helpers built on them: the token issuer, the rate limiter
and sign-in throttle, the cost cache, the change feed and list cache, a short-lived cache of organisations' subscription tiers and one of
verified API keys.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from cloudoptima.clouds.registry import ProviderRegistry
from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.api_key_cache import VerifiedKeyCache
from cloudoptima.services.cache import CostCache
from cloudoptima.services.rate_limits import LoginThrottle, RateLimiter
from cloudoptima.services.tokens import TokenIssuer
from cloudoptima.settings import Settings
from cloudoptima.storage.engine import make_engine, session_factory
from cloudoptima.storage.models import Organization
from cloudoptima_gateway.change_feed import ChangeFeed
from cloudoptima_gateway.memory_cache import MemoryCache
from cloudoptima_workflows.client import connect

TIER_TTL_S = 60.0
DB_POOL_SIZE = 45
REQUEST_SESSIONS = 40
"""At most this many request sessions at once (the pool keeps the rest for cost queries, audit, tiers)."""


class Runtime:
    """Holds the app's connections; nothing connects until first use, and ``close`` releases all."""

    def __init__(self, settings: Settings, *, providers: ProviderRegistry | None = None) -> None:
        self.settings = settings
        self._providers = providers
        self._background: set[asyncio.Future[Any]] = set()
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        self._redis: aioredis.Redis | None = None
        self._temporal: Client | None = None
        self._temporal_lock = asyncio.Lock()
        self._issuer: TokenIssuer | None = None
        self._limiter: RateLimiter | None = None
        self._throttle: LoginThrottle | None = None
        self._cache: CostCache | None = None
        self._cipher: CredentialCipher | None = None
        self._key_cache: VerifiedKeyCache | None = None
        self._tiers: dict[uuid.UUID, tuple[float, str]] = {}
        self._db_slots: asyncio.Semaphore | None = None
        self._change_feed: ChangeFeed | None = None
        self._list_cache: MemoryCache | None = None

    def engine(self) -> Engine:
        if self._engine is None:
            # Enough connections for every worker thread (anyio's default limit is 40) plus async paths.
            self._engine = make_engine(self.settings.resolved_database_url(), pool_size=DB_POOL_SIZE)
        return self._engine

    def sessions(self) -> sessionmaker[Session]:
        if self._sessions is None:
            self._sessions = session_factory(self.engine())
        return self._sessions

    def redis(self) -> aioredis.Redis:
        if self._redis is None:
            self._redis = aioredis.from_url(
                self.settings.resolved_redis_url(),
                socket_connect_timeout=2,
                decode_responses=True,
                max_connections=512,
            )
        return self._redis

    async def temporal(self) -> Client:
        async with self._temporal_lock:
            if self._temporal is None:
                self._temporal = await connect(
                    self.settings.resolved_temporal_address(), namespace=self.settings.temporal_namespace
                )
            return self._temporal

    # ---- helpers built on the connections ------------------------------------------------------------
    def issuer(self) -> TokenIssuer:
        if self._issuer is None:
            keys = self.settings.resolved_jwt_keys
            self._issuer = TokenIssuer(
                keys.current.secret,
                algorithm=self.settings.jwt_algorithm,
                access_minutes=self.settings.access_token_minutes,
                keys=keys,
            )
        return self._issuer

    def limiter(self) -> RateLimiter:
        if self._limiter is None:
            self._limiter = RateLimiter(self.redis())
        return self._limiter

    def login_throttle(self) -> LoginThrottle:
        if self._throttle is None:
            self._throttle = LoginThrottle(self.redis())
        return self._throttle

    def cost_cache(self) -> CostCache:
        if self._cache is None:
            self._cache = CostCache(self.redis())
        return self._cache

    def cipher(self) -> CredentialCipher:
        if self._cipher is None:
            self._cipher = CredentialCipher(self.settings.resolved_encryption_keys)
        return self._cipher

    def key_cache(self) -> VerifiedKeyCache:
        """This process's verified API keys (``API_KEY_CACHE_SECONDS``; ``cloudoptima.services.api_key_cache``)."""
        if self._key_cache is None:
            self._key_cache = VerifiedKeyCache(self.settings.api_key_cache_seconds)
        return self._key_cache

    def change_feed(self) -> ChangeFeed:
        """Committed changes per organisation (``cloudoptima_gateway.change_feed``; connects on first use)."""
        if self._change_feed is None:
            self._change_feed = ChangeFeed(
                self.settings.change_feed_database_url or self.settings.resolved_database_url()
            )
        return self._change_feed

    def list_cache(self) -> MemoryCache | None:
        """This process's cached list answers (``cloudoptima_gateway.list_cache``), None when
        ``LIST_CACHE_SECONDS`` is 0."""
        if self._list_cache is None and self.settings.list_cache_seconds > 0:
            self._list_cache = MemoryCache(ttl_s=self.settings.list_cache_seconds)
        return self._list_cache

    def db_slots(self) -> asyncio.Semaphore:
        """Admission for request-scoped sessions (see ``REQUEST_SESSIONS``)."""
        if self._db_slots is None:
            self._db_slots = asyncio.Semaphore(REQUEST_SESSIONS)
        return self._db_slots

    def providers(self) -> ProviderRegistry:
        """Builds provider clients of connected accounts (injected in tests, else from the cipher)."""
        if self._providers is None:
            self._providers = ProviderRegistry(self.cipher())
        return self._providers

    def background(self, task: asyncio.Future[Any]) -> None:
        """Keep a reference to work that may outlive its request (e.g. a slow verification)."""
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def cached_tier(self, organization_id: uuid.UUID) -> str | None:
        """The tier when it was read less than ``TIER_TTL_S`` ago (no I/O), else None."""
        cached = self._tiers.get(organization_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        return None

    def tier(self, organization_id: uuid.UUID) -> str:
        """The organisation's subscription tier, re-read from the database at most every minute."""
        now = time.monotonic()
        cached = self._tiers.get(organization_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        with self.sessions()() as session:
            tier = session.scalar(
                select(Organization.subscription_tier).where(Organization.id == organization_id)
            )
        value = tier or "free"
        self._tiers[organization_id] = (now + TIER_TTL_S, value)
        return value

    def forget_tier(self, organization_id: uuid.UUID) -> None:
        """Drop this process's cached tier (the organisation's tier changed; other replicas catch up within
        ``TIER_TTL_S``)."""
        self._tiers.pop(organization_id, None)

    async def close(self) -> None:
        if self._change_feed is not None:
            await self._change_feed.close()
        if self._redis is not None:
            await self._redis.aclose()
        if self._engine is not None:
            self._engine.dispose()
