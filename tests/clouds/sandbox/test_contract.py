"""The shared provider contract, run against each cloud flavour of a generated sandbox estate."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from cloudoptima.clouds.sandbox import catalog, read_cost_rows
from cloudoptima.clouds.sandbox.provider import SandboxProvider
from cloudoptima.clouds.sandbox.state import SandboxEstateStore
from cloudoptima.domain.inventory import InstanceAttributes
from tests.clouds.contract import ContractFacts, ProviderContract
from tests.clouds.sandbox.conftest import CLOCK, fixed, running_instance, unattached_disk


class TestSandboxContract(ProviderContract):
    @pytest.fixture(params=[0, 1, 2], ids=["aws", "azure", "gcp"])
    def facts(self, request: pytest.FixtureRequest, state_dir: Path) -> ContractFacts:
        store = SandboxEstateStore.open(state_dir)
        estate = store.estate()
        account = estate.accounts[request.param]
        instance = running_instance(estate, account.account_id, shrinkable=True)
        assert isinstance(instance.attributes, InstanceAttributes)
        smaller = catalog.next_smaller(instance.provider, instance.attributes.instance_type)
        assert smaller is not None
        expected = sum(
            (
                Decimal(row["BilledCost"])
                for row in read_cost_rows(store.estate_dir)
                if row["SubAccountId"] == account.account_id
            ),
            Decimal(0),
        )
        principal = next(p for p in estate.principals if p.account_id == account.account_id and p.credentials)
        spec = estate.spec
        return ContractFacts(
            provider=SandboxProvider(state_dir, account.account_id, clock=fixed(CLOCK)),
            running_instance_id=instance.resource_id,
            instance_region=instance.region,
            smaller_size=smaller.name,
            unattached_disk_id=unattached_disk(estate, account.account_id).resource_id,
            cost_start=spec.start,
            cost_end=spec.end,
            expected_cost_total=expected,
            metric_start=spec.end - timedelta(days=7),
            metric_end=spec.end,
            principal_with_key=principal.name,
        )
