"""``/v1/resources``: compute and storage inventory, bulk tagging (approval-gated unless the organisation turned
on ``auto_approve_low_risk``: tags are low-risk and reversible)."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from cloudoptima.domain.organisation_settings import OrganisationSettings
from cloudoptima.services.resources import ResourceQueries, StorageFilters
from cloudoptima.services.utilisation_anomalies import UtilisationAnomalies
from cloudoptima.storage.models import Organization
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_gateway.audit import AuditedRoute
from cloudoptima_gateway.deps import Permission, Principal, RuntimeDep, TenantDb
from cloudoptima_gateway.remediation_requests import start_actions
from cloudoptima_gateway.schemas.common import invalid
from cloudoptima_gateway.schemas.resources import (
    BulkTagIn,
    BulkTagOut,
    ComputeList,
    ComputeResourceOut,
    Pagination,
    StorageList,
    TagFailure,
    UtilisationAlertList,
    UtilisationAlertOut,
    Utilization,
    VolumeOut,
)

router = APIRouter(prefix="/resources", tags=["resources"], route_class=AuditedRoute)
Reader = Annotated[Principal, Permission("read:resources")]
Tagger = Annotated[Principal, Permission("write:tags")]
PageSize = Annotated[int, Query(ge=1, le=100)]
STATUS_MAP = {"running": "running", "stopped": "stopped", "terminated": "deleted"}


def _tags(values: list[str]) -> dict[str, str]:
    tags = {}
    for item in values:
        key, sep, value = item.partition(":")
        if not sep or not key:
            raise invalid("tags", f"tag filter {item!r} must be key:value")
        tags[key] = value
    return tags


def _pagination(page: int, page_size: int, total: int) -> Pagination:
    return Pagination(page=page, page_size=page_size, total=total, total_pages=math.ceil(total / page_size))


@router.get("/utilisation/anomalies", response_model=UtilisationAlertList)
def utilisation_anomalies(
    principal: Reader,
    session: TenantDb,
    days: Annotated[int, Query(ge=2, le=93, description="Days of hourly history before now")] = 14,
    provider: Literal["aws", "azure", "gcp"] | None = None,
    account: Annotated[str | None, Query(max_length=200, description="Account identifier")] = None,
    resource_id: Annotated[list[str] | None, Query(description="Only these resources (repeatable)")] = None,
    metric: Annotated[list[str] | None, Query(description="Only these metrics (repeatable)")] = None,
    direction: Literal["up", "down", "both"] = "both",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> UtilisationAlertList:
    """Spikes, dips and lasting changes of level in the collected hourly utilisation, newest first: the
    causal detector cost anomalies use, with daily and weekly cycles learnt per series."""
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    alerts = UtilisationAnomalies(session.connection(), principal.organization_id).scan(
        end,
        days=days,
        provider=provider,
        account=account,
        resource_ids=resource_id,
        metrics=metric,
        direction=direction,
        limit=limit,
    )
    return UtilisationAlertList(
        start=end - timedelta(days=days),
        end=end,
        alerts=[UtilisationAlertOut.model_validate(a, from_attributes=True) for a in alerts],
    )


@router.get("/compute", response_model=ComputeList)
def list_compute(
    principal: Reader,
    session: TenantDb,
    provider: Literal["aws", "azure", "gcp"] | None = None,
    region: Annotated[str | None, Query(max_length=100)] = None,
    status: Literal["running", "stopped", "terminated"] | None = None,
    tags: Annotated[list[str], Query(description="key:value, repeatable; all must match")] = [],  # noqa: B006
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: PageSize = 50,
) -> ComputeList:
    items, total = ResourceQueries(session, principal.organization_id).compute(
        provider=provider,
        region=region,
        status=STATUS_MAP[status] if status else None,
        tags=_tags(tags),
        page=page,
        page_size=page_size,
    )
    return ComputeList(
        resources=[
            ComputeResourceOut(
                id=i.row.resource_id,
                name=i.row.resource_name,
                provider=i.row.provider,
                type=(i.row.configuration or {}).get("instance_type"),
                status=i.row.status,
                region=i.row.region,
                monthly_cost=i.row.cost_monthly,
                utilization=Utilization(cpu_avg=i.cpu_avg, memory_avg=i.memory_avg, network_gb=i.network_gb),
                tags=i.row.tags or {},
                optimization_score=i.optimization_score,
                score_basis=i.score_basis,
                recommendations_count=i.recommendations_count,
            )
            for i in items
        ],
        pagination=_pagination(page, page_size, total),
    )


STORAGE_FILTERS = (
    "provider",
    "account",
    "region",
    "type",
    "state",
    "status",
    "min_size_gb",
    "min_age_days",
    "page",
    "page_size",
)


@router.get("/storage", response_model=StorageList)
def list_storage(
    request: Request,
    principal: Reader,
    session: TenantDb,
    provider: Literal["aws", "azure", "gcp"] | None = None,
    account: Annotated[
        str | None, Query(min_length=1, max_length=255, description="Provider account id")
    ] = None,
    region: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    type: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Disk type, e.g. gp3")
    ] = None,
    state: Annotated[
        Literal["attached", "unattached"] | None, Query(description="Attached to an instance or not")
    ] = None,
    status: Annotated[
        str | None, Query(min_length=1, max_length=50, description="The cloud's disk status")
    ] = None,
    min_size_gb: Annotated[float | None, Query(ge=0)] = None,
    min_age_days: Annotated[int | None, Query(ge=0, le=36_500)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: PageSize = 50,
) -> StorageList:
    """Disks, largest monthly cost first; every given filter must hold. An unknown query parameter is a 422
    naming it (a misspelt filter never silently lists everything)."""
    for name in request.query_params:
        if name not in STORAGE_FILTERS:
            raise invalid(name, f"unknown filter {name!r}; known: {', '.join(STORAGE_FILTERS)}")
    filters = StorageFilters(
        provider=provider,
        account=account,
        region=region,
        disk_type=type,
        attached=None if state is None else state == "attached",
        status=status,
        min_size_gb=min_size_gb,
        min_age_days=min_age_days,
    )
    items, total = ResourceQueries(session, principal.organization_id).storage(
        page=page, page_size=page_size, filters=filters
    )
    return StorageList(
        volumes=[
            VolumeOut(
                id=i.row.resource_id,
                provider=i.row.provider,
                type=(i.row.configuration or {}).get("disk_type"),
                size_gb=i.size_gb,
                iops=i.iops,
                attached_to=i.attached_to,
                monthly_cost=i.row.cost_monthly,
                age_days=i.age_days,
                snapshot_count=i.snapshot_count,
            )
            for i in items
        ],
        pagination=_pagination(page, page_size, total),
    )


@router.post("/bulk-tag", response_model=BulkTagOut)
async def bulk_tag(body: BulkTagIn, request: Request, runtime: RuntimeDep, principal: Tagger) -> BulkTagOut:
    """Tag many resources; failures are listed per resource. The tags go through the remediation workflow and
    wait for a person's approval (``execution_id``), unless the organisation allows automatic approval of
    low-risk, reversible changes (``auto_approve_low_risk``), when they are applied at once."""
    org = principal.organization_id
    request_id = uuid.uuid4().hex

    def run() -> tuple[list[tuple[str, str]], list[str], list[tuple[str, str, str | None, str]], bool]:
        with tenant_session(runtime.sessions(), org) as session:
            queries = ResourceQueries(session, org)
            targets, failed = queries.tag_targets(body.resource_ids, body.tags, overwrite=body.overwrite)
            organisation = session.get(Organization, org)
            settings = OrganisationSettings.of(organisation.settings if organisation else None)
            gated = not settings.auto_approve_low_risk
            if gated:
                pending = [
                    (str(t.cloud_account_id or ""), t.resource_id, t.region, t.resource_name or t.resource_id)
                    for t in targets
                ]
                return failed, [], pending, True
            outcome = queries.apply_tags(
                targets, body.tags, runtime.providers().for_account, f"bulk-tag/{request_id}"
            )
            return failed + outcome.failed, outcome.updated, [], False

    failed, updated, pending, gated = await run_in_threadpool(run)
    execution_id = None
    if gated and pending:
        actions = [
            {
                "cloud_account_id": a,
                "resource_id": r,
                "region": reg,
                "action": "tag",
                "parameters": {"tags": body.tags},
                "description": f"tag {name}",
            }
            for a, r, reg, name in pending
        ]
        info = await start_actions(
            runtime, principal, actions, title=f"Tag {len(pending)} resource(s)", approval_required=True
        )
        execution_id = info.execution_id
    request.state.audit_details = {
        "tags": body.tags,
        "requested": len(body.resource_ids),
        "failed": len(failed),
    }
    return BulkTagOut(
        success=not failed,
        updated_count=len(updated),
        failed=[TagFailure(resource_id=r, error=e) for r, e in failed],
        approval_required=gated,
        execution_id=execution_id,
    )
