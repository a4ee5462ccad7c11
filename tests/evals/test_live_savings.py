"""Realised savings judged on an estate written apart from the product (``cloudoptima_evals/live_savings.py``):
an AWS account in moto, its FOCUS 1.2 bill from AWS's public prices, recommendations applied by hand, the
ledger read over REST and held to the floors a user would accept (``live_savings.FLOORS``: MAPE <= 5 %, no
item off by more than 10 %, every applied item measured once 7 days of after-data exist, none measured
before, month totals = the sum of their items). One run of the path serves both tests."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cloudoptima_evals import live_savings
from tests.evals.conftest import LiveGateway


@pytest.fixture(scope="module")
def result(live_gateway: LiveGateway) -> dict[str, Any]:
    measured = live_savings.run(live_gateway.api, live_gateway.engine, live_gateway.providers)
    print(json.dumps(measured, indent=2, default=str))
    return measured


def test_the_user_path_runs_and_the_ledger_is_honest(result: dict[str, Any]) -> None:
    assert result["collection_failures"] == []
    assert len(result["accepted"]) == 9, result["accepted"]  # every planted waste item was recommended
    assert result["applied"] == 5
    assert result["early_read_honest"], result["early_read_problems"]  # nothing measured on 3 days of 7
    assert result["months_equal_items"], result["months"]
    stops = [item for item in result["items"] if item["action"] == "stop"]
    assert [item["status"] for item in stops] == ["measured", "measured"], stops


def test_the_floors_a_user_would_accept_hold(result: dict[str, Any]) -> None:
    assert result["failures"] == []
