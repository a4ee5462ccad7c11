"""``realised_savings``: what the bill says the recommendations applied through the product really saved (#22).

Contract (over :mod:`cloudoptima.services.realised_savings`, the service ``GET /v1/savings`` and
``GET /v1/savings/by-rule`` use; permission ``read:costs``; ``now`` from the tool context):

- ``window_days`` (1-90, default 7) is the length of the before and after windows.
- The answer: the ledger's buckets (open, accepted with its owners and overdue count, applying, applied,
  realised), the per-rule accuracy (flagged rules
  first) and the latest completed recommendations with their measurement, at most :data:`MAX_ITEMS`, fewer
  when the answer would be over :data:`BUDGET` tokens; ``items_left_off`` counts what was left off.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from cloudoptima.domain.savings import LedgerBucket, LedgerRow, MonthSavings, RuleAccuracy
from cloudoptima.services.realised_savings import (
    MAX_WINDOW_DAYS,
    WINDOW_DAYS,
    SavingsInputError,
    rule_accuracy,
    savings_ledger,
)
from cloudoptima_tools.context import ToolContext
from cloudoptima_tools.spec import ToolInput, ToolInputError, ToolSpec, estimate_tokens

MAX_ITEMS = 20
BUDGET = 6_000


class RealisedSavingsInput(ToolInput):
    window_days: int = Field(
        default=WINDOW_DAYS, description=f"Days of each before/after window (1-{MAX_WINDOW_DAYS})."
    )


class RealisedSavingsOutput(BaseModel):
    window_days: int
    buckets: dict[str, LedgerBucket]
    months: list[MonthSavings]
    """The last 12 months with a change, oldest first."""
    rules: list[RuleAccuracy]
    recent: list[LedgerRow]
    total: int
    items_left_off: int = 0


def realised_savings(ctx: ToolContext, params: RealisedSavingsInput) -> RealisedSavingsOutput:
    now = ctx.now()
    try:
        with ctx.read_session() as session:
            ledger = savings_ledger(
                session, ctx.organization_id, now, window_days=params.window_days, limit=MAX_ITEMS
            )
            rules = rule_accuracy(session, ctx.organization_id, now, window_days=params.window_days).rules
    except SavingsInputError as exc:
        raise ToolInputError(str(exc).replace(" ", ": ", 1)) from None
    rules = sorted(rules, key=lambda r: not r.flagged)
    items = list(ledger.items)

    def output() -> RealisedSavingsOutput:
        return RealisedSavingsOutput(
            window_days=params.window_days,
            buckets=ledger.buckets,
            months=ledger.months[-12:],
            rules=rules,
            recent=items,
            total=ledger.total,
            items_left_off=ledger.total - len(items),
        )

    result = output()
    while estimate_tokens(result.model_dump_json()) > BUDGET - 256 and (items or rules):
        if items:
            items = items[:-1]
        else:
            rules = rules[:-1]
        result = output()
    return result


TOOLS: list[ToolSpec[Any, Any]] = [
    ToolSpec(
        name="realised_savings",
        domain="platform",
        title="Realised savings: estimated vs measured from the bill",
        description=(
            "The savings ledger: recommendations open, accepted (owners by e-mail, how many overdue), being "
            "applied, applied (waiting for the bill) and realised, with estimated and realised monthly sums (also per month of the change); per rule the mean error of its estimates "
            "(flagged when off by more than 25% on 3 or more measured changes); the latest completed "
            "recommendations, each measured from the billed cost of its resources over window_days before vs "
            "after the change (change day skipped; realised monthly = daily difference x 30.4375) with a "
            "confidence.\n"
            'Example: {"window_days": 7}'
        ),
        input_model=RealisedSavingsInput,
        output_model=RealisedSavingsOutput,
        handler=realised_savings,
        permission="read:costs",
        max_output_tokens=BUDGET,
        example={"window_days": 7},
    ),
]
