"""``cost_top_spenders``: resources ranked by billed cost over a period."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from cloudoptima.domain.costs import CostQueryError
from cloudoptima_tools.context import ToolContext
from cloudoptima_tools.cost.common import PeriodInput, analytics_of
from cloudoptima_tools.spec import (
    PagedOutput,
    PageInput,
    ToolInputError,
    ToolSpec,
    day_range,
    decode_cursor,
    page_of,
)


class TopSpendersInput(PeriodInput, PageInput):
    service: str | None = Field(default=None, description="Only this service (FOCUS ServiceName).")


class Spender(BaseModel):
    resource_id: str
    resource_name: str | None
    service: str | None
    account: str | None
    region: str | None
    provider: str
    billed_cost: Decimal
    account_name: str | None = Field(default=None, description="The cloud account's name.")


class TopSpendersOutput(PagedOutput):
    items: list[Spender]
    start_date: date
    end_date: date
    currency: str


def cost_top_spenders(ctx: ToolContext, params: TopSpendersInput) -> TopSpendersOutput:
    start, end = day_range(params.start_date, params.end_date, ctx.now().date(), 30)
    offset = decode_cursor(params)
    with ctx.read_session() as session:
        try:
            found = analytics_of(ctx, session).top_resources(
                start,
                end,
                provider=params.provider,
                account=params.account,
                service=params.service,
                currency=params.currency,
                offset=offset,
                limit=params.limit + 1,
            )
        except CostQueryError as exc:
            raise ToolInputError(str(exc)) from exc
    page, cursor = page_of(params, found.resources, found.count, offset)
    items = [Spender.model_validate(r.model_dump()) for r in page]
    return TopSpendersOutput(
        items=items,
        returned=len(items),
        total=found.count,
        next_cursor=cursor,
        start_date=start,
        end_date=end,
        currency=found.currency,
    )


SPEC: ToolSpec[Any, Any] = ToolSpec(
    name="cost_top_spenders",
    domain="cost",
    title="Top spending resources",
    description=(
        "Resources ranked by billed cost (currency units) over a period, with service, account, region "
        "and provider.\n"
        'Example: {"start_date": "2025-12-01", "end_date": "2026-01-01", "limit": 20}'
    ),
    input_model=TopSpendersInput,
    output_model=TopSpendersOutput,
    handler=cost_top_spenders,
    permission="read:costs",
    cacheable=True,
    cloud_scoped=True,
    max_output_tokens=10_000,
    example={"limit": 20},
)
