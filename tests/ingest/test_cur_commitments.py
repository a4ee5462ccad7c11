"""CUR reservation and Savings Plans rows -> FOCUS commitment columns and derived Unused rows (#22).

The fixture (``tests/fixtures/aws_commitments/cur_ri_sp_2024-03.csv``, README beside it) is one March 2024
daily CUR: a 1-year Partial Upfront m5.large RI (0.03/h upfront + 0.03/h recurring, 744 h in March, used
684 h) and a Compute Savings Plan of 0.10/h from 30 March (2.40 a day; used 2.40 then 1.20).
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.ingest.conftest import FIXTURES, oracle_sum, read_all

CUR = FIXTURES / "aws_commitments" / "cur_ri_sp_2024-03.csv"
RI = "arn:aws:ec2:us-east-1:111122223333:reserved-instances/4b2a9f1e-0c3d-4e5f-8a7b-1c2d3e4f5a6b"
SP = "arn:aws:savingsplans::111122223333:savingsplan/7e8d9c0b-1a2b-4c3d-9e8f-0a1b2c3d4e5f"


def _rows(path: Path = CUR) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = read_all(path).table.to_pylist()
    return rows


def _line(rows: list[dict[str, Any]], line: int, status: str | None = None) -> dict[str, Any]:
    """The output row of source line ``line`` (the derived Unused row when ``status`` is Unused)."""
    found = [
        r
        for r in rows
        if r["source_line"] == line and (status is None or r["commitment_discount_status"] == status)
    ]
    if status is None:
        found = [r for r in found if r["commitment_discount_status"] != "Unused"]
    assert len(found) == 1, found
    return found[0]


def test_each_line_item_type_maps_to_focus_commitment_columns() -> None:
    rows = _rows()
    fee = _line(rows, 2)  # Fee: the RI's upfront payment
    assert (fee["charge_category"], fee["charge_frequency"]) == ("Purchase", "One-Time")
    assert (fee["billed_cost"], fee["effective_cost"]) == ("262.80", "0")
    assert fee["commitment_discount_id"] == RI and fee["commitment_discount_status"] is None
    assert fee["commitment_discount_type"] == "Reserved Instances (RI)"
    assert fee["commitment_discount_category"] == "Usage"

    ri_fee = _line(rows, 3)  # RIFee: March's recurring fee; its unused part moved to the derived row
    assert (ri_fee["charge_category"], ri_fee["charge_frequency"]) == ("Purchase", "Recurring")
    assert (ri_fee["billed_cost"], ri_fee["effective_cost"]) == ("22.32", "0")
    unused_ri = _line(rows, 3, "Unused")
    assert (unused_ri["charge_category"], unused_ri["charge_frequency"]) == ("Usage", "Usage-Based")
    # UnusedAmortizedUpfrontFeeForBillingPeriod 1.80 + UnusedRecurringFee 1.80 (60 h x 0.03 each)
    assert Decimal(unused_ri["effective_cost"]) == Decimal("1.80") + Decimal("1.80")
    assert unused_ri["billed_cost"] == "0" and unused_ri["list_cost"] == "0"
    assert unused_ri["pricing_category"] == "Committed" and unused_ri["consumed_quantity"] is None
    # reservation/UnusedNormalizedUnitQuantity: 60 h x m5.large's normalisation factor 4
    assert (unused_ri["commitment_discount_quantity"], unused_ri["commitment_discount_unit"]) == (
        "240",
        "Normalized Units",
    )
    assert unused_ri["charge_period_start"] == ri_fee["charge_period_start"]
    assert unused_ri["charge_period_end"] == ri_fee["charge_period_end"]
    assert '"x_unused_commitment_of": "RIFee"' in unused_ri["extensions"]

    discounted = _line(rows, 5)  # DiscountedUsage of 2 March: 12 h
    assert (discounted["charge_category"], discounted["commitment_discount_status"]) == ("Usage", "Used")
    assert discounted["pricing_category"] == "Committed"
    assert (discounted["billed_cost"], discounted["effective_cost"]) == ("0", "0.72")  # 12 h x 0.06
    assert discounted["list_cost"] == "1.152"  # 12 h x 0.096 on demand
    assert discounted["commitment_discount_quantity"] == "48"  # lineItem/NormalizedUsageAmount

    sp_fee_full, sp_fee_half = _line(rows, 35), _line(rows, 38)  # SavingsPlanRecurringFee, 30 and 31 March
    assert (sp_fee_full["charge_category"], sp_fee_full["charge_frequency"]) == ("Purchase", "Recurring")
    assert Decimal(sp_fee_full["effective_cost"]) == 0 and sp_fee_full["billed_cost"] == "2.40"
    assert not [r for r in rows if r["source_line"] == 35 and r["commitment_discount_status"] == "Unused"]
    unused_sp = _line(rows, 38, "Unused")
    # TotalCommitmentToDate 2.40 - UsedCommitment 1.20
    assert Decimal(unused_sp["effective_cost"]) == Decimal("2.40") - Decimal("1.20")
    assert sp_fee_half["effective_cost"] == "0"
    assert unused_sp["commitment_discount_quantity"] is None  # a Savings Plan's quantity is money
    assert (unused_sp["commitment_discount_id"], unused_sp["commitment_discount_category"]) == (SP, "Spend")

    covered = _line(rows, 39)  # SavingsPlanCoveredUsage
    assert (covered["commitment_discount_status"], covered["pricing_category"]) == ("Used", "Committed")
    assert (covered["billed_cost"], covered["effective_cost"], covered["list_cost"]) == (
        "1.70",
        "1.20",
        "1.70",
    )
    assert covered["commitment_discount_type"] == "Savings Plan"
    negation = _line(rows, 40)  # SavingsPlanNegation: offsets the covered row's on-demand charge
    assert (negation["charge_category"], negation["commitment_discount_status"]) == ("Usage", "Used")
    assert (negation["billed_cost"], negation["effective_cost"]) == ("-1.70", "0")

    on_demand = _line(rows, 33)
    assert on_demand["commitment_discount_id"] is None and on_demand["commitment_discount_status"] is None
    assert on_demand["pricing_category"] == "Standard"


def _hand_effective_cost() -> Decimal:
    """The Foundation's EffectiveCost CASE summed over the source rows, straight from the CSV."""
    total = Decimal(0)
    with CUR.open(newline="") as handle:
        for r in csv.DictReader(handle):
            kind = r["lineItem/LineItemType"]
            if kind == "DiscountedUsage":
                total += Decimal(r["reservation/EffectiveCost"])
            elif kind == "RIFee":
                total += Decimal(r["reservation/UnusedAmortizedUpfrontFeeForBillingPeriod"])
                total += Decimal(r["reservation/UnusedRecurringFee"])
            elif kind == "SavingsPlanRecurringFee":
                total += Decimal(r["savingsPlan/TotalCommitmentToDate"]) - Decimal(
                    r["savingsPlan/UsedCommitment"]
                )
            elif kind == "SavingsPlanCoveredUsage":
                total += Decimal(r["savingsPlan/SavingsPlanEffectiveCost"])
            elif kind in ("Fee", "SavingsPlanNegation", "SavingsPlanUpfrontFee"):
                continue
            else:
                total += Decimal(r["lineItem/UnblendedCost"])
    return total


def test_file_totals_are_unchanged_by_the_derived_rows() -> None:
    result = read_all(CUR)
    totals = result.summary.totals[("aws", "USD")]
    assert result.summary.rows_quarantined == 0
    assert result.summary.rows_accepted == 40 + 2  # 40 source rows + the RIFee's and 31 March's Unused rows
    assert totals.billed_cost == oracle_sum(CUR, "lineItem/UnblendedCost") == Decimal("292.0796")
    # 29 days of RI use (28 x 24 h + 12 h = 684 h x 0.06 = 41.04) + RI unused 3.60 + on-demand 0.2496 + S3 1.23
    # + SP used 2.40 + 1.20 + SP unused 1.20 + on-demand c5 0.68
    assert totals.effective_cost == _hand_effective_cost() == Decimal("51.5996")
    # Used + unused per commitment = what was paid for it in March (FOCUS: Σ Used + Unused = Σ committed)
    rows = result.table.to_pylist()
    ri = sum(Decimal(r["effective_cost"]) for r in rows if r["commitment_discount_id"] == RI)
    assert ri == Decimal("22.32") + Decimal("22.32")  # amortised upfront + recurring fee of March
    sp = sum(Decimal(r["effective_cost"]) for r in rows if r["commitment_discount_id"] == SP)
    assert sp == 2 * Decimal("2.40")


def _as_cur2(tmp_path: Path) -> Path:
    """The fixture with CUR 2.0 / Data Exports column names (``lineItem/UnblendedCost`` ->
    ``line_item_unblended_cost``, ``reservation/ReservationARN`` -> ``reservation_reservation_a_r_n``)."""

    def snake(name: str) -> str:
        group, field = name.split("/")
        prefix = {"lineItem": "line_item", "savingsPlan": "savings_plan"}.get(group, group)
        chars = "".join("_" + c.lower() if c.isupper() else c for c in field).lstrip("_")
        return f"{prefix}_{chars}"

    lines = CUR.read_text().splitlines()
    header = ",".join(snake(name) for name in lines[0].split(","))
    out = tmp_path / "cur2.csv"
    out.write_text("\n".join([header, *lines[1:]]) + "\n")
    return out


def test_cur2_names_give_the_same_commitment_rows(tmp_path: Path) -> None:
    path = _as_cur2(tmp_path)
    assert "reservation_reservation_a_r_n" in path.read_text().splitlines()[0]
    assert read_all(path).summary.detected_formats == {str(path): "aws_cur2"}
    keys = (
        "source_line",
        "charge_category",
        "billed_cost",
        "effective_cost",
        "commitment_discount_id",
        "commitment_discount_status",
        "commitment_discount_quantity",
        "pricing_category",
    )
    assert [tuple(r[k] for k in keys) for r in _rows(path)] == [tuple(r[k] for k in keys) for r in _rows()]


def test_savings_plan_upfront_fee_is_a_one_time_purchase_with_no_effective_cost(tmp_path: Path) -> None:
    lines = CUR.read_text().splitlines()
    header = lines[0].split(",")
    row = dict.fromkeys(header, "")
    row.update(
        {
            "bill/PayerAccountId": "111122223333",
            "bill/BillingPeriodStartDate": "2024-03-01T00:00:00Z",
            "bill/BillingPeriodEndDate": "2024-04-01T00:00:00Z",
            "lineItem/LineItemType": "SavingsPlanUpfrontFee",
            "lineItem/UsageStartDate": "2024-03-30T00:00:00Z",
            "lineItem/UsageEndDate": "2024-03-30T01:00:00Z",
            "lineItem/CurrencyCode": "USD",
            "lineItem/UnblendedCost": "876",
            "savingsPlan/SavingsPlanARN": SP,
        }
    )
    path = tmp_path / "upfront.csv"
    path.write_text(lines[0] + "\n" + ",".join(row[h] for h in header) + "\n")
    (fee,) = _rows(path)
    assert (fee["charge_category"], fee["charge_frequency"]) == ("Purchase", "One-Time")
    assert (fee["billed_cost"], fee["effective_cost"]) == ("876", "0")
    assert fee["commitment_discount_id"] == SP and fee["commitment_discount_status"] is None


def test_an_ri_bought_inside_the_month_is_idle_only_from_its_start(tmp_path: Path) -> None:
    with CUR.open(newline="") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    ri_fee = next(r for r in rows if r["lineItem/LineItemType"] == "RIFee")
    ri_fee["reservation/StartTime"] = "2024-03-10T00:00:00.000Z"  # bought on 10 March
    path = tmp_path / "mid_month.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    out = _rows(path)
    unused, fee = _line(out, 3, "Unused"), _line(out, 3)
    assert (unused["charge_period_start"].isoformat(), unused["charge_period_end"].isoformat()) == (
        "2024-03-10T00:00:00+00:00",
        "2024-04-01T00:00:00+00:00",
    )
    assert fee["charge_period_start"].isoformat() == "2024-03-01T00:00:00+00:00"  # the fee row is untouched
    # unchanged fixture: the RI's term covers the whole month, so the derived row keeps the RIFee's period
    assert _line(_rows(), 3, "Unused")["charge_period_start"].isoformat() == "2024-03-01T00:00:00+00:00"


def test_a_negation_row_adds_no_list_cost(tmp_path: Path) -> None:
    """If a negation row carried the covered usage's on-demand cost, coverage would count it twice."""
    with CUR.open(newline="") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    for row in rows:
        if row["lineItem/LineItemType"] == "SavingsPlanNegation":
            row["pricing/publicOnDemandCost"] = row["lineItem/UnblendedCost"].lstrip("-")
    path = tmp_path / "negation_priced.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    out = _rows(path)
    assert [_line(out, n)["list_cost"] for n in (37, 40)] == ["0", "0"]
    assert _line(out, 39)["list_cost"] == "1.70"  # the covered row keeps its on-demand equivalent


def test_a_negative_remainder_stays_on_the_fee_row(tmp_path: Path) -> None:
    with CUR.open(newline="") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    fee = rows[38 - 2]  # source line 38 (line 1 is the header): 31 March's Savings Plan fee
    assert fee["lineItem/LineItemType"] == "SavingsPlanRecurringFee"
    fee["savingsPlan/UsedCommitment"] = "2.50"
    path = tmp_path / "over_used.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    out = _rows(path)
    assert not [r for r in out if r["source_line"] == 38 and r["commitment_discount_status"] == "Unused"]
    assert Decimal(_line(out, 38)["effective_cost"]) == Decimal("2.40") - Decimal("2.50")
