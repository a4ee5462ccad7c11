"""``/v1/notifications/digest``: the caller's own daily or weekly digest (``cloudoptima.services.digests``).

Every signed-in role manages its own subscription only (no permission beyond being signed in; there is no way
to name another user): ``GET`` answers it (404 when there is none), ``PUT`` creates (201) or replaces (200)
it, ``DELETE`` removes it (404 when there is none). Bad input is a 422 naming the field. The digests are sent
by the ``SendDigests`` workflow (every 15 minutes) at the subscription's local time.

Registered before ``notifications.router``; the paths do not collide with ``/v1/notifications/{id}/read``
anyway (different methods and depth).
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Response, status

from cloudoptima.services.digests import DigestError, DigestNotFound, Digests, DigestView, digest_schedule
from cloudoptima_gateway.audit import AuditedRoute
from cloudoptima_gateway.deps import CurrentPrincipal, TenantDb
from cloudoptima_gateway.schemas.common import Success, invalid, not_found
from cloudoptima_gateway.schemas.digests import DigestIn, DigestOut

router = APIRouter(prefix="/notifications/digest", tags=["notifications"], route_class=AuditedRoute)


def _out(view: DigestView) -> DigestOut:
    return DigestOut.model_validate(view)


@router.get("", response_model=DigestOut)
def get_digest(principal: CurrentPrincipal, session: TenantDb) -> DigestOut:
    """The caller's digest subscription, with when the next one goes out."""
    try:
        view = Digests(session, principal.organization_id).get(principal.user_id, now=datetime.now(UTC))
    except DigestNotFound as exc:
        raise not_found("digest of user", principal.user_id) from exc
    return _out(view)


@router.put("", response_model=DigestOut, responses={201: {"model": DigestOut}})
def put_digest(
    body: DigestIn, response: Response, principal: CurrentPrincipal, session: TenantDb
) -> DigestOut:
    """Create (201) or replace (200) the caller's digest subscription."""
    try:
        schedule = digest_schedule(**body.model_dump())
        view, created = Digests(session, principal.organization_id).put(
            principal.user_id, schedule, now=datetime.now(UTC)
        )
    except DigestError as exc:
        raise invalid(exc.field, exc.message, location="body") from exc
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return _out(view)


@router.delete("", response_model=Success)
def delete_digest(principal: CurrentPrincipal, session: TenantDb) -> Success:
    """Stop the caller's digest."""
    try:
        Digests(session, principal.organization_id).delete(principal.user_id)
    except DigestNotFound as exc:
        raise not_found("digest of user", principal.user_id) from exc
    return Success()
