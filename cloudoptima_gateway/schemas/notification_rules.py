"""Notification rule API bodies (``/v1/notification-rules``); the service validates and names bad fields."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import Field

from cloudoptima_gateway.schemas.common import Schema, StrictBody

_SCOPE = (
    "filters: account_ids, services, regions, budget_ids (each a non-empty list); empty matches every event"
)
_RECIPIENTS = (
    "in-app rules only (channel_id null): roles (RBAC roles), user_ids (users of the organisation) and owner"
    " (true: the user the event is assigned to, e.g. an overdue recommendation's owner)"
)
_QUIET = "channel rules only: start, end (HH:MM) and timezone (IANA); deliveries inside wait until the end"


class RuleIn(StrictBody):
    name: str = Field(max_length=400)
    event_type: str = Field(
        max_length=64, description="a notice event type (budget.actual, anomaly.detected …)"
    )
    min_severity: str | None = Field(default=None, max_length=16, description="info, warning or critical")
    min_amount: Decimal | None = Field(default=None, description="in the event's currency; at least 0")
    scope: dict[str, Any] = Field(default_factory=dict, description=_SCOPE)
    channel_id: uuid.UUID | None = Field(
        default=None, description="a notification channel; null: in-app inbox"
    )
    recipients: dict[str, Any] = Field(default_factory=dict, description=_RECIPIENTS)
    quiet_hours: dict[str, Any] | None = Field(default=None, description=_QUIET)
    enabled: bool = True


class RulePatch(StrictBody):
    """Only the fields sent change; the rule is validated as a whole afterwards."""

    name: str | None = Field(default=None, max_length=400)
    event_type: str | None = Field(default=None, max_length=64)
    min_severity: str | None = Field(default=None, max_length=16)
    min_amount: Decimal | None = None
    scope: dict[str, Any] | None = Field(default=None, description=_SCOPE)
    channel_id: uuid.UUID | None = None
    recipients: dict[str, Any] | None = Field(default=None, description=_RECIPIENTS)
    quiet_hours: dict[str, Any] | None = Field(default=None, description=_QUIET)
    enabled: bool | None = None


class RecipientsOut(Schema):
    roles: list[str]
    user_ids: list[uuid.UUID]
    owner: bool = Field(default=False, description="the user the event is assigned to (if it names one)")


class QuietHoursOut(Schema):
    start: str
    end: str
    timezone: str


class RuleOut(Schema):
    id: uuid.UUID
    name: str
    event_type: str
    min_severity: str | None
    min_amount: Decimal | None
    scope: dict[str, list[str]]
    channel_id: uuid.UUID | None
    recipients: RecipientsOut
    quiet_hours: QuietHoursOut | None
    enabled: bool
    created_by: uuid.UUID | None
    created_at: datetime


class RuleList(Schema):
    items: list[RuleOut]
