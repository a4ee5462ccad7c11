"""What every cost tool shares: the period and currency filters, the analytics service, percentages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import Field
from sqlalchemy.orm import Session

from cloudoptima.services.cost_analytics import CostAnalytics
from cloudoptima_tools.context import ToolContext
from cloudoptima_tools.spec import (
    CloudScope,
)

Dimension = Literal["service", "region", "account", "provider", "category", "charge_category"]


class PeriodInput(CloudScope):
    start_date: date | None = Field(default=None, description="First day (UTC); default 30 days ago.")
    end_date: date | None = Field(default=None, description="Exclusive end day; default today.")
    currency: str | None = Field(
        default=None, description="Billing currency (ISO 4217) when data has several."
    )


def analytics_of(ctx: ToolContext, session: Session) -> CostAnalytics:
    """The cost analytics service of the caller's organisation over ``session``."""
    return CostAnalytics.for_organisation(session.connection(), ctx.organization_id)


def percent_of(part: Decimal, whole: Decimal) -> Decimal | None:
    """``part`` as a percentage of ``whole`` (2 decimals); None when ``whole`` is zero."""
    return (part / whole * 100).quantize(Decimal("0.01")) if whole else None
