"""``/v1/organization``: the caller's organisation — read by any member, changed by its admins.

The subscription tier can be changed only by a platform administrator (``services.organisation_admin``);
a tier change reaches the request limits within a minute (each gateway caches tiers that long).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Request, status

from cloudoptima.domain.organisation_settings import SettingsError
from cloudoptima.services.organisation_admin import OrganisationAdmin, OrganisationView, TierChangeForbidden
from cloudoptima.services.rate_limits import hourly_limit
from cloudoptima_gateway.audit import AuditedRoute
from cloudoptima_gateway.deps import CurrentPrincipal, Permission, Principal, RuntimeDep, TenantDb
from cloudoptima_gateway.schemas.admin import OrganizationOut, OrganizationPatch, OrganizationUpdated
from cloudoptima_gateway.schemas.common import invalid

router = APIRouter(prefix="/organization", tags=["organization"], route_class=AuditedRoute)
OrgAdmin = Annotated[Principal, Permission("manage:organization")]


def _out(view: OrganisationView) -> OrganizationOut:
    return OrganizationOut(
        id=view.id,
        name=view.name,
        tier=view.tier,
        hourly_request_limit=hourly_limit(view.tier),
        settings=view.settings.model_dump(mode="json"),
        created_at=view.created_at,
    )


@router.get("", response_model=OrganizationOut)
def read_organization(principal: CurrentPrincipal, session: TenantDb) -> OrganizationOut:
    """Your organisation: name, tier with its request limit, and every setting (defaults filled in)."""
    return _out(OrganisationAdmin(session, principal.organization_id).read())


@router.patch("", response_model=OrganizationUpdated)
def update_organization(
    body: OrganizationPatch, request: Request, principal: OrgAdmin, runtime: RuntimeDep, session: TenantDb
) -> OrganizationUpdated:
    """Change the name, settings (unknown or mistyped keys are refused, naming them) or — platform
    administrators only — the tier; all or nothing. The changed keys are audited."""
    admin = OrganisationAdmin(session, principal.organization_id)
    try:
        changed = admin.update(principal.user_id, name=body.name, tier=body.tier, settings=body.settings)
    except TierChangeForbidden as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=str(exc)) from exc
    except SettingsError as exc:
        raise invalid("settings", str(exc), "body") from exc
    except ValueError as exc:
        raise invalid("tier", str(exc), "body") from exc
    request.state.audit_details = {"changed": changed}
    request.state.audit_resource_id = str(principal.organization_id)
    if "tier" in changed:
        runtime.forget_tier(principal.organization_id)
    return OrganizationUpdated(**_out(admin.read()).model_dump(), changed=changed)
