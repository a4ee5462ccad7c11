"""Azure Cost Management's own monthly totals (#21 D cost-data trust), against the strict fake: one Monthly
query per basis (ActualCost = billed, AmortizedCost = effective), summed over the account's scopes, exact."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from cloudoptima.clouds.month_totals import MonthTotalsSource
from cloudoptima.clouds.protocol import CredentialsError
from cloudoptima_evals.fakes.azure.server import FakeAzureServer
from tests.clouds.azure.conftest import READER_ID, READER_SECRET, Estate, ProviderFactory


def test_month_totals_are_the_whole_months_actual_and_amortised_cost(
    fake: FakeAzureServer, estate: Estate, make_provider: ProviderFactory
) -> None:
    provider = make_provider()
    assert isinstance(provider, MonthTotalsSource)
    totals = provider.month_totals(date(2024, 3, 1), date(2024, 5, 1))
    march = estate.cost_total + Decimal("99")  # the whole month, also the day outside the cost window
    assert [(t.month, t.basis, t.currency, t.total) for t in totals] == [
        (date(2024, 3, 1), "billed", "USD", march),
        (date(2024, 3, 1), "effective", "USD", march),
    ]  # April has no cost: no number, not a zero
    assert totals[0].source == "Azure Cost Management query Monthly ActualCost"
    assert fake.count("POST", r"CostManagement/query") == 2
    scoped = make_provider(resource_groups=["rg-eu"]).month_totals(date(2024, 3, 1), date(2024, 4, 1))
    assert [t.total for t in scoped if t.basis == "billed"] == [
        sum((Decimal("1.0013") + Decimal(i) / 100 for i in range(5)), Decimal(0))
    ]


def test_a_missing_permission_is_named(estate: Estate, make_provider: ProviderFactory) -> None:
    with pytest.raises(CredentialsError) as raised:
        make_provider(READER_ID, READER_SECRET).month_totals(date(2024, 3, 1), date(2024, 4, 1))
    assert raised.value.permission == "Microsoft.CostManagement/query/action"
