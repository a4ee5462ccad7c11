"""Tag governance bodies: the organisation's tag policy, coverage and the untagged resources."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import Field

from cloudoptima_gateway.schemas.common import Money, Schema, StrictBody


class RequiredTagIn(StrictBody):
    key: str = Field(description="The canonical tag key, e.g. 'team' (1-128 characters).")
    aliases: list[str] = Field(default_factory=list, description="Other spellings counted as this key.")
    allowed_values: list[str] | None = Field(
        default=None, description="When set, other values count as missing."
    )
    default_value: str | None = Field(default=None, description="What the tag_resources action applies.")


class TagPolicyIn(StrictBody):
    required: list[RequiredTagIn] = Field(default_factory=list, description="At most 50 required keys.")


class RequiredTagOut(Schema):
    key: str
    aliases: list[str]
    allowed_values: list[str] | None
    default_value: str | None


class TagPolicyOut(Schema):
    required: list[RequiredTagOut]


class KeyCoverageOut(Schema):
    key: str
    tagged_spend: Money
    untagged_spend: Money
    spend_percent: Decimal = Field(description="Share of the period's spend carrying the key, 2 places.")
    tagged_resources: int
    resources: int
    resource_percent: Decimal


class UntaggedSpendOut(Schema):
    name: str
    untagged_spend: Money


class UntaggedSpendByOut(Schema):
    key: str = Field(description="The required key, as the policy spells it.")
    currency: str | None
    group_by: str = Field(description="account (sub account, else billing account) or service.")
    start: date
    end: date = Field(description="Exclusive.")
    untagged_spend: Money = Field(
        description="Spend of rows lacking the key (or carrying a value not allowed)."
    )
    items: list[UntaggedSpendOut] = Field(description="Costliest first; '(none)' names rows without one.")


class TagCoverageOut(Schema):
    start: date
    end: date = Field(description="Exclusive.")
    currency: str | None
    total_spend: Money
    untagged_spend: Money = Field(description="Spend of rows missing at least one required key.")
    resources: int
    keys: list[KeyCoverageOut]
    by_account: list[UntaggedSpendOut]
    by_service: list[UntaggedSpendOut]


class UntaggedResourceOut(Schema):
    resource_id: str
    resource_name: str | None
    resource_type: str | None
    provider: str | None
    region: str | None
    cloud_account_id: str | None
    in_inventory: bool = Field(
        description="False: known only from cost rows (it cannot be tagged from here)."
    )
    tags: dict[str, Any]
    missing: list[str] = Field(description="Every required key the resource lacks.")
    cost: Money = Field(description="Billed cost in the period.")


class UntaggedResourcesOut(Schema):
    key: str
    currency: str | None
    total: int
    limit: int
    offset: int
    items: list[UntaggedResourceOut]
