"""``cost_compare_periods``: a period against its baseline, with the drivers of the change."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from cloudoptima.domain.costs import CostQueryError
from cloudoptima_tools.context import ToolContext
from cloudoptima_tools.cost.common import PeriodInput, analytics_of
from cloudoptima_tools.spec import (
    DataSource,
    ToolInputError,
    ToolSpec,
    day_range,
)


class ComparePeriodsInput(PeriodInput):
    previous_start_date: date | None = Field(
        default=None, description="First day of the baseline period; default: same length just before."
    )
    group_by: str = Field(default="service", description="Dimension whose values explain the change.")
    top_drivers: int = Field(default=10, ge=1, le=50, description="Largest increases and decreases to list.")


class Driver(BaseModel):
    key: str
    current: Decimal
    previous: Decimal
    change: Decimal
    change_percent: Decimal | None
    share_of_change_percent: Decimal | None
    name: str | None = Field(default=None, description="The cloud account's name when grouped by account.")


class ComparePeriodsOutput(BaseModel):
    currency: str
    group_by: str
    current_start: date
    current_end: date
    previous_start: date
    previous_end: date
    current_total: Decimal
    previous_total: Decimal
    change: Decimal
    change_percent: Decimal | None
    increases: list[Driver]
    decreases: list[Driver]
    new_keys: int = Field(description="Values with spend now and none before.")
    gone_keys: int = Field(description="Values with spend before and none now.")
    data: DataSource = Field(default_factory=DataSource)


def cost_compare_periods(ctx: ToolContext, params: ComparePeriodsInput) -> ComparePeriodsOutput:
    start, end = day_range(params.start_date, params.end_date, ctx.now().date(), 30)
    previous_start = params.previous_start_date or start - (end - start)
    with ctx.read_session() as session:
        try:
            found = analytics_of(ctx, session).compare(
                start,
                end,
                previous_start,
                group_by=params.group_by,
                provider=params.provider,
                account=params.account,
                currency=params.currency,
            )
        except CostQueryError as exc:
            raise ToolInputError(str(exc)) from exc
    drivers = [Driver.model_validate(d.model_dump()) for d in found.drivers]
    return ComparePeriodsOutput(
        currency=found.currency,
        group_by=params.group_by,
        current_start=start,
        current_end=end,
        previous_start=previous_start,
        previous_end=previous_start + (end - start),
        current_total=found.current_total,
        previous_total=found.previous_total,
        change=found.change,
        change_percent=found.change_percent,
        increases=[d for d in drivers if d.change > 0][: params.top_drivers],
        decreases=[d for d in drivers if d.change < 0][: params.top_drivers],
        new_keys=found.new_keys,
        gone_keys=found.gone_keys,
    )


SPEC: ToolSpec[Any, Any] = ToolSpec(
    name="cost_compare_periods",
    domain="cost",
    title="Compare two periods",
    description=(
        "Total cost of a period against a baseline period of the same length (default: just before) "
        "with the drivers: the dimension values (e.g. services) that rose or fell most, in currency "
        "units and % of the change.\n"
        'Example: {"start_date": "2025-12-01", "end_date": "2026-01-01", "group_by": "service"}'
    ),
    input_model=ComparePeriodsInput,
    output_model=ComparePeriodsOutput,
    handler=cost_compare_periods,
    permission="read:costs",
    cacheable=True,
    cloud_scoped=True,
    max_output_tokens=10_000,
    example={"group_by": "service", "top_drivers": 5},
)
