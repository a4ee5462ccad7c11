"""The input of the ``showback`` report, filled from the cost rollup through
:class:`~cloudoptima.services.cost_analytics.CostAnalytics` — what ``/v1/costs/overview`` and the cost
comparison answer with — so its total equals the overview's total for the same organisation, period and
currency, to the cent.

Contract of :func:`showback_input` for one organisation, a rollup tag key and a period ``[start, end)``:

- ``tag_key`` must be one of the organisation's rollup tag keys (the same check and message as
  :func:`~cloudoptima.services.report_inputs.monthly_cost_review_input`);
- the previous period is the same number of days just before; one currency as the monthly review chooses it;
- one line per tag value from ``compare(group_by="tag:<key>")``; rows without the tag are the
  ``(untagged)`` line (present even when 0), so the lines sum exactly to the overview's total;
- per tag value, every service's cost of the period, grouped with the very expressions the cost service
  groups by (``COALESCE(tag_values ->> key, '(untagged)')``, ``COALESCE(service_name, '(none)')``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from cloudoptima.reports.document import ReportDocument
from cloudoptima.reports.templates.showback import UNTAGGED, ServiceCost, ShowbackInput, build_showback
from cloudoptima.reports.templates.spend import SpendLine
from cloudoptima.services.cost_analytics import CostAnalytics
from cloudoptima.services.report_inputs import (
    ReportInputError,
    chosen_currency,
    organisation_and_tag_keys,
    previous_period,
    validate_request,
)
from cloudoptima.services.report_inputs_showback_allocation import allocation_showback_input


def showback_input(
    connection: Connection,
    organization_id: uuid.UUID,
    *,
    tag_key: str,
    start: date,
    end: date,
    generated_at: datetime,
    currency: str | None = None,
    top_n: int = 10,
) -> ShowbackInput:
    """The showback of ``organization_id`` by ``tag_key`` for ``[start, end)`` (see the module contract).

    ``generated_at`` is the caller's clock (aware); the caller owns and closes ``connection``.
    """
    validate_request(start, end, generated_at)
    name, tag_keys = organisation_and_tag_keys(connection, organization_id, tag_key)
    analytics = CostAnalytics(connection, organization_id, tag_keys)
    chosen = chosen_currency(analytics, start, end, currency)
    prev_start, _ = previous_period(start, end)
    overview = analytics.overview(start, end, group_by="service", currency=chosen, breakdown_limit=1)
    drivers = analytics.compare(start, end, prev_start, group_by=f"tag:{tag_key}", currency=chosen).drivers
    lines = [SpendLine(label=d.key, cost=d.current, previous_cost=d.previous) for d in drivers]
    if all(line.label != UNTAGGED for line in lines):
        lines.append(SpendLine(label=UNTAGGED, cost=Decimal(0)))
    rows = connection.execute(
        text(
            "SELECT COALESCE(tag_values ->> :tag_key, '(untagged)'), COALESCE(service_name, '(none)'), "
            "sum(billed_cost) FROM cost_daily WHERE organization_id = :org AND billing_currency = :currency "
            "AND usage_date >= :d0 AND usage_date < :d1 GROUP BY 1, 2"
        ),
        {"tag_key": tag_key, "org": organization_id, "currency": chosen, "d0": start, "d1": end},
    ).all()
    return ShowbackInput(
        organisation_name=name,
        currency=chosen,
        start_date=start,
        end_date=end,
        generated_at=generated_at.astimezone(UTC),
        tag_key=tag_key,
        total_cost=overview.total_cost,
        previous_total_cost=overview.period_comparison.previous_period,
        by_value=sorted(lines, key=lambda line: (-line.cost, line.label)),
        services=[ServiceCost(tag_value=str(v), service=str(s), cost=Decimal(c)) for v, s, c in rows],
        top_n=top_n,
    )


def build_showback_document(
    connection: Connection, organization_id: uuid.UUID, parameters: Mapping[str, Any], generated_at: datetime
) -> ReportDocument:
    """The catalog's builder of the ``showback`` template (parameters already resolved: exactly one of
    ``tag_key`` and ``dimension``); a tag key that is not a rollup tag key is refused naming
    ``parameters.tag_key``, an unknown allocation dimension naming ``parameters.dimension``."""
    try:
        if parameters.get("dimension") is not None:
            data = allocation_showback_input(
                connection,
                organization_id,
                dimension=parameters["dimension"],
                start=parameters["start_date"],
                end=parameters["end_date"],
                generated_at=generated_at,
                currency=parameters.get("currency"),
                top_n=parameters.get("top_n", 10),
            )
        else:
            data = showback_input(
                connection,
                organization_id,
                tag_key=parameters["tag_key"],
                start=parameters["start_date"],
                end=parameters["end_date"],
                generated_at=generated_at,
                currency=parameters.get("currency"),
                top_n=parameters.get("top_n", 10),
            )
    except ReportInputError as exc:
        if str(exc).startswith(("tag_key:", "currency:", "dimension:")):
            raise ReportInputError(f"parameters.{exc}") from exc
        raise
    return build_showback(data)


__all__ = ["build_showback_document", "showback_input"]
