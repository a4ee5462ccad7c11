"""``/v1/savings``: savings that are proven — realised vs estimated from the bill (#22).

- ``GET /v1/savings?window_days=7&limit=50&offset=0``: the ledger — per lifecycle bucket (``open``,
  ``applying``, ``applied``, ``realised``) the count and estimated monthly sum (realised sums per currency),
  per month of the change (completed, measured, estimated vs realised), and the completed recommendations,
  latest applied first, each with its before/after measurement.
- ``GET /v1/savings/by-rule?window_days=7``: per rule the measured count, mean signed and absolute error and
  whether its estimates are systematically off (flagged).

How a change is measured: :mod:`cloudoptima.services.realised_savings`. Both need ``read:costs``; bad input is
a 422 naming the field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from cloudoptima.domain.savings import RuleAccuracyReport, SavingsLedger
from cloudoptima.services.realised_savings import (
    WINDOW_DAYS,
    SavingsInputError,
    rule_accuracy,
    savings_ledger,
)
from cloudoptima_gateway.audit import AuditedRoute
from cloudoptima_gateway.deps import Permission, Principal, TenantDb
from cloudoptima_gateway.schemas.common import invalid

router = APIRouter(prefix="/savings", tags=["savings"], route_class=AuditedRoute)
Reader = Annotated[Principal, Permission("read:costs")]
WindowDays = Annotated[int, Query(description="days of each comparison window (1-90)")]


def _now() -> datetime:
    return datetime.now(UTC)


def _field(exc: SavingsInputError) -> str:
    return str(exc).split(" ", 1)[0]


@router.get("", response_model=SavingsLedger)
def get_savings(
    principal: Reader,
    session: TenantDb,
    window_days: WindowDays = WINDOW_DAYS,
    limit: int = 50,
    offset: int = 0,
) -> SavingsLedger:
    """The savings ledger of the caller's organisation (see the module docstring)."""
    try:
        return savings_ledger(
            session, principal.organization_id, _now(), window_days=window_days, limit=limit, offset=offset
        )
    except SavingsInputError as exc:
        raise invalid(_field(exc), str(exc)) from exc


@router.get("/by-rule", response_model=RuleAccuracyReport)
def get_savings_by_rule(
    principal: Reader, session: TenantDb, window_days: WindowDays = WINDOW_DAYS
) -> RuleAccuracyReport:
    """Realised vs estimated per rule; a rule off by more than 25 % on 3 or more measured items is flagged."""
    try:
        return rule_accuracy(session, principal.organization_id, _now(), window_days=window_days)
    except SavingsInputError as exc:
        raise invalid(_field(exc), str(exc)) from exc
