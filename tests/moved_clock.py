"""``pytest --move-clock WHEN``: run the whole suite with this process's clock moved (time-machine).

``WHEN`` is ``+<N>d`` (N days after the real now) or an ISO instant (``2028-02-29T12:00:00Z``). The clock
keeps ticking from there. Python subprocesses the tests start (workers, MCP servers, ``cloudoptima up``)
move by the same offset (``moved_clock_site/sitecustomize.py`` on ``PYTHONPATH``); the embedded Postgres,
Redis and Temporal servers keep the real time. Used to prove the suite holds no date time bombs (README, "Time-independent tests"); CI runs the
date-sensitive paths at pinned dates in ``tests/kernel/test_moved_dates.py`` instead.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

_traveller: time_machine.travel | None = None


def parse_when(value: str, now: datetime) -> datetime:
    """The instant ``value`` names (``+<N>d`` relative to ``now``, else an ISO instant, UTC if naive)."""
    relative = re.fullmatch(r"\+(\d+)d", value)
    if relative:
        return now + timedelta(days=int(relative.group(1)))
    instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


@contextmanager
def real_clock() -> Iterator[None]:
    """Run the block on the real clock, then continue the moved clock where it would be.

    For test harness parts that cannot run under a patched clock (grpc's server start hangs under
    time-machine); product code never needs it.
    """
    global _traveller
    if _traveller is None:
        yield
        return
    moved, started = datetime.now(UTC), time.monotonic()
    _traveller.stop()
    try:
        yield
    finally:
        _traveller = time_machine.travel(moved + timedelta(seconds=time.monotonic() - started), tick=True)
        _traveller.start()
        time.time()  # a ticking traveller starts ticking at the first reading, not at start()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--move-clock",
        default=None,
        metavar="WHEN",
        help="run with this process's clock moved: +<N>d or an ISO instant (time-machine, ticking)",
    )


def pytest_configure(config: pytest.Config) -> None:
    global _traveller
    when = config.getoption("--move-clock")
    if when:
        real = datetime.now(UTC)
        destination = parse_when(when, real)
        os.environ["TEST_MOVED_CLOCK_OFFSET"] = str((destination - real).total_seconds())
        site = str(Path(__file__).with_name("moved_clock_site"))
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [site, os.environ.get("PYTHONPATH")]))
        _traveller = time_machine.travel(destination, tick=True)
        _traveller.start()
        time.time()  # a ticking traveller starts ticking at the first reading, not at start()


def pytest_report_header(config: pytest.Config) -> str | None:
    when = config.getoption("--move-clock")
    return f"clock moved to {datetime.now(UTC).isoformat()} ({when})" if when else None


def pytest_unconfigure(config: pytest.Config) -> None:
    global _traveller
    if _traveller is not None:
        _traveller.stop()
        _traveller = None
