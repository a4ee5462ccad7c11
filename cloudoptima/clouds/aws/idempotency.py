"""Idempotency records of executed actions: one :class:`ActionResult` per idempotency key.

Contract: :meth:`IdempotencyStore.get` returns the result stored for a key or None; :meth:`put` stores the
first result of a key (a second ``put`` for the same key keeps the first). :meth:`lock` serialises the
executions of one key so two concurrent calls cannot both act. The in-memory store lives as long as the
process; pass a durable implementation of the protocol to survive restarts.
"""

from __future__ import annotations

import threading
from typing import Protocol

from cloudoptima.clouds.protocol import ActionResult


class IdempotencyStore(Protocol):
    """Where executed actions are remembered by key."""

    def get(self, key: str) -> ActionResult | None: ...

    def put(self, key: str, result: ActionResult) -> None: ...

    def lock(self, key: str) -> threading.Lock: ...


class MemoryIdempotencyStore:
    """Process-local store (thread-safe)."""

    def __init__(self) -> None:
        self._results: dict[str, ActionResult] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: str) -> ActionResult | None:
        """The first result stored under ``key``."""
        with self._guard:
            return self._results.get(key)

    def put(self, key: str, result: ActionResult) -> None:
        """Remember ``result`` unless ``key`` already has one."""
        with self._guard:
            self._results.setdefault(key, result)

    def lock(self, key: str) -> threading.Lock:
        """The lock that serialises executions under ``key``."""
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())
