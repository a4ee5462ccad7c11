"""Azure exports -> FOCUS commitment columns (#22): the reader already maps ReservationId / benefitId,
PricingModel and ChargeType; checked here for each charge type a commitment appears under.

Microsoft's amortised export writes a benefit's idle part as rows of ChargeType ``UnusedReservation`` /
``UnusedSavingsPlan`` carrying the benefit's id; the toolkit's small export has none, so two such rows are
added to a copy of it (copies of its reservation and savings plan rows with only ChargeType and Cost changed).
"""

from __future__ import annotations

import csv
from pathlib import Path

from tests.ingest.conftest import FIXTURES, read_all

AMORTISED = FIXTURES / "finops_toolkit" / "azure_ea_amortizedcost_small.csv"
ACTUAL = FIXTURES / "finops_toolkit" / "azure_ea_actualcost_small.csv"


def _with_unused_rows(tmp_path: Path) -> Path:
    with AMORTISED.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    reservation = next(r for r in rows if r["PricingModel"] == "Reservation")
    plan = next(r for r in rows if r["PricingModel"] == "SavingsPlan")
    extra = [
        {**reservation, "ChargeType": "UnusedReservation", "Cost": "0.164384"},
        {**plan, "ChargeType": "UnusedSavingsPlan", "Cost": "0.002"},
    ]
    path = tmp_path / "amortised_with_unused.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        writer.writerows([*rows, *extra])
    return path


def test_azure_used_unused_and_purchase_rows(tmp_path: Path) -> None:
    rows = read_all(_with_unused_rows(tmp_path)).table.to_pylist()
    benefit = [r for r in rows if r["commitment_discount_id"]]
    assert len(benefit) == 4
    seen = {
        (
            r["commitment_discount_type"],
            r["commitment_discount_status"],
            r["charge_category"],
            r["effective_cost"],
        )
        for r in benefit
    }
    assert seen == {
        ("Reservation", "Used", "Usage", "0.493152"),
        ("Reservation", "Unused", "Usage", "0.164384"),
        ("Savings Plan", "Used", "Usage", "0.006000000468"),
        ("Savings Plan", "Unused", "Usage", "0.002"),
    }
    assert {r["pricing_category"] for r in benefit} == {"Committed"}
    assert {r["commitment_discount_category"] for r in benefit} == {"Usage", "Spend"}
    names = {r["commitment_discount_name"] for r in benefit}
    assert names == {"ProdDS1VMReservation", "Compute_SavingsPlan_11-07-2022_09-55"}

    actual = read_all(ACTUAL).table.to_pylist()
    [purchase] = [r for r in actual if r["charge_category"] == "Purchase"]
    assert purchase["commitment_discount_type"] == "Reservation"
    assert purchase["commitment_discount_status"] is None  # a purchase is neither used nor unused
