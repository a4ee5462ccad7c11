"""``/v1/notifications`` replies: the caller's in-app inbox (``cloudoptima.services.inbox``), newest first."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from cloudoptima_gateway.schemas.common import Schema


class NotificationOut(Schema):
    id: uuid.UUID
    event_type: str = Field(description="What happened, e.g. approval.pending or budget.alert.")
    severity: Literal["info", "warning", "critical"]
    title: str
    summary: str
    link: str | None = Field(
        description="Where to open the subject: an absolute console URL, or an API path starting with '/'."
    )
    payload: dict[str, Any] = Field(description="The facts of the notice (money and dates as strings).")
    created_at: datetime
    read_at: datetime | None = Field(description="When the caller marked it read; null while unread.")


class NotificationList(Schema):
    items: list[NotificationOut]
    next_cursor: str | None = Field(
        default=None, description="Pass as cursor for the next (older) page; absent on the last page."
    )
    unread_count: int = Field(description="The caller's unread notices (all pages).")


class UnreadCount(Schema):
    unread_count: int


class ReadAll(Schema):
    marked: int = Field(description="How many unread notices were marked read.")
    unread_count: int
