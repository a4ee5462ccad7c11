"""Organisation administration bodies: the organisation and its settings, users, passwords."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from cloudoptima.domain.email_address import LoginEmail
from cloudoptima.domain.rbac import Role
from cloudoptima_gateway.schemas.common import Schema, StrictBody
from cloudoptima_gateway.schemas.resources import Pagination


class OrganizationOut(Schema):
    id: uuid.UUID
    name: str
    tier: str = Field(description="subscription tier: sets the request limits (changed by a platform admin)")
    hourly_request_limit: int
    settings: dict[str, Any] = Field(
        description="every known setting with its current value (defaults filled)"
    )
    created_at: datetime


class OrganizationPatch(StrictBody):
    name: str | None = Field(default=None, min_length=1, max_length=255)
    tier: str | None = Field(default=None, description="platform administrators only")
    settings: dict[str, Any] | None = Field(
        default=None, description="settings to change; a null value resets the setting to its default"
    )


class OrganizationUpdated(OrganizationOut):
    changed: list[str] = Field(description="the keys whose value changed")


class UserOut(Schema):
    id: uuid.UUID
    email: str
    full_name: str | None
    role: str
    status: Literal["active", "deactivated", "invited"]
    last_login: datetime | None
    created_at: datetime


class UserList(Schema):
    users: list[UserOut]
    pagination: Pagination


class UserPatch(StrictBody):
    role: Role


class DeactivationOut(Schema):
    user: UserOut
    revoked_api_keys: int
    revoked_sessions: int


class PasswordChange(StrictBody):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class PasswordChanged(Schema):
    success: bool = True
    revoked_sessions: int = Field(description="your other sign-ins that were signed out")


class SessionsRevoked(Schema):
    success: bool = True
    revoked_sessions: int


class PasswordResetRequest(StrictBody):
    email: LoginEmail


class PasswordResetRequested(Schema):
    detail: str


class PasswordResetConfirm(StrictBody):
    token: str = Field(min_length=1, max_length=512)
    new_password: str = Field(min_length=1, max_length=256)
