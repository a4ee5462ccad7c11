"""``budgets_status``: every budget with its spend, forecast and alert state."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from cloudoptima.domain.budgets import BudgetEvaluation
from cloudoptima.services.budgets import BudgetService
from cloudoptima_tools.context import ToolContext
from cloudoptima_tools.spec import (
    PagedOutput,
    PageInput,
    ToolSpec,
    decode_cursor,
    page_of,
)


class BudgetsInput(PageInput):
    as_of: date | None = Field(default=None, description="Evaluate as of this UTC day (default today).")


class BudgetStatusRow(BaseModel):
    id: str
    name: str
    amount: Decimal
    currency: str
    period: str
    scope: dict[str, Any]
    evaluation: BudgetEvaluation | None
    error: str | None = None


class BudgetsOutput(PagedOutput):
    items: list[BudgetStatusRow]


def budgets_status(ctx: ToolContext, params: BudgetsInput) -> BudgetsOutput:
    """Evaluates each budget of the page in a session that is rolled back: alert state is not touched."""
    offset = decode_cursor(params)
    day = params.as_of or ctx.now().date()
    with ctx.read_session() as session:
        service = BudgetService(session, ctx.organization_id, now=ctx.now, forecast_model="fast")
        rows = list(service.list())
        page, cursor = page_of(params, rows[offset : offset + params.limit + 1], len(rows), offset)
        items = []
        for row in page:
            evaluation, error = None, None
            try:
                evaluation = service.evaluate(row.id, day).model_copy(update={"alert_state": {}})
            except ValueError as exc:
                error = str(exc)
            items.append(
                BudgetStatusRow(
                    id=str(row.id),
                    name=row.name,
                    amount=row.amount,
                    currency=row.currency,
                    period=row.period,
                    scope=dict(row.scope_filters or {}),
                    evaluation=evaluation,
                    error=error,
                )
            )
    return BudgetsOutput(items=items, returned=len(items), total=len(rows), next_cursor=cursor)


TOOLS: list[ToolSpec[Any, Any]] = [
    ToolSpec(
        name="budgets_status",
        domain="platform",
        title="Budgets and status",
        description=(
            "Every budget with its current period's spend, forecast end-of-period spend, utilisation % and "
            "status (evaluated on the fly; alert state is not changed).\n"
            'Example: {"as_of": "2025-12-15"}'
        ),
        input_model=BudgetsInput,
        output_model=BudgetsOutput,
        handler=budgets_status,
        permission="read:budgets",
        long_running=True,
        max_output_tokens=10_000,
    ),
]
