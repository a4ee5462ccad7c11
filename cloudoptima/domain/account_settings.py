"""Editable settings of a connected cloud account (``PATCH /v1/cloud-accounts/{id}``, ``POST .../gcp``).

Only settings a connector really reads are editable; every field is optional (a patch names what changes,
``null`` removes a setting) and unknown fields are refused by name:

- AWS: ``regions`` (the regions inventory and utilisation scan; default every enabled region),
  ``cost_source`` (``ce`` = Cost Explorer, default; ``cur_s3`` = the CUR 2.0 export in ``cur_bucket`` under
  ``cur_prefix``), ``cost_resource_level`` (Cost Explorer: also read resource-level daily costs of the last
  14 days, which AWS keeps only when the payer opted in; off by default), ``cost_tag_keys`` (cost
  allocation tags whose values Cost Explorer rows carry; at most 5), ``member_role_name`` (the IAM role
  assumed in the member accounts of an organisation; default ``OrganizationAccountAccessRole``).
- GCP: ``billing_export_table`` (``project.dataset.table`` of the BigQuery billing export: GCP costs exist
  only there), ``billing_export_detailed`` (the detailed export carries resource names), and
  ``billing_account_id``.
- Azure: ``resource_groups`` (read costs and inventory of these resource groups only — Cost Management is
  queried at each group's scope and permissions are checked there; default the whole subscription).

``check_settings(provider, merged)`` validates the settings after a patch is applied (``cur_s3`` needs a
bucket); it raises ``ValueError`` naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

_AWS_REGION = r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$"


class _Patch(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AwsAccountSettings(_Patch):
    regions: list[str] | None = Field(default=None, min_length=1, max_length=40)
    cost_source: Literal["ce", "cur_s3"] | None = None
    cur_bucket: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    cur_prefix: str | None = Field(default=None, max_length=1024)
    cost_resource_level: bool | None = None
    cost_tag_keys: list[str] | None = Field(default=None, min_length=1, max_length=5)
    member_role_name: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9+=,.@_-]{1,64}$", description="an IAM role name (no path)"
    )

    @field_validator("cost_tag_keys")
    @classmethod
    def _tag_keys(cls, value: list[str] | None) -> list[str] | None:
        for key in value or []:
            if not 1 <= len(key) <= 128 or key.startswith("aws:") or "$" in key:
                raise ValueError(f"{key!r} is not a user-defined cost allocation tag key")
        return list(dict.fromkeys(value)) if value else value

    @field_validator("regions")
    @classmethod
    def _region_codes(cls, value: list[str] | None) -> list[str] | None:
        for region in value or []:
            if not re.fullmatch(_AWS_REGION, region):
                raise ValueError(f"{region!r} is not an AWS region code (like us-east-1)")
        return sorted(set(value)) if value else value


class GcpAccountSettings(_Patch):
    billing_export_table: str | None = Field(
        default=None,
        pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]\.[A-Za-z0-9_]{1,1024}\.[A-Za-z0-9_$-]{1,1024}$",
        description="project.dataset.table of the BigQuery billing export",
    )
    billing_export_detailed: bool | None = None
    billing_account_id: str | None = Field(default=None, pattern=r"^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$")


class AzureAccountSettings(_Patch):
    resource_groups: list[str] | None = Field(default=None, min_length=1, max_length=50)

    @field_validator("resource_groups")
    @classmethod
    def _group_names(cls, value: list[str] | None) -> list[str] | None:
        for name in value or []:
            if not re.fullmatch(r"[-\w._()]{1,90}", name) or name.endswith("."):
                raise ValueError(f"{name!r} is not an Azure resource group name")
        return sorted(set(value), key=str.lower) if value else value


EDITABLE: dict[str, type[_Patch]] = {
    "aws": AwsAccountSettings,
    "azure": AzureAccountSettings,
    "gcp": GcpAccountSettings,
}


def check_settings(provider: str, merged: Mapping[str, Any]) -> None:
    """Validate the account's settings as a whole after a patch (see the module contract)."""
    if provider == "aws" and merged.get("cost_source") == "cur_s3" and not merged.get("cur_bucket"):
        raise ValueError("cur_bucket: cost_source cur_s3 needs the bucket of the CUR 2.0 export")
