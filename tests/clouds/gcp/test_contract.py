"""The shared provider contract against GcpProvider and the strict GCP fakes."""

from __future__ import annotations

import pytest

from tests.clouds.contract import ContractFacts, ProviderContract
from tests.clouds.gcp.conftest import COST_END, COST_START, METRIC_END, METRIC_START, GcpWorld


@pytest.fixture
def facts(world: GcpWorld) -> ContractFacts:
    return ContractFacts(
        provider=world.provider(),
        running_instance_id=world.ids["web"],
        instance_region="us-central1",
        smaller_size="e2-standard-2",
        unattached_disk_id=world.ids["orphan_disk"],
        cost_start=COST_START,
        cost_end=COST_END,
        expected_cost_total=world.state.expected_total(COST_START, COST_END),
        metric_start=METRIC_START,
        metric_end=METRIC_END,
        principal_with_key="deployer@finops-demo.iam.gserviceaccount.com",
    )


class TestGcpContract(ProviderContract):
    """Every contract test, against GCP."""
