"""Storage tools: unattached disks and orphaned snapshots as the recommendation engine judged them
(``cloudoptima_tools.findings``), and object-storage buckets.

Money is monthly list cost in USD from the stored inventory; ages are whole days (UTC) before now.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from cloudoptima.storage.models import ResourceDocument
from cloudoptima_tools.context import ToolContext
from cloudoptima_tools.findings import FindingsInput, FindingsOutput, findings
from cloudoptima_tools.inventory import config, money, repository
from cloudoptima_tools.spec import CloudScope, PagedOutput, PageInput, ToolSpec, decode_cursor, page_of


def storage_unattached_disks(ctx: ToolContext, params: FindingsInput) -> FindingsOutput:
    return findings(ctx, params, ("unattached_disk", "stopped_vm_disks"))


def storage_snapshots(ctx: ToolContext, params: FindingsInput) -> FindingsOutput:
    return findings(ctx, params, ("orphaned_snapshot",))


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
            "Block volumes (EBS, managed disks, persistent disks) the recommendation engine would snapshot and "
            "delete: unattached past the profile's days, or kept by a VM stopped for long; with the monthly "
            "USD saved and the recommendation id.\n"
            'Example: {"provider": "azure"}'
        ),
        input_model=FindingsInput,
        output_model=FindingsOutput,
        handler=storage_unattached_disks,
        permission="read:recommendations",
        cloud_scoped=True,
        max_output_tokens=10_000,
        example={"limit": 20},
    ),
    ToolSpec(
        name="storage_snapshots",
        domain="storage",
        title="Orphaned snapshots",
        description=(
            "Disk snapshots the recommendation engine would delete (source disk gone, older than the "
            "profile's days, not excluded by tags), with the monthly USD saved and the recommendation id.\n"
            'Example: {"limit": 20}'
        ),
        input_model=FindingsInput,
        output_model=FindingsOutput,
        handler=storage_snapshots,
        permission="read:recommendations",
        cloud_scoped=True,
        max_output_tokens=10_000,
        example={"limit": 20},
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
