"""Schemathesis over ``/openapi.json``: every operation, called by an authenticated admin with generated
inputs (a few examples each), never answers 5xx and every documented response matches its schema.

The app runs in uvicorn on a free port (a real HTTP server: one event loop for the app's lifetime).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy import Engine

from cloudoptima.embedded.ports import free_port
from cloudoptima.settings import Settings
from cloudoptima_gateway.main import build_app
from tests.gateway.conftest import make_org

REVOKING = frozenset(
    {
        "POST /v1/auth/logout",
        "POST /v1/auth/logout-all",
        "POST /v1/auth/password",
        "PATCH /v1/users/{user_id}",
        "POST /v1/users/{user_id}/deactivate",
    }
)


@pytest.fixture(scope="module")
def server(gateway_settings: Settings) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(build_app(gateway_settings), host="127.0.0.1", port=port, log_level="warning")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{base}/health").status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    yield base
    instance.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def schema_and_auth(server: str, engine: Engine, gateway_settings: Settings) -> tuple[Any, Any]:
    schema = schemathesis.openapi.from_url(f"{server}/openapi.json")
    shared = make_org(engine, gateway_settings)

    def headers(label: str) -> dict[str, str]:
        # these revoke the token they are called with (or its user's sign-ins): give them a throwaway one
        org = make_org(engine, gateway_settings) if label in REVOKING else shared
        return {"Authorization": f"Bearer {org.tokens['admin']}"}

    return schema, headers


def test_every_operation_is_fuzzed_without_server_errors(
    schema_and_auth: tuple[Any, Any], server: str
) -> None:
    schema, headers = schema_and_auth
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40
    failures: list[str] = []
    statuses: list[int] = []

    def fuzz(operation: Any) -> None:
        label = operation.label

        @settings(max_examples=3, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            response = case.call_and_validate(
                base_url=server,
                headers=headers(label),
                checks=[not_a_server_error, response_schema_conformance],
                timeout=60,
            )
            statuses.append(response.status_code)

        try:
            run()
        except Exception as exc:
            failures.append(f"{label}: {str(exc)[:400]}")

    for operation in operations:
        fuzz(operation)
    assert not failures, "\n".join(failures)
    assert len(statuses) >= 2 * len(operations)
    assert sum(1 for code in statuses if code < 300) >= len(operations) // 2  # not all refused as invalid
