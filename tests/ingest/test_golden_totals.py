"""Golden totals: ingest output sums equal the source files' sums exactly (Decimal), per provider/currency."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.ingest.conftest import FIXTURES, FOCUS_SAMPLE, decimal_sum, oracle_sum, read_all

MICRO = Decimal("0.000001")


def test_focus_official_sample_totals_match_the_file_exactly() -> None:
    result = read_all(FOCUS_SAMPLE)
    summary = result.summary
    assert summary.rows_read == summary.rows_accepted == 1000
    assert summary.total_billed_cost() == oracle_sum(FOCUS_SAMPLE, "BilledCost")
    assert summary.total_billed_cost().quantize(MICRO) == Decimal("20.520227")
    assert summary.totals[("aws", "USD")].billed_cost == Decimal("18.00663861840")
    assert summary.totals[("azure", "USD")].billed_cost == oracle_sum(
        FOCUS_SAMPLE, "BilledCost", {"ProviderName": "Microsoft"}
    )
    assert summary.totals[("oci", "USD")].billed_cost.quantize(Decimal("0.0001")) == Decimal("0.5371")
    assert summary.totals[("aws", "USD")].effective_cost == Decimal("13")
    assert summary.totals[("aws", "USD")].list_cost == oracle_sum(
        FOCUS_SAMPLE, "ListCost", {"ProviderName": "AWS"}
    )
    assert decimal_sum(result.table, "billed_cost") == summary.total_billed_cost()


def test_aws_cur_v1_unblended_cost_becomes_billed_cost_exactly() -> None:
    path = FIXTURES / "focus_converters" / "aws_cur_v1_anonymized_2023-11.csv"
    summary = read_all(path).summary
    assert summary.detected_formats == {str(path): "aws_cur"}
    assert summary.rows_accepted == 1281
    assert summary.totals[("aws", "USD")].billed_cost == oracle_sum(path, "lineItem/UnblendedCost")
    assert summary.total_billed_cost().quantize(MICRO) == Decimal("1.682309")
    assert summary.totals[("aws", "USD")].list_cost.quantize(MICRO) == Decimal("3.356173")


@pytest.mark.parametrize(
    ("relative", "column", "currency", "golden"),
    [
        (
            "focus_converters/azure_ea_actual_anonymized_2023-09.csv",
            "CostInBillingCurrency",
            "CAD",
            "1.261369",
        ),
        ("finops_toolkit/azure_ea_actualcost_small.csv", "Cost", "USD", "8.545008"),
        ("finops_toolkit/azure_ea_amortizedcost_small.csv", "Cost", "USD", "16.296932"),
    ],
)
def test_azure_ea_exports_keep_their_cost_exactly(
    relative: str, column: str, currency: str, golden: str
) -> None:
    path = FIXTURES / relative
    summary = read_all(path).summary
    assert summary.rows_quarantined == 0
    billed = summary.totals[("azure", currency)].billed_cost
    assert billed == oracle_sum(path, column)
    assert billed.quantize(MICRO) == Decimal(golden)


def test_oci_cost_report_my_cost_total() -> None:
    path = FIXTURES / "focus_converters" / "oci_cost_report_2023-11.csv"
    summary = read_all(path).summary
    assert summary.rows_accepted == 506
    assert summary.totals[("oci", "USD")].billed_cost == oracle_sum(path, "cost/myCost")
    assert summary.total_billed_cost().quantize(MICRO) == Decimal("2.523589")


def test_koku_cur2_snake_case_marketplace_rows() -> None:
    path = FIXTURES / "koku" / "aws" / "2022-07-01-alt-columns.csv"
    result = read_all(path)
    assert result.summary.detected_formats == {str(path): "aws_cur2"}
    assert result.table.num_rows == 2
    assert result.summary.total_billed_cost() == oracle_sum(path, "line_item_unblended_cost")
    assert set(result.table.column("sub_account_id").to_pylist()) == {"999999"}


def test_koku_cur_in_nok_keeps_its_currency() -> None:
    path = FIXTURES / "koku" / "aws" / "2023-06-01.csv"
    summary = read_all(path).summary
    assert list(summary.totals) == [("aws", "NOK")]
    assert (
        summary.totals[("aws", "NOK")].billed_cost
        == oracle_sum(path, "lineItem/UnblendedCost")
        == Decimal(30)
    )
    # SavingsPlanCoveredUsage: EffectiveCost comes from savingsPlan/SavingsPlanEffectiveCost.
    assert summary.totals[("aws", "NOK")].effective_cost == oracle_sum(
        path, "savingsPlan/SavingsPlanEffectiveCost"
    )


@pytest.mark.parametrize(
    ("name", "column"),
    [
        ("azure_camelCased.csv", "preTaxCost"),
        ("costreport_a243c6f2-199f-4074-9a2c-40e671cf1584.csv", "PreTaxCost"),
        ("camel_azure_version_2.csv", "costInBillingCurrency"),
    ],
)
def test_koku_azure_variants(name: str, column: str) -> None:
    path = FIXTURES / "koku" / "azure" / name
    summary = read_all(path).summary
    assert summary.detected_formats == {str(path): "azure"}
    assert summary.rows_quarantined == 0
    assert summary.totals[("azure", "USD")].billed_cost == oracle_sum(path, column)


def test_koku_gcp_credits_become_credit_rows() -> None:
    path = FIXTURES / "koku" / "gcp" / "202011_30c31bca571d9b7f3b2c8459dd8bc34a_2020-11-08_2020-11-11.csv"
    result = read_all(path)
    table = result.table
    categories = table.column("charge_category").to_pylist()
    credits = [i for i, category in enumerate(categories) if category == "Credit"]
    usage = [i for i, category in enumerate(categories) if category != "Credit"]
    assert len(usage) == 25
    assert credits, "FreeTrial credits must appear as Credit rows"
    usage_total = sum((Decimal(table.column("billed_cost")[i].as_py()) for i in usage), Decimal(0))
    assert usage_total == oracle_sum(path, "cost") == Decimal("0.000032")
    credit_total = sum((Decimal(table.column("billed_cost")[i].as_py()) for i in credits), Decimal(0))
    assert credit_total == -usage_total  # free trial covers everything: the invoice is zero
    assert result.summary.total_billed_cost() == 0
    first_credit = credits[0]
    assert table.column("source_line")[first_credit].as_py() >= 2
    assert "x_credit_type" in (table.column("extensions")[first_credit].as_py() or "")


def test_koku_oci_gbp_quarantines_rows_without_currency() -> None:
    path = FIXTURES / "koku" / "oci" / "reports_cost-csv_0001000000603747.csv"
    summary = read_all(path).summary
    assert summary.rows_accepted == 3
    assert summary.rows_quarantined == 2
    assert {(record.line, record.column, record.reason) for record in summary.quarantine} == {
        (2, "cost/currencyCode", "missing value"),
        (3, "cost/currencyCode", "missing value"),
    }
    assert summary.totals[("oci", "GBP")].billed_cost == oracle_sum(path, "cost/myCost")
