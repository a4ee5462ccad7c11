"""The ``anomalies`` template: the cost anomalies whose first day lies in the period, with expected against
actual spend, the impact, the status and the root cause; a summary by severity and a top-N chart of impact by
service.

:func:`build_anomalies` is pure: it takes an :class:`AnomaliesInput` whose lines a service has already read
(the incidents ``GET /v1/costs/anomalies`` answers) and returns a
:class:`~cloudoptima.reports.document.ReportDocument`. It checks that the inputs tell one story —
``total_impact`` is the sum of the lines' impacts, every line starts inside the period and ends on or after
its start, a driver's change comes with its key — and raises a ``ValueError`` naming the field otherwise.

The root cause of a line is what the detector stored: the *top cause* is the cell (account, service, region,
usage type) that contributed most to the impact, with its contribution; the *top driver* is, inside that cell,
the resource (else usage type, else tag value) whose cost changed most, with its change and its share of the
impact (``services.anomaly_drivers``); the *explanation* is the stored root-cause paragraph (deterministic, or
the root-cause agent's). Lines are ordered by first day, then by impact (largest first).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cloudoptima.reports.document import (
    BarChart,
    BarItem,
    Chart,
    Column,
    Highlight,
    ReportDocument,
    Section,
    Table,
)

TEMPLATE_ID = "anomalies"
_SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low")
NO_SERVICE = "(all services)"
"""The bar label of an incident not narrowed to one service (e.g. on total spend)."""


class _Input(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class AnomalyLine(_Input):
    """One incident as stored. ``scope`` is where it was detected as people read it (``total spend``,
    ``account 1111…, service Amazon EC2``); ``share_percent`` of the top driver is percentage points."""

    start_date: date
    end_date: date
    scope: str = Field(min_length=1)
    service: str | None
    severity: Literal["critical", "high", "medium", "low"]
    kind: Literal["anomaly", "change"] = "anomaly"
    expected_spend: Decimal | None
    actual_spend: Decimal | None
    impact: Decimal
    status: str = Field(min_length=1)
    top_cause: str | None = None
    top_cause_contribution: Decimal | None = None
    top_driver: str | None = None
    top_driver_change: Decimal | None = None
    top_driver_share_percent: Decimal | None = None
    explanation: str | None = None


class AnomaliesInput(_Input):
    """Everything the anomalies report shows, already read. Money is Decimal in ``currency``."""

    organisation_name: str
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    start_date: date
    end_date: date = Field(description="exclusive")
    generated_at: datetime = Field(description="aware UTC; the caller's clock")
    anomalies: list[AnomalyLine]
    total_impact: Decimal
    top_n: int = Field(default=10, ge=1, le=50)
    title: str = "Cost anomalies"

    @model_validator(mode="after")
    def _consistent(self) -> AnomaliesInput:
        if self.end_date <= self.start_date:
            raise ValueError(
                f"period: end_date {self.end_date} must be after start_date {self.start_date} (end-exclusive)"
            )
        total = sum((line.impact for line in self.anomalies), Decimal(0))
        if total != self.total_impact:
            raise ValueError(
                f"total_impact: {self.total_impact} is not the sum of the anomalies' impacts ({total})"
            )
        for n, line in enumerate(self.anomalies, start=1):
            if not self.start_date <= line.start_date < self.end_date:
                raise ValueError(
                    f"anomalies[{n}].start_date: {line.start_date} is outside the period "
                    f"[{self.start_date}, {self.end_date})"
                )
            if line.end_date < line.start_date:
                raise ValueError(
                    f"anomalies[{n}].end_date: {line.end_date} is before its start_date {line.start_date}"
                )
            if line.top_driver is None and line.top_driver_change is not None:
                raise ValueError(f"anomalies[{n}].top_driver: a driver change is given without its driver")
            if line.top_cause is None and line.top_cause_contribution is not None:
                raise ValueError(f"anomalies[{n}].top_cause: a contribution is given without its cause")
        return self


def _ordered(lines: list[AnomalyLine]) -> list[AnomalyLine]:
    return sorted(lines, key=lambda a: (a.start_date, -a.impact, a.scope))


def build_anomalies(data: AnomaliesInput) -> ReportDocument:
    """The anomalies document for ``data`` (pure; see the module docstring)."""
    lines = _ordered(data.anomalies)
    severity = Table(
        id="by_severity",
        title="Anomalies by severity",
        columns=[
            Column(key="severity", title="Severity", kind="text"),
            Column(key="count", title="Anomalies", kind="integer"),
            Column(key="impact", title="Impact", kind="money"),
        ],
        rows=[
            [
                level,
                sum(1 for a in lines if a.severity == level),
                sum((a.impact for a in lines if a.severity == level), Decimal(0)),
            ]
            for level in _SEVERITIES
        ],
        totals=True,
    )
    by_service: dict[str, Decimal] = {}
    for line in lines:
        label = line.service or NO_SERVICE
        by_service[label] = by_service.get(label, Decimal(0)) + line.impact
    ranked = sorted(by_service.items(), key=lambda item: (-item[1], item[0]))
    charts: list[Chart] = []
    if ranked:
        charts.append(
            BarChart(
                id="impact_by_service",
                title=f"Top {data.top_n} services by anomaly impact",
                items=[BarItem(label=label, value=value) for label, value in ranked[: data.top_n]],
            )
        )
    incidents = Table(
        id="anomalies",
        title="Anomalies detected in the period",
        columns=[
            Column(key="start_date", title="First day", kind="date"),
            Column(key="end_date", title="Last day", kind="date"),
            Column(key="scope", title="Scope", kind="text"),
            Column(key="service", title="Service", kind="text"),
            Column(key="severity", title="Severity", kind="text"),
            Column(key="kind", title="Kind", kind="text"),
            Column(key="expected_spend", title="Expected", kind="money"),
            Column(key="actual_spend", title="Actual", kind="money"),
            Column(key="impact", title="Impact", kind="money"),
            Column(key="status", title="Status", kind="text"),
        ],
        rows=[
            [
                a.start_date,
                a.end_date,
                a.scope,
                a.service,
                a.severity,
                a.kind,
                a.expected_spend,
                a.actual_spend,
                a.impact,
                a.status,
            ]
            for a in lines
        ],
        totals=True,
    )
    causes = Table(
        id="root_causes",
        title="Root causes",
        columns=[
            Column(key="start_date", title="First day", kind="date"),
            Column(key="scope", title="Scope", kind="text"),
            Column(key="impact", title="Impact", kind="money"),
            Column(key="top_cause", title="Top cause", kind="text"),
            Column(key="top_cause_contribution", title="Its contribution", kind="money"),
            Column(key="top_driver", title="Top driver", kind="text"),
            Column(key="top_driver_change", title="Its change", kind="money"),
            Column(key="top_driver_share_percent", title="Share of impact %", kind="percent"),
        ],
        rows=[
            [
                a.start_date,
                a.scope,
                a.impact,
                a.top_cause,
                a.top_cause_contribution,
                a.top_driver,
                a.top_driver_change,
                a.top_driver_share_percent,
            ]
            for a in lines
        ],
    )
    explanations = Table(
        id="explanations",
        title="Explanations",
        columns=[
            Column(key="start_date", title="First day", kind="date"),
            Column(key="scope", title="Scope", kind="text"),
            Column(key="explanation", title="Explanation", kind="text"),
        ],
        rows=[[a.start_date, a.scope, a.explanation] for a in lines if a.explanation],
    )
    sections = [
        Section(id="overview", title="Overview", tables=[severity], charts=charts),
        Section(id="anomalies", title="Anomalies", tables=[incidents]),
        Section(id="root_causes", title="Root causes", tables=[causes, explanations]),
    ]
    highlights = [
        Highlight(label="Anomalies", kind="integer", value=len(lines)),
        Highlight(label="Total impact", kind="money", value=data.total_impact),
        Highlight(
            label="Critical or high severity",
            kind="integer",
            value=sum(1 for a in lines if a.severity in ("critical", "high")),
        ),
    ]
    return ReportDocument(
        title=data.title,
        organisation_name=data.organisation_name,
        start_date=data.start_date,
        end_date=data.end_date,
        generated_at=data.generated_at,
        currency=data.currency,
        highlights=highlights,
        sections=sections,
    )
