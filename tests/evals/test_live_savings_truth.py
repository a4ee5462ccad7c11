"""The live savings eval's own arithmetic (no database, no moto): the bill it writes follows AWS's billing
rules and its truth is the saving at the prices before the change, net of what the change created; the score
catches an item off the truth, a dishonest early read and a month total that is not its items'."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from cloudoptima_evals import live_savings_bill as bill
from cloudoptima_evals.live_savings_estate import PRICE_CUT, Applied, truth_monthly
from cloudoptima_evals.live_savings_scoring import failures, score

BORN = datetime(2026, 8, 1, tzinfo=UTC)


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def test_compute_is_billed_per_second_and_storage_per_gb_month_of_the_calendar_month() -> None:
    vm = bill.Billed("i-1", "vm", [bill.Span(BORN, _at(12, 14, 20), "m5.xlarge")])
    assert bill.daily_cost(vm, date(2026, 11, 12), []) == Decimal("0.192") * (
        Decimal(14 * 3600 + 1200) / 3600
    )
    assert bill.daily_cost(vm, date(2026, 11, 13), []) == 0
    volume = bill.Billed("vol-1", "volume", [bill.Span(BORN, None, "gp2", Decimal(100))])
    assert bill.daily_cost(volume, date(2026, 10, 5), []) == Decimal(10) * 24 / 744  # October: 744 hours
    assert bill.daily_cost(volume, date(2026, 11, 5), []) == Decimal(10) * 24 / 720
    mean_day = bill.daily_cost(volume, date(2026, 11, 5), [], bill.MEAN_MONTH_HOURS)
    assert (mean_day * Decimal("30.4375")).quantize(
        Decimal("0.000001")
    ) == 10  # a month of it: its GB-month price


def test_a_price_cut_lowers_the_bill_from_its_day_but_not_the_truth() -> None:
    before = bill.Billed("i-2", "oversized", [bill.Span(BORN, None, "m5.2xlarge")])
    resized = bill.Billed(
        "i-2",
        "oversized",
        [bill.Span(BORN, _at(12, 5, 40), "m5.2xlarge"), bill.Span(_at(12, 5, 46), None, "m5.xlarge")],
    )
    assert bill.daily_cost(resized, date(2026, 11, 15), [PRICE_CUT]) == Decimal("0.192") * 24
    assert bill.daily_cost(resized, date(2026, 11, 16), [PRICE_CUT]) == Decimal("0.1728") * 24
    change = Applied("oversized", "i-2", "resize", _at(12, 5, 46), [before], [resized])
    assert truth_monthly(change) == Decimal("140.26")  # (0.384 - 0.192) x 24 x 30.4375


def test_the_truth_of_a_deleted_volume_is_net_of_the_snapshot_kept() -> None:
    volume = bill.Billed("vol-3", "unattached", [bill.Span(BORN, _at(12, 7, 25), "gp2", Decimal(100))])
    kept = bill.Billed(
        "arn:aws:ec2:us-east-1:1:snapshot/snap-3",
        "backup",
        [bill.Span(_at(12, 7, 10), None, "snapshot", Decimal(38))],
    )
    change = Applied("unattached", "vol-3", "snapshot_and_delete", _at(12, 7, 25), [volume], [volume, kept])
    assert truth_monthly(change) == Decimal("8.10")  # $10.00 of gp2 a month - 38 GB x $0.05 of snapshot


def test_the_export_is_focus_per_billing_period_up_to_its_day() -> None:
    egress = bill.Billed("i-4", "web", [bill.Span(BORN, None, "m5.xlarge")], Decimal("7.0"), noise_seed=3)
    snapshot = bill.Billed(
        "arn:aws:ec2:us-east-1:1:snapshot/snap-4", "old", [bill.Span(BORN, None, "snapshot", Decimal(64))]
    )
    rows = list(
        csv.DictReader(
            io.StringIO(bill.focus_csv([egress, snapshot], date(2026, 11, 1), date(2026, 11, 3), []).decode())
        )
    )
    assert {r["ChargePeriodStart"] for r in rows} == {"2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z"}
    assert {r["BillingPeriodStart"] for r in rows} == {"2026-11-01T00:00:00Z"}
    assert {r["ResourceId"] for r in rows} == {"i-4", "arn:aws:ec2:us-east-1:1:snapshot/snap-4"}
    transfer = [Decimal(r["ConsumedQuantity"]) for r in rows if r["ServiceCategory"] == "Networking"]
    assert len(set(transfer)) == 2 and all(Decimal("5.25") <= gb <= Decimal("8.75") for gb in transfer)


def _ledger(realised: str, status: str = "measured", month_total: str | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "recommendation_id": "r1",
        "applied_at": "2026-11-12T14:20:00Z",
        "estimated_monthly": "140.16",
    }
    row["measurement"] = {"status": status, "realised_monthly": realised if status == "measured" else None}
    total = month_total if month_total is not None else realised
    months = (
        [{"month": "2026-11", "measured": 1, "realised_monthly": {"USD": total}}]
        if status == "measured"
        else []
    )
    return {"items": [row], "months": months}


def test_the_score_catches_an_error_a_dishonest_early_read_and_a_month_off_its_items() -> None:
    change = Applied("idle", "i-5", "stop", _at(12, 14, 20), [], [], "r1", Decimal("140.26"))
    exact = score([change], _ledger("", "measuring"), _ledger("140.26"))
    assert (exact["mape_percent"], exact["measured"], failures(exact)) == (0.0, 1, [])
    off = score([change], _ledger("", "measuring"), _ledger("126.23"))
    assert off["mape_percent"] == 10.0 and off["mae_usd_month"] == "14.03"
    assert failures(off) == ["mape_percent 10.0 > 5.0"]
    early = score([change], _ledger("140.26"), _ledger("140.26"))
    assert early["early_read_honest"] is False
    months = score([change], _ledger("", "measuring"), _ledger("140.26", month_total="150.00"))
    assert months["months_equal_items"] is False
