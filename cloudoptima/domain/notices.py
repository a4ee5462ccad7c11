"""A notice: one thing that happened and that people should hear about, independent of how it is delivered.

Contract:
- A :class:`Notice` is what every notification channel (email, Slack, Teams, generic webhook, later the in-app
  inbox) renders; channels add nothing to it and drop nothing of it.
- ``amount`` is ``Decimal`` money and comes with a three-letter upper-case ``currency``; a notice without an
  amount has no currency either (both or neither).
- ``link`` is an absolute ``http(s)`` URL of the thing the notice is about (the approval, the anomaly, the
  budget), so a reader can open it from any channel.
- ``facts`` are ordered label/value pairs shown as a table (Slack fields, Teams FactSet, email rows); their
  order is kept.
- ``occurred_at`` is a timezone-aware datetime, normalised to UTC.
- ``idempotency_key`` identifies the notice across retries: every delivery attempt of the same notice carries
  the same key (the generic webhook sends it as ``id`` and ``X-CloudOptima-Delivery``; email as its
  ``Message-ID``), so receivers can drop duplicates.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MAX_FACTS = 20


class NoticeEventType(StrEnum):
    """What happened (the events issue #19 notifies about)."""

    BUDGET_ACTUAL = "budget.actual"
    BUDGET_FORECASTED = "budget.forecasted"
    ANOMALY_DETECTED = "anomaly.detected"
    RECOMMENDATION_CREATED = "recommendation.created"
    APPROVAL_REQUESTED = "approval.requested"
    EXECUTION_SUCCEEDED = "execution.succeeded"
    EXECUTION_FAILED = "execution.failed"
    COLLECTION_FAILED = "collection.failed"
    DIGEST = "digest"
    REPORT_READY = "report.ready"
    COMMITMENT_EXPIRING = "commitment.expiring"
    RECOMMENDATION_OVERDUE = "recommendation.overdue"


class NoticeSeverity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NoticeFact(_Model):
    """One row of the notice's table: a short label and its value, both plain text."""

    label: str = Field(min_length=1, max_length=100)
    value: str = Field(max_length=1000)


class Notice(_Model):
    """One notice (see module contract)."""

    event_type: NoticeEventType
    severity: NoticeSeverity
    title: str = Field(min_length=1, max_length=200)
    summary: str = Field(max_length=3000)
    amount: Decimal | None = None
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    link: str | None = Field(default=None, max_length=2000)
    facts: tuple[NoticeFact, ...] = Field(default=(), max_length=MAX_FACTS)
    organization_id: uuid.UUID
    occurred_at: datetime
    idempotency_key: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._:\-]+$")

    @field_validator("amount")
    @classmethod
    def _finite_amount(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and not value.is_finite():
            raise ValueError("amount must be a finite decimal")
        return value

    @field_validator("link")
    @classmethod
    def _absolute_link(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("link must be an absolute http(s) URL")
        if any(ch in value for ch in "\r\n\t "):
            raise ValueError("link must not contain whitespace")
        return value

    @field_validator("occurred_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("occurred_at must be timezone-aware")
        return value.astimezone(UTC)

    @model_validator(mode="after")
    def _amount_with_currency(self) -> Notice:
        if (self.amount is None) != (self.currency is None):
            raise ValueError("amount and currency come together: give both or neither")
        return self
