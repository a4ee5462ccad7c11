"""Verified API keys remembered for a few seconds per process, so a key's requests skip the database and argon2.

Contract:

- :class:`VerifiedKeyCache` maps the SHA-256 of a key's plaintext (never the plaintext) to the
  :class:`~cloudoptima.services.api_keys.KeyIdentity` it verified as, for ``ttl_s`` seconds of the caller's
  monotonic clock; ``ttl_s == 0`` caches nothing. Only successful verifications are kept, at most
  ``max_entries`` (the oldest go first). :meth:`VerifiedKeyCache.verify` runs one verification per key at a
  time in a process: concurrent first requests with the same key share it.
- A change to a key or to its user must not wait for entries in *other* processes to expire. Whoever changes
  them sets, after the database change committed, a Redis marker (:func:`mark_key_changed` when a key is
  revoked, :func:`mark_user_keys_changed` for a role change, a deactivation or any revocation of the user's
  sign-ins) that lives :func:`marker_ttl` seconds, longer than any entry cached before the change. A cached
  identity is used only while neither marker exists (:func:`change_markers`, checked by the gateway in the
  same Redis round trip as the rate limit); otherwise the entry is dropped and the database decides again, so
  a revoked key is refused and a changed role applies on the next request, in every process.
- Side effect: ``api_keys.last_used_at`` is written when a key is verified against the database, so at most
  once per ``ttl_s`` per process while the key is in use.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Final

import redis.asyncio as aioredis

from cloudoptima.services.api_keys import KeyIdentity

KEY_CHANGED_PREFIX: Final = "cloudoptima:api-key-changed:"
USER_KEYS_CHANGED_PREFIX: Final = "cloudoptima:api-keys-changed-user:"
DEFAULT_MAX_ENTRIES: Final = 10_000


def key_digest(plaintext: str) -> str:
    """The cache address of a key: hex SHA-256 of its plaintext."""
    return hashlib.sha256(plaintext.encode()).hexdigest()


def key_changed_marker(key_id: uuid.UUID) -> str:
    return f"{KEY_CHANGED_PREFIX}{key_id}"


def user_keys_changed_marker(user_id: uuid.UUID) -> str:
    return f"{USER_KEYS_CHANGED_PREFIX}{user_id}"


def change_markers(identity: KeyIdentity) -> list[str]:
    """The markers whose presence makes a cached ``identity`` unusable (see module contract)."""
    return [key_changed_marker(identity.key_id), user_keys_changed_marker(identity.user_id)]


def marker_ttl(ttl_s: float) -> int:
    """Seconds a change marker lives: past the end of every entry cached before the change (``ttl_s``)."""
    return math.ceil(ttl_s) + 1


async def mark_key_changed(client: aioredis.Redis, key_id: uuid.UUID, *, ttl_s: float) -> None:
    """Make every process re-verify ``key_id`` against the database (after a committed revocation)."""
    await client.set(key_changed_marker(key_id), "1", ex=marker_ttl(ttl_s))


async def mark_user_keys_changed(client: aioredis.Redis, user_id: uuid.UUID, *, ttl_s: float) -> None:
    """Make every process re-verify every key of ``user_id`` (after a committed role change, deactivation or
    revocation of the user's sign-ins)."""
    await client.set(user_keys_changed_marker(user_id), "1", ex=marker_ttl(ttl_s))


class VerifiedKeyCache:
    """Identities of recently verified keys in this process (see module contract)."""

    def __init__(
        self,
        ttl_s: float,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_s < 0:
            raise ValueError(f"ttl_s must be at least 0, got {ttl_s}")
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        self.ttl_s = ttl_s
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, KeyIdentity]] = OrderedDict()
        self._pending: dict[str, asyncio.Future[KeyIdentity | None]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, plaintext: str) -> KeyIdentity | None:
        """The identity ``plaintext`` verified as less than ``ttl_s`` ago, else None (an expired entry goes)."""
        digest = key_digest(plaintext)
        found = self._entries.get(digest)
        if found is None:
            return None
        if found[0] <= self._clock():
            del self._entries[digest]
            return None
        return found[1]

    def put(self, plaintext: str, identity: KeyIdentity) -> None:
        """Remember a successful verification (nothing when ``ttl_s`` is 0)."""
        if self.ttl_s <= 0:
            return
        digest = key_digest(plaintext)
        self._entries.pop(digest, None)
        self._entries[digest] = (self._clock() + self.ttl_s, identity)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def drop(self, plaintext: str) -> None:
        self._entries.pop(key_digest(plaintext), None)

    def drop_key(self, key_id: uuid.UUID) -> None:
        """Forget every entry of ``key_id`` (this process's own revocation)."""
        for digest in [d for d, (_, who) in self._entries.items() if who.key_id == key_id]:
            del self._entries[digest]

    def drop_user(self, user_id: uuid.UUID) -> None:
        """Forget every entry of ``user_id``'s keys."""
        for digest in [d for d, (_, who) in self._entries.items() if who.user_id == user_id]:
            del self._entries[digest]

    async def verify(
        self, plaintext: str, check: Callable[[], Awaitable[KeyIdentity | None]]
    ) -> tuple[KeyIdentity | None, bool]:
        """``(identity, cached)``: the cached identity, else the result of ``check()`` (the database), stored
        when it succeeded. Concurrent calls for the same key while a check runs share it (its error too);
        when the caller running it is cancelled, the others check for themselves."""
        found = self.get(plaintext)
        if found is not None:
            return found, True
        digest = key_digest(plaintext)
        pending = self._pending.get(digest)
        if pending is not None:
            try:
                return await asyncio.shield(pending), False
            except asyncio.CancelledError:
                if not pending.cancelled():
                    raise  # this caller was cancelled, not the check
                return await self.verify(plaintext, check)
        future: asyncio.Future[KeyIdentity | None] = asyncio.get_running_loop().create_future()
        self._pending[digest] = future
        try:
            identity = await check()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: an error no other caller awaited is not logged as unhandled
            raise
        finally:
            self._pending.pop(digest, None)
        future.set_result(identity)
        if identity is not None:
            self.put(plaintext, identity)
        return identity, False
