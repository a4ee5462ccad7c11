"""A small TTL cache for tool results (cost questions are asked again and again by assistants).

Contract: keys always include the organisation, so one tenant never reads another's entry; entries expire
``ttl_seconds`` after they were stored; at most ``max_entries`` are kept (oldest evicted). ``state()``
reports hits, misses and live entries the same way the AWS provider's Cost Explorer cache does.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

DEFAULT_TTL_SECONDS = 300


class ResultCache:
    """Thread-safe TTL + LRU cache (monotonic clock)."""

    def __init__(
        self,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        max_entries: int = 512,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[tuple[Any, ...], tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[Any, ...]) -> tuple[Any, float] | None:
        """``(value, age_seconds)`` of a live entry, or None."""
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or now - entry[0] > self.ttl_seconds:
                if entry is not None:
                    del self._entries[key]
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[1], now - entry[0]

    def put(self, key: tuple[Any, ...], value: Any) -> None:
        with self._lock:
            self._entries[key] = (self._clock(), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def state(self) -> dict[str, int]:
        """Counters: hits, misses, live entries."""
        now = self._clock()
        with self._lock:
            live = sum(1 for stored, _ in self._entries.values() if now - stored <= self.ttl_seconds)
            return {"hits": self.hits, "misses": self.misses, "entries": live}
