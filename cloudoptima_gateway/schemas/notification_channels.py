"""Notification channel and delivery API bodies: targets are write-only (only a redacted hint is returned)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from cloudoptima_gateway.schemas.common import Schema, StrictBody


class ChannelIn(StrictBody):
    name: str = Field(min_length=1, max_length=100)
    kind: Literal["email", "slack", "teams", "webhook"]
    target: str = Field(
        min_length=1,
        max_length=2000,
        description="an email address, or the webhook URL (https); never returned",
    )
    secret: str | None = Field(
        default=None,
        max_length=512,
        description="webhook only: the signing secret (16+ characters); never returned",
    )
    enabled: bool = True


class ChannelOut(Schema):
    id: uuid.UUID
    name: str
    kind: str
    target: str = Field(description="the redacted target (scheme://host/… or a…@domain)")
    enabled: bool
    created_at: datetime


class ChannelList(Schema):
    items: list[ChannelOut]


class ReceiptOut(Schema):
    delivered: bool
    channel: str
    target: str = Field(description="the redacted target")
    status: int | None = Field(description="what the receiver answered (HTTP status, 250 for SMTP)")
    detail: str
    retryable: bool | None = Field(default=None, description="on failure: would a retry help")


class DeliveryOut(Schema):
    id: uuid.UUID
    channel_id: uuid.UUID
    idempotency_key: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    delivered_at: datetime | None
    created_at: datetime


class DeliveryList(Schema):
    items: list[DeliveryOut]
