"""Bodies of ``/v1/ticket-trackers`` and ``/v1/recommendations/{id}/ticket`` (#22 tickets)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from cloudoptima_gateway.schemas.common import Schema, StrictBody


class TrackerIn(StrictBody):
    name: str = Field(min_length=1, max_length=100)
    kind: Literal["github", "jira", "webhook"]
    base_url: str = Field(
        min_length=1,
        max_length=2000,
        description="https://api.github.com, https://<site>.atlassian.net, or the hook.",
    )
    project: str = Field(min_length=1, max_length=200, description="owner/repo (GitHub), project key (Jira).")
    login: str | None = Field(default=None, max_length=200, description="Jira account e-mail (basic auth).")
    token: str = Field(min_length=1, max_length=4000, description="Stored encrypted, never returned.")


class TrackerOut(Schema):
    id: uuid.UUID
    name: str
    kind: str
    base_url: str
    project: str
    login: str | None
    token_set: bool
    created_at: datetime


class TrackerList(Schema):
    trackers: list[TrackerOut]


class TicketIn(StrictBody):
    tracker_id: uuid.UUID | None = Field(
        default=None, description="Optional when the organisation has one tracker."
    )


class TicketOut(Schema):
    recommendation_id: uuid.UUID
    tracker_id: uuid.UUID
    tracker_name: str
    kind: str
    external_key: str
    url: str
    state: str = Field(description="open | completed | not_planned")
    created_at: datetime
    synced_at: datetime | None
    created: bool = Field(description="False when the stored ticket was answered (idempotent).")
    attempts: list[str] = Field(description="HTTP status (or error) of each call made to the tracker now.")


class TicketLinkOut(Schema):
    """Where a recommendation's ticket lives (on GET of one recommendation)."""

    tracker_name: str
    kind: str
    external_key: str
    url: str
    state: str = Field(description="open | completed | not_planned")


class SyncOut(Schema):
    checked: int
    completed: list[uuid.UUID]
    not_planned: list[uuid.UUID]
    errors: list[str]
