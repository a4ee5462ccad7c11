"""The provider's own total of a billing month, as its cost API states it (#21 cost-data trust).

Contract:

- :class:`MonthTotal`: one billing month (its first day, UTC) on one cost basis — ``billed`` (what the
  invoice charges: AWS ``UnblendedCost``, Azure ``ActualCost``), ``effective`` (amortised: AWS
  ``AmortizedCost``, Azure ``AmortizedCost``) or ``blended`` (AWS ``BlendedCost``, informative) — in one
  currency, exact ``Decimal``, with ``source`` naming the API call and metric it came from.
- :class:`MonthTotalsSource` is an optional capability of a :class:`~cloudoptima.clouds.protocol.
  CloudProviderClient`: ``month_totals(start, end)`` answers the whole months whose first day lies in
  ``[start, end)`` (``start`` a first day); a month the provider gives no number for is simply absent.
  Errors are the protocol's (:class:`~cloudoptima.clouds.protocol.ProviderError`). Connectors without it
  give no provider total (reconciliation then says so).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

ProviderBasis = Literal["billed", "effective", "blended"]


class MonthTotal(BaseModel):
    """One billing month's total on one basis (module contract)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    month: date
    basis: ProviderBasis
    currency: str
    total: Decimal
    source: str


@runtime_checkable
class MonthTotalsSource(Protocol):
    """A connector that can state the provider's own monthly totals."""

    def month_totals(self, start: date, end: date) -> list[MonthTotal]:
        """The totals of the whole months whose first day lies in ``[start, end)``."""
        ...


def next_month(first: date) -> date:
    """The first day of the month after the one containing ``first``."""
    return (first.replace(day=1) + timedelta(days=32)).replace(day=1)


def months_between(start: date, end: date) -> list[date]:
    """The first days of the months that intersect ``[start, end)``."""
    months: list[date] = []
    month = start.replace(day=1)
    while month < end:
        months.append(month)
        month = next_month(month)
    return months
