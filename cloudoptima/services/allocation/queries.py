"""Showback: cost by allocation value over ``[start, end)``, read from ``cost_allocated_daily``.

Contract: one :class:`CurrencyAllocation` per billing currency with cost in the window (largest first), each
listing every value with cost (``unallocated`` included) by cost descending then name. ``total_cost`` is the
sum of the values: re-allocation makes it equal the unallocated total exactly (property-tested). With
``reconcile`` the total is instead read from ``cost_daily`` (the overview's figure) and ``pending`` is the
part not yet allocated (cost rows newer than the last re-allocation; zero when up to date), so
``sum(values) + pending == total_cost`` exactly; without it ``pending`` is None (the check costs as much as
the overview's total). With ``granularity`` each value carries its series (only buckets with cost).
Reads only ``cost_allocated_totals`` (days x values rows of the dimension's ``active_version``: a primary-key
range), so it is as fast as the overview.

``cost_basis`` picks which cost every number is: ``billed`` (FOCUS ``BilledCost``, what the invoice charges;
the default, the overview's basis) or ``effective`` (FOCUS ``EffectiveCost``: amortised commitment purchases
and discounts; a cost row without one counts 0, as ``cost_daily`` sums it). The view states the basis it used.
List and contracted cost are not allocated.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

from sqlalchemy import Connection, text

from cloudoptima.domain.costs import CostQueryError
from cloudoptima.services.cost_analytics.queries import BUCKET_SQL, validate_range

AllocationGranularity = Literal["daily", "weekly", "monthly"]
CostBasis = Literal["billed", "effective"]
COST_BASES: tuple[CostBasis, ...] = ("billed", "effective")
_COLUMNS: dict[str, tuple[str, str]] = {
    "billed": ("billed_cost", "shared_cost"),
    "effective": ("effective_cost", "shared_effective_cost"),
}


@dataclass(frozen=True)
class SeriesPoint:
    period_start: date
    cost: Decimal


@dataclass
class ValueCost:
    value: str
    cost: Decimal
    shared_cost: Decimal
    series: list[SeriesPoint] = field(default_factory=list)


@dataclass
class CurrencyAllocation:
    currency: str
    total_cost: Decimal
    pending: Decimal | None
    values: list[ValueCost]


@dataclass(frozen=True)
class AllocationView:
    dimension: str
    version: int | None
    start_date: date
    end_date: date
    currencies: list[CurrencyAllocation]
    cost_basis: CostBasis = "billed"


def cost_by_allocation(
    connection: Connection,
    organization_id: uuid.UUID,
    dimension: str,
    start: date,
    end: date,
    *,
    granularity: AllocationGranularity | None = None,
    currency: str | None = None,
    reconcile: bool = False,
    cost_basis: CostBasis = "billed",
) -> AllocationView:
    """The module contract; LookupError for an unknown dimension, CostQueryError for a bad window or basis."""
    validate_range(start, end)
    if cost_basis not in _COLUMNS:
        raise CostQueryError(f"cost_basis must be one of billed, effective (got {cost_basis!r})")
    cost_column, shared_column = _COLUMNS[cost_basis]
    if granularity is not None and granularity not in BUCKET_SQL:
        raise CostQueryError(f"granularity must be one of daily, weekly, monthly (got {granularity!r})")
    found = connection.execute(
        text(
            "SELECT id, active_version FROM allocation_dimensions WHERE organization_id = :org AND name = :name"
        ),
        {"org": organization_id, "name": dimension},
    ).first()
    if found is None:
        raise LookupError(f"allocation dimension {dimension!r} not found")
    dimension_id, version = found
    params = {
        "org": organization_id,
        "dim": dimension_id,
        "ver": version,
        "d0": start,
        "d1": end,
        "cur": currency,
    }
    currency_sql = "AND billing_currency = :cur" if currency else ""
    totals = (
        {}
        if not reconcile
        else {
            cur: Decimal(total)
            for cur, total in connection.execute(
                text(
                    f"SELECT billing_currency, sum({cost_column}) FROM cost_daily WHERE organization_id = :org "
                    f"AND usage_date >= :d0 AND usage_date < :d1 {currency_sql} GROUP BY 1"
                ),
                params,
            )
        }
    )
    where = (
        "organization_id = :org AND dimension_id = :dim AND version = :ver AND usage_date >= :d0 "
        f"AND usage_date < :d1 {currency_sql}"
    )
    values: dict[str, dict[str, ValueCost]] = defaultdict(dict)
    if version is not None:
        for cur, value, cost, shared in connection.execute(
            text(
                f"SELECT billing_currency, value, sum({cost_column}), sum({shared_column}) "
                f"FROM cost_allocated_totals WHERE {where} GROUP BY 1, 2"
            ),
            params,
        ):
            values[cur][value] = ValueCost(value, Decimal(cost), Decimal(shared))
        if granularity is not None:
            bucket = BUCKET_SQL[granularity]
            for cur, value, period, cost in connection.execute(
                text(
                    f"SELECT billing_currency, value, {bucket}, sum({cost_column}) FROM cost_allocated_totals "
                    f"WHERE {where} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
                ),
                params,
            ):
                values[cur][value].series.append(SeriesPoint(period, Decimal(cost)))
    currencies = []

    def size(cur: str) -> Decimal:
        return totals[cur] if cur in totals else sum((v.cost for v in values[cur].values()), Decimal(0))

    for cur in sorted(set(totals) | set(values), key=lambda c: (-size(c), c)):
        items = sorted(values[cur].values(), key=lambda v: (-v.cost, v.value))
        allocated = sum((v.cost for v in items), Decimal(0))
        if reconcile:
            total = totals.get(cur, Decimal(0))
            currencies.append(CurrencyAllocation(cur, total, total - allocated, items))
        else:
            currencies.append(CurrencyAllocation(cur, allocated, None, items))
    return AllocationView(dimension, version, start, end, currencies, cost_basis)
