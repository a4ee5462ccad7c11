"""Lazily created connections the gateway shares: database engine, Redis client, Temporal client."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from cloudoptima.settings import Settings
from cloudoptima.storage.engine import engine_from_settings, session_factory


class Runtime:
    """Holds the app's connections; nothing connects until first use, and ``close`` releases all."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        self._redis: aioredis.Redis | None = None
        self._temporal: Client | None = None
        self._temporal_lock = asyncio.Lock()

    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = engine_from_settings(self.settings)
        return self._engine

    def sessions(self) -> sessionmaker[Session]:
        if self._sessions is None:
            self._sessions = session_factory(self.engine())
        return self._sessions

    def redis(self) -> aioredis.Redis:
        if self._redis is None:
            self._redis = aioredis.from_url(
                self.settings.resolved_redis_url(), socket_connect_timeout=2, decode_responses=True
            )
        return self._redis

    async def temporal(self) -> Client:
        async with self._temporal_lock:
            if self._temporal is None:
                self._temporal = await Client.connect(
                    self.settings.resolved_temporal_address(), namespace=self.settings.temporal_namespace
                )
            return self._temporal

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
        if self._engine is not None:
            self._engine.dispose()
