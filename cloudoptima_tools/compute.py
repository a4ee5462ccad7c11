"""Compute tools: instances with utilisation; idle instances and rightsizing as the recommendation engine
judged them (``cloudoptima_tools.findings``: one source of truth with the REST API).

Utilisation comes from the stored summaries (``metrics``: avg, max, p95, p99 of hourly samples, percent
0-100); money is monthly list price in USD (730 h) from the price catalogue or the stored inventory.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from cloudoptima.services.utilisation_anomalies import UtilisationAnomalies
from cloudoptima.storage.models import ResourceDocument
from cloudoptima_tools.context import ToolContext
from cloudoptima_tools.findings import FindingsInput, FindingsOutput, findings
from cloudoptima_tools.inventory import config, metric, money, repository
from cloudoptima_tools.spec import CloudScope, PagedOutput, PageInput, ToolSpec, decode_cursor, page_of


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


# ---- idle instances and rightsizing: the recommendation engine's findings ---------------------------------


def compute_idle_instances(ctx: ToolContext, params: FindingsInput) -> FindingsOutput:
    return findings(ctx, params, ("idle_vm",))


def compute_rightsizing_options(ctx: ToolContext, params: FindingsInput) -> FindingsOutput:
    return findings(ctx, params, ("rightsize_vm",))


# ---- utilisation anomalies: the cost detector on the collected hourly history -------------------------


class UtilisationAnomaliesInput(CloudScope, PageInput):
    days: int = Field(default=14, ge=2, le=93, description="Hours of history to scan, in days before now.")
    resource_id: str | None = Field(default=None, description="Only this resource.")
    metric: str | None = Field(
        default=None, description="Only this metric: cpu_percent, memory_percent, network_in_bytes, …"
    )
    direction: Literal["up", "down", "both"] = Field(
        default="both", description="Which departures to report."
    )


class UtilisationAlertRow(BaseModel):
    resource_id: str
    metric: str
    at: datetime = Field(description="The hour (UTC) the anomaly or change started.")
    value: float
    expected: float
    score: float = Field(description="0-1; 0.5 is the alert threshold.")
    kind: Literal["anomaly", "change"] = Field(description="change: a lasting step of level, reported once.")
    direction: Literal["up", "down"]


class UtilisationAnomaliesOutput(PagedOutput):
    items: list[UtilisationAlertRow]
    start: datetime
    end: datetime


def compute_utilisation_anomalies(
    ctx: ToolContext, params: UtilisationAnomaliesInput
) -> UtilisationAnomaliesOutput:
    end = ctx.now().replace(minute=0, second=0, microsecond=0)
    offset = decode_cursor(params)
    with ctx.read_session() as session:
        alerts = UtilisationAnomalies(session.connection(), ctx.organization_id).scan(
            end,
            days=params.days,
            provider=params.provider,
            account=params.account,
            resource_ids=[params.resource_id] if params.resource_id else None,
            metrics=[params.metric] if params.metric else None,
            direction=params.direction,
            limit=None,
        )
    page, cursor = page_of(params, alerts[offset : offset + params.limit + 1], len(alerts), offset)
    return UtilisationAnomaliesOutput(
        returned=len(page),
        total=len(alerts),
        next_cursor=cursor,
        items=[
            UtilisationAlertRow(
                resource_id=a.resource_id,
                metric=a.metric,
                at=a.at,
                value=a.value,
                expected=a.expected,
                score=a.score,
                kind=a.kind,
                direction=a.direction,
            )
            for a in page
        ],
        start=end - timedelta(days=params.days),
        end=end,
    )


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
            "Running instances the recommendation engine judged idle (the organisation's idle-VM profile: CPU "
            "and network over at least 14 days of hourly samples; do-not-optimize tags respected), with the "
            "monthly USD saved by stopping each and the recommendation id to act on.\n"
            'Example: {"provider": "aws", "limit": 20}'
        ),
        input_model=FindingsInput,
        output_model=FindingsOutput,
        handler=compute_idle_instances,
        permission="read:recommendations",
        cloud_scoped=True,
        max_output_tokens=10_000,
        example={"limit": 20},
    ),
    ToolSpec(
        name="compute_rightsizing_options",
        domain="compute",
        title="Rightsizing options",
        description=(
            "Running instances the recommendation engine would resize to the next smaller size of their family "
            "(CPU, memory when observed, with the profile's headroom), with the target size in the resize "
            "action's evidence, the monthly USD saved and the recommendation id.\n"
            'Example: {"account": "123456789012"}'
        ),
        input_model=FindingsInput,
        output_model=FindingsOutput,
        handler=compute_rightsizing_options,
        permission="read:recommendations",
        cloud_scoped=True,
        max_output_tokens=10_000,
        example={"limit": 20},
    ),
    ToolSpec(
        name="compute_utilisation_anomalies",
        domain="compute",
        title="Utilisation anomalies",
        description=(
            "Spikes, dips and lasting level changes in hourly utilisation (CPU, memory, network, "
            "connections), found by the cost-anomaly detector (daily and weekly cycles per series). "
            "Newest first.\n"
            'Example: {"days": 14, "metric": "cpu_percent", "direction": "up"}'
        ),
        input_model=UtilisationAnomaliesInput,
        output_model=UtilisationAnomaliesOutput,
        handler=compute_utilisation_anomalies,
        permission="read:resources",
        cloud_scoped=True,
        max_output_tokens=10_000,
        example={"days": 14},
    ),
]
