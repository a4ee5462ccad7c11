"""Connected cloud accounts (seed §4.1 ``cloud_accounts``); credentials are stored encrypted only."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cloudoptima.storage.base import Base, TenantScoped, Timestamps, UUIDPrimaryKey


class CloudAccount(UUIDPrimaryKey, Timestamps, TenantScoped, Base):
    __tablename__ = "cloud_accounts"
    __table_args__ = (UniqueConstraint("organization_id", "provider", "account_identifier"),)

    provider: Mapped[str] = mapped_column(String(20))
    account_identifier: Mapped[str] = mapped_column(String(255))
    account_name: Mapped[str | None] = mapped_column(String(255))
    credentials_encrypted: Mapped[str] = mapped_column(Text)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    status: Mapped[str] = mapped_column(String(50), default="pending")
    verification_status: Mapped[str] = mapped_column(String(20), default="pending")
    verification_error: Mapped[str | None] = mapped_column(Text)
    last_sync_at: Mapped[datetime | None]
    monthly_spend: Mapped[Decimal | None] = mapped_column(Numeric(15, 2))
    permission_problems: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, default=list, server_default=text("'[]'::jsonb")
    )
    """Reads the last collection (or verification) was denied: ``PermissionProblem.as_json()`` each."""
