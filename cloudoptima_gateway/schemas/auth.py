"""Authentication API bodies (seed §3.2): register, login, refresh, logout, API keys, invitations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from cloudoptima.domain.email_address import DeliverableEmail, LoginEmail
from cloudoptima.domain.rbac import Role
from cloudoptima_gateway.schemas.common import Schema, StrictBody

Password = Field(min_length=8, max_length=256, description="at least 8 characters")


class RegisterRequest(StrictBody):
    email: DeliverableEmail
    password: str = Password
    company_name: str = Field(min_length=1, max_length=255)
    role: Literal["cfo", "devops", "engineer"] = Field(
        description="your job; the person who registers administers the new organisation"
    )


class RegisterResponse(Schema):
    user_id: uuid.UUID
    organization_id: uuid.UUID
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"


class LoginRequest(StrictBody):
    email: LoginEmail
    password: str = Field(min_length=1, max_length=256)


class TokenResponse(Schema):
    access_token: str
    refresh_token: str = Field(
        description='the rotating refresh token; "" for the web console (X-CloudOptima-Client: console), '
        "which gets it as the httpOnly cookie cloudoptima_refresh (Path=/v1/auth) instead"
    )
    expires_in: int
    token_type: str = "bearer"


class RefreshRequest(StrictBody):
    refresh_token: str = Field(
        min_length=1,
        max_length=512,
        description="the refresh token; the web console sends no body and the cookie instead",
    )


class LogoutRequest(StrictBody):
    refresh_token: str | None = Field(default=None, max_length=512)


class ApiKeyCreate(StrictBody):
    name: str = Field(min_length=1, max_length=255)


class ApiKeyOut(Schema):
    id: uuid.UUID
    name: str
    prefix: str
    user_id: uuid.UUID
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    api_key: str = Field(description="shown once; only a hash is stored")


class ApiKeyList(Schema):
    api_keys: list[ApiKeyOut]


class InvitationCreate(StrictBody):
    email: DeliverableEmail
    role: Role


class InvitationOut(Schema):
    invitation_id: uuid.UUID
    email: str
    role: str
    invited_at: datetime


class InvitationCreated(InvitationOut):
    invitation_token: str = Field(description="send to the invitee; shown once")
    expires_at: datetime


class InvitationList(Schema):
    invitations: list[InvitationOut]


class InvitationAccept(StrictBody):
    token: str = Field(min_length=1, max_length=512)
    password: str = Password
    full_name: str | None = Field(default=None, max_length=255)
