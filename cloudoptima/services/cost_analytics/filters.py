"""The SQL of :class:`~cloudoptima.domain.cost_filters.CostFilters` over ``cost_daily`` (the rollup) or
``cost_data`` (raw rows), and the per-group series of an overview.

Accounts are checked against the organisation's own ``cloud_accounts`` first: an id that is unknown or belongs
to another organisation is refused the same way (:class:`CostFilterError` naming ``cloud_account_id``), so the
answer never tells which. A tag filter on the rollup needs one of the organisation's rollup tag keys.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import Connection, text

from cloudoptima.domain.cost_filters import CostFilterError, CostFilters
from cloudoptima.domain.costs import GroupSeries, TimePoint

CENT = Decimal("0.01")
OTHER_KEY = "(other)"


def check_accounts(
    connection: Connection, organization_id: uuid.UUID, accounts: tuple[uuid.UUID, ...]
) -> None:
    """:class:`CostFilterError` unless every id is one of the organisation's cloud accounts."""
    if not accounts:
        return
    found = {
        row[0]
        for row in connection.execute(
            text("SELECT id FROM cloud_accounts WHERE organization_id = :org AND id = ANY(:ids)"),
            {"org": organization_id, "ids": list(accounts)},
        )
    }
    missing = sorted(str(a) for a in accounts if a not in found)
    if missing:
        raise CostFilterError("cloud_account_id", f"unknown cloud account {', '.join(missing)}")


def filter_sql(
    filters: CostFilters | None, table: str, tag_keys: tuple[str, ...]
) -> tuple[str, dict[str, Any]]:
    """`` AND ...`` clauses (empty when nothing is filtered) and their parameters for ``table``."""
    if filters is None or filters.empty():
        return "", {}
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if filters.accounts:
        clauses.append("cloud_account_id = ANY(:f_accounts)")
        params["f_accounts"] = list(filters.accounts)
    if filters.services:
        clauses.append("service_name = ANY(:f_services)")
        params["f_services"] = list(filters.services)
    if filters.regions:
        clauses.append("region_id = ANY(:f_regions)")
        params["f_regions"] = list(filters.regions)
    if filters.tag:
        key, value = filters.tag
        if table == "cost_daily":
            if key not in tag_keys:
                raise CostFilterError(
                    "tag",
                    f"tag key {key!r} is not a rollup tag key (one of: {', '.join(tag_keys) or 'none'})",
                )
            clauses.append("tag_values ->> :f_tag_key = :f_tag_value")
        else:
            clauses.append("tags ->> :f_tag_key = :f_tag_value")
        params |= {"f_tag_key": key, "f_tag_value": value}
    return "".join(f" AND {c}" for c in clauses), params


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def group_series(
    total: list[TimePoint],
    rows: Any,
    top: list[tuple[str, str | None]],
) -> list[GroupSeries]:
    """The ``top`` groups' (key, name) series from ``rows`` of (bucket, key, cost), each point in cents, and an
    ``other`` series holding the rest of the cent-rounded ``total`` per bucket (left out when it is zero
    throughout): per bucket, the groups add up exactly to ``cents(total)``."""
    found: dict[tuple[date, str], Decimal] = {}
    for bucket, key, cost in rows:
        found[(bucket, str(key))] = found.get((bucket, str(key)), Decimal(0)) + Decimal(cost)
    series: list[GroupSeries] = []
    listed = {p.date: Decimal(0) for p in total}
    for key, name in top:
        points = [TimePoint(date=p.date, cost=cents(found.get((p.date, key), Decimal(0)))) for p in total]
        for p in points:
            listed[p.date] += p.cost
        series.append(
            GroupSeries(key=key, name=name, total=sum((p.cost for p in points), Decimal(0)), points=points)
        )
    rest = [TimePoint(date=p.date, cost=cents(p.cost) - listed[p.date]) for p in total]
    if any(p.cost != 0 for p in rest):
        series.append(
            GroupSeries(
                key=OTHER_KEY,
                name="Other groups",
                other=True,
                total=sum((p.cost for p in rest), Decimal(0)),
                points=rest,
            )
        )
    return series
