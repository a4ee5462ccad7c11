"""Password-reset links (``services.passwords``): only the SHA-256 of the link's secret is stored."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from cloudoptima.storage.base import Base, TenantScoped, UUIDPrimaryKey, utcnow


class PasswordResetToken(UUIDPrimaryKey, TenantScoped, Base):
    """One emailed reset link: valid until ``expires_at``, spent at ``used_at``."""

    __tablename__ = "password_reset_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
