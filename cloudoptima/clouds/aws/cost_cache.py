"""A TTL cache of Cost Explorer answers: every CE request costs USD 0.01, so identical queries are reused.

Contract: keys are (account id, canonical query); an entry lives ``ttl`` from when it was stored, measured
by the injected clock; :meth:`CostQueryCache.state` reports hits, misses and live entries. Thread-safe.
The cache holds only cost data, never credentials.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, UTC."""
    return datetime.now(UTC)


def query_key(account_id: str, query: dict[str, Any]) -> tuple[str, str]:
    """The cache key of a query: the account plus the query's canonical JSON (sorted keys)."""
    return account_id, json.dumps(query, sort_keys=True, default=str)


class CostQueryCache:
    """Answers to Cost Explorer queries, kept for ``ttl``."""

    def __init__(
        self, ttl: timedelta = timedelta(hours=6), clock: Clock = utc_now, max_entries: int = 512
    ) -> None:
        self.ttl = ttl
        self._clock = clock
        self._max_entries = max_entries
        self._entries: dict[tuple[str, str], tuple[datetime, Any]] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[str, str]) -> Any | None:
        """The cached answer for ``key`` if still fresh (counts a hit), else None (counts a miss)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and self._clock() - entry[0] < self.ttl:
                self.hits += 1
                return entry[1]
            if entry is not None:
                del self._entries[key]
            self.misses += 1
            return None

    def put(self, key: tuple[str, str], answer: Any) -> None:
        """Store ``answer``; the oldest entry is dropped when the cache is full."""
        with self._lock:
            if len(self._entries) >= self._max_entries and key not in self._entries:
                oldest = min(self._entries, key=lambda k: self._entries[k][0])
                del self._entries[oldest]
            self._entries[key] = (self._clock(), answer)

    def clear(self) -> None:
        """Forget every answer (counters are kept)."""
        with self._lock:
            self._entries.clear()

    def state(self) -> dict[str, int]:
        """``{"hits", "misses", "entries"}`` for monitoring and tests."""
        with self._lock:
            now = self._clock()
            live = sum(1 for stored, _ in self._entries.values() if now - stored < self.ttl)
            return {"hits": self.hits, "misses": self.misses, "entries": live}
