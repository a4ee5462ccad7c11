"""No read route runs SQL on the event loop: database work happens in worker threads, so one slow query never
stalls every other request of the process (issue #23). Every GET route without path parameters is called as an
admin of an organisation with costs; a listener on the gateway's engine records each statement executed in a
thread that is running an event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from cloudoptima.settings import Settings
from cloudoptima_gateway.route_table import api_routes
from cloudoptima_gateway.runtime import Runtime
from tests.gateway.conftest import add_daily_costs, make_org

TODAY = date(2026, 12, 7)
PERIOD = f"start_date={TODAY - timedelta(days=30)}&end_date={TODAY}"
TAGS = f"key=team&start={TODAY - timedelta(days=30)}&end={TODAY}"
QUERIES = {
    "/v1/costs/overview": PERIOD,
    "/v1/costs/by-allocation": f"dimension=team&{PERIOD}",
    "/v1/commitments/coverage": PERIOD,
    "/v1/commitments/utilisation": PERIOD,
    "/v1/data/unreconciled-days": PERIOD,
    "/v1/data/reconciliation": "month=2026-11",
    "/v1/tags/coverage": TAGS,
    "/v1/tags/untagged-resources": TAGS,
    "/v1/tags/untagged-spend": TAGS,
}
"""Required query parameters of some routes (the others run with their defaults)."""


@pytest.fixture
def on_loop(client: TestClient) -> Iterator[list[str]]:
    """Statements executed while the executing thread runs an event loop."""
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    engine: Engine = runtime.engine()
    found: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        found.append(statement.split("\n")[0][:120])

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_no_get_route_queries_the_database_on_the_event_loop(
    client: TestClient, engine: Engine, gateway_settings: Settings, on_loop: list[str]
) -> None:
    org = make_org(engine, gateway_settings)
    add_daily_costs(
        engine, org.id, [(TODAY - timedelta(days=n), "EC2", Decimal("12.50")) for n in range(1, 40)]
    )
    paths = sorted(
        {
            entry.path
            for entry in api_routes(client.app.routes)  # type: ignore[attr-defined]
            if "GET" in entry.methods and "{" not in entry.path and entry.path.startswith("/v1/")
        }
    )
    assert "/v1/costs/overview" in paths and "/v1/budgets" in paths and len(paths) > 30
    offenders: dict[str, list[str]] = {}
    statuses: dict[str, int] = {}
    for path in paths:
        query = QUERIES.get(path)
        for _ in range(2):  # a cached answer's second request takes the cache's path
            on_loop.clear()
            answer = client.get(f"{path}?{query}" if query else path, headers=org.headers())
            assert answer.status_code < 500, (path, answer.status_code, answer.text[:300])
            if on_loop:
                offenders[path] = list(on_loop)
            statuses[path] = answer.status_code
    assert sum(status == 200 for status in statuses.values()) > 40, statuses
    assert offenders == {}
