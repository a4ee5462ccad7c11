"""Tag coverage read from the coverage rollups (``cost_tag_coverage_daily``, ``cost_tag_resource_days``; kept by
``storage.cost_loader.tag_coverage``) instead of the cost rows: the queries :class:`TagGovernance` assembles.

Contract:
- Masks are those of the organisation's policy when :func:`is_current` (else the caller answers from the cost
  rows); bit ``i`` is ``policy.required[i]``.
- Periods are ``[start, end)`` UTC days; one currency per query; every query is scoped to the organisation.
- The live inventory (``resources`` not deleted, the first document of each resource id) is read with its
  current tags; billed resources are those of ``cost_tag_resource_days`` the inventory does not know.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from cloudoptima.domain.tag_policy import TagPolicy
from cloudoptima.storage.cost_loader.tag_coverage import coverage_is_current

_LIVE = "SELECT 1 FROM resources d WHERE d.organization_id = :org AND d.status <> 'deleted' AND d.resource_id = r.resource_id"


@dataclass(frozen=True)
class SpendGroup:
    mask: int
    account: str | None
    service_name: str | None
    billed: Decimal


@dataclass(frozen=True)
class InventoryResource:
    resource_id: str
    name: str | None
    type: str | None
    provider: str | None
    region: str | None
    account: str | None
    tags: dict[str, Any]


@dataclass(frozen=True)
class LackingResource:
    resource_id: str
    cost: Decimal
    in_inventory: bool


def is_current(session: Session, organization_id: uuid.UUID, policy: TagPolicy) -> bool:
    """Whether the rollups' masks are ``policy``'s."""
    return coverage_is_current(session.connection(), organization_id, policy)


def currencies(session: Session, organization_id: uuid.UUID, start: date, end: date) -> list[str]:
    """The currencies billed in the period, sorted."""
    return [
        str(c)
        for c in session.execute(
            text(
                "SELECT DISTINCT billing_currency FROM cost_tag_coverage_daily WHERE organization_id = :org "
                "AND usage_date >= :d0 AND usage_date < :d1 ORDER BY 1"
            ),
            {"org": organization_id, "d0": start, "d1": end},
        ).scalars()
    ]


def spend_groups(
    session: Session, organization_id: uuid.UUID, start: date, end: date, currency: str
) -> list[SpendGroup]:
    """The period's billed spend per mask, account and service."""
    return [
        SpendGroup(int(row.key_mask), row.account, row.service_name, Decimal(row.billed))
        for row in session.execute(
            text(
                """
                SELECT key_mask, account, service_name, sum(billed_cost) AS billed
                FROM cost_tag_coverage_daily
                WHERE organization_id = :org AND usage_date >= :d0 AND usage_date < :d1
                    AND billing_currency = :currency
                GROUP BY 1, 2, 3
                """
            ),
            {"org": organization_id, "d0": start, "d1": end, "currency": currency},
        )
    ]


def untagged_spend(
    session: Session,
    organization_id: uuid.UUID,
    start: date,
    end: date,
    currency: str,
    bit: int,
    group_by: str,
) -> list[tuple[str | None, Decimal]]:
    """The period's spend lacking mask bit ``bit`` per ``account`` or ``service_name``."""
    column = {"account": "account", "service": "service_name"}[group_by]
    return [
        (row[0], Decimal(row[1]))
        for row in session.execute(
            text(
                f"""
                SELECT {column}, sum(billed_cost) FROM cost_tag_coverage_daily
                WHERE organization_id = :org AND usage_date >= :d0 AND usage_date < :d1
                    AND billing_currency = :currency AND key_mask & :bit = 0
                GROUP BY 1
                """
            ),
            {"org": organization_id, "d0": start, "d1": end, "currency": currency, "bit": 1 << bit},
        )
    ]


_INVENTORY = (
    "SELECT DISTINCT ON (resource_id) resource_id, resource_name, resource_type, provider, region, "
    "cloud_account_id, tags FROM resources WHERE organization_id = :org AND status <> 'deleted'"
)


def inventory_tag_sets(session: Session, organization_id: uuid.UUID) -> list[tuple[str, int]]:
    """``(tags JSON text, resources)``: the live inventory (one document per resource id) by tag set."""
    return [
        (str(row[0]), int(row[1]))
        for row in session.execute(
            text(f"SELECT d.tags::text, count(*) FROM ({_INVENTORY} ORDER BY resource_id, id) d GROUP BY 1"),
            {"org": organization_id},
        )
    ]


def inventory(
    session: Session, organization_id: uuid.UUID, resource_ids: list[str]
) -> dict[str, InventoryResource]:
    """The live inventory documents of ``resource_ids`` (one per resource id)."""
    found: dict[str, InventoryResource] = {}
    if not resource_ids:
        return found
    for row in session.execute(
        text(f"{_INVENTORY} AND resource_id = ANY(:ids) ORDER BY resource_id, id"),
        {"org": organization_id, "ids": resource_ids},
    ):
        found[row.resource_id] = InventoryResource(
            resource_id=row.resource_id,
            name=row.resource_name,
            type=row.resource_type,
            provider=row.provider,
            region=row.region,
            account=str(row.cloud_account_id) if row.cloud_account_id else None,
            tags=dict(row.tags or {}),
        )
    return found


def billed_outside_inventory(
    session: Session, organization_id: uuid.UUID, start: date, end: date, currency: str
) -> list[tuple[int, int]]:
    """``(mask, resources)``: the resources billed in the period that the inventory does not know, by the
    OR of their masks over the period."""
    return [
        (int(row[0]), int(row[1]))
        for row in session.execute(
            text(
                f"""
                SELECT r.mask, count(*) FROM (
                    SELECT resource_id, bit_or(key_mask) AS mask FROM cost_tag_resource_days
                    WHERE organization_id = :org AND usage_date >= :d0 AND usage_date < :d1
                        AND billing_currency = :currency
                    GROUP BY resource_id
                ) r
                WHERE NOT EXISTS ({_LIVE})
                GROUP BY 1
                """
            ),
            {"org": organization_id, "d0": start, "d1": end, "currency": currency},
        )
    ]


def lacking_page(
    session: Session,
    organization_id: uuid.UUID,
    start: date,
    end: date,
    currency: str,
    bit: int,
    lacking_tag_sets: list[str],
    limit: int,
    offset: int,
) -> tuple[list[LackingResource], int]:
    """One page of the resources lacking mask bit ``bit`` — the inventory's whose tags (JSON text) are in
    ``lacking_tag_sets``, and the billed ones the inventory does not know whose mask lacks the bit — with their
    billed cost in the period, costliest first then by id (code point order, as Python sorts); and their total."""
    params: dict[str, Any] = {
        "org": organization_id,
        "d0": start,
        "d1": end,
        "currency": currency,
        "bit": 1 << bit,
        "sets": lacking_tag_sets,
        "limit": limit,
        "offset": offset,
    }
    lacking = f"""
        WITH billed AS (
            SELECT resource_id, bit_or(key_mask) AS mask, sum(billed_cost) AS cost FROM cost_tag_resource_days
            WHERE organization_id = :org AND usage_date >= :d0 AND usage_date < :d1
                AND billing_currency = :currency
            GROUP BY resource_id
        ), inv AS ({_INVENTORY} ORDER BY resource_id, id), lacking AS (
            SELECT i.resource_id, COALESCE(b.cost, 0) AS cost, true AS in_inventory
            FROM inv i LEFT JOIN billed b ON b.resource_id = i.resource_id
            WHERE i.tags::text = ANY(CAST(:sets AS text[]))
            UNION ALL
            SELECT b.resource_id, b.cost, false FROM billed b
            WHERE b.mask & :bit = 0 AND NOT EXISTS (SELECT 1 FROM inv i WHERE i.resource_id = b.resource_id)
        )
    """
    rows = session.execute(
        text(
            f"""{lacking}
            SELECT resource_id, cost, in_inventory, count(*) OVER () AS total FROM lacking
            ORDER BY cost DESC, resource_id COLLATE "C" LIMIT :limit OFFSET :offset
            """
        ),
        params,
    ).all()
    if rows:
        total = int(rows[0].total)
    else:
        total = int(session.execute(text(f"{lacking} SELECT count(*) FROM lacking"), params).scalar() or 0)
    return [LackingResource(r.resource_id, Decimal(r.cost), bool(r.in_inventory)) for r in rows], total


def billed_tags(
    session: Session,
    organization_id: uuid.UUID,
    t0: datetime,
    t1: datetime,
    currency: str,
    resource_ids: list[str],
) -> dict[str, list[str]]:
    """The distinct tag sets (JSON text) of the given resources' cost rows charged in ``[t0, t1)``, in the
    order they were first charged (ties by text): the order ``TagGovernance`` merges them in."""
    found: dict[str, list[str]] = {}
    if not resource_ids:
        return found
    for row in session.execute(
        text(
            """
            SELECT resource_id, COALESCE(tags, '{}'::jsonb)::text FROM cost_data
            WHERE organization_id = :org AND charge_period_start >= :t0 AND charge_period_start < :t1
                AND billing_currency = :currency AND resource_id = ANY(:ids)
            GROUP BY 1, 2
            ORDER BY min(charge_period_start), 2
            """
        ),
        {"org": organization_id, "t0": t0, "t1": t1, "currency": currency, "ids": resource_ids},
    ):
        found.setdefault(row[0], []).append(row[1])
    return found
