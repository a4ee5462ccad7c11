"""``commitments``: the commitments seen in the billing data, their utilisation and the coverage (#22).

Contract (over :mod:`cloudoptima.services.commitments`, the service ``/v1/commitments`` uses; permission
``read:costs``; ``now`` from the tool context; definitions and eligibility rule in
:mod:`cloudoptima.domain.commitments`):
- ``start_date``/``end_date`` (``YYYY-MM-DD``, end exclusive, at most 366 days; default: the 30 days before
  ``now``'s day) select the period; ``commitment_id`` narrows the commitments and utilisation to one.
- The answer: the commitments with a row in the period (type, category, days seen, committed cost,
  utilisation), coverage per currency over the period and per day, and utilisation per commitment over the
  period (per-day utilisation: ``GET /v1/commitments/utilisation``).
- ``owned`` lists the provider APIs' inventory (AWS, Azure, GCP) and ``inventory_reads`` the last read of each
  account (``read``, ``unavailable: <permission>``, ``failed: <reason>``).
- At most :data:`MAX_ITEMS` commitments (lowest utilisation first) and coverage days, fewer when the answer
  would be over :data:`BUDGET` tokens; ``items_left_off`` counts what was left off.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, Field

from cloudoptima.domain.commitments import Commitment, CoverageDay, CoverageTotal, UtilisationTotal
from cloudoptima.domain.owned_commitments import InventoryRead, OwnedCommitmentView
from cloudoptima.services.commitments import coverage, list_commitments, utilisation
from cloudoptima.services.owned_commitments import inventory_reads, list_owned
from cloudoptima_tools.context import ToolContext
from cloudoptima_tools.spec import ToolInput, ToolInputError, ToolSpec, estimate_tokens

MAX_ITEMS = 31
MAX_DAYS = 366
BUDGET = 6_000


class CommitmentsInput(ToolInput):
    start_date: str | None = Field(default=None, description="First day YYYY-MM-DD (default: 30 days ago).")
    end_date: str | None = Field(default=None, description="Day after the last, YYYY-MM-DD (default: today).")
    commitment_id: str | None = Field(default=None, description="Only this CommitmentDiscountId.")


class CommitmentsOutput(BaseModel):
    start_date: date
    end_date: date
    commitments: list[Commitment]
    utilisation: list[UtilisationTotal]
    coverage: list[CoverageTotal]
    coverage_days: list[CoverageDay]
    eligible_services: list[str]
    owned: list[OwnedCommitmentView] = []
    inventory_reads: list[InventoryRead] = []
    items_left_off: int = 0


def _day(name: str, value: str) -> date:
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise ToolInputError(f"{name}: expected YYYY-MM-DD, got {value!r}") from None
    if not date(1970, 1, 1) <= parsed <= date(9000, 1, 1):
        raise ToolInputError(f"{name}: must lie between 1970-01-01 and 9000-01-01")
    return parsed


def commitments(ctx: ToolContext, params: CommitmentsInput) -> CommitmentsOutput:
    today = ctx.now().date()
    end = _day("end_date", params.end_date) if params.end_date else today
    start = _day("start_date", params.start_date) if params.start_date else end - timedelta(days=30)
    if end <= start:
        raise ToolInputError("end_date: must be after start_date (end_date is exclusive)")
    if (end - start).days > MAX_DAYS:
        raise ToolInputError(f"end_date: the period cannot exceed {MAX_DAYS} days")
    if params.commitment_id is not None and not params.commitment_id.strip():
        raise ToolInputError("commitment_id: must not be blank")
    with ctx.read_session() as session:
        listing = list_commitments(session, ctx.organization_id, start, end)
        used = utilisation(session, ctx.organization_id, start, end, params.commitment_id)
        covered = coverage(session, ctx.organization_id, start, end)
        owned_all = list_owned(session, ctx.organization_id, ctx.now(), billed=listing.commitments)
        reads = inventory_reads(session, ctx.organization_id)[:MAX_ITEMS]
    owned_all = [o for o in owned_all if params.commitment_id in (None, o.commitment_id, o.arn)]
    owned = owned_all[:MAX_ITEMS]  # soonest end first
    items = [c for c in listing.commitments if params.commitment_id in (None, c.commitment_id)]
    items.sort(key=lambda c: (c.utilisation_percent is None, c.utilisation_percent or 0, c.commitment_id))
    kept = items[:MAX_ITEMS]
    totals = sorted(used.totals, key=lambda t: (t.utilisation_percent is None, t.utilisation_percent or 0))
    kept_totals = totals[:MAX_ITEMS]
    days = covered.days[-MAX_ITEMS:]

    def output() -> CommitmentsOutput:
        return CommitmentsOutput(
            start_date=start,
            end_date=end,
            commitments=kept,
            utilisation=kept_totals,
            coverage=covered.totals,
            coverage_days=days,
            eligible_services=covered.eligible_services[:20],
            owned=owned,
            inventory_reads=reads,
            items_left_off=len(owned_all)
            - len(owned)
            + len(items)
            - len(kept)
            + len(totals)
            - len(kept_totals)
            + len(covered.days)
            - len(days),
        )

    result = output()
    while estimate_tokens(result.model_dump_json()) > BUDGET - 256 and (kept or kept_totals or days or owned):
        if len(owned) > max(len(kept), len(kept_totals), len(days), 3) or not (kept or kept_totals or days):
            owned = owned[:-1]
        elif days and len(days) >= max(len(kept), len(kept_totals)):
            days = days[1:]
        elif len(kept) >= len(kept_totals):
            kept = kept[:-1]
        else:
            kept_totals = kept_totals[:-1]
        result = output()
    return result


TOOLS: list[ToolSpec[Any, Any]] = [
    ToolSpec(
        name="commitments",
        domain="platform",
        title="Commitments: utilisation and coverage",
        description=(
            "Reserved instances, savings plans and committed-use discounts seen in the billing data (FOCUS "
            "CommitmentDiscount* columns): per commitment its type, category, days seen, committed cost and "
            "utilisation (used / (used + unused) by EffectiveCost, and by quantity where given); coverage "
            "(committed-priced / eligible ListCost of the provider's service categories that have commitments) "
            "per currency and per day; owned: the commitments the provider APIs list (term, start, end, "
            "count, hourly commitment or CUD vCPU/memory, applied scope, state, days to expiry; soonest end first); "
            "inventory_reads: per account whether the provider API could be read (unavailable: <permission>). Period end_date "
            "exclusive, default the last 30 days.\n"
            'Example: {"start_date": "2024-09-01", "end_date": "2024-10-01"}'
        ),
        input_model=CommitmentsInput,
        output_model=CommitmentsOutput,
        handler=commitments,
        permission="read:costs",
        max_output_tokens=BUDGET,
        example={"start_date": "2024-09-01", "end_date": "2024-10-01"},
    ),
]
