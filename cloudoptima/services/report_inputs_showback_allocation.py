"""The input of the ``showback`` report by an allocation dimension (``dimension`` instead of ``tag_key``), filled
from the allocated rollup — what ``GET /v1/costs/by-allocation`` answers with — and the cost rollup, so its
lines sum exactly to ``/v1/costs/overview``'s total for the period and currency (#21 B).

Contract of :func:`allocation_showback_input` for one organisation, a dimension name and ``[start, end)``:

- ``dimension`` must name one of the organisation's allocation dimensions (else :class:`ReportInputError`
  ``dimension: …`` listing them); the previous period and the currency are chosen as for the tag showback;
- one line per value the dimension's ACTIVE version allocated billed cost to in either period (cost and
  previous cost from :func:`cloudoptima.services.allocation.queries.cost_by_allocation` with ``reconcile``),
  plus the ``unallocated`` line (present even when 0), plus a ``(not yet allocated)`` line when cost rows
  arrived after the last re-allocation (the overview's total minus the allocated sum, in either period);
  so the lines sum exactly to the overview's total and previous total;
- per value, every service's cost of the period from ``cost_allocated_daily`` (``COALESCE(service_name,
  '(none)')``); the pending line's services are the overview's per-service cost minus the allocated one.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Connection, text

from cloudoptima.reports.templates.showback import PENDING, UNALLOCATED, ServiceCost, ShowbackInput
from cloudoptima.reports.templates.spend import SpendLine
from cloudoptima.services.allocation.queries import AllocationView, cost_by_allocation
from cloudoptima.services.cost_analytics import CostAnalytics
from cloudoptima.services.report_inputs import (
    ReportInputError,
    chosen_currency,
    organisation_and_tag_keys,
    previous_period,
    validate_request,
)


def _view(
    connection: Connection, organization_id: uuid.UUID, dimension: str, start: date, end: date, currency: str
) -> AllocationView:
    try:
        return cost_by_allocation(
            connection, organization_id, dimension, start, end, currency=currency, reconcile=True
        )
    except LookupError:
        names = connection.execute(
            text("SELECT name FROM allocation_dimensions WHERE organization_id = :org ORDER BY name"),
            {"org": organization_id},
        ).scalars()
        raise ReportInputError(
            f"dimension: no allocation dimension named {dimension!r}; defined: {', '.join(names) or 'none'}"
        ) from None


def _values(view: AllocationView) -> tuple[dict[str, Decimal], Decimal, Decimal]:
    """Cost per value, the pending part and the overview's total of the view's (single) currency."""
    if not view.currencies:
        return {}, Decimal(0), Decimal(0)
    [found] = view.currencies
    return {v.value: v.cost for v in found.values}, found.pending or Decimal(0), found.total_cost


def _services(
    connection: Connection,
    organization_id: uuid.UUID,
    version: int | None,
    dimension: str,
    currency: str,
    start: date,
    end: date,
) -> dict[tuple[str, str], Decimal]:
    """Cost per (value, service); the pending line's services are the overview's minus the allocated cost."""
    params = {"org": organization_id, "name": dimension, "cur": currency, "d0": start, "d1": end}
    out: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    allocated: dict[str, Decimal] = defaultdict(Decimal)
    if version is not None:
        for value, service, cost in connection.execute(
            text(
                "SELECT a.value, COALESCE(a.service_name, '(none)'), sum(a.billed_cost) "
                "FROM cost_allocated_daily a JOIN allocation_dimensions d "
                "ON d.id = a.dimension_id AND d.organization_id = a.organization_id "
                "WHERE a.organization_id = :org AND d.name = :name AND a.version = d.active_version "
                "AND a.billing_currency = :cur AND a.usage_date >= :d0 AND a.usage_date < :d1 GROUP BY 1, 2"
            ),
            params,
        ):
            out[(str(value), str(service))] += Decimal(cost)
            allocated[str(service)] += Decimal(cost)
    overview = {
        str(service): Decimal(cost)
        for service, cost in connection.execute(
            text(
                "SELECT COALESCE(service_name, '(none)'), sum(billed_cost) FROM cost_daily "
                "WHERE organization_id = :org AND billing_currency = :cur AND usage_date >= :d0 "
                "AND usage_date < :d1 GROUP BY 1"
            ),
            params,
        )
    }
    for service in set(overview) | set(allocated):
        rest = overview.get(service, Decimal(0)) - allocated.get(service, Decimal(0))
        if rest:
            out[(PENDING, service)] = rest
    return out


def allocation_showback_input(
    connection: Connection,
    organization_id: uuid.UUID,
    *,
    dimension: str,
    start: date,
    end: date,
    generated_at: datetime,
    currency: str | None = None,
    top_n: int = 10,
) -> ShowbackInput:
    """The showback of ``organization_id`` by the allocation ``dimension`` for ``[start, end)`` (module
    contract). ``generated_at`` is the caller's clock (aware); the caller owns and closes ``connection``."""
    validate_request(start, end, generated_at)
    name, tag_keys = organisation_and_tag_keys(connection, organization_id, None)
    analytics = CostAnalytics(connection, organization_id, tag_keys)
    chosen = chosen_currency(analytics, start, end, currency)
    prev_start, _ = previous_period(start, end)
    view = _view(connection, organization_id, dimension, start, end, chosen)
    before = _view(connection, organization_id, dimension, prev_start, start, chosen)
    now_values, now_pending, total = _values(view)
    old_values, old_pending, previous_total = _values(before)
    labels = set(now_values) | set(old_values) | {UNALLOCATED}
    lines = [
        SpendLine(label=v, cost=now_values.get(v, Decimal(0)), previous_cost=old_values.get(v, Decimal(0)))
        for v in labels
    ]
    services = _services(connection, organization_id, view.version, dimension, chosen, start, end)
    if now_pending or old_pending or any(v == PENDING for v, _ in services):
        lines.append(SpendLine(label=PENDING, cost=now_pending, previous_cost=old_pending))
    return ShowbackInput(
        organisation_name=name,
        currency=chosen,
        start_date=start,
        end_date=end,
        generated_at=generated_at.astimezone(UTC),
        tag_key=dimension,
        total_cost=total,
        previous_total_cost=previous_total,
        by_value=sorted(lines, key=lambda line: (-line.cost, line.label)),
        services=[ServiceCost(tag_value=v, service=s, cost=c) for (v, s), c in sorted(services.items()) if c],
        top_n=top_n,
        grouping="allocation",
    )


__all__ = ["allocation_showback_input"]
