"""Native formats map onto FOCUS columns per the FinOps Foundation rules (and our documented deviations)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.ingest.conftest import FIXTURES, read_all


def test_cur_v1_rows_map_to_focus_columns() -> None:
    table = read_all(FIXTURES / "focus_converters" / "aws_cur_v1_anonymized_2023-11.csv").table
    rows = table.to_pylist()
    tax = next(row for row in rows if row["charge_category"] == "Tax")
    assert tax["charge_period_start"] == datetime(2023, 11, 1, tzinfo=UTC)
    assert tax["charge_period_end"] == datetime(2023, 12, 1, tzinfo=UTC)
    assert tax["billing_period_start"] == datetime(2023, 11, 1, tzinfo=UTC)
    assert tax["invoice_issuer_name"] == "Amazon Web Services Canada, Inc."
    assert tax["charge_frequency"] == "Recurring"
    usage = next(row for row in rows if row["charge_category"] == "Usage" and row["service_name"])
    assert usage["provider_name"] == "AWS"
    assert usage["charge_frequency"] == "Usage-Based"
    assert usage["sub_account_id"] == "123412340534"
    categories = {row["service_category"] for row in rows}
    assert {"Storage", "Analytics", "Integration"} <= categories
    extensions = json.loads(usage["extensions"])
    assert "identity/LineItemId" in extensions
    assert "lineItem/UnblendedCost" not in extensions


def test_azure_daily_rows_get_end_exclusive_periods() -> None:
    table = read_all(FIXTURES / "focus_converters" / "azure_ea_actual_anonymized_2023-09.csv").table
    row = table.slice(0, 1).to_pylist()[0]
    assert row["charge_period_start"] == datetime(2023, 9, 2, tzinfo=UTC)
    assert row["charge_period_end"] == datetime(2023, 9, 3, tzinfo=UTC)
    assert row["billing_period_start"] == datetime(2023, 9, 1, tzinfo=UTC)
    assert row["billing_period_end"] == datetime(2023, 10, 1, tzinfo=UTC)
    assert row["billed_cost"] == "0.000305367"
    assert json.loads(row["tags"]) == {"tagA": "valueA", "tagB": "valueB", "tagC": "valueC"}
    assert row["service_category"] == "Compute"  # microsoft.compute, matched case-insensitively
    assert row["pricing_category"] == "Standard"
    assert row["charge_frequency"] == "Usage-Based"


def test_azure_reservation_purchase_and_amortised_commitments() -> None:
    actual = read_all(FIXTURES / "finops_toolkit" / "azure_ea_actualcost_small.csv").table.to_pylist()
    purchase = next(row for row in actual if row["charge_category"] == "Purchase")
    assert purchase["commitment_discount_type"] == "Reservation"
    assert purchase["billed_cost"] == "3.25"
    amortised = read_all(FIXTURES / "finops_toolkit" / "azure_ea_amortizedcost_small.csv").table.to_pylist()
    assert {row["pricing_category"] for row in amortised} == {"Standard", "Committed"}


def test_azure_nonsense_currency_is_quarantined() -> None:
    summary = read_all(FIXTURES / "koku" / "azure" / "azure_version_2.csv").summary
    assert summary.rows_accepted == 0
    assert {record.raw_value for record in summary.quarantine} == {"MC"}
    assert {record.column for record in summary.quarantine} == {"BillingCurrencyCode"}


def test_oci_rows_and_tags() -> None:
    table = read_all(FIXTURES / "focus_converters" / "oci_cost_report_2023-11.csv").table
    rows = table.to_pylist()
    first = rows[0]
    assert first["charge_period_start"] == datetime(2023, 11, 13, 10, tzinfo=UTC)
    assert first["billing_period_start"] == datetime(2023, 11, 1, tzinfo=UTC)
    assert first["billing_period_end"] == datetime(2023, 12, 1, tzinfo=UTC)
    assert first["service_category"] == "Databases"
    assert json.loads(first["tags"])["Oracle-Tags.CreatedBy"] == "default/phil.newman@oracle.com"
    second = next(row for row in rows if row["source_line"] == 3)
    assert second["billed_cost"] == "0.000000002323760000"  # source text 2.323760000E-9, expanded exactly


def test_gcp_labels_periods_and_regions() -> None:
    table = read_all(FIXTURES / "koku" / "gcp" / "2022-08-01_5.csv").table
    row = table.slice(0, 1).to_pylist()[0]
    assert row["billing_period_start"] == datetime(2022, 8, 1, 7, tzinfo=UTC)  # midnight Pacific (PDT)
    assert row["billing_period_end"] == datetime(2022, 9, 1, 7, tzinfo=UTC)
    assert row["region_id"] == "us-central1"
    assert row["resource_name"] == "instance-1"
    assert row["service_category"] == "Compute"
    assert row["pricing_quantity"] == "0.00001385"
