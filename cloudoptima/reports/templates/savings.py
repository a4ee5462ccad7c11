"""The ``savings`` template: recommendations open now, applied and dismissed in the period, with their
estimated monthly savings by type and by risk, the top N open ones, and a top-N chart of savings by type.

:func:`build_savings` is pure: it takes a :class:`SavingsInput` whose lines a service has already read (the
recommendation lists ``GET /v1/recommendations`` answers) and returns a
:class:`~cloudoptima.reports.document.ReportDocument`. It checks that the inputs tell one story —
``open_savings_monthly`` and ``applied_savings_monthly`` equal the sums of their lines, every applied line was
applied inside the period — and raises a ``ValueError`` naming the field otherwise.

What the numbers are:

- *open* is the state when the report is generated (recommendations are a current state, not a history):
  ``active`` recommendations; ``scheduled`` and ``in progress`` (an execution is changing the cloud) are
  counted beside them;
- *applied* are recommendations whose change was verified (``completed``) on a day of ``[start, end)``;
- *dismissed* counts recommendations dismissed on a day of the period that are still dismissed;
- every amount of the other sections is an **estimated** monthly saving, and their titles and labels say so;
- *realised* (section ``realised``, #22): per UTC month of the change and type, the period's applied
  recommendations, how many the bill has measured, the measured ones' estimates and what the bill showed
  (:mod:`cloudoptima.services.realised_savings`: before vs after windows of ``realised_window_days``), and
  the difference % = (realised − estimated) / estimated × 100 (0.01 points, half-even; negative: the estimate
  was too high). A line's ``measured`` never exceeds its ``completed``; the lines' ``completed`` sum to the
  applied lines. An estimate is never presented as realised.

A recommendation's *type* is its rule (e.g. ``idle_vm``), or its category when it has no rule. Lines without
an estimate count in the counts and are left out of the sums. Share % is the type's savings over the open
savings × 100, rounded half-even to 0.01 percentage points (empty when nothing is open).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
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
from cloudoptima.reports.templates.comparison import CENTI as _CENTI
from cloudoptima.reports.templates.comparison import percent_of

TEMPLATE_ID = "savings"
_RISKS: tuple[str, ...] = ("low", "medium", "high")


class _Input(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class RecommendationLine(_Input):
    """One recommendation as people read it. ``confidence`` is the rule's confidence in ``[0, 1]``."""

    title: str = Field(min_length=1)
    resource: str = Field(description="the affected resource(s), e.g. 'web-1 (i-0abc)' or 'i-1 +2 more'")
    type: str = Field(min_length=1)
    risk_level: Literal["low", "medium", "high"]
    estimated_savings_monthly: Decimal | None
    confidence: Decimal | None = Field(default=None, ge=0, le=1)


class AppliedLine(RecommendationLine):
    """A recommendation whose change was verified on ``applied_on``."""

    applied_on: date


class RealisedLine(_Input):
    """Applied recommendations of one UTC month (``YYYY-MM``) of their change and one type, as the bill measured
    them; money sums the ``measured`` ones only (so estimate and realised compare)."""

    month: str = Field(pattern=r"^\d{4}-\d{2}$")
    type: str = Field(min_length=1)
    completed: int = Field(ge=0)
    measured: int = Field(ge=0)
    estimated_savings_monthly: Decimal
    realised_savings_monthly: Decimal


class SavingsInput(_Input):
    """Everything the savings report shows, already read. Money is Decimal in ``currency``."""

    organisation_name: str
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    start_date: date
    end_date: date = Field(description="exclusive")
    generated_at: datetime = Field(description="aware UTC; the caller's clock")
    open: list[RecommendationLine]
    open_savings_monthly: Decimal
    accepted_count: int = Field(default=0, ge=0)
    """Accepted now: owned, with a due date, not applied yet (#22)."""
    accepted_savings_monthly: Decimal = Decimal(0)
    accepted_overdue: int = Field(default=0, ge=0)
    """Of the accepted ones, how many are past their due date at ``generated_at``."""
    scheduled_count: int = Field(ge=0)
    in_progress_count: int = Field(ge=0)
    applied: list[AppliedLine]
    applied_savings_monthly: Decimal
    dismissed_count: int = Field(ge=0)
    realised: list[RealisedLine] = Field(default_factory=list)
    realised_window_days: int = Field(default=7, ge=1)
    top_n: int = Field(default=10, ge=1, le=50)
    title: str = "Savings"

    @model_validator(mode="after")
    def _consistent(self) -> SavingsInput:
        if self.end_date <= self.start_date:
            raise ValueError(
                f"period: end_date {self.end_date} must be after start_date {self.start_date} (end-exclusive)"
            )
        open_sum = _total(self.open)
        if open_sum != self.open_savings_monthly:
            raise ValueError(
                f"open_savings_monthly: {self.open_savings_monthly} is not the sum of the open lines ({open_sum})"
            )
        applied_sum = _total(self.applied)
        if applied_sum != self.applied_savings_monthly:
            raise ValueError(
                f"applied_savings_monthly: {self.applied_savings_monthly} is not the sum of the applied lines "
                f"({applied_sum})"
            )
        for n, line in enumerate(self.applied, start=1):
            if not self.start_date <= line.applied_on < self.end_date:
                raise ValueError(
                    f"applied[{n}].applied_on: {line.applied_on} is outside the period "
                    f"[{self.start_date}, {self.end_date})"
                )
        for n, item in enumerate(self.realised, start=1):
            if item.measured > item.completed:
                raise ValueError(
                    f"realised[{n}].measured: {item.measured} is more than completed ({item.completed})"
                )
        completed = sum(item.completed for item in self.realised)
        if self.realised and completed != len(self.applied):
            raise ValueError(
                f"realised: the lines count {completed} applied recommendations, the applied lines "
                f"{len(self.applied)}"
            )
        return self


def _total(lines: Iterable[RecommendationLine]) -> Decimal:
    return sum(
        (line.estimated_savings_monthly for line in lines if line.estimated_savings_monthly is not None),
        Decimal(0),
    )


def _savings_key(line: RecommendationLine) -> tuple[Decimal, str, str]:
    return (-(line.estimated_savings_monthly or Decimal(0)), line.title, line.resource)


def _groups(lines: list[RecommendationLine], key: str) -> list[tuple[str, int, Decimal]]:
    """``(label, count, savings)`` per value of ``key`` (``type`` or ``risk_level``), largest savings first."""
    grouped: dict[str, list[RecommendationLine]] = {}
    for line in lines:
        grouped.setdefault(str(getattr(line, key)), []).append(line)
    rows = [(label, len(members), _total(members)) for label, members in grouped.items()]
    return sorted(rows, key=lambda r: (-r[2], r[0]))


def _percent(confidence: Decimal | None) -> Decimal | None:
    return None if confidence is None else (confidence * 100).quantize(_CENTI, rounding=ROUND_HALF_EVEN)


def build_savings(data: SavingsInput) -> ReportDocument:
    """The savings document for ``data`` (pure; see the module docstring)."""
    status = Table(
        id="status",
        title="Recommendations by state",
        columns=[
            Column(key="state", title="State", kind="text"),
            Column(key="count", title="Recommendations", kind="integer"),
            Column(key="estimated_savings_monthly", title="Estimated savings / month", kind="money"),
        ],
        rows=[
            ["Open now", len(data.open), data.open_savings_monthly],
            [
                f"Accepted now (owned; {data.accepted_overdue} overdue)",
                data.accepted_count,
                data.accepted_savings_monthly,
            ],
            ["Scheduled now", data.scheduled_count, None],
            ["Being applied now", data.in_progress_count, None],
            [
                "Applied in the period (estimate, not realised)",
                len(data.applied),
                data.applied_savings_monthly,
            ],
            ["Dismissed in the period", data.dismissed_count, None],
        ],
    )
    by_type = _groups(data.open, "type")
    charts: list[Chart] = []
    if by_type:
        charts.append(
            BarChart(
                id="savings_by_type",
                title=f"Top {data.top_n} types by open savings / month",
                items=[BarItem(label=label, value=savings) for label, _n, savings in by_type[: data.top_n]],
            )
        )
    type_table = Table(
        id="open_by_type",
        title="Open recommendations by type",
        columns=[
            Column(key="type", title="Type", kind="text"),
            Column(key="count", title="Recommendations", kind="integer"),
            Column(key="estimated_savings_monthly", title="Estimated savings / month", kind="money"),
            Column(key="share_percent", title="Share %", kind="percent"),
        ],
        rows=[[label, n, s, percent_of(s, data.open_savings_monthly)] for label, n, s in by_type],
        totals=True,
    )
    risks = {label: (n, s) for label, n, s in _groups(data.open, "risk_level")}
    risk_table = Table(
        id="open_by_risk",
        title="Open recommendations by risk",
        columns=[
            Column(key="risk", title="Risk", kind="text"),
            Column(key="count", title="Recommendations", kind="integer"),
            Column(key="estimated_savings_monthly", title="Estimated savings / month", kind="money"),
        ],
        rows=[[risk, *risks[risk]] for risk in _RISKS if risk in risks],
        totals=True,
    )
    line_columns = [
        Column(key="title", title="Recommendation", kind="text"),
        Column(key="resource", title="Resource", kind="text"),
        Column(key="type", title="Type", kind="text"),
        Column(key="risk", title="Risk", kind="text"),
        Column(key="estimated_savings_monthly", title="Estimated savings / month", kind="money"),
        Column(key="confidence_percent", title="Confidence %", kind="percent"),
    ]
    top = sorted(data.open, key=_savings_key)[: data.top_n]
    top_table = Table(
        id="top_open",
        title=f"Top {data.top_n} open recommendations",
        columns=line_columns,
        rows=[
            [
                line.title,
                line.resource,
                line.type,
                line.risk_level,
                line.estimated_savings_monthly,
                _percent(line.confidence),
            ]
            for line in top
        ],
    )
    applied_table = Table(
        id="applied",
        title="Applied in the period",
        columns=[Column(key="applied_on", title="Applied on", kind="date"), *line_columns],
        rows=[
            [
                line.applied_on,
                line.title,
                line.resource,
                line.type,
                line.risk_level,
                line.estimated_savings_monthly,
                _percent(line.confidence),
            ]
            for line in sorted(data.applied, key=lambda a: (a.applied_on, *_savings_key(a)))
        ],
        totals=True,
    )
    realised_table = Table(
        id="realised",
        title=f"Realised savings by month and type (bill, {data.realised_window_days}-day windows)",
        columns=[
            Column(key="month", title="Month of the change", kind="text"),
            Column(key="type", title="Type", kind="text"),
            Column(key="completed", title="Applied", kind="integer"),
            Column(key="measured", title="Measured", kind="integer"),
            Column(key="estimated_savings_monthly", title="Estimated / month (measured)", kind="money"),
            Column(key="realised_savings_monthly", title="Realised / month", kind="money"),
            Column(key="difference_percent", title="Difference %", kind="percent"),
        ],
        rows=[
            [
                line.month,
                line.type,
                line.completed,
                line.measured,
                line.estimated_savings_monthly,
                line.realised_savings_monthly,
                percent_of(
                    line.realised_savings_monthly - line.estimated_savings_monthly,
                    line.estimated_savings_monthly,
                ),
            ]
            for line in sorted(data.realised, key=lambda r: (r.month, r.type))
        ],
        totals=True,
    )
    sections = [
        Section(id="overview", title="Overview", tables=[status], charts=charts),
        Section(
            id="open",
            title=f"Open recommendations (as of {data.generated_at.date().isoformat()})",
            tables=[type_table, risk_table, top_table],
        ),
        Section(
            id="applied",
            title="Applied in the period: estimated savings (what the bill shows is under Realised savings)",
            tables=[applied_table],
        ),
        Section(
            id="realised",
            title="Realised savings: estimated vs measured from the bill",
            tables=[realised_table],
        ),
    ]
    highlights = [
        Highlight(label="Open savings / month (estimated)", kind="money", value=data.open_savings_monthly),
        Highlight(label="Open recommendations", kind="integer", value=len(data.open)),
        Highlight(label="Applied in the period", kind="integer", value=len(data.applied)),
        Highlight(
            label="Applied savings / month (estimated, not realised)",
            kind="money",
            value=data.applied_savings_monthly,
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
