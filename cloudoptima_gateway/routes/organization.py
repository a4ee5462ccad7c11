"""``/v1/organization``: the caller's organisation — read by any member, changed by its admins.

The subscription tier can be changed only by a platform administrator (``services.organisation_admin``);
a tier change reaches the request limits within a minute (each gateway caches tiers that long).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, HTTPException, Request, status

from cloudoptima.domain.organisation_settings import SettingsError
from cloudoptima.services.cache import abump_cost_version
from cloudoptima.services.organisation_admin import OrganisationAdmin, OrganisationView, TierChangeForbidden
from cloudoptima.services.rate_limits import hourly_limit
from cloudoptima.services.rollup_rebuild import rebuild_cost_rollup
from cloudoptima_gateway.audit import AuditedRoute
from cloudoptima_gateway.deps import CurrentPrincipal, Permission, Principal, RuntimeDep, TenantDb
from cloudoptima_gateway.schemas.admin import OrganizationOut, OrganizationPatch, OrganizationUpdated
from cloudoptima_gateway.schemas.common import invalid

router = APIRouter(prefix="/organization", tags=["organization"], route_class=AuditedRoute)
OrgAdmin = Annotated[Principal, Permission("manage:organization")]


def _invalid_setting(exc: SettingsError) -> HTTPException:
    """A 422 naming the setting at fault (``["body", "settings", key]``; just ``settings`` for unknown keys)."""
    where = ["body", "settings", *([exc.key] if exc.key else [])]
    detail = [{"type": "value_error", "loc": where, "msg": str(exc), "input": None}]
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail)


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
    body: OrganizationPatch,
    request: Request,
    principal: OrgAdmin,
    runtime: RuntimeDep,
    session: TenantDb,
    background: BackgroundTasks,
) -> OrganizationUpdated:
    """Change the name, settings (unknown or mistyped keys are refused, naming them) or — platform
    administrators only — the tier; all or nothing. The changed keys are audited. Changing
    ``rollup_tag_keys`` rebuilds the daily cost rollup on the new keys in the same transaction, so cost views
    grouped or filtered by a newly added key cover the organisation's whole history at once."""
    admin = OrganisationAdmin(
        session, principal.organization_id, allow_short_retention=runtime.settings.retention_allow_short
    )
    try:
        changed = admin.update(principal.user_id, name=body.name, tier=body.tier, settings=body.settings)
    except TierChangeForbidden as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=str(exc)) from exc
    except SettingsError as exc:
        raise _invalid_setting(exc) from exc
    except ValueError as exc:
        raise invalid("tier", str(exc), "body") from exc
    request.state.audit_details = {"changed": changed}
    request.state.audit_resource_id = str(principal.organization_id)
    if "rollup_tag_keys" in changed:
        # The rollup keeps only the configured keys' values: re-project it in this transaction, commit, then
        # retire every cached answer of the old rollup.
        keys = admin.read().settings.rollup_tag_keys
        rebuilt = rebuild_cost_rollup(session.connection(), principal.organization_id, keys)
        request.state.audit_details["rollup_rebuilt"] = {"months": rebuilt.months, "rows": rebuilt.rows}
        session.commit()
        background.add_task(abump_cost_version, runtime.redis(), principal.organization_id)
    if "tier" in changed:
        runtime.forget_tier(principal.organization_id)
    return OrganizationUpdated(**_out(admin.read()).model_dump(), changed=changed)
