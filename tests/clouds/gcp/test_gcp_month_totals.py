"""The GCP billing export's own invoice-month totals (#21 D cost-data trust), against the strict BigQuery fake:
Σ cost + credits of the project per invoice.month, exact; no export table is a provider error that says so."""

from __future__ import annotations

from datetime import date

import pytest

from cloudoptima.clouds.month_totals import MonthTotalsSource, next_month
from cloudoptima.clouds.protocol import ProviderError
from tests.clouds.gcp.conftest import COST_END, COST_START, GcpWorld


def test_invoice_month_totals_of_the_project(world: GcpWorld) -> None:
    provider = world.provider()
    assert isinstance(provider, MonthTotalsSource)
    first = COST_START.replace(day=1)
    totals = provider.month_totals(first, next_month(first))
    assert [(t.month, t.basis, t.currency) for t in totals] == [(first, "billed", "USD")]
    assert totals[0].total == world.state.expected_total(first, next_month(first)) > 0
    assert totals[0].source == "GCP billing export cost + credits per invoice.month"
    assert next_month(first) >= COST_END  # the seeded costs all lie in that month
    assert provider.month_totals(date(2001, 1, 1), date(2001, 2, 1)) == []  # no rows: no number


def test_no_export_table_is_a_provider_error(world: GcpWorld) -> None:
    with pytest.raises(ProviderError, match="billing export table is not configured"):
        world.provider(billing_export_table=None).month_totals(date(2024, 1, 1), date(2024, 2, 1))
