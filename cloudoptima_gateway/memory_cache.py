"""Answers kept in this process's memory by key, least recently used first out, each until it expires.

Used by the list cache (``cloudoptima_gateway.list_cache``): what a key stands for, and when an answer must no
longer be found, is its business; this only bounds the count and the bytes and honours each answer's lifetime.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...]
    expires: float


class MemoryCache:
    """See module docstring; ``ttl_s`` caps every answer's lifetime."""

    def __init__(
        self,
        *,
        ttl_s: float,
        max_entries: int = 4096,
        max_bytes: int = 64 * 1024 * 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self._max_entries, self._max_bytes = max_entries, max_bytes
        self._clock = clock
        self._entries: OrderedDict[tuple[object, ...], Entry] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: tuple[object, ...]) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires <= self._clock():
            self._remove(key)
            return None
        self._entries.move_to_end(key)
        return entry

    def put(
        self, key: tuple[object, ...], body: bytes, headers: tuple[tuple[bytes, bytes], ...], ttl_s: float
    ) -> None:
        """Keep ``body`` for ``min(ttl_s, self.ttl_s)`` seconds (nothing when that is not positive)."""
        ttl = min(ttl_s, self.ttl_s)
        if ttl <= 0 or len(body) > self._max_bytes:
            return
        if key in self._entries:
            self._remove(key)
        self._entries[key] = Entry(body, headers, self._clock() + ttl)
        self._bytes += len(body)
        while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
            self._remove(next(iter(self._entries)))

    def _remove(self, key: tuple[object, ...]) -> None:
        entry = self._entries.pop(key)
        self._bytes -= len(entry.body)

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0
