"""Storage tools: unattached disks, old or orphaned snapshots, object-storage buckets.

Money is monthly list cost in USD from the stored inventory; ages are whole days (UTC) before now.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select

from cloudoptima.storage.models import ResourceDocument
from tools.context import ToolContext
from tools.inventory import age_days, config, money, repository
from tools.spec import CloudScope, PagedOutput, PageInput, ToolSpec, decode_cursor, page_of


class DisksInput(CloudScope, PageInput):
    min_days_unattached: int = Field(default=0, ge=0, description="Only disks detached at least this long.")


class DiskRow(BaseModel):
    resource_id: str
    name: str | None
    provider: str
    account: str | None
    region: str | None
    disk_type: str | None
    size_gb: int | None
    days_unattached: int | None
    monthly_cost_usd: Decimal


class DisksOutput(PagedOutput):
    items: list[DiskRow]
    monthly_cost_total_usd: Decimal = Field(description="All matching disks, every page.")


def storage_unattached_disks(ctx: ToolContext, params: DisksInput) -> DisksOutput:
    offset = decode_cursor(params)
    now = ctx.now()
    with ctx.read_session() as session:
        repo = repository(ctx, session)
        docs = list(repo.fetch(repo.live("disk", params), 0, 100_000))
    found = []
    for doc in docs:
        if config(doc, "attached_to") is not None and doc.status != "available":
            continue
        days = age_days(config(doc, "detached_at"), now)
        if params.min_days_unattached and (days is None or days < params.min_days_unattached):
            continue
        found.append((doc, days))
    page, cursor = page_of(params, found[offset : offset + params.limit + 1], len(found), offset)
    items = [
        DiskRow(
            resource_id=d.resource_id,
            name=d.resource_name,
            provider=d.provider,
            account=config(d, "account_id"),
            region=d.region,
            disk_type=config(d, "disk_type"),
            size_gb=config(d, "size_gb"),
            days_unattached=days,
            monthly_cost_usd=money(d.cost_monthly),
        )
        for d, days in page
    ]
    return DisksOutput(
        items=items,
        returned=len(items),
        total=len(found),
        next_cursor=cursor,
        monthly_cost_total_usd=sum((money(d.cost_monthly) for d, _ in found), Decimal("0.00")),
    )


class SnapshotsInput(CloudScope, PageInput):
    min_age_days: int = Field(default=90, ge=0, description="Only snapshots at least this old (days).")
    orphaned_only: bool = Field(default=False, description="Only snapshots whose source disk is gone.")


class SnapshotRow(BaseModel):
    resource_id: str
    name: str | None
    provider: str
    account: str | None
    region: str | None
    size_gb: int | None
    age_days: int | None
    source_disk_id: str | None
    orphaned: bool = Field(description="The source disk no longer exists in the inventory.")
    monthly_cost_usd: Decimal


class SnapshotsOutput(PagedOutput):
    items: list[SnapshotRow]
    monthly_cost_total_usd: Decimal


def storage_snapshots(ctx: ToolContext, params: SnapshotsInput) -> SnapshotsOutput:
    offset = decode_cursor(params)
    now = ctx.now()
    with ctx.read_session() as session:
        repo = repository(ctx, session)
        docs = list(repo.fetch(repo.live("snapshot", params), 0, 100_000))
        live_disks = set(
            session.scalars(
                select(ResourceDocument.resource_id).where(
                    ResourceDocument.organization_id == ctx.organization_id,
                    ResourceDocument.resource_type == "disk",
                    ResourceDocument.status != "deleted",
                )
            )
        )
    found = []
    for doc in docs:
        age = age_days(doc.created_at, now)
        orphaned = config(doc, "source_disk_id") not in live_disks
        if (age or 0) < params.min_age_days or (params.orphaned_only and not orphaned):
            continue
        found.append((doc, age, orphaned))
    page, cursor = page_of(params, found[offset : offset + params.limit + 1], len(found), offset)
    items = [
        SnapshotRow(
            resource_id=d.resource_id,
            name=d.resource_name,
            provider=d.provider,
            account=config(d, "account_id"),
            region=d.region,
            size_gb=config(d, "size_gb"),
            age_days=age,
            source_disk_id=config(d, "source_disk_id"),
            orphaned=orphaned,
            monthly_cost_usd=money(d.cost_monthly),
        )
        for d, age, orphaned in page
    ]
    return SnapshotsOutput(
        items=items,
        returned=len(items),
        total=len(found),
        next_cursor=cursor,
        monthly_cost_total_usd=sum((money(d.cost_monthly) for d, _, _ in found), Decimal("0.00")),
    )


class BucketsInput(CloudScope, PageInput):
    storage_class: str | None = Field(default=None, description="Only this storage class, e.g. STANDARD.")


class BucketRow(BaseModel):
    resource_id: str
    name: str | None
    provider: str
    account: str | None
    region: str | None
    storage_class: str | None
    size_gb: int | None
    monthly_cost_usd: Decimal
    requests_avg_per_hour: float | None


class BucketsOutput(PagedOutput):
    items: list[BucketRow]


def storage_buckets(ctx: ToolContext, params: BucketsInput) -> BucketsOutput:
    offset = decode_cursor(params)
    with ctx.read_session() as session:
        repo = repository(ctx, session)
        query = repo.live("bucket", params)
        if params.storage_class:
            query = query.where(
                ResourceDocument.configuration["storage_class"].astext == params.storage_class
            )
        total = repo.count(query)
        docs = list(repo.fetch(query, offset, params.limit + 1))
    page, cursor = page_of(params, docs, total, offset)
    items = [
        BucketRow(
            resource_id=d.resource_id,
            name=d.resource_name,
            provider=d.provider,
            account=config(d, "account_id"),
            region=d.region,
            storage_class=config(d, "storage_class"),
            size_gb=config(d, "size_gb"),
            monthly_cost_usd=money(d.cost_monthly),
            requests_avg_per_hour=(d.metrics or {}).get("requests", {}).get("avg"),
        )
        for d in page
    ]
    return BucketsOutput(items=items, returned=len(items), total=total, next_cursor=cursor)


TOOLS: list[ToolSpec[Any, Any]] = [
    ToolSpec(
        name="storage_unattached_disks",
        domain="storage",
        title="Unattached disks",
        description=(
            "Block volumes (EBS, managed disks, persistent disks) attached to nothing, with size in GB, days "
            "unattached and monthly cost in USD.\n"
            'Example: {"min_days_unattached": 7}'
        ),
        input_model=DisksInput,
        output_model=DisksOutput,
        handler=storage_unattached_disks,
        permission="read:resources",
        cloud_scoped=True,
        max_output_tokens=10_000,
        example={"min_days_unattached": 7},
    ),
    ToolSpec(
        name="storage_snapshots",
        domain="storage",
        title="Old and orphaned snapshots",
        description=(
            "Disk snapshots at least min_age_days old (days), flagged orphaned when their source disk is "
            "gone, with size in GB and monthly cost in USD.\n"
            'Example: {"min_age_days": 90, "orphaned_only": true}'
        ),
        input_model=SnapshotsInput,
        output_model=SnapshotsOutput,
        handler=storage_snapshots,
        permission="read:resources",
        cloud_scoped=True,
        max_output_tokens=10_000,
        example={"min_age_days": 90},
    ),
    ToolSpec(
        name="storage_buckets",
        domain="storage",
        title="Buckets",
        description=(
            "Object-storage buckets (S3, Blob containers, GCS) with storage class, size in GB, monthly cost "
            "in USD and mean requests per hour, most expensive first.\n"
            'Example: {"storage_class": "STANDARD", "limit": 20}'
        ),
        input_model=BucketsInput,
        output_model=BucketsOutput,
        handler=storage_buckets,
        permission="read:resources",
        cloud_scoped=True,
        max_output_tokens=10_000,
        example={"limit": 20},
    ),
]
