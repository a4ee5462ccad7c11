"""The before/after measurement of one change (pure, pinned clock): windows, measuring until the after window
has ended and is billed, the replacement hook, and the confidence rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from cloudoptima.domain.savings import Confidence, MeasurementStatus
from cloudoptima.services.realised_savings import measure

CHANGE = date(2026, 3, 8)


def _daily(before: list[str], after: list[str]) -> dict[date, Decimal]:
    days = {CHANGE - timedelta(days=len(before) - i): Decimal(v) for i, v in enumerate(before) if v}
    days[CHANGE] = Decimal("99")  # the change day is skipped
    days.update({CHANGE + timedelta(days=1 + i): Decimal(v) for i, v in enumerate(after) if v})
    return days


def test_measuring_until_the_after_window_has_ended_and_is_billed() -> None:
    daily = _daily(["10"] * 7, ["4"] * 7)
    early = measure(
        daily, change_day=CHANGE, as_of=datetime(2026, 3, 15, 23, 59, tzinfo=UTC),
        billed_through=date(2026, 3, 15), estimated_monthly=Decimal("100"), currency="USD",
    )  # fmt: skip
    assert early.status == MeasurementStatus.MEASURING and "2026-03-16" in (early.reason or "")
    unbilled = measure(
        daily, change_day=CHANGE, as_of=datetime(2026, 3, 16, tzinfo=UTC),
        billed_through=date(2026, 3, 14), estimated_monthly=Decimal("100"), currency="USD",
    )  # fmt: skip
    assert unbilled.status == MeasurementStatus.MEASURING and "reaches 2026-03-14" in (unbilled.reason or "")
    done = measure(
        daily, change_day=CHANGE, as_of=datetime(2026, 3, 16, tzinfo=UTC),
        billed_through=date(2026, 3, 15), estimated_monthly=Decimal("100"), currency="USD",
    )  # fmt: skip
    assert done.status == MeasurementStatus.MEASURED
    assert (done.realised_daily, done.realised_monthly, done.confidence) == (
        Decimal("6"),
        Decimal("182.62"),
        Confidence.HIGH,
    )
    assert done.error_percent == Decimal("82.62")
    netted = measure(
        daily, change_day=CHANGE, as_of=datetime(2026, 3, 16, tzinfo=UTC), billed_through=date(2026, 3, 15),
        estimated_monthly=None, currency="USD", replacement_daily={CHANGE + timedelta(days=1): Decimal("7")},
    )  # fmt: skip
    assert netted.realised_daily == Decimal("5") and netted.error_percent is None  # 10 − (4 + 1)


def test_confidence_follows_the_before_windows_stability_and_completeness() -> None:
    as_of, through = datetime(2026, 4, 1, tzinfo=UTC), date(2026, 3, 31)

    def confidence(before: list[str]) -> Confidence | None:
        result = measure(
            _daily(before, ["1"] * 7), change_day=CHANGE, as_of=as_of, billed_through=through,
            estimated_monthly=Decimal("10"), currency="USD",
        )  # fmt: skip
        return result.confidence

    assert confidence(["10", "10", "10", "10", "10", "10", "11"]) == Confidence.HIGH  # CV 0.0332
    assert confidence(["10", "14", "10", "14", "10", "14", "10"]) == Confidence.MEDIUM  # CV 0.1690
    assert confidence(["10", "30", "10", "30", "10", "30", "10"]) == Confidence.LOW  # CV 0.4714
    assert confidence(["", "10", "10", "10", "10", "10", "10"]) == Confidence.LOW  # a day not billed
    nothing = measure(
        _daily(["", "", "", "", "", "", ""], ["1"] * 7), change_day=CHANGE, as_of=as_of,
        billed_through=through, estimated_monthly=Decimal("10"), currency="USD",
    )  # fmt: skip
    assert nothing.status == MeasurementStatus.UNMEASURABLE
