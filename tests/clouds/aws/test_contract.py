"""The shared provider contract, run against AwsProvider on a seeded moto server."""

from __future__ import annotations

import pytest

from cloudoptima.clouds.protocol import CloudProviderClient
from cloudoptima.domain.inventory import ResourceKind
from tests.clouds.aws.conftest import HOME, Estate, make_provider
from tests.clouds.contract import ContractFacts, ProviderContract


def _reports_every_kind(provider: CloudProviderClient) -> None:
    kinds = {r.kind for r in provider.inventory().items}
    assert kinds == set(ResourceKind), kinds


class TestAwsContract(ProviderContract):
    @pytest.fixture
    def facts(self, estate: Estate) -> ContractFacts:
        return ContractFacts(
            provider=make_provider(estate),
            running_instance_id=estate.running_instance_id,
            instance_region=HOME,
            smaller_size="t3.medium",
            unattached_disk_id=estate.unattached_volume_id,
            cost_start=estate.cost_start,
            cost_end=estate.cost_end,
            expected_cost_total=estate.cost_total,
            metric_start=estate.metric_start,
            metric_end=estate.metric_end,
            principal_with_key="alice",
            extra_checks=[_reports_every_kind],
        )
