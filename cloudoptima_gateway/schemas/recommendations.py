"""Recommendations API bodies (seed §3.2)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field

from cloudoptima_gateway.schemas.common import Money, Schema, StrictBody
from cloudoptima_gateway.schemas.recommendation_lifecycle import TransitionOut
from cloudoptima_gateway.schemas.tickets import TicketLinkOut


class AffectedResourceOut(Schema):
    id: str
    name: str
    current_cost: Money


class ActionOut(Schema):
    type: str
    resource_id: str | None = None
    description: str
    parameters: dict[str, Any] = Field(default_factory=dict)


class ImpactAnalysisOut(Schema):
    performance_impact: str
    availability_impact: str
    security_impact: str


class RecommendationOut(Schema):
    id: uuid.UUID
    currency: str | None = Field(
        default=None,
        description="The currency of the estimates: that of the costs of the recommendation's account "
        "(the organisation's when it has none; null when unknown or several).",
    )
    title: str
    description: str | None
    category: str
    risk_level: Literal["low", "medium", "high"]
    status: str
    provider: str | None
    region: str | None
    confidence: float | None
    estimated_savings_monthly: Money | None
    estimated_savings_annual: Money | None
    price_source: str | None = Field(
        default=None,
        description=(
            'Where the saving comes from: "billed cost (last 30 days)", a price list ("AWS Price List, '
            'fetched 2031-03-01"), a built-in table, the resource\'s own reported cost, or "price unknown".'
        ),
    )
    affected_resources: list[AffectedResourceOut]
    actions: list[ActionOut]
    manual_steps: list[str]
    impact_analysis: ImpactAnalysisOut | None
    created_at: datetime
    expires_at: datetime | None
    lifecycle: str | None = Field(
        default=None,
        description="open, accepted, snoozed, dismissed, false_positive, applying, applied, expired",
    )
    owner_user_id: uuid.UUID | None = None
    due_date: date | None = None
    snoozed_until: datetime | None = None
    history: list[TransitionOut] | None = Field(
        default=None, description="Lifecycle transitions, oldest first (on GET of one recommendation)."
    )
    ticket: TicketLinkOut | None = Field(
        default=None, description="The tracker ticket it was handed to (on GET of one recommendation)."
    )


class RecommendationList(Schema):
    recommendations: list[RecommendationOut]
    total: int = Field(description="Recommendations on this page.")
    total_matching: int | None = Field(default=None, description="Every recommendation the filters select.")
    next_cursor: str | None = Field(
        default=None,
        description="Pass as cursor= (with the same sort_by) for the next page; null on the last.",
    )


class DismissIn(StrictBody):
    reason: str = Field(min_length=1, max_length=2000)
    permanent: bool = False


class ApplyIn(StrictBody):
    schedule: datetime | None = Field(default=None, description="run at this UTC time instead of now")
    approval_required: bool = Field(
        default=True,
        description="wait for a person's approval (the default). false only lets a low-risk, reversible plan "
        "run at once when the organisation turned on auto_approve_low_risk; anything else still waits",
    )
    dry_run: bool = False


class ApplyOut(Schema):
    execution_id: str
    status: Literal["queued", "awaiting_approval", "executing", "completed", "failed"]
    estimated_completion: datetime | None
    dry_run: bool
    approval_required: bool


class CostImpactOut(Schema):
    current_monthly: Money | None
    projected_monthly: Money | None
    savings: Money | None


class ResourceChangeOut(Schema):
    resource_id: str
    change_type: str
    before: dict[str, Any]
    after: dict[str, Any]


class ImpactPreviewOut(Schema):
    cost_impact: CostImpactOut
    resource_changes: list[ResourceChangeOut]
    risks: list[str]
    rollback: str | None
