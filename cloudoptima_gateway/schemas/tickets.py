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
    webhook_secret: str | None = Field(
        default=None,
        max_length=200,
        description="Secret the tracker signs its webhooks with (16-200 characters); made when left out. "
        "Stored encrypted; answered once, on creation.",
    )


class TrackerOut(Schema):
    id: uuid.UUID
    name: str
    kind: str
    base_url: str
    project: str
    login: str | None
    token_set: bool
    created_at: datetime
    webhook_secret_set: bool
    webhook_url_path: str = Field(description="Where the tracker sends its webhooks (under the public URL).")
    last_synced_at: datetime | None
    last_sync_error: str | None = Field(
        description="Why the last sync could not read this tracker; None: it could."
    )


class TrackerCreatedOut(TrackerOut):
    webhook_secret: str = Field(description="Shown once: set it as the tracker webhook's secret.")


class TrackerPatch(StrictBody):
    """Only the fields given change; the kind cannot."""

    base_url: str | None = Field(default=None, min_length=1, max_length=2000)
    project: str | None = Field(default=None, min_length=1, max_length=200)
    login: str | None = Field(default=None, max_length=200, description="Jira account e-mail.")
    token: str | None = Field(default=None, min_length=1, max_length=4000, description="Stored encrypted.")
    rotate_webhook_secret: bool = Field(default=False, description="Make (or take) a new webhook secret.")
    webhook_secret: str | None = Field(
        default=None, max_length=200, description="With rotate_webhook_secret."
    )


class TrackerEditedOut(TrackerOut):
    webhook_secret: str | None = Field(
        description="The new webhook secret when rotated (shown once), else null."
    )


class WebhookOut(Schema):
    delivery: str
    event: str
    outcome: str = Field(
        description="completed | not_planned | reopened | gone | unchanged | duplicate | ignored: <why>"
    )
    recommendation_id: uuid.UUID | None


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
    state: str = Field(description="open | completed | not_planned | gone")
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
    state: str = Field(description="open | completed | not_planned | gone")


class SyncOut(Schema):
    checked: int
    completed: list[uuid.UUID]
    not_planned: list[uuid.UUID]
    reopened: list[uuid.UUID]
    gone: list[uuid.UUID]
    errors: list[str]
