"""Organisations, users, API keys and the token bookkeeping auth needs (seed §4.1, §6.1)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cloudoptima.storage.base import Base, TenantScoped, Timestamps, UUIDPrimaryKey, utcnow


class Organization(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "organizations"

    name: Mapped[str] = mapped_column(String(255))
    subscription_tier: Mapped[str] = mapped_column(String(50), default="free")
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class User(UUIDPrimaryKey, Timestamps, TenantScoped, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(255), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(50))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login: Mapped[datetime | None]
    is_platform_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    """An operator of the platform (granted only by ``cloudoptima users platform-admin``): may change an
    organisation's subscription tier."""


class ApiKey(UUIDPrimaryKey, TenantScoped, Base):
    """A machine credential. Only ``prefix`` (for lookup) and an argon2 hash of the secret are stored."""

    __tablename__ = "api_keys"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class RefreshToken(UUIDPrimaryKey, TenantScoped, Base):
    """A rotating refresh token; ``family_id`` ties rotations together so reuse revokes the family."""

    __tablename__ = "refresh_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class RevokedToken(Base):
    """Access-token ids (``jti``) revoked before they expire (logout)."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime] = mapped_column(default=utcnow)
