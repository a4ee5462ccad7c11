"""Budgets (seed §3.2 Budget API): amount per period, scope, alert thresholds, and an evaluation's result.

Contract:
- Money is ``Decimal``; periods are calendar periods in UTC, end-exclusive ``[start, end)``, clipped to the
  budget's own ``[start_date, end_date)``; the amount applies to each period.
- An alert threshold is a percentage of the amount compared with ``GREATER_THAN`` as AWS Budgets does
  (finops-facts BU-1, source [B2]: a $200 budget with an ACTUAL 80 % threshold fires *above* $160, so
  spend of exactly $160.00 does not fire). ``ACTUAL`` compares the spend so far, ``FORECASTED`` the
  forecasted period-end spend (BU-2).
- Each threshold fires at most once per period; ``alert_state`` remembers what fired in which period.
- An ``allocation`` scope counts the cost an allocation dimension (by its ``name``, as
  ``/v1/costs/by-allocation?dimension=`` takes it) assigns to one or more of its ``values`` (``unallocated``
  allowed), read from the dimension's active rule-set version.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)


class BudgetPeriod(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    ANNUAL = "annual"


class ScopeType(StrEnum):
    """What a budget counts: accounts, services, values of a tag, teams (the ``team`` tag), or values of an
    allocation dimension."""

    ACCOUNT = "account"
    SERVICE = "service"
    TAG = "tag"
    TEAM = "team"
    ALLOCATION = "allocation"


class BudgetStatus(StrEnum):
    """``exceeded``: spend so far > amount; ``at_risk``: forecasted period-end spend > amount."""

    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    EXCEEDED = "exceeded"


class NotificationType(StrEnum):
    ACTUAL = "actual"
    FORECASTED = "forecasted"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BudgetScope(_Model):
    """``values`` are account ids, service names, tag values, team names or allocation values; ``tag_key`` for
    ``tag`` scopes, ``dimension`` (an allocation dimension's name) for ``allocation`` scopes, and only there
    (it is left out of the JSON when unset, so other scopes store what they always stored).

    An empty ``values`` with type ``account`` means every account of the organisation.
    """

    type: ScopeType = ScopeType.ACCOUNT
    values: list[str] = Field(default_factory=list)
    tag_key: str | None = None
    dimension: str | None = None

    @model_validator(mode="after")
    def _check(self) -> BudgetScope:
        if self.type is ScopeType.TAG and not self.tag_key:
            raise ValueError("a tag scope needs tag_key")
        if self.type is ScopeType.ALLOCATION and not self.dimension:
            raise ValueError("an allocation scope needs dimension (the allocation dimension's name)")
        if self.type is not ScopeType.ALLOCATION and self.dimension is not None:
            raise ValueError("dimension is only for an allocation scope")
        if self.type is not ScopeType.ACCOUNT and not self.values:
            raise ValueError(f"a {self.type} scope needs at least one value")
        return self

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if self.dimension is None:
            data.pop("dimension", None)
        return data


class AlertThreshold(_Model):
    """Fire when spend of ``type`` is greater than ``threshold`` % of the amount."""

    threshold: Decimal = Field(gt=0)
    type: NotificationType = NotificationType.ACTUAL
    channels: list[str] = Field(default_factory=list)

    @property
    def key(self) -> str:
        """Identity in ``alert_state`` (``actual:80``)."""
        return f"{self.type.value}:{self.threshold.normalize():f}"


class BudgetSpec(_Model):
    """What a user creates (seed ``POST /budgets``)."""

    name: str = Field(min_length=1, max_length=255)
    amount: Decimal = Field(gt=0)
    period: BudgetPeriod = BudgetPeriod.MONTHLY
    start_date: date
    end_date: date
    scope: BudgetScope = Field(default_factory=BudgetScope)
    alerts: list[AlertThreshold] = Field(default_factory=list)
    currency: str = "USD"

    @model_validator(mode="after")
    def _dates(self) -> BudgetSpec:
        if self.end_date <= self.start_date:
            raise ValueError("end_date must be after start_date (end is exclusive)")
        return self


class AlertStatus(_Model):
    """Seed ``alerts[]`` entry: whether the threshold has fired in the current period."""

    threshold: Decimal
    type: NotificationType
    triggered: bool
    last_triggered_at: datetime | None = None


class AlertEvent(_Model):
    """A threshold crossing that fired in this evaluation."""

    threshold: Decimal
    type: NotificationType
    spend: Decimal
    limit: Decimal
    fired_at: datetime
    channels: list[str] = Field(default_factory=list)


class BudgetEvaluation(_Model):
    """One evaluation of a budget on its current period."""

    period_start: date
    period_end: date
    amount: Decimal
    current_spend: Decimal
    forecasted_spend: Decimal
    forecast_available: bool
    utilization_percent: Decimal
    forecast_utilization_percent: Decimal
    status: BudgetStatus
    alerts: list[AlertStatus]
    fired: list[AlertEvent]
    alert_state: dict[str, Any]
