"""``/v1/data``: can the numbers be believed — freshness, reconciliation with the provider's totals, and the
days of a period a chart should flag (#21).

- ``GET /v1/data/freshness``: per account, when data last arrived, the latest usage day and the days still
  open to restatement.
- ``GET /v1/data/reconciliation?month=YYYY-MM[&cloud_account_id=]``: per account × currency of that billing
  month, our total and the provider's (basis named), delta, delta %, tolerance, status and findings (dropped
  days, duplicated files).
- ``GET /v1/data/unreconciled-days?start_date=&end_date=``: the days of ``[start_date, end_date)`` (end
  exclusive, at most 366 days) that are restating, dropped or in a mismatching month, with reasons.

All need ``read:costs``. Reconciliation and unreconciled days are cached per organisation under its cost-data
version and the UTC day (new data or a new day recomputes). Tolerance and restatement window are the
organisation's (``trust_*`` settings of ``PATCH /v1/organization``; unset: the defaults of
:class:`cloudoptima.domain.data_trust.TrustPolicy`) and may be overridden per request (``tolerance_percent``,
``tolerance_amount``, ``restatement_days``). Bad input is a 422 naming the field.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from cloudoptima.domain.data_trust import FreshnessReport, PeriodTrust, ReconciliationReport, TrustPolicy
from cloudoptima.services.data_trust.service import (
    freshness,
    organisation_policy,
    period_trust,
    reconcile_month,
)
from cloudoptima_gateway.audit import AuditedRoute
from cloudoptima_gateway.deps import Permission, Principal, RuntimeDep, TenantDb
from cloudoptima_gateway.runtime import Runtime
from cloudoptima_gateway.schemas.common import invalid

router = APIRouter(prefix="/data", tags=["data"], route_class=AuditedRoute)
Reader = Annotated[Principal, Permission("read:costs")]
MAX_DAYS = 366
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")

TolerancePercent = Annotated[
    Decimal | None, Query(description="percent of the provider total (default 0.01)")
]
ToleranceAmount = Annotated[Decimal | None, Query(description="currency units (default 0.01)")]
RestatementDays = Annotated[int | None, Query(description="days still restated by the provider (default 3)")]


def _now() -> datetime:
    return datetime.now(UTC)


def _policy(
    base: TrustPolicy, percent: Decimal | None, amount: Decimal | None, days: int | None
) -> TrustPolicy:
    """``base`` (the organisation's policy) with the request's overrides; a 422 naming a bad one."""
    values: dict[str, object] = base.model_dump()
    for name, value in (
        ("tolerance_percent", percent),
        ("tolerance_amount", amount),
        ("restatement_days", days),
    ):
        if value is not None:
            values[name] = value
    try:
        return TrustPolicy.model_validate(values)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise invalid(str(error["loc"][0]), error["msg"]) from exc


def parse_month(value: str | None) -> date:
    """``YYYY-MM`` as the month's first day; a 422 naming ``month`` otherwise."""
    match = _MONTH.match(value or "")
    if value is None:
        raise invalid("month", "month is required (YYYY-MM)")
    if match is None or not 1 <= int(match.group(2)) <= 12 or not 1970 <= int(match.group(1)) <= 9000:
        raise invalid("month", f"month must be YYYY-MM, got {value!r}")
    return date(int(match.group(1)), int(match.group(2)), 1)


@router.get("/freshness", response_model=FreshnessReport)
def get_freshness(
    principal: Reader,
    session: TenantDb,
    restatement_days: RestatementDays = None,
) -> FreshnessReport:
    """Per account: last arrival, latest usage day, days open to restatement."""
    base = organisation_policy(session, principal.organization_id)
    policy = _policy(base, None, None, restatement_days)
    return freshness(session, principal.organization_id, _now(), policy=policy)


@router.get("/reconciliation", response_model=ReconciliationReport)
async def get_reconciliation(
    principal: Reader,
    runtime: RuntimeDep,
    session: TenantDb,
    month: Annotated[str | None, Query(description="billing month, YYYY-MM")] = None,
    cloud_account_id: uuid.UUID | None = None,
    tolerance_percent: TolerancePercent = None,
    tolerance_amount: ToleranceAmount = None,
    restatement_days: RestatementDays = None,
) -> Response:
    """Reconciliation of one billing month (see the module docstring)."""
    first = parse_month(month)
    base = await run_in_threadpool(organisation_policy, session, principal.organization_id)
    policy = _policy(base, tolerance_percent, tolerance_amount, restatement_days)
    org, now = principal.organization_id, _now()

    def compute() -> str:
        with Session(runtime.engine()) as session:
            report = reconcile_month(
                session, org, first, now, cloud_account_id=cloud_account_id, policy=policy
            )
        return report.model_dump_json()

    params = {"m": first, "a": cloud_account_id, "p": policy.model_dump(mode="json"), "today": now.date()}
    return await _cached(runtime, org, "data_reconciliation", params, compute)


@router.get("/unreconciled-days", response_model=PeriodTrust)
async def get_unreconciled_days(
    principal: Reader,
    runtime: RuntimeDep,
    session: TenantDb,
    start_date: date,
    end_date: Annotated[date, Query(description="exclusive")],
    restatement_days: RestatementDays = None,
) -> Response:
    """The days of ``[start_date, end_date)`` a chart should warn about, with reasons."""
    for name, value in (("start_date", start_date), ("end_date", end_date)):
        if not date(1970, 1, 1) <= value <= date(9000, 1, 1):
            raise invalid(name, f"{name} must lie between 1970-01-01 and 9000-01-01")
    if end_date <= start_date:
        raise invalid("end_date", "end_date must be after start_date (end_date is exclusive)")
    if (end_date - start_date).days > MAX_DAYS:
        raise invalid("end_date", f"date range cannot exceed {MAX_DAYS} days")
    base = await run_in_threadpool(organisation_policy, session, principal.organization_id)
    policy = _policy(base, None, None, restatement_days)
    org, now = principal.organization_id, _now()

    def compute() -> str:
        with Session(runtime.engine()) as session:
            return period_trust(session, org, start_date, end_date, now, policy=policy).model_dump_json()

    params = {"s": start_date, "e": end_date, "p": policy.model_dump(mode="json"), "today": now.date()}
    return await _cached(runtime, org, "data_unreconciled_days", params, compute)


async def _cached(
    runtime: Runtime, org: uuid.UUID, name: str, params: dict[str, Any], compute: Callable[[], str]
) -> Response:
    """The answer from the organisation's cost cache (a new cost-data version or a new UTC day recomputes)."""

    async def run() -> str:
        return await run_in_threadpool(compute)

    body, hit = await runtime.cost_cache().get_or_compute(org, name, params, run)
    return Response(body, media_type="application/json", headers={"X-Cache": "hit" if hit else "miss"})
