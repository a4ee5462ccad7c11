"""Budget API bodies (seed §3.2 + §9.2 validation)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field, field_validator, model_validator

from cloudoptima_gateway.schemas.common import Money, Schema, StrictBody


class BudgetScopeIn(StrictBody):
    type: Literal["account", "service", "tag", "team", "allocation"] = "account"
    values: list[str] = Field(
        default_factory=list,
        max_length=200,
        description="accounts, services, tag values, teams or allocation values (unallocated allowed)",
    )
    tag_key: str | None = Field(default=None, max_length=128, description="for type=tag")
    dimension: str | None = Field(
        default=None,
        min_length=1,
        max_length=63,
        description="for type=allocation: the allocation dimension's name, as /v1/costs/by-allocation takes it",
    )


class BudgetAlertIn(StrictBody):
    threshold: Decimal = Field(gt=0, le=1000, description="percentage of the amount")
    type: Literal["actual", "forecasted"] = "actual"
    channels: list[Literal["email", "slack", "webhook"]] = Field(default_factory=list)


class BudgetIn(StrictBody):
    name: str = Field(min_length=3, max_length=255)
    amount: Decimal = Field(gt=0, le=10_000_000, decimal_places=2)
    currency: str = Field(default="USD", pattern="^[A-Za-z]{3}$")
    period: Literal["monthly", "quarterly", "annual"] = "monthly"
    start_date: date
    end_date: date = Field(description="exclusive")
    scope: BudgetScopeIn = Field(default_factory=BudgetScopeIn)
    alerts: list[BudgetAlertIn] = Field(default_factory=list, max_length=20)

    @field_validator("name")
    @classmethod
    def _sanitise(cls, value: str) -> str:
        cleaned = value.strip().replace("<", "").replace(">", "")
        if len(cleaned) < 3:
            raise ValueError("name must have at least 3 visible characters")
        return cleaned

    @model_validator(mode="after")
    def _dates(self) -> BudgetIn:
        if self.end_date <= self.start_date:
            raise ValueError("end_date must be after start_date (end_date is exclusive)")
        if self.scope.type == "tag" and not self.scope.tag_key:
            raise ValueError("scope.tag_key is required for a tag scope")
        if self.scope.type == "allocation" and not self.scope.dimension:
            raise ValueError("scope.dimension is required for an allocation scope")
        if self.scope.type != "allocation" and self.scope.dimension is not None:
            raise ValueError("scope.dimension is only for an allocation scope")
        if self.scope.type in ("service", "tag", "team", "allocation") and not self.scope.values:
            raise ValueError(f"scope.values needs at least one value for a {self.scope.type} scope")
        return self


class BudgetScopeOut(Schema):
    type: str
    filters: dict[str, object]


class BudgetAlertOut(Schema):
    threshold: float
    type: str
    triggered: bool
    last_triggered_at: datetime | None


class BudgetOut(Schema):
    id: uuid.UUID
    name: str
    amount: Money
    currency: str
    period: str
    start_date: date
    end_date: date
    scope: BudgetScopeOut
    period_start: date
    period_end: date
    current_spend: Money
    forecasted_spend: Money
    forecast_available: bool
    utilization_percent: float
    status: Literal["on_track", "at_risk", "exceeded"]
    alerts: list[BudgetAlertOut]


class BudgetList(Schema):
    budgets: list[BudgetOut]


class BudgetCreated(Schema):
    budget_id: uuid.UUID
    notes: list[str] = Field(
        default_factory=list,
        description="What the budget will count that the caller may not expect (an allocation value with no "
        "cost allocated to it yet); empty when nothing.",
    )
