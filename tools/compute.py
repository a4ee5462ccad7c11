"""Compute tools: instances with utilisation, idle instances, rightsizing options with list prices.

Utilisation comes from the stored summaries (``metrics``: avg, max, p95, p99 of hourly samples, percent
0-100); money is monthly list price in USD (730 h) from the price catalogue or the stored inventory.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from cloudoptima.domain.inventory import CloudProvider
from cloudoptima.storage.models import ResourceDocument
from tools.context import ToolContext
from tools.inventory import config, metric, money, repository
from tools.spec import CloudScope, PagedOutput, PageInput, ToolSpec, decode_cursor, page_of


class InstancesInput(CloudScope, PageInput):
    region: str | None = Field(default=None, description="Only this region, e.g. us-east-1.")
    state: str | None = Field(default=None, description="running or stopped (default: both).")


class Utilisation(BaseModel):
    cpu_avg_percent: float | None
    cpu_p95_percent: float | None
    cpu_p99_percent: float | None
    memory_p95_percent: float | None
    network_out_bytes_avg: float | None = Field(description="Mean bytes sent per hour.")
    samples: int | None = Field(description="Hourly samples behind the summary.")


class InstanceRow(BaseModel):
    resource_id: str
    name: str | None
    provider: str
    account: str | None
    region: str | None
    state: str | None
    instance_type: str | None
    vcpu: int | None
    memory_gib: Decimal | None
    monthly_cost_usd: Decimal
    utilisation: Utilisation


class InstancesOutput(PagedOutput):
    items: list[InstanceRow]


def _row(doc: ResourceDocument) -> InstanceRow:
    samples = metric(doc, "cpu_percent", "samples")
    memory = config(doc, "memory_gib")
    return InstanceRow(
        resource_id=doc.resource_id,
        name=doc.resource_name,
        provider=doc.provider,
        account=config(doc, "account_id"),
        region=doc.region,
        state=doc.status,
        instance_type=config(doc, "instance_type"),
        vcpu=config(doc, "vcpu"),
        memory_gib=Decimal(str(memory)) if memory is not None else None,
        monthly_cost_usd=money(doc.cost_monthly),
        utilisation=Utilisation(
            cpu_avg_percent=metric(doc, "cpu_percent", "avg"),
            cpu_p95_percent=metric(doc, "cpu_percent", "p95"),
            cpu_p99_percent=metric(doc, "cpu_percent", "p99"),
            memory_p95_percent=metric(doc, "memory_percent", "p95"),
            network_out_bytes_avg=metric(doc, "network_out_bytes", "avg"),
            samples=int(samples) if samples is not None else None,
        ),
    )


def compute_instances(ctx: ToolContext, params: InstancesInput) -> InstancesOutput:
    offset = decode_cursor(params)
    with ctx.read_session() as session:
        repo = repository(ctx, session)
        query = repo.live("compute_instance", params, params.region)
        if params.state:
            query = query.where(ResourceDocument.status == params.state)
        total = repo.count(query)
        docs = list(repo.fetch(query, offset, params.limit + 1))
    page, cursor = page_of(params, docs, total, offset)
    items = [_row(d) for d in page]
    return InstancesOutput(items=items, returned=len(items), total=total, next_cursor=cursor)


# ---- idle instances ----------------------------------------------------------------------------------------


class IdleInput(CloudScope, PageInput):
    cpu_p95_below_percent: float = Field(default=5.0, gt=0, le=50, description="Idle when CPU p95 is below.")
    min_samples: int = Field(default=24 * 7, ge=1, description="Hours of data required to judge.")


class IdleInstance(InstanceRow):
    monthly_savings_if_stopped_usd: Decimal


class IdleOutput(PagedOutput):
    items: list[IdleInstance]
    monthly_savings_total_usd: Decimal = Field(description="If every idle instance in all pages stopped.")


def _judged(docs: list[ResourceDocument], threshold: float, min_samples: int) -> list[ResourceDocument]:
    found = []
    for doc in docs:
        p95, samples = metric(doc, "cpu_percent", "p95"), metric(doc, "cpu_percent", "samples")
        if p95 is not None and samples is not None and samples >= min_samples and p95 < threshold:
            found.append(doc)
    return found


def compute_idle_instances(ctx: ToolContext, params: IdleInput) -> IdleOutput:
    offset = decode_cursor(params)
    with ctx.read_session() as session:
        repo = repository(ctx, session)
        query = repo.live("compute_instance", params).where(ResourceDocument.status == "running")
        candidates = _judged(
            list(repo.fetch(query, 0, 100_000)), params.cpu_p95_below_percent, params.min_samples
        )
    window = candidates[offset : offset + params.limit + 1]
    page, cursor = page_of(params, window, len(candidates), offset)
    items = [
        IdleInstance(**_row(d).model_dump(), monthly_savings_if_stopped_usd=money(d.cost_monthly))
        for d in page
    ]
    return IdleOutput(
        items=items,
        returned=len(items),
        total=len(candidates),
        next_cursor=cursor,
        monthly_savings_total_usd=sum((money(d.cost_monthly) for d in candidates), Decimal("0.00")),
    )


# ---- rightsizing options ----------------------------------------------------------------------------------


class RightsizingInput(CloudScope, PageInput):
    cpu_p95_below_percent: float = Field(
        default=40.0, gt=0, le=90, description="Oversized when CPU p95 is below."
    )
    memory_p95_below_percent: float = Field(default=60.0, gt=0, le=100)
    max_options: int = Field(default=2, ge=1, le=4, description="Smaller sizes to price per instance.")


class SizeOption(BaseModel):
    instance_type: str
    vcpu: int
    memory_gib: Decimal
    monthly_price_usd: Decimal
    monthly_savings_usd: Decimal
    projected_cpu_p95_percent: float | None = Field(description="CPU p95 scaled by the vCPU ratio.")


class RightsizingCandidate(BaseModel):
    resource_id: str
    name: str | None
    provider: str
    account: str | None
    region: str | None
    instance_type: str
    current_monthly_price_usd: Decimal
    cpu_p95_percent: float
    memory_p95_percent: float | None
    options: list[SizeOption]


class RightsizingOutput(PagedOutput):
    items: list[RightsizingCandidate]
    price_source: str = "list prices of the price catalogue (on-demand, Linux, 730 h/month)"


def _options(
    ctx: ToolContext, doc: ResourceDocument, params: RightsizingInput
) -> RightsizingCandidate | None:
    provider = CloudProvider(doc.provider)
    current_type = config(doc, "instance_type")
    cpu = metric(doc, "cpu_percent", "p95")
    memory = metric(doc, "memory_percent", "p95")
    if not current_type or cpu is None or cpu >= params.cpu_p95_below_percent:
        return None
    if memory is not None and memory >= params.memory_p95_below_percent:
        return None
    region = doc.region or ""
    current = ctx.prices.instance_size(provider, current_type)
    price = ctx.prices.instance_monthly(provider, region, current_type)
    if current is None or price is None:
        return None
    options: list[SizeOption] = []
    cursor_type = current_type
    while len(options) < params.max_options:
        smaller = ctx.prices.next_smaller_instance(provider, cursor_type)
        if smaller is None:
            break
        smaller_price = ctx.prices.instance_monthly(provider, region, smaller.name)
        if smaller_price is None:
            break
        projected = cpu * current.vcpu / smaller.vcpu
        if projected > 80:
            break
        options.append(
            SizeOption(
                instance_type=smaller.name,
                vcpu=smaller.vcpu,
                memory_gib=Decimal(str(smaller.memory_gib)),
                monthly_price_usd=money(smaller_price),
                monthly_savings_usd=money(price) - money(smaller_price),
                projected_cpu_p95_percent=round(projected, 2),
            )
        )
        cursor_type = smaller.name
    if not options:
        return None
    return RightsizingCandidate(
        resource_id=doc.resource_id,
        name=doc.resource_name,
        provider=doc.provider,
        account=config(doc, "account_id"),
        region=doc.region,
        instance_type=current_type,
        current_monthly_price_usd=money(price),
        cpu_p95_percent=cpu,
        memory_p95_percent=memory,
        options=options,
    )


def compute_rightsizing_options(ctx: ToolContext, params: RightsizingInput) -> RightsizingOutput:
    offset = decode_cursor(params)
    with ctx.read_session() as session:
        repo = repository(ctx, session)
        query = repo.live("compute_instance", params).where(ResourceDocument.status == "running")
        docs = list(repo.fetch(query, 0, 100_000))
    candidates = [c for c in (_options(ctx, d, params) for d in docs) if c is not None]
    candidates.sort(key=lambda c: (-c.options[-1].monthly_savings_usd, c.resource_id))
    window = candidates[offset : offset + params.limit + 1]
    page, cursor = page_of(params, window, len(candidates), offset)
    return RightsizingOutput(items=page, returned=len(page), total=len(candidates), next_cursor=cursor)


TOOLS: list[ToolSpec[Any, Any]] = [
    ToolSpec(
        name="compute_instances",
        domain="compute",
        title="Instances with utilisation",
        description=(
            "Virtual machines (EC2, Azure VMs, GCE) with type, state, monthly list cost in USD and "
            "utilisation (CPU avg/p95/p99 %, memory p95 %, network bytes/hour), most expensive first.\n"
            'Example: {"region": "us-east-1", "state": "running", "limit": 25}'
        ),
        input_model=InstancesInput,
        output_model=InstancesOutput,
        handler=compute_instances,
        permission="read:resources",
        cloud_scoped=True,
        max_output_tokens=10_000,
        example={"limit": 25},
    ),
    ToolSpec(
        name="compute_idle_instances",
        domain="compute",
        title="Idle instances",
        description=(
            "Running instances whose CPU p95 (percent) stayed below a threshold over at least min_samples "
            "hourly samples, with the monthly USD saved if each were stopped.\n"
            'Example: {"cpu_p95_below_percent": 5, "limit": 20}'
        ),
        input_model=IdleInput,
        output_model=IdleOutput,
        handler=compute_idle_instances,
        permission="read:resources",
        cloud_scoped=True,
        max_output_tokens=10_000,
        example={"cpu_p95_below_percent": 5},
    ),
    ToolSpec(
        name="compute_rightsizing_options",
        domain="compute",
        title="Rightsizing options",
        description=(
            "Oversized running instances (CPU p95 and memory p95 below thresholds, percent) with up to "
            "max_options smaller sizes of the same family, each with its monthly list price and monthly "
            "savings in USD and the projected CPU p95.\n"
            'Example: {"cpu_p95_below_percent": 40, "max_options": 2}'
        ),
        input_model=RightsizingInput,
        output_model=RightsizingOutput,
        handler=compute_rightsizing_options,
        permission="read:recommendations",
        cloud_scoped=True,
        max_output_tokens=10_000,
        example={"cpu_p95_below_percent": 40},
    ),
]
