"""The tool result cache: TTL expiry, LRU bound and counters (a fake monotonic clock, no sleeping)."""

from __future__ import annotations

from cloudoptima_tools.cache import ResultCache


def test_entries_expire_after_their_ttl_and_are_counted() -> None:
    now = [100.0]
    cache = ResultCache(ttl_seconds=10, clock=lambda: now[0])
    cache.put(("org-a", "tool", "{}"), "value")
    now[0] += 9
    assert cache.get(("org-a", "tool", "{}")) == ("value", 9)
    assert cache.get(("org-b", "tool", "{}")) is None
    now[0] += 2
    assert cache.get(("org-a", "tool", "{}")) is None
    assert cache.state() == {"hits": 1, "misses": 2, "entries": 0}


def test_oldest_entries_are_evicted_beyond_the_bound() -> None:
    cache = ResultCache(max_entries=2)
    for key in ("a", "b", "c"):
        cache.put((key,), key)
    assert cache.get(("a",)) is None
    hit = cache.get(("c",))
    assert hit is not None and hit[0] == "c"
    assert cache.state()["entries"] == 2
