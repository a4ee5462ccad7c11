"""``ticket_trackers``, ``recommendation_tickets`` (migration 0036) and ``ticket_webhook_deliveries`` (0038): where a
recommendation's ticket lives and how its tracker tells us it changed."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cloudoptima.storage.base import Base, TenantScoped, UUIDPrimaryKey


class TicketTrackerRow(UUIDPrimaryKey, TenantScoped, Base):
    """One tracker connection of an organisation (GitHub Issues, Jira Cloud or a generic webhook)."""

    __tablename__ = "ticket_trackers"

    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    """``github`` | ``jira`` | ``webhook``."""
    base_url: Mapped[str] = mapped_column(Text)
    project: Mapped[str] = mapped_column(String(200))
    """``owner/repo`` (GitHub), project key (Jira), free label (webhook)."""
    login: Mapped[str | None] = mapped_column(String(200))
    """The Jira account e-mail of basic auth; None for the others."""
    token_encrypted: Mapped[str] = mapped_column(Text)
    """``{"token": ...}`` encrypted with the credential cipher; never returned."""
    created_at: Mapped[datetime]
    webhook_secret_encrypted: Mapped[str | None] = mapped_column(Text, default=None)
    """``{"secret": ...}`` encrypted: the secret the tracker's webhooks are signed with; never returned."""
    last_synced_at: Mapped[datetime | None] = mapped_column(default=None)
    last_sync_error: Mapped[str | None] = mapped_column(Text, default=None)
    """Why the last sync could not read this tracker's tickets; None when it read them all."""


class RecommendationTicketRow(UUIDPrimaryKey, TenantScoped, Base):
    """The one ticket a recommendation was handed to, and the last state read from its tracker."""

    __tablename__ = "recommendation_tickets"

    recommendation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recommendations.id", ondelete="CASCADE"))
    tracker_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ticket_trackers.id", ondelete="CASCADE"))
    external_key: Mapped[str] = mapped_column(String(200))
    """GitHub issue number, Jira issue key, or the key the webhook receiver answered."""
    url: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(30), default="open")
    """``open`` | ``completed`` | ``not_planned`` | ``gone`` (deleted or transferred: final)."""
    created_at: Mapped[datetime]
    synced_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    """When the close was seen (a closed ticket is read again for a reopen within a window)."""


class TicketWebhookDeliveryRow(UUIDPrimaryKey, TenantScoped, Base):
    """One webhook delivery received from a tracker (its id makes a replay a no-op)."""

    __tablename__ = "ticket_webhook_deliveries"

    tracker_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ticket_trackers.id", ondelete="CASCADE"))
    delivery_id: Mapped[str] = mapped_column(String(200))
    event: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime]
