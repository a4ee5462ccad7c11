"""Request and response bodies of ``/v1/allocation`` and ``/v1/costs/by-allocation``."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field


class DimensionIn(BaseModel):
    name: str = Field(min_length=1, max_length=63, description="lower-case letters, digits, _ (e.g. team)")
    description: str | None = Field(default=None, max_length=1000)


class RuleSetIn(BaseModel):
    """A rule set (``cloudoptima.domain.allocation``): validated there, errors name the rule and field."""

    rules: list[dict[str, Any]] = Field(default_factory=list, description="ordered; the first match wins")
    shared: list[dict[str, Any]] = Field(default_factory=list, description="shared-cost splits")
    tag_aliases: dict[str, list[str]] = Field(default_factory=dict, description="canonical key: its variants")


class DimensionPatch(BaseModel):
    description: str | None = Field(default=None, max_length=1000)


class DimensionOut(BaseModel):
    id: uuid.UUID
    name: str
    description: str | None
    active_version: int | None = Field(
        description="the rule-set version allocated views read (None: not yet)"
    )
    latest_version: int = Field(description="the newest saved version (0: no rules yet)")
    allocated_at: datetime | None
    created_at: datetime
    updated_at: datetime


class DimensionList(BaseModel):
    items: list[DimensionOut]


class RuleSetOut(BaseModel):
    dimension_id: uuid.UUID
    version: int
    rules: dict[str, Any] = Field(description="rules, shared and tag_aliases (cloudoptima.domain.allocation)")


class ReallocationOut(BaseModel):
    workflow_id: str
    status: Literal["started", "unavailable"] = Field(
        description="unavailable: the workflow service could not be reached; POST …/reallocate to retry"
    )


class RulesSaved(BaseModel):
    dimension: DimensionOut
    version: int
    reallocation: ReallocationOut


class SeriesPointOut(BaseModel):
    period_start: date
    cost: Decimal


class ValueCostOut(BaseModel):
    value: str
    cost: Decimal
    shared_cost: Decimal = Field(description="the part of cost that came from shared-cost splits")
    percentage: Decimal
    series: list[SeriesPointOut] = Field(default_factory=list)


class CurrencyAllocationOut(BaseModel):
    currency: str
    total_cost: Decimal = Field(
        description="the sum of the values, equal to the unallocated total; with reconcile=true read from the "
        "overview's rollup instead"
    )
    pending: Decimal | None = Field(
        description="with reconcile=true: cost not yet re-allocated (values + pending == total_cost); else null"
    )
    values: list[ValueCostOut]


class CostByAllocationOut(BaseModel):
    dimension: str
    version: int | None
    start_date: date
    end_date: date
    currencies: list[CurrencyAllocationOut]
    cost_basis: Literal["billed", "effective"] = Field(
        "billed",
        description="Which cost every number is: billed (FOCUS BilledCost, the invoice's) or effective (FOCUS "
        "EffectiveCost, amortised; a row without one counts 0).",
    )
