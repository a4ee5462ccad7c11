"""Live-path evals (``cloudoptima_evals/live_aws.py``, ``live_azure.py``, ``live_gcp.py``): estates written in moto and the
strict fakes apart from the sandbox generator, connected through the REST API, collected by the real
connectors, analysed; the CI floors are enforced here, one case per cloud."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import ModuleType

import pytest

from cloudoptima_evals import live_aws, live_azure, live_gcp
from cloudoptima_evals.live import run_cloud
from tests.evals.conftest import LiveGateway

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
# cloud -> (its eval module, resources whose costs the estate bills: None where it bills none)
CLOUDS: dict[str, tuple[ModuleType, int | None]] = {
    "aws": (live_aws, None),  # moto has no Cost Explorer data to plant
    "azure": (live_azure, 12),  # its 10 VMs and 2 unattached disks have costs
    "gcp": (live_gcp, 12),
}


@pytest.mark.parametrize("cloud", list(CLOUDS))
def test_live_floors(live_gateway: LiveGateway, cloud: str) -> None:
    module, costed = CLOUDS[cloud]
    result = run_cloud(cloud, live_gateway.api, live_gateway.engine, live_gateway.providers, NOW)
    print(json.dumps(result, indent=2, default=str))
    assert result["failures"] == []
    assert result["collection_failures"] == []
    assert result["critical_false_positives"] == 0, result["critical_details"]
    assert result["recall"] >= 0.9, result["missed"]
    assert result["precision"] >= 0.9, result["spurious"]
    assert result["first_analysis_found_all"] is True, result["missed"]
    if costed is not None:
        assert len(result["costed"]) == costed, result["costed"]
    assert result["savings_max_error_percent"] <= module.MAX_SAVINGS_ERROR_PERCENT, result[
        "savings_vs_list_price"
    ]
    forecasts = result["forecasts"]
    if cloud == "azure":  # Cost Management forecasts the subscription: shown beside ours over the same days
        (forecast,) = forecasts
        assert forecast["source"] == "azure-cost-management-forecast"
        assert forecast["days"] == 30
        assert forecast["ours_total"] is not None
        assert abs(forecast["difference_percent"]) <= 10.0, forecast  # a flat estate: both near its run-rate
    else:  # AWS: Cost Explorer has no history of this estate (DataUnavailable); GCP has no forecast API
        assert forecasts == []
