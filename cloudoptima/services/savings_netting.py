"""What a realised-savings measurement nets out of the bill (#22): month length and price changes.

Pure functions over :class:`CostLine` (one resource's cost of one day for one price key); the measurement
itself is :mod:`cloudoptima.services.realised_savings`.

Contract:

- **Month length.** A line priced per month (its pricing unit names a month: ``GB-Mo``, ``GB-Month``,
  ``1 GB/Month``, ``GiBy.mo``) is spread by the bill over the days of its billing period (a 31-day January
  bills ``1/31`` of the monthly price a day). Such a line counts ``cost × period_days / 30.4375`` (the
  ledger's month is 365.25 / 12 days), so ``× 30.4375`` gives back the monthly price whatever the month's
  length. Lines priced per hour, request, … count their cost as billed.
- **Price changes.** A line's unit price is ``cost / quantity`` (``PricingQuantity``, else
  ``ConsumedQuantity``). The *reference price* of a price key (``SkuPriceId``, else ``SkuId``, else the
  meter, with the pricing unit) is its unit price over the before window (Σ cost / Σ quantity); for a key
  first billed after the change (a resize's new size, a kept snapshot) it is its unit price on its first
  billed day of the after window (the bill holds no earlier price for it: a price change before that day is
  not seen). An after-window line whose unit price differs from its key's reference by more than
  :data:`PRICE_TOLERANCE` (relative; rounding stays below it) is repriced at ``quantity × reference``; the
  difference (actual − repriced) is the line's *price effect* — positive when prices rose. Lines without a
  price key or a positive quantity are never repriced (their basis is ``not_netted``).
- Only the after window is repriced: the before window is the reference.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from cloudoptima.domain.savings import DAYS_PER_MONTH, PriceBasis, PriceBasisKind

PRICE_TOLERANCE = Decimal("0.005")
"""A unit price within 0.5 % of its reference is the same price (rounding of cost and quantity)."""
_MONTHLY_UNIT = re.compile(r"(?i)(?:^|[^a-z])(?:mo|month|months)(?:[^a-z]|$)")
_PRICE = Decimal("0.0000000001")


def is_monthly_unit(unit: str | None) -> bool:
    """Whether a pricing unit is priced per month (``GB-Mo``, ``GB-Month``, ``1 GB/Month``, ``GiBy.mo``)."""
    return bool(unit) and _MONTHLY_UNIT.search(unit or "") is not None


@dataclass(frozen=True)
class CostLine:
    """One resource's cost on one UTC day for one price key.

    ``period_days``: the days of the billing period when the line is priced per month (None otherwise)."""

    day: date
    cost: Decimal
    price_key: str = ""
    quantity: Decimal | None = None
    period_days: int | None = None

    def month_factor(self) -> Decimal:
        """``period_days / 30.4375`` for a per-month price, else 1 (see the module contract)."""
        return Decimal(self.period_days) / DAYS_PER_MONTH if self.period_days else Decimal(1)

    def normalised(self, cost: Decimal | None = None) -> Decimal:
        """``cost`` (default: the line's) counted per the month-length rule."""
        return (self.cost if cost is None else cost) * self.month_factor()


def lines_from_daily(daily: dict[date, Decimal]) -> list[CostLine]:
    """Lines without a price key or quantity (nothing is netted): one a day."""
    return [CostLine(day=day, cost=cost) for day, cost in sorted(daily.items())]


@dataclass(frozen=True)
class Netted:
    """The windows' costs after the netting (per day, month-normalised)."""

    before: dict[date, Decimal]
    after_actual: dict[date, Decimal]
    after_repriced: dict[date, Decimal]
    prices: list[PriceBasis]


def _price(lines: Iterable[CostLine]) -> Decimal | None:
    cost, quantity = Decimal(0), Decimal(0)
    for line in lines:
        if line.quantity is not None and line.quantity > 0:
            cost += line.cost
            quantity += line.quantity
    return (cost / quantity).quantize(_PRICE) if quantity > 0 else None


def net(before: Sequence[CostLine], after: Sequence[CostLine], *, window_days: int) -> Netted:
    """Net ``after`` (the after window's lines) against the reference prices of ``before`` (see the module
    contract); ``window_days`` turns a key's price effect into a daily figure for :class:`PriceBasis`."""
    before_days: dict[date, Decimal] = defaultdict(Decimal)
    by_key_before: dict[str, list[CostLine]] = defaultdict(list)
    for line in before:
        before_days[line.day] += line.normalised()
        if line.price_key:
            by_key_before[line.price_key].append(line)
    by_key_after: dict[str, list[CostLine]] = defaultdict(list)
    actual: dict[date, Decimal] = defaultdict(Decimal)
    repriced: dict[date, Decimal] = defaultdict(Decimal)
    for line in after:
        actual[line.day] += line.normalised()
        if line.price_key:
            by_key_after[line.price_key].append(line)
        else:
            repriced[line.day] += line.normalised()
    prices: list[PriceBasis] = []
    for key in sorted(by_key_after):
        lines = by_key_after[key]
        reference = _price(by_key_before.get(key, ()))
        kind = PriceBasisKind.BEFORE_WINDOW
        if reference is None and key not in by_key_before:
            priced = sorted((line for line in lines if line.quantity), key=lambda line: line.day)
            if priced:
                reference = _price(line for line in lines if line.day == priced[0].day)
                kind = PriceBasisKind.FIRST_AFTER_DAY
        if reference is None:
            kind = PriceBasisKind.NOT_NETTED
        effect = Decimal(0)
        for line in lines:
            cost = line.cost
            if reference is not None and line.quantity is not None and line.quantity > 0:
                unit = line.cost / line.quantity
                if abs(unit - reference) > PRICE_TOLERANCE * reference:
                    cost = line.quantity * reference
            repriced[line.day] += line.normalised(cost)
            effect += line.normalised() - line.normalised(cost)
        prices.append(
            PriceBasis(
                price_key=key,
                basis=kind,
                reference_unit_price=reference,
                after_unit_price=_price(lines),
                effect_monthly=(effect / window_days * DAYS_PER_MONTH).quantize(Decimal("0.01")),
            )
        )
    return Netted(dict(before_days), dict(actual), dict(repriced), prices)
