"""The before/after measurement of one change from its resources' cost lines (#22), net of month length, price
changes and replacement resources.

Contract of :func:`measure_lines` (the windows, statuses and confidence are those of
:mod:`cloudoptima.services.realised_savings`):

- Windows: before ``[e − N, e)``, after ``[d + 1, d + 1 + N)`` with ``d`` the change day and ``e`` the
  day of ``changed_after_day`` (the last day the old state was seen, when the change time is only known to
  lie in an interval) else ``d``: neither window holds a day on which the change may have happened.
- ``lines`` are the changed resources' :class:`~cloudoptima.services.savings_netting.CostLine` s, ``replacement``
  those of the resources that exist because of the change (a kept snapshot, a successor with a new id);
  only their after-window lines count, against the saving.
- Every line is month-normalised and the after window (resources and replacements) priced at the reference
  prices (:mod:`cloudoptima.services.savings_netting`). Before daily = Σ normalised before / days billed;
  after daily = Σ repriced after (replacements included) / ``N``; realised monthly = (before − after) ×
  30.4375 (cents, half-even).
- ``price_effect_monthly`` = (Σ actual − Σ repriced after) / ``N`` × 30.4375: what price changes added to
  the after window's bill (positive: prices rose) — *not* in the realised saving. ``replacement_monthly`` =
  Σ repriced replacement after / ``N`` × 30.4375 — inside it. ``prices`` names each after-window price key's
  reference price and basis.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from cloudoptima.domain.recommendations import money
from cloudoptima.domain.savings import DAYS_PER_MONTH, Confidence, Measurement, MeasurementStatus
from cloudoptima.services.savings_netting import CostLine, net

WINDOW_DAYS = 7
HIGH_CV = Decimal("0.10")
MEDIUM_CV = Decimal("0.30")
_DAILY = Decimal("0.000001")
_PERCENT = Decimal("0.01")
_DAY = timedelta(days=1)


def _avg(total: Decimal, days: int) -> Decimal:
    return (total / days).quantize(_DAILY, rounding=ROUND_HALF_EVEN)


def _cv(values: Sequence[Decimal]) -> Decimal | None:
    """Population standard deviation / mean (4 places); None when the mean is not positive."""
    mean = sum(values, Decimal(0)) / len(values)
    if mean <= 0:
        return None
    variance = sum(((v - mean) ** 2 for v in values), Decimal(0)) / len(values)
    return (variance.sqrt() / mean).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)


def days(start: date, end: date) -> Iterable[date]:
    """The UTC days ``[start, end)``."""
    day = start
    while day < end:
        yield day
        day += _DAY


def measure_lines(
    lines: Sequence[CostLine],
    *,
    change_day: date,
    as_of: datetime,
    billed_through: date | None,
    estimated_monthly: Decimal | None,
    currency: str | None,
    window_days: int = WINDOW_DAYS,
    replacement: Sequence[CostLine] = (),
    replacement_ids: Sequence[str] = (),
    changed_after_day: date | None = None,
) -> Measurement:
    """The measurement of one change (see the module contract)."""
    before_end = change_day if changed_after_day is None else min(changed_after_day, change_day)
    before_start, after_start = before_end - window_days * _DAY, change_day + _DAY
    after_end = after_start + window_days * _DAY
    base: dict[str, Any] = {
        "window_days": window_days,
        "change_day": change_day,
        "before_start": before_start,
        "after_start": after_start,
        "estimated_monthly": estimated_monthly,
        "currency": currency,
        "replacement_ids": sorted(replacement_ids),
    }
    in_before = [line for line in lines if before_start <= line.day < before_end]
    if not in_before:
        reason = "no cost rows for the resources in the before window"
        return Measurement(status=MeasurementStatus.UNMEASURABLE, reason=reason, **base)
    if as_of < datetime.combine(after_end, time(), UTC):
        reason = f"the after window ends on {after_end.isoformat()} (exclusive)"
        return Measurement(status=MeasurementStatus.MEASURING, reason=reason, **base)
    last_day = after_end - _DAY
    if billed_through is None or billed_through < last_day:
        reached = billed_through.isoformat() if billed_through else "no day"
        reason = f"the bill reaches {reached}; the after window's last day is {last_day.isoformat()}"
        return Measurement(status=MeasurementStatus.MEASURING, reason=reason, **base)
    in_after = [line for line in lines if after_start <= line.day < after_end]
    extra = [line for line in replacement if after_start <= line.day < after_end]
    netted = net(in_before, [*in_after, *extra], window_days=window_days)
    replaced = net(in_before, extra, window_days=window_days) if extra else None
    before = list(netted.before.values())
    before_daily = _avg(sum(before, Decimal(0)), len(before))
    after_daily = _avg(sum(netted.after_repriced.values(), Decimal(0)), window_days)
    effect = sum(netted.after_actual.values(), Decimal(0)) - sum(netted.after_repriced.values(), Decimal(0))
    realised_daily = before_daily - after_daily
    realised_monthly = money(realised_daily * DAYS_PER_MONTH)
    error = None
    if estimated_monthly:
        error = ((realised_monthly - estimated_monthly) / estimated_monthly * 100).quantize(
            _PERCENT, rounding=ROUND_HALF_EVEN
        )
    cv = _cv(before)
    complete = len(before) == window_days
    if complete and cv is not None and cv <= HIGH_CV:
        confidence = Confidence.HIGH
    elif complete and cv is not None and cv <= MEDIUM_CV:
        confidence = Confidence.MEDIUM
    else:
        confidence = Confidence.LOW
    replacement_monthly = None
    if replaced is not None:
        replacement_monthly = money(
            _avg(sum(replaced.after_repriced.values(), Decimal(0)), window_days) * DAYS_PER_MONTH
        )
    return Measurement(
        status=MeasurementStatus.MEASURED,
        before_daily=before_daily,
        after_daily=after_daily,
        realised_daily=realised_daily,
        realised_monthly=realised_monthly,
        error_percent=error,
        confidence=confidence,
        before_cv=cv,
        days_billed_before=len(before),
        price_effect_monthly=money(_avg(effect, window_days) * DAYS_PER_MONTH),
        replacement_monthly=replacement_monthly,
        prices=netted.prices,
        **base,
    )
