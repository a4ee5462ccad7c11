"""What the realised-savings measurement nets (pure, pinned clock): a per-month price's month length, a price
change of a key billed before the change, a new key's price change after its first day, a replacement's cost,
and lines the bill gives no quantity for (counted as billed)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from cloudoptima.domain.savings import MeasurementStatus, PriceBasisKind
from cloudoptima.services.savings_measurement import measure_lines
from cloudoptima.services.savings_netting import CostLine, is_monthly_unit

CHANGE = date(2026, 1, 12)
AS_OF = datetime(2026, 1, 21, tzinfo=UTC)
THROUGH = date(2026, 1, 20)
BEFORE = [CHANGE - timedelta(days=7 - i) for i in range(7)]
AFTER = [CHANGE + timedelta(days=1 + i) for i in range(7)]


def _hours(day: date, key: str, price: str, hours: str = "24") -> CostLine:
    return CostLine(day=day, cost=Decimal(price) * Decimal(hours), price_key=key, quantity=Decimal(hours))


def test_a_per_month_price_is_measured_at_its_monthly_price_whatever_the_months_length() -> None:
    # a 100 GB disk at 0.08 / GB-Mo bills 8 / 31 a day in January; deleted: its saving is 8.00 a month
    cost, gb = (Decimal(8) / 31).quantize(Decimal("0.000001")), (Decimal(100) / 31).quantize(Decimal("1e-10"))
    disk = [CostLine(day, cost, "ebs.gp3|GB-Mo", gb, period_days=31) for day in BEFORE]
    result = measure_lines(
        disk, change_day=CHANGE, as_of=AS_OF, billed_through=THROUGH, estimated_monthly=Decimal("8"),
        currency="USD",
    )  # fmt: skip
    assert result.status is MeasurementStatus.MEASURED
    assert result.realised_monthly == Decimal("8.00")  # 7.86 counted over 30.4375 days of a 31-day bill
    assert result.price_effect_monthly == Decimal("0.00") and result.prices == []
    assert (is_monthly_unit("GB-Mo"), is_monthly_unit("1 GB/Month"), is_monthly_unit("GiBy.mo")) == (
        True,
        True,
        True,
    )
    assert (is_monthly_unit("Hours"), is_monthly_unit("Requests"), is_monthly_unit(None)) == (
        False,
        False,
        False,
    )


def test_a_price_change_in_the_after_window_is_not_counted_as_a_saving() -> None:
    # a VM resized from m5.xlarge (0.192/h) to m5.large (0.096/h); from the 3rd day after, m5.large is cut to 0.08
    before = [_hours(day, "m5.xlarge|Hours", "0.192") for day in BEFORE]
    after = [_hours(day, "m5.large|Hours", "0.096" if i < 2 else "0.08") for i, day in enumerate(AFTER)]
    result = measure_lines(
        before + after, change_day=CHANGE, as_of=AS_OF, billed_through=THROUGH,
        estimated_monthly=Decimal("70.13"), currency="USD",
    )  # fmt: skip
    assert result.realised_monthly == Decimal("70.13")  # 0.096 × 730.5: at the price in force at the change
    (basis,) = result.prices
    assert (basis.price_key, basis.basis, basis.reference_unit_price) == (
        "m5.large|Hours",
        PriceBasisKind.FIRST_AFTER_DAY,
        Decimal("0.096"),
    )
    # 5 of 7 days at 0.016/h less: −0.384 a day × 5 / 7 × 30.4375
    assert result.price_effect_monthly == Decimal("-8.35") and basis.effect_monthly == Decimal("-8.35")
    # the same key billed before is measured at its before-window price: a rise is not a loss
    kept = [_hours(day, "gp3|Hours", "1") for day in BEFORE] + [
        _hours(day, "gp3|Hours", "1.10", "12") for day in AFTER
    ]
    half = measure_lines(
        kept, change_day=CHANGE, as_of=AS_OF, billed_through=THROUGH, estimated_monthly=None, currency="USD"
    )
    assert half.realised_monthly == Decimal("365.25")  # 12 of 24 hours a day at the old price: half of 730.50
    assert (
        half.price_effect_monthly == Decimal("36.52") and half.prices[0].basis is PriceBasisKind.BEFORE_WINDOW
    )


def test_a_replacement_counts_against_the_saving_and_unpriced_lines_are_counted_as_billed() -> None:
    before = [CostLine(day=day, cost=Decimal("10")) for day in BEFORE]  # no quantity: never repriced
    after = [CostLine(day=day, cost=Decimal("12")) for day in AFTER[:3]]
    snapshot = [
        CostLine(day=day, cost=Decimal("1"), price_key="snap|GB-Mo", quantity=Decimal("20"), period_days=31)
        for day in [CHANGE - timedelta(days=1), *AFTER]  # its before-window day is not counted
    ]
    result = measure_lines(
        before + after, change_day=CHANGE, as_of=AS_OF, billed_through=THROUGH, estimated_monthly=None,
        currency="USD", replacement=snapshot, replacement_ids=["snap-1"],
    )  # fmt: skip
    # before 10 a day; after 36 / 7 + the snapshot's 31 / 30.4375 a day
    assert result.after_daily == Decimal("6.161338")
    assert result.replacement_monthly == Decimal("31.00") and result.replacement_ids == ["snap-1"]
    assert result.realised_monthly == Decimal("116.84")
    assert result.price_effect_monthly == Decimal("0.00")
    assert [p.basis for p in result.prices] == [PriceBasisKind.FIRST_AFTER_DAY]
