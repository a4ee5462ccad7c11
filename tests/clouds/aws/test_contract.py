"""The shared provider contract, run against AwsProvider on a seeded moto server."""

from __future__ import annotations

import pytest

from cloudoptima.clouds.protocol import CloudProviderClient
from cloudoptima.domain.inventory import ResourceKind
from tests.clouds.aws.conftest import HOME, Estate, client, make_provider
from tests.clouds.contract import ContractFacts, ProviderContract


def _reports_every_kind(provider: CloudProviderClient) -> None:
    kinds = {r.kind for r in provider.inventory().items}
    assert kinds == set(ResourceKind), kinds


def _fresh_unattached_volume(estate: Estate) -> str:
    """An unattached volume shaped like the seeded one, new for each test.

    The moto estate lives for the whole module, and the restore contract deletes the unattached disk and
    gets it back under a new volume id (EC2 never reuses ids); each test therefore gets its own.
    """
    return str(
        client(estate.endpoint, "ec2").create_volume(
            AvailabilityZone=f"{HOME}a",
            Size=100,
            VolumeType="gp3",
            TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "team", "Value": "data"}]}],
        )["VolumeId"]
    )


class TestAwsContract(ProviderContract):
    @pytest.fixture
    def facts(self, estate: Estate) -> ContractFacts:
        return ContractFacts(
            provider=make_provider(estate),
            running_instance_id=estate.running_instance_id,
            instance_region=HOME,
            smaller_size="t3.medium",
            unattached_disk_id=_fresh_unattached_volume(estate),
            cost_start=estate.cost_start,
            cost_end=estate.cost_end,
            expected_cost_total=estate.cost_total,
            metric_start=estate.metric_start,
            metric_end=estate.metric_end,
            principal_with_key="alice",
            extra_checks=[_reports_every_kind],
        )
