"""The ``showback`` template: cost by the values of one tag key (team, product, environment, …), the untagged
remainder as its own line, this period against the previous period of the same length, and each value's top
services. Or, with ``grouping="allocation"``, by the values of an allocation dimension (``tag_key`` then holds
the dimension's name) with :data:`UNALLOCATED` as the remainder line and, when cost rows arrived after the last
re-allocation, a :data:`PENDING` line holding them, so the lines still sum to the overview's total.

:func:`build_showback` is pure: it takes a :class:`ShowbackInput` whose numbers the cost service has already
computed and returns a :class:`~cloudoptima.reports.document.ReportDocument` with

- ``by_value``: one line per tag value and one :data:`UNTAGGED` line — cost, previous period, change, change
  %, share % — with a totals row equal to ``total_cost``; a top-N bar chart of the values;
- ``services``: per tag value (largest first) its ``top_n`` services by cost and, when it has more, an
  :data:`OTHER_SERVICES` line for the rest, so each value's lines sum to its cost.

The checks that the inputs tell one story (each raises a ``ValueError`` naming the field): the lines sum
exactly to ``total_cost`` and their previous costs to ``previous_total_cost``; labels are unique and exactly
one is the remainder (:data:`UNTAGGED`, or :data:`UNALLOCATED` for an allocation); every service line names a
tag value, and each value's services sum exactly to its cost. Percentages are rounded half-even to 0.01 points; a change % is empty when the previous cost is 0.
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
from cloudoptima.reports.templates.comparison import comparison_table, ordered, percent_of
from cloudoptima.reports.templates.spend import SpendLine

TEMPLATE_ID = "showback"
UNTAGGED = "(untagged)"
UNALLOCATED = "unallocated"
PENDING = "(not yet allocated)"
OTHER_SERVICES = "(other services)"


class _Input(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class ServiceCost(_Input):
    """The cost of one service under one tag value in the period."""

    tag_value: str = Field(min_length=1)
    service: str = Field(min_length=1)
    cost: Decimal


class ShowbackInput(_Input):
    """Cost by the values of ``tag_key`` (the untagged remainder a line of its own), already computed."""

    organisation_name: str
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    start_date: date
    end_date: date = Field(description="exclusive")
    generated_at: datetime = Field(description="aware UTC; the caller's clock")
    tag_key: str = Field(min_length=1)
    total_cost: Decimal
    previous_total_cost: Decimal
    by_value: list[SpendLine]
    services: list[ServiceCost] = Field(description="every service of every tag value with a cost")
    top_n: int = Field(default=10, ge=1, le=50)
    title: str = "Showback"
    grouping: Literal["tag", "allocation"] = "tag"

    @property
    def remainder(self) -> str:
        """The label of the line holding what no value claims."""
        return UNALLOCATED if self.grouping == "allocation" else UNTAGGED

    @model_validator(mode="after")
    def _consistent(self) -> ShowbackInput:
        if self.end_date <= self.start_date:
            raise ValueError(
                f"period: end_date {self.end_date} must be after start_date {self.start_date} (end-exclusive)"
            )
        labels = [line.label for line in self.by_value]
        if len(set(labels)) != len(labels):
            raise ValueError("by_value: a tag value appears twice")
        if labels.count(self.remainder) != 1:
            raise ValueError(f"by_value: expected exactly one {self.remainder} line (the remainder)")
        cost = sum((line.cost for line in self.by_value), Decimal(0))
        previous = sum((line.previous_cost for line in self.by_value), Decimal(0))
        if cost != self.total_cost:
            raise ValueError(f"by_value: costs sum to {cost}, total_cost is {self.total_cost}")
        if previous != self.previous_total_cost:
            raise ValueError(
                f"by_value: previous costs sum to {previous}, previous_total_cost is {self.previous_total_cost}"
            )
        per_value: dict[str, Decimal] = {}
        seen: set[tuple[str, str]] = set()
        for line in self.services:
            if line.tag_value not in labels:
                raise ValueError(f"services: {line.tag_value!r} is not a line of by_value")
            if (line.tag_value, line.service) in seen:
                raise ValueError(f"services: {line.service!r} appears twice under {line.tag_value!r}")
            seen.add((line.tag_value, line.service))
            per_value[line.tag_value] = per_value.get(line.tag_value, Decimal(0)) + line.cost
        for value in self.by_value:
            summed = per_value.get(value.label, Decimal(0))
            if summed != value.cost:
                raise ValueError(
                    f"services: the services of {value.label!r} sum to {summed}, its cost is {value.cost}"
                )
        return self


def _value_table(data: ShowbackInput) -> Table:
    return comparison_table(
        table_id="tag_values",
        title=f"Cost by {data.tag_key}",
        label_key="tag_value",
        label_title=data.tag_key,
        lines=data.by_value,
        total=data.total_cost,
    )


def _service_rows(data: ShowbackInput) -> list[list[object]]:
    rows: list[list[object]] = []
    for value in ordered(data.by_value):
        services = sorted(
            (s for s in data.services if s.tag_value == value.label), key=lambda s: (-s.cost, s.service)
        )
        shown, rest = services[: data.top_n], services[data.top_n :]
        rows.extend([value.label, s.service, s.cost] for s in shown)
        if rest:
            rows.append([value.label, OTHER_SERVICES, sum((s.cost for s in rest), Decimal(0))])
    return rows


def build_showback(data: ShowbackInput) -> ReportDocument:
    """The showback document for ``data`` (pure; see the module docstring)."""
    charts: list[Chart] = []
    top = ordered(data.by_value)[: data.top_n]
    if top:
        charts.append(
            BarChart(
                id="top_values",
                title=f"Top {data.top_n} by {data.tag_key}",
                items=[BarItem(label=line.label, value=line.cost) for line in top],
            )
        )
    services = Table(
        id="top_services",
        title=f"Top {data.top_n} services per {data.tag_key}",
        columns=[
            Column(key="tag_value", title=data.tag_key, kind="text"),
            Column(key="service", title="Service", kind="text"),
            Column(key="cost", title="Cost", kind="money"),
        ],
        rows=_service_rows(data),
        totals=True,
    )
    untagged = next(line.cost for line in data.by_value if line.label == data.remainder)
    highlights = [
        Highlight(label="Total cost", kind="money", value=data.total_cost),
        Highlight(label="Previous period", kind="money", value=data.previous_total_cost),
    ]
    if data.grouping == "allocation":
        pending = next((line.cost for line in data.by_value if line.label == PENDING), Decimal(0))
        allocated = data.total_cost - untagged - pending
        highlights += [
            Highlight(
                label=f"Allocated to a {data.tag_key} %",
                kind="percent",
                value=percent_of(allocated, data.total_cost),
            ),
            Highlight(label="Unallocated cost", kind="money", value=untagged),
        ]
        if pending:
            highlights.append(Highlight(label="Not yet allocated", kind="money", value=pending))
    else:
        tagged = data.total_cost - untagged
        highlights += [
            Highlight(
                label=f"Tagged with {data.tag_key} %",
                kind="percent",
                value=percent_of(tagged, data.total_cost),
            ),
            Highlight(label="Untagged cost", kind="money", value=untagged),
        ]
    suffix = " (allocation)" if data.grouping == "allocation" else ""
    return ReportDocument(
        title=f"{data.title}: {data.tag_key}{suffix}",
        organisation_name=data.organisation_name,
        start_date=data.start_date,
        end_date=data.end_date,
        generated_at=data.generated_at,
        currency=data.currency,
        highlights=highlights,
        sections=[
            Section(id="by_value", title=f"By {data.tag_key}", tables=[_value_table(data)], charts=charts),
            Section(id="services", title="Top services", tables=[services]),
        ],
    )
