"""Live-path eval, Azure (``evals/live_azure.py``): an estate written in the strict Azure fake apart from the sandbox generator,
connected through the REST API, collected by the real connector, analysed; floors enforced here."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from evals import live_azure
from evals.live import run_cloud
from tests.evals.conftest import LiveGateway

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def result(live_gateway: LiveGateway) -> dict[str, Any]:
    found = run_cloud("azure", live_gateway.api, live_gateway.engine, live_gateway.providers, NOW)
    print(json.dumps(found, indent=2, default=str))
    return found


def test_live_azure_floors(result: dict[str, Any]) -> None:
    assert result["failures"] == []
    assert result["collection_failures"] == []
    assert result["critical_false_positives"] == 0, result["critical_details"]
    assert result["recall"] >= 0.9, result["missed"]
    assert result["precision"] >= 0.9, result["spurious"]
    assert result["first_analysis_found_all"] is True, result["missed"]
    assert len(result["costed"]) == 12, result["costed"]  # its 10 VMs and 2 unattached disks have costs
    assert result["savings_max_error_percent"] <= live_azure.MAX_SAVINGS_ERROR_PERCENT, result[
        "savings_vs_list_price"
    ]
