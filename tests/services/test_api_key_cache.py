"""``VerifiedKeyCache``: expiry on the injected clock, size bound, one check per key at a time, failures not kept."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from cloudoptima.services.api_key_cache import VerifiedKeyCache, change_markers, marker_ttl
from cloudoptima.services.api_keys import KeyIdentity


def _identity(role: str = "viewer") -> KeyIdentity:
    return KeyIdentity(key_id=uuid.uuid4(), user_id=uuid.uuid4(), organization_id=uuid.uuid4(), role=role)  # type: ignore[arg-type]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_after_the_ttl() -> None:
    clock = Clock()
    cache = VerifiedKeyCache(30, clock=clock)
    who = _identity()
    cache.put("co_a_secret", who)
    clock.now += 29.9
    assert cache.get("co_a_secret") == who
    clock.now += 0.1
    assert cache.get("co_a_secret") is None and len(cache) == 0


def test_zero_ttl_caches_nothing_and_bad_sizes_are_refused() -> None:
    cache = VerifiedKeyCache(0)
    cache.put("co_a_secret", _identity())
    assert cache.get("co_a_secret") is None
    with pytest.raises(ValueError, match="ttl_s must be at least 0"):
        VerifiedKeyCache(-1)
    with pytest.raises(ValueError, match="max_entries must be at least 1"):
        VerifiedKeyCache(5, max_entries=0)


def test_the_oldest_entry_goes_first_and_drops_by_key_and_user() -> None:
    cache = VerifiedKeyCache(30, max_entries=2, clock=Clock())
    first, second, third = _identity(), _identity(), _identity()
    cache.put("co_1_x", first)
    cache.put("co_2_x", second)
    cache.put("co_3_x", third)
    assert cache.get("co_1_x") is None and cache.get("co_2_x") == second and cache.get("co_3_x") == third
    cache.drop_key(second.key_id)
    cache.drop_user(third.user_id)
    assert len(cache) == 0


def test_markers_outlive_every_entry_cached_before_them() -> None:
    who = _identity()
    assert change_markers(who) == [
        f"cloudoptima:api-key-changed:{who.key_id}",
        f"cloudoptima:api-keys-changed-user:{who.user_id}",
    ]
    assert marker_ttl(30) == 31 and marker_ttl(0.5) == 2


def test_concurrent_first_uses_share_one_check_and_failures_are_not_kept() -> None:
    async def scenario() -> None:
        cache = VerifiedKeyCache(30, clock=Clock())
        who = _identity()
        calls = 0
        release = asyncio.Event()

        async def check() -> KeyIdentity | None:
            nonlocal calls
            calls += 1
            await release.wait()
            return who

        waiting = [asyncio.create_task(cache.verify("co_k_s", check)) for _ in range(5)]
        await asyncio.sleep(0)
        release.set()
        results = await asyncio.gather(*waiting)
        assert calls == 1 and all(found == who for found, _ in results)
        assert await cache.verify("co_k_s", check) == (who, True)

        async def refused() -> KeyIdentity | None:
            return None

        assert await cache.verify("co_bad_s", refused) == (None, False)
        assert cache.get("co_bad_s") is None

        async def broken() -> KeyIdentity | None:
            raise RuntimeError("database unavailable")

        with pytest.raises(RuntimeError, match="database unavailable"):
            await cache.verify("co_err_s", broken)
        assert cache.get("co_err_s") is None and not cache._pending

    asyncio.run(scenario())


def test_a_cancelled_check_lets_the_others_check_for_themselves() -> None:
    async def scenario() -> None:
        cache = VerifiedKeyCache(30, clock=Clock())
        who = _identity()
        started = asyncio.Event()

        async def hangs() -> KeyIdentity | None:
            started.set()
            await asyncio.Event().wait()
            return None

        async def answers() -> KeyIdentity | None:
            return who

        leader = asyncio.create_task(cache.verify("co_k_s", hangs))
        await started.wait()
        follower = asyncio.create_task(cache.verify("co_k_s", answers))
        await asyncio.sleep(0)
        leader.cancel()
        assert await follower == (who, False)
        with pytest.raises(asyncio.CancelledError):
            await leader

    asyncio.run(scenario())
