"""The prefetching iterator keeps order, propagates errors and stops its producer when abandoned."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from cloudoptima.services.prefetch import prefetch


def test_items_arrive_in_order() -> None:
    assert list(prefetch(iter(range(100)), depth=3)) == list(range(100))


def test_producer_error_surfaces_after_the_items_before_it() -> None:
    def failing() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("file.csv, line 3: bad")

    iterator = prefetch(failing())
    assert [next(iterator), next(iterator)] == [1, 2]
    with pytest.raises(ValueError, match="line 3"):
        next(iterator)


def test_abandoning_the_consumer_stops_the_producer() -> None:
    produced: list[int] = []

    def endless() -> Iterator[int]:
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    before = threading.active_count()
    iterator = prefetch(endless(), depth=2)
    assert next(iterator) == 0
    iterator.close()  # type: ignore[attr-defined]
    assert threading.active_count() <= before
    count = len(produced)
    assert count < 10, "the producer ran far ahead of a bounded queue"
