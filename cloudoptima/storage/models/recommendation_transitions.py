"""``recommendation_transitions`` (migration 0035): one row per lifecycle change of a recommendation."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Identity, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cloudoptima.storage.base import Base, TenantScoped, UUIDPrimaryKey


class RecommendationTransitionRow(UUIDPrimaryKey, TenantScoped, Base):
    """Who moved a recommendation from one status to another, when and why."""

    __tablename__ = "recommendation_transitions"

    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True))
    """Order of writing (transitions at the same instant keep the order they were made in)."""
    recommendation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recommendations.id", ondelete="CASCADE"))
    from_status: Mapped[str] = mapped_column(String(50))
    to_status: Mapped[str] = mapped_column(String(50))
    actor: Mapped[str] = mapped_column(String(100))
    """``user:<id>``, ``api_key:<id>`` or ``system`` (a snooze that ran out)."""
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    at: Mapped[datetime]
