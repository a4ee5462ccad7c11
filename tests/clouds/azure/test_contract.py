"""The shared provider contract against AzureProvider and the strict fake ARM."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cloudoptima.clouds.protocol import CloudProviderClient
from tests.clouds.azure.conftest import Estate, ProviderFactory
from tests.clouds.contract import ContractFacts, ProviderContract


class TestAzureContract(ProviderContract):
    @pytest.fixture
    def facts(self, estate: Estate, make_provider: ProviderFactory) -> ContractFacts:
        provider = make_provider()
        assert isinstance(provider, CloudProviderClient)
        metric_end = datetime.now(UTC).date()
        return ContractFacts(
            provider=provider,
            running_instance_id=estate.running_vm,
            instance_region="eastus",
            smaller_size="Standard_D2s_v5",
            unattached_disk_id=estate.unattached_disk,
            cost_start=estate.cost_start,
            cost_end=estate.cost_end,
            expected_cost_total=estate.cost_total,
            metric_start=metric_end - timedelta(days=2),
            metric_end=metric_end,
            principal_with_key="deployer-sp",
        )
