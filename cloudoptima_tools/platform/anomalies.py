"""``anomalies_list`` and ``anomaly_root_cause``: detected cost anomalies, their impact and root causes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from cloudoptima.services.anomalies import AnomalyService, AnomalyStatus
from cloudoptima.storage.models import Anomaly
from cloudoptima_tools.context import ToolContext
from cloudoptima_tools.platform.ids import parse_id
from cloudoptima_tools.spec import (
    PagedOutput,
    PageInput,
    ToolInput,
    ToolNotFoundError,
    ToolSpec,
    decode_cursor,
    page_of,
)


class AnomaliesInput(PageInput):
    status: Literal["active", "resolved", "ignored"] | None = Field(default=None, description="Default: all.")
    min_impact: Decimal | None = Field(default=None, description="Only incidents with |impact| ≥ this (USD).")


class AnomalySummary(BaseModel):
    id: str
    start_date: date | None
    end_date: date | None
    scope: dict[str, Any]
    service: str | None
    region: str | None
    severity: str
    status: str
    actual_spend: Decimal | None
    expected_spend: Decimal | None
    impact: Decimal | None = Field(description="actual - expected, in the billing currency.")
    impact_percent: Decimal | None
    root_cause: str | None = Field(
        description="The incident's explanation: written by the root-cause agent from the evidence, or the "
        "deterministic text built from the contributions (see root_cause_source)."
    )
    root_cause_source: str = Field(
        description="'contributions' (deterministic) or 'agent:<provider>' ('agent:offline' = templates)."
    )


class AnomaliesOutput(PagedOutput):
    items: list[AnomalySummary]


def _summary(row: Anomaly) -> AnomalySummary:
    return AnomalySummary(
        id=str(row.id),
        start_date=row.start_date,
        end_date=row.end_date,
        scope=dict(row.scope or {}),
        service=row.service_name,
        region=row.region,
        severity=row.severity,
        status=row.status,
        actual_spend=row.actual_spend,
        expected_spend=row.expected_spend,
        impact=row.impact_amount,
        impact_percent=row.deviation_percent,
        root_cause=row.root_cause,
        root_cause_source=row.root_cause_source or "contributions",
    )


def anomalies_list(ctx: ToolContext, params: AnomaliesInput) -> AnomaliesOutput:
    offset = decode_cursor(params)
    with ctx.read_session() as session:
        rows = list(
            AnomalyService(session, ctx.organization_id).list(
                AnomalyStatus(params.status) if params.status else None, limit=100_000
            )
        )
    if params.min_impact is not None:
        rows = [r for r in rows if r.impact_amount is not None and abs(r.impact_amount) >= params.min_impact]
    page, cursor = page_of(params, rows[offset : offset + params.limit + 1], len(rows), offset)
    items = [_summary(r) for r in page]
    return AnomaliesOutput(items=items, returned=len(items), total=len(rows), next_cursor=cursor)


class AnomalyInput(ToolInput):
    anomaly_id: str = Field(description="Id returned by anomalies_list.")


class Contribution(BaseModel):
    dimensions: dict[str, str]
    actual: Decimal
    expected: Decimal
    contribution: Decimal = Field(description="Share of the impact, in the billing currency.")


class DimensionShare(BaseModel):
    dimension: str
    value: str
    contribution: Decimal


class AnomalyDetail(AnomalySummary):
    score: float | None
    feedback: str | None
    related_scopes: list[dict[str, Any]]
    root_causes: list[Contribution]
    by_dimension: list[DimensionShare]


def anomaly_detail(ctx: ToolContext, params: AnomalyInput) -> AnomalyDetail:
    anomaly_id = parse_id(params.anomaly_id, "anomaly")
    with ctx.read_session() as session:
        try:
            row = AnomalyService(session, ctx.organization_id).get(anomaly_id)
        except LookupError as exc:
            raise ToolNotFoundError(str(exc)) from exc
        base = _summary(row).model_dump()
        return AnomalyDetail(
            **base,
            score=row.score,
            feedback=row.feedback,
            related_scopes=list(row.related_scopes or [])[:20],
            root_causes=[
                Contribution(
                    dimensions=c["dimensions"],
                    actual=Decimal(c["actual"]),
                    expected=Decimal(c["expected"]),
                    contribution=Decimal(c["contribution"]),
                )
                for c in (row.contributions or [])[:25]
            ],
            by_dimension=[
                DimensionShare(
                    dimension=c["dimension"], value=c["value"], contribution=Decimal(c["contribution"])
                )
                for c in (row.dimension_contributions or [])[:60]
            ],
        )


TOOLS: list[ToolSpec[Any, Any]] = [
    ToolSpec(
        name="anomalies_list",
        domain="platform",
        title="Cost anomalies",
        description=(
            "Detected cost anomaly incidents, newest first, with actual vs expected spend and impact "
            "(billing currency, %) and a root-cause sentence.\n"
            'Example: {"status": "active", "min_impact": 100}'
        ),
        input_model=AnomaliesInput,
        output_model=AnomaliesOutput,
        handler=anomalies_list,
        permission="read:costs",
        max_output_tokens=10_000,
        example={"status": "active"},
    ),
    ToolSpec(
        name="anomaly_root_cause",
        domain="platform",
        title="Explain an anomaly",
        description=(
            "One anomaly with its root cause: the cells (service × account × region × usage type) and "
            "dimension values that contributed to the impact, in the billing currency.\n"
            'Example: {"anomaly_id": "3f2c…"}'
        ),
        input_model=AnomalyInput,
        output_model=AnomalyDetail,
        handler=anomaly_detail,
        permission="read:costs",
        max_output_tokens=10_000,
    ),
]
