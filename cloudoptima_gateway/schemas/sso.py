"""Single sign-on API bodies: the organisation's identity provider (the client secret is write-only)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from cloudoptima.domain.rbac import Role
from cloudoptima.services.sso import DEFAULT_SCOPES
from cloudoptima_gateway.schemas.common import Schema, StrictBody


class SsoConfigIn(StrictBody):
    slug: str = Field(min_length=1, max_length=63, description="the organisation's name on the login URL")
    issuer: str = Field(min_length=1, max_length=2048, description="the IdP's issuer URL (https)")
    client_id: str = Field(min_length=1, max_length=512)
    client_secret: str | None = Field(
        default=None,
        min_length=1,
        max_length=2048,
        description="required the first time; omitted = keep the stored one; never returned",
    )
    scopes: str = Field(default=DEFAULT_SCOPES, max_length=512)
    groups_claim: str = Field(default="groups", max_length=100)
    group_roles: dict[str, Role] = Field(
        default_factory=dict, description="IdP group name -> role; the highest matching role wins"
    )
    default_role: Role | None = Field(
        default=None, description="role of people whose groups match none; null refuses them"
    )
    enabled: bool = True


class SsoConfigOut(Schema):
    id: uuid.UUID
    slug: str
    issuer: str
    client_id: str
    has_client_secret: bool
    scopes: str
    groups_claim: str
    group_roles: dict[str, str]
    default_role: str | None
    enabled: bool
    login_path: str
    created_at: datetime
    updated_at: datetime
