"""Cloud Accounts API bodies (seed §3.2). Credentials are accepted, encrypted, and never returned."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator

from cloudoptima_gateway.schemas.common import Money, Schema, StrictBody

AccountStatus = Literal["active", "degraded", "error", "pending", "disconnected"]
"""``degraded``: collected, but some reads were denied (see ``permission_problems``)."""


class PermissionProblemOut(Schema):
    """A read the account's credentials were not allowed to make, and what it was for."""

    step: Literal["verify", "costs", "inventory", "utilisation", "iam"]
    permission: str
    purpose: str
    message: str = Field(description="e.g. 'missing permission ce:GetCostAndUsage for costs'")


class CloudAccountOut(Schema):
    id: uuid.UUID
    provider: str
    account_id: str
    account_name: str | None
    status: str
    verification_status: str
    verification_error: str | None
    last_sync: datetime | None
    monthly_spend: Money | None
    permission_problems: list[PermissionProblemOut] = Field(
        default_factory=list, description="reads the last collection (or verification) was denied"
    )


class CloudAccountList(Schema):
    accounts: list[CloudAccountOut]
    total: int


class AwsConnect(StrictBody):
    """The role, plus any editable setting (validated as ``PATCH`` validates it)."""

    role_arn: str = Field(pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$")
    external_id: str = Field(min_length=2, max_length=1224, pattern=r"^[A-Za-z0-9+=,.@:_/-]+$")
    account_name: str | None = Field(default=None, max_length=255)
    regions: list[str] | None = None
    cost_source: Literal["ce", "cur_s3"] | None = None
    cur_bucket: str | None = None
    cur_prefix: str | None = None
    cost_resource_level: bool | None = Field(
        default=None,
        description="also read Cost Explorer's resource-level daily costs (last 14 days; opt-in)",
    )
    cost_tag_keys: list[str] | None = Field(default=None, description="cost allocation tags to keep (<= 5)")
    member_role_name: str | None = Field(
        default=None,
        description="IAM role assumed in member accounts (default OrganizationAccountAccessRole)",
    )


class AzureConnect(StrictBody):
    subscription_id: uuid.UUID
    tenant_id: uuid.UUID
    client_id: uuid.UUID
    client_secret: str = Field(min_length=1, max_length=1024)
    account_name: str | None = Field(default=None, max_length=255)
    resource_groups: list[str] | None = Field(
        default=None, description="read only these resource groups (default: the whole subscription)"
    )


class GcpConnect(StrictBody):
    project_id: str = Field(pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
    service_account_json: str = Field(min_length=4, max_length=20_000, description="base64 of the key file")
    account_name: str | None = Field(default=None, max_length=255)
    billing_export_table: str | None = Field(
        default=None,
        description="project.dataset.table of the BigQuery billing export (GCP costs exist only there); "
        "settable later with PATCH",
    )
    billing_export_detailed: bool | None = None
    billing_account_id: str | None = None

    @field_validator("service_account_json")
    @classmethod
    def _key_file(cls, value: str) -> str:
        try:
            data = json.loads(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError) as exc:
            raise ValueError("must be the base64 of a service account JSON key file") from exc
        if not isinstance(data, dict) or data.get("type") != "service_account":
            raise ValueError("must be a service account key file (type: service_account)")
        missing = [k for k in ("client_email", "private_key") if not data.get(k)]
        if missing:
            raise ValueError(f"key file lacks {', '.join(missing)}")
        return value


class SettingsPatch(StrictBody):
    settings: dict[str, Any] = Field(
        min_length=1,
        description="editable settings to change; null removes one (aws: regions, cost_source, cur_bucket, "
        "cur_prefix, cost_resource_level, cost_tag_keys, member_role_name; azure: resource_groups; gcp: "
        "billing_export_table, billing_export_detailed, billing_account_id)",
    )


class SettingsOut(Schema):
    id: uuid.UUID
    provider: str
    account_id: str
    settings: dict[str, Any]
    changed: list[str]


class ConnectOut(Schema):
    id: uuid.UUID
    account_id: str
    status: str
    verification_status: Literal["pending", "verified", "failed"]
    verification_error: str | None


class SyncOut(Schema):
    workflow_id: str
    status: Literal["started", "running"]
