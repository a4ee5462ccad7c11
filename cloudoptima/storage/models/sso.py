"""OpenID Connect single sign-on tables (migration 0022): providers, pending sign-ins, linked identities."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cloudoptima.storage.base import Base, TenantScoped, Timestamps, UUIDPrimaryKey, utcnow


class SsoProvider(UUIDPrimaryKey, Timestamps, TenantScoped, Base):
    """An organisation's identity provider; the client secret is stored encrypted only."""

    __tablename__ = "sso_providers"

    slug: Mapped[str] = mapped_column(String(63), unique=True)
    issuer: Mapped[str] = mapped_column(Text)
    client_id: Mapped[str] = mapped_column(Text)
    client_secret_encrypted: Mapped[str] = mapped_column(Text)
    scopes: Mapped[str] = mapped_column(Text)
    groups_claim: Mapped[str] = mapped_column(String(100))
    group_roles: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    default_role: Mapped[str | None] = mapped_column(String(50))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class SsoLogin(TenantScoped, Base):
    """A sign-in sent to the identity provider and not back yet (``state`` stored as its SHA-256)."""

    __tablename__ = "sso_logins"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sso_providers.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(Text)
    code_verifier: Mapped[str] = mapped_column(Text)
    redirect_uri: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class SsoIdentity(UUIDPrimaryKey, TenantScoped, Base):
    """The user an (issuer, subject) pair signs in as."""

    __tablename__ = "sso_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
