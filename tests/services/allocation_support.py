"""Cost rows for the allocation tests: inserted straight into ``cost_data`` (partitions created) and rolled up
into ``cost_daily`` exactly as ingestion does."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Connection, text

from cloudoptima.storage.cost_loader import refresh_daily_rollup
from cloudoptima.storage.partitions import ensure_cost_partitions, months_between


@dataclass(frozen=True)
class Row:
    day: date
    cost: Decimal
    service: str = "EC2"
    provider: str = "aws"
    account: str = "111"
    region: str = "us-east-1"
    currency: str = "USD"
    resource_id: str | None = None
    resource_type: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    effective: Decimal | None = None


def new_org(connection: Connection) -> uuid.UUID:
    org = uuid.uuid4()
    connection.execute(
        text(
            "INSERT INTO organizations (id, name, subscription_tier, settings, created_at, updated_at) "
            "VALUES (:id, 'alloc', 'free', '{}', now(), now())"
        ),
        {"id": org},
    )
    return org


def load(connection: Connection, org: uuid.UUID, rows: list[Row]) -> None:
    """Insert ``rows`` and rebuild ``cost_daily`` over their days."""
    days = [r.day for r in rows]
    first, last = min(days), max(days) + timedelta(days=1)
    ensure_cost_partitions(connection, months_between(first, last))
    connection.execute(
        text(
            """
            INSERT INTO cost_data (organization_id, provider, provider_name, billing_account_id, billing_currency,
                billing_period_start, billing_period_end, charge_category, charge_period_start, charge_period_end,
                billed_cost, effective_cost, service_name, region_id, resource_id, resource_type, tags)
            VALUES (:org, :provider, :provider_name, :account, :currency, :t0, :t1, 'Usage', :t0, :t1, :cost,
                :effective, :service, :region, :resource_id, :resource_type, CAST(:tags AS jsonb))
            """
        ),
        [
            {
                "org": org,
                "provider": r.provider,
                "provider_name": r.provider.upper(),
                "account": r.account,
                "currency": r.currency,
                "t0": datetime(r.day.year, r.day.month, r.day.day, 6, tzinfo=UTC),
                "t1": datetime(r.day.year, r.day.month, r.day.day, 7, tzinfo=UTC),
                "cost": r.cost,
                "effective": r.effective,
                "service": r.service,
                "region": r.region,
                "resource_id": r.resource_id,
                "resource_type": r.resource_type,
                "tags": json.dumps(r.tags),
            }
            for r in rows
        ],
    )
    refresh_daily_rollup(connection, org, first, last, ())


def allocated(
    connection: Connection, org: uuid.UUID, dimension: uuid.UUID, version: int
) -> list[tuple[date, str, str, str | None, Decimal, bool]]:
    """The allocated rows of one version (day, currency, value, service, cost, shared), sorted."""
    rows = connection.execute(
        text(
            "SELECT usage_date, billing_currency, value, service_name, billed_cost, shared FROM cost_allocated_daily "
            "WHERE organization_id = :org AND dimension_id = :dim AND version = :ver ORDER BY 1, 2, 3, 4, 5, 6"
        ),
        {"org": org, "dim": dimension, "ver": version},
    ).all()
    return [(d, c, v, s, Decimal(x), b) for d, c, v, s, x, b in rows]
