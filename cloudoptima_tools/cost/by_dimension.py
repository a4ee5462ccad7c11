"""``cost_by_dimension``: spend of a period grouped by one dimension, with an optional time series."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from cloudoptima.domain.costs import CostQueryError
from cloudoptima_tools.context import ToolContext
from cloudoptima_tools.cost.common import PeriodInput, analytics_of, percent_of
from cloudoptima_tools.spec import (
    PagedOutput,
    PageInput,
    ToolInputError,
    ToolSpec,
    day_range,
    decode_cursor,
    page_of,
)


class CostByDimensionInput(PeriodInput, PageInput):
    group_by: str = Field(
        default="service",
        description="service, region, account, provider, category, charge_category or tag:<key>.",
    )
    granularity: Literal["none", "daily", "weekly", "monthly"] = Field(
        default="none", description="Also return the total per day / ISO week / month."
    )


class CostGroup(BaseModel):
    key: str
    billed_cost: Decimal
    effective_cost: Decimal
    list_cost: Decimal
    percent_of_total: Decimal | None
    charge_rows: int = Field(description="Billing line items summed into this group.")
    name: str | None = Field(default=None, description="The cloud account's name when grouped by account.")


class TimeBucket(BaseModel):
    period_start: date
    billed_cost: Decimal


class CostByDimensionOutput(PagedOutput):
    items: list[CostGroup]
    start_date: date
    end_date: date
    currency: str
    group_by: str
    total_billed_cost: Decimal
    series: list[TimeBucket] = Field(default_factory=list)


def cost_by_dimension(ctx: ToolContext, params: CostByDimensionInput) -> CostByDimensionOutput:
    start, end = day_range(params.start_date, params.end_date, ctx.now().date(), 30)
    offset = decode_cursor(params)
    with ctx.read_session() as session:
        try:
            found = analytics_of(ctx, session).groups(
                start,
                end,
                group_by=params.group_by,
                provider=params.provider,
                account=params.account,
                currency=params.currency,
                granularity=None if params.granularity == "none" else params.granularity,
                offset=offset,
                limit=params.limit + 1,
            )
        except CostQueryError as exc:
            raise ToolInputError(str(exc)) from exc
    page, cursor = page_of(params, found.groups, found.count, offset)
    total = found.total_billed_cost
    items = [
        CostGroup(
            key=g.key,
            billed_cost=g.billed_cost,
            effective_cost=g.effective_cost,
            list_cost=g.list_cost,
            percent_of_total=percent_of(g.billed_cost, total),
            charge_rows=g.charge_rows,
            name=g.name,
        )
        for g in page
    ]
    return CostByDimensionOutput(
        items=items,
        returned=len(items),
        total=found.count,
        next_cursor=cursor,
        start_date=start,
        end_date=end,
        currency=found.currency,
        group_by=params.group_by,
        total_billed_cost=total,
        series=[TimeBucket(period_start=p.date, billed_cost=p.cost) for p in found.time_series],
    )


SPEC: ToolSpec[Any, Any] = ToolSpec(
    name="cost_by_dimension",
    domain="cost",
    title="Cost by dimension",
    description=(
        "Billed, effective and list cost (in the billing currency, e.g. USD) for a period, grouped by "
        "service, region, account, provider, category, charge category or a tag, largest first, with an "
        "optional daily/weekly/monthly total series. Period is [start_date, end_date) in UTC days.\n"
        'Example: {"group_by": "service", "start_date": "2025-11-01", "end_date": "2025-12-01", "limit": 10}'
    ),
    input_model=CostByDimensionInput,
    output_model=CostByDimensionOutput,
    handler=cost_by_dimension,
    permission="read:costs",
    cacheable=True,
    cloud_scoped=True,
    max_output_tokens=10_000,
    example={"group_by": "service", "limit": 10},
)
