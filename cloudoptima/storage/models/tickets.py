"""``ticket_trackers`` and ``recommendation_tickets`` (migration 0036): where a recommendation's ticket lives."""

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


class RecommendationTicketRow(UUIDPrimaryKey, TenantScoped, Base):
    """The one ticket a recommendation was handed to, and the last state read from its tracker."""

    __tablename__ = "recommendation_tickets"

    recommendation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recommendations.id", ondelete="CASCADE"))
    tracker_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ticket_trackers.id", ondelete="CASCADE"))
    external_key: Mapped[str] = mapped_column(String(200))
    """GitHub issue number, Jira issue key, or the key the webhook receiver answered."""
    url: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(30), default="open")
    """``open`` | ``completed`` | ``not_planned`` (closed states are final for the sync)."""
    created_at: Mapped[datetime]
    synced_at: Mapped[datetime | None]
