"""Bodies of the recommendation lifecycle transitions (#22): accept, snooze, false positive, reopen."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from pydantic import Field

from cloudoptima_gateway.schemas.common import Schema, StrictBody


class AcceptIn(StrictBody):
    owner_user_id: uuid.UUID = Field(description="A user of the organisation who owns applying it.")
    due_date: date = Field(description="By when it should be applied (today or later).")
    note: str | None = Field(default=None, max_length=2000)


class SnoozeIn(StrictBody):
    until: datetime = Field(description="When it comes back as open (timezone required, at most 365 days).")
    reason: str | None = Field(default=None, max_length=2000)


class FalsePositiveIn(StrictBody):
    reason: str = Field(min_length=1, max_length=2000, description="Why the rule was wrong here.")


class ReopenIn(StrictBody):
    reason: str | None = Field(default=None, max_length=2000)


class TransitionOut(Schema):
    """One lifecycle change: who, when, from → to and why."""

    from_status: str
    to_status: str
    actor: str
    reason: str | None
    details: dict[str, object]
    at: datetime


class LifecycleOut(Schema):
    """The recommendation's lifecycle after a transition."""

    id: uuid.UUID
    status: str
    lifecycle: str
    owner_user_id: uuid.UUID | None
    due_date: date | None
    snoozed_until: datetime | None


class ProfileFeedbackOut(Schema):
    """One rule profile's false positives over the findings people decided on."""

    rule_id: str
    profile: str
    false_positives: int
    decided: int = Field(description="accepted, dismissed, false positive, being applied or applied")
    rate_percent: Decimal | None
    lowered: bool = Field(description="its findings' confidence is lowered one level (see threshold)")


class FalsePositiveCountsOut(Schema):
    """Recommendations marked false positive, per rule id, and per rule profile their rate over decided
    findings (feedback on the rules: a profile at or over the threshold has its findings trusted less)."""

    rules: dict[str, int]
    profiles: list[ProfileFeedbackOut] = []
    threshold: str = ""
