"""``cost_by_allocation``: showback — cost per value of an allocation dimension (``team``, ``product`` …). (#21)

Contract (over :func:`cloudoptima.services.allocation.queries.cost_by_allocation`, the service
``/v1/costs/by-allocation`` uses; permission ``read:costs``; ``now`` from the tool context):
- ``dimension`` names the dimension; ``start_date``/``end_date`` (UTC days, end exclusive; default the last
  30 days up to today); optional ``currency``; ``reconcile`` also reads the overview's total and reports
  ``pending`` (cost not yet re-allocated); ``cost_basis`` ``billed`` (default) or ``effective`` (amortised),
  stated in the answer.
- Per currency: every value with cost, ``unallocated`` included, largest first, with its share of the total
  and the part that came from shared-cost splits; the values sum to ``total_cost`` exactly. At most
  :data:`MAX_VALUES` values per currency (the rest summed in ``values_left_off`` / ``left_off_cost``, so the
  figures still add up), names cut at :data:`MAX_VALUE_CHARS`, and the :data:`MAX_CURRENCIES` largest
  currencies (``currencies_left_off`` counts the others; the REST API has everything). An unknown dimension
  is an input error listing the organisation's dimensions.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import text

from cloudoptima.domain.costs import CostQueryError
from cloudoptima.services.allocation.queries import CostBasis
from cloudoptima.services.allocation.queries import cost_by_allocation as allocation_query
from cloudoptima_tools.context import ToolContext
from cloudoptima_tools.spec import ToolInput, ToolInputError, ToolSpec

MAX_VALUES = 25
MAX_CURRENCIES = 3
MAX_VALUE_CHARS = 100
BUDGET = 6_000


class CostByAllocationInput(ToolInput):
    dimension: str = Field(min_length=1, max_length=63, description="Allocation dimension name, e.g. team.")
    start_date: date | None = Field(default=None, description="First UTC day (default: 30 days ago).")
    end_date: date | None = Field(default=None, description="Exclusive end day (default: tomorrow).")
    currency: str | None = Field(default=None, pattern="^[A-Za-z]{3}$", description="Only this currency.")
    reconcile: bool = Field(default=False, description="Compare with the unallocated total (pending).")
    cost_basis: CostBasis = Field(default="billed", description="billed (invoice) or effective (amortised).")


class AllocatedValue(BaseModel):
    value: str
    cost: Decimal
    share_percent: Decimal
    shared_cost: Decimal


class CurrencyShowback(BaseModel):
    currency: str
    total_cost: Decimal
    pending: Decimal | None
    values: list[AllocatedValue]
    values_left_off: int = 0
    left_off_cost: Decimal = Decimal(0)


class CostByAllocationOutput(BaseModel):
    dimension: str
    version: int | None = Field(description="rule-set version read; null: not allocated yet")
    start_date: date
    end_date: date
    cost_basis: CostBasis = "billed"
    currencies: list[CurrencyShowback]
    currencies_left_off: int = 0


def cost_by_allocation(ctx: ToolContext, params: CostByAllocationInput) -> CostByAllocationOutput:
    today = ctx.now().date()
    end = params.end_date or today + timedelta(days=1)
    start = params.start_date or end - timedelta(days=30)
    with ctx.read_session() as session:
        connection = session.connection()
        try:
            view = allocation_query(
                connection,
                ctx.organization_id,
                params.dimension,
                start,
                end,
                currency=params.currency.upper() if params.currency else None,
                reconcile=params.reconcile,
                cost_basis=params.cost_basis,
            )
        except LookupError:
            names = connection.execute(
                text("SELECT name FROM allocation_dimensions WHERE organization_id = :org ORDER BY name"),
                {"org": ctx.organization_id},
            ).scalars()
            raise ToolInputError(
                f"dimension: no allocation dimension {params.dimension!r}; defined: {', '.join(names) or 'none'}"
            ) from None
        except CostQueryError as exc:
            raise ToolInputError(f"end_date: {exc}") from None
    currencies = []
    for item in view.currencies[:MAX_CURRENCIES]:
        kept, rest = item.values[:MAX_VALUES], item.values[MAX_VALUES:]
        currencies.append(
            CurrencyShowback(
                currency=item.currency,
                total_cost=item.total_cost,
                pending=item.pending,
                values=[
                    AllocatedValue(
                        value=v.value
                        if len(v.value) <= MAX_VALUE_CHARS
                        else v.value[: MAX_VALUE_CHARS - 1] + "…",
                        cost=v.cost,
                        share_percent=(v.cost * 100 / item.total_cost).quantize(Decimal("0.1"))
                        if item.total_cost
                        else Decimal(0),
                        shared_cost=v.shared_cost,
                    )
                    for v in kept
                ],
                values_left_off=len(rest),
                left_off_cost=sum((v.cost for v in rest), Decimal(0)),
            )
        )
    return CostByAllocationOutput(
        dimension=view.dimension,
        version=view.version,
        start_date=view.start_date,
        end_date=view.end_date,
        cost_basis=view.cost_basis,
        currencies=currencies,
        currencies_left_off=max(0, len(view.currencies) - MAX_CURRENCIES),
    )


TOOLS: list[ToolSpec[Any, Any]] = [
    ToolSpec(
        name="cost_by_allocation",
        domain="platform",
        title="Cost by allocation (showback)",
        description=(
            "Showback: cost per value of an allocation dimension (team, product, environment …) defined by "
            "ordered rules and shared-cost splits, 'unallocated' included; values sum to the total exactly.\n"
            'Example: {"dimension": "team", "start_date": "2025-11-01", "end_date": "2025-12-01"}'
        ),
        input_model=CostByAllocationInput,
        output_model=CostByAllocationOutput,
        handler=cost_by_allocation,
        permission="read:costs",
        max_output_tokens=BUDGET,
        example={"dimension": "team", "start_date": "2025-11-01", "end_date": "2025-12-01"},
    ),
]
