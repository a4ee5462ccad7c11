"""``/v1/commitments``: commitments seen in the billing data, their utilisation and the coverage (#22).

- ``GET /v1/commitments[?start_date=&end_date=]``: every commitment (``CommitmentDiscountId``) with a row in
  the period (both dates or neither: the whole history), with type, category, days seen, committed cost and
  utilisation.
  ``owned`` lists the commitments the providers' APIs say the organisation owns (term, start, end, count or
  hourly commitment, state, days to expiry), each joined with the period's billing figures; a billing-data
  commitment the inventory lists gets its ``expires_at``. ``inventory_reads`` gives the last inventory read of
  each connected account (AWS, Azure, GCP): ``read``, ``unavailable: <permission>`` when its credentials lack
  the permission (the collection itself does not fail), or ``failed: <reason>``.
- ``GET /v1/commitments/utilisation?start_date=&end_date=[&commitment_id=]``: per commitment and UTC day, and
  per commitment over the period.
- ``GET /v1/commitments/coverage?start_date=&end_date=``: per UTC day and currency, and per currency.

Definitions and the eligibility rule: :mod:`cloudoptima.domain.commitments`. Periods are ``[start_date,
end_date)``, at most :data:`MAX_DAYS` days. All need ``read:costs``. Bad input is a 422 naming the field.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from cloudoptima.domain.commitments import CommitmentList, CoverageReport, UtilisationReport
from cloudoptima.services.commitments import coverage, list_commitments, utilisation
from cloudoptima.services.owned_commitments import with_owned
from cloudoptima_gateway.audit import AuditedRoute
from cloudoptima_gateway.deps import Permission, Principal, TenantDb
from cloudoptima_gateway.schemas.common import invalid

router = APIRouter(prefix="/commitments", tags=["commitments"], route_class=AuditedRoute)
Reader = Annotated[Principal, Permission("read:costs")]
MAX_DAYS = 366
EndDate = Annotated[date | None, Query(description="exclusive")]


def check_period(start_date: date | None, end_date: date | None) -> tuple[date, date]:
    """Both dates given, in range, end after start, at most :data:`MAX_DAYS` days; else a 422 naming the field."""
    for name, value in (("start_date", start_date), ("end_date", end_date)):
        if value is None:
            raise invalid(name, f"{name} is required (YYYY-MM-DD)")
        if not date(1970, 1, 1) <= value <= date(9000, 1, 1):
            raise invalid(name, f"{name} must lie between 1970-01-01 and 9000-01-01")
    assert start_date is not None and end_date is not None
    if end_date <= start_date:
        raise invalid("end_date", "end_date must be after start_date (end_date is exclusive)")
    if (end_date - start_date).days > MAX_DAYS:
        raise invalid("end_date", f"date range cannot exceed {MAX_DAYS} days")
    return start_date, end_date


@router.get("", response_model=CommitmentList)
def get_commitments(
    principal: Reader, session: TenantDb, start_date: date | None = None, end_date: EndDate = None
) -> CommitmentList:
    """The commitments seen in the billing data and the owned ones (see the module docstring)."""
    if start_date is None and end_date is None:
        found = list_commitments(session, principal.organization_id)
    else:
        start, end = check_period(start_date, end_date)
        found = list_commitments(session, principal.organization_id, start, end)
    return with_owned(session, principal.organization_id, found, datetime.now(UTC))


@router.get("/utilisation", response_model=UtilisationReport)
def get_utilisation(
    principal: Reader,
    session: TenantDb,
    start_date: date | None = None,
    end_date: EndDate = None,
    commitment_id: Annotated[str | None, Query(max_length=2048)] = None,
) -> UtilisationReport:
    """Utilisation per commitment and day (see the module docstring)."""
    start, end = check_period(start_date, end_date)
    if commitment_id is not None and not commitment_id.strip():
        raise invalid("commitment_id", "commitment_id must not be blank")
    return utilisation(session, principal.organization_id, start, end, commitment_id)


@router.get("/coverage", response_model=CoverageReport)
def get_coverage(
    principal: Reader, session: TenantDb, start_date: date | None = None, end_date: EndDate = None
) -> CoverageReport:
    """Coverage per day and currency (see the module docstring)."""
    start, end = check_period(start_date, end_date)
    return coverage(session, principal.organization_id, start, end)
