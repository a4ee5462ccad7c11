"""What the realised-savings measurement reads (#22): the cost lines of the changed resources and the
replacement resources linked to each change.

Contract:

- :func:`load_costs`: per lower-case resource id and billing currency, one
  :class:`~cloudoptima.services.savings_netting.CostLine` per UTC day and price key of its ``cost_data``
  rows (cost Σ ``effective_cost``, else ``billed_cost``; quantity Σ ``pricing_quantity``, else
  ``consumed_quantity`` — None when a row of the group has neither; price key ``SkuPriceId``, else
  ``SkuId``, else ``SkuMeter``, ``|`` the pricing (else consumed) unit; ``period_days`` the billing period's
  days when that unit is priced per month), over each resource's windows; the billing accounts each resource
  billed under and the last day each account's bill reaches.
- :func:`link_replacements`: per recommendation, the ids of resources that exist because of its change:
  the safety snapshots its executions recorded (``execution_events`` of kind ``snapshot``), a successor a
  succeeded step reported as ``after.replacement_id`` (a provider that replaces a resource under a new id),
  and — for any change, by hand included — inventoried snapshots whose ``configuration.source_disk_id`` is one
  of its resources, created within a day of its change time (``applied_at``).
- Billed ids: a resource's cost rows are those whose ``ResourceId`` is its id (case-insensitively) or, for an
  AWS ARN (``arn:aws:…/<id>``, as AWS bills snapshots and other ARN-named resources), whose last path segment
  is its id — so a snapshot deleted from the inventory (an orphaned snapshot's deletion) is still found in
  the bill from the id the recommendation records, whatever account or region it was in. A row counts once
  under each requested id it matches (an ARN and its last segment are different requested ids). One scan of
  the organisation's rows in the windows' span, hash-joined on the requested ids.
- Every query is scoped to the organisation.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from cloudoptima.services.savings_netting import CostLine, is_monthly_unit
from cloudoptima.storage.models import Recommendation

LINK_WITHIN = timedelta(days=1)
"""A snapshot of a changed resource created this close to the change time is kept because of it."""
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Costs:
    lines: dict[str, dict[str, list[CostLine]]]
    """lower-case resource id → currency → lines."""
    accounts: dict[str, set[str]]
    """lower-case resource id → billing account ids it billed under."""
    billed_through: dict[str, date]
    """billing account id → last UTC day with cost rows."""


_COSTS = text(
    """
    SELECT k.rid AS rid, billing_account_id AS account, billing_currency AS currency,
           (charge_period_start AT TIME ZONE 'UTC')::date AS day,
           coalesce(nullif(sku_price_id, ''), nullif(sku_id, ''), nullif(sku_meter, ''), '') AS sku,
           coalesce(pricing_unit, consumed_unit, '') AS unit,
           (billing_period_end::date - billing_period_start::date) AS period_days,
           sum(coalesce(effective_cost, billed_cost)) AS cost,
           CASE WHEN count(*) = count(coalesce(pricing_quantity, consumed_quantity))
                THEN sum(coalesce(pricing_quantity, consumed_quantity)) END AS quantity
    FROM cost_data
    CROSS JOIN LATERAL (
        VALUES (lower(resource_id)),
               (CASE WHEN resource_id LIKE 'arn:aws:%/%' THEN lower(substring(resource_id FROM '/([^/]+)$')) END)
    ) AS k(rid)
    JOIN unnest(CAST(:ids AS text[]), CAST(:los AS timestamptz[]), CAST(:his AS timestamptz[])) AS w(rid, lo, hi)
      ON k.rid = w.rid AND charge_period_start >= w.lo AND charge_period_start < w.hi
    WHERE organization_id = :org AND charge_period_start >= :lo AND charge_period_start < :hi
    GROUP BY 1, 2, 3, 4, 5, 6, 7
    """
)
_BILLED_THROUGH = text(
    """
    SELECT billing_account_id AS account, max(charge_period_start AT TIME ZONE 'UTC')::date AS day
    FROM cost_data
    WHERE organization_id = :org AND billing_account_id = ANY(:accounts) AND charge_period_start >= :lo
    GROUP BY 1
    """
)


def load_costs(
    session: Session, org: uuid.UUID, spans: Mapping[str, tuple[date, date]], window_days: int
) -> Costs:
    """Cost lines of each resource over the windows of its changes: ``spans`` maps a lower-case resource id
    to its first and last change day (one span per resource, so no cost row is read twice)."""
    lines: dict[str, dict[str, list[CostLine]]] = defaultdict(lambda: defaultdict(list))
    accounts: dict[str, set[str]] = defaultdict(set)
    if not spans:
        return Costs({}, {}, {})
    ids = sorted(spans)
    los = [datetime.combine(spans[i][0] - window_days * _DAY, time(), UTC) for i in ids]
    his = [datetime.combine(spans[i][1] + (window_days + 1) * _DAY, time(), UTC) for i in ids]
    lo, hi = min(los), max(his)
    params = {"org": org, "ids": ids, "los": los, "his": his, "lo": lo, "hi": hi}
    for row in session.execute(_COSTS, params):
        key = f"{row.sku}|{row.unit}" if row.sku else ""
        lines[row.rid][row.currency].append(
            CostLine(
                day=row.day,
                cost=Decimal(row.cost),
                price_key=key,
                quantity=None if row.quantity is None else Decimal(row.quantity),
                period_days=int(row.period_days) if is_monthly_unit(row.unit) and row.period_days else None,
            )
        )
        accounts[row.rid].add(row.account)
    all_accounts = sorted({a for found in accounts.values() for a in found})
    through = {
        row.account: row.day
        for row in session.execute(_BILLED_THROUGH, {"org": org, "accounts": all_accounts, "lo": lo})
    }
    return Costs({rid: dict(by) for rid, by in lines.items()}, dict(accounts), through)


_EXECUTION_LINKS = text(
    """
    SELECT ex.recommendation_id AS rec, e.kind AS kind, e.key AS key, e.data AS data
    FROM execution_events e JOIN policy_executions ex ON ex.id = e.execution_id
    WHERE e.organization_id = :org AND ex.organization_id = :org
      AND ex.recommendation_id = ANY(:recs) AND e.kind IN ('snapshot', 'step')
    """
)
_SNAPSHOT_LINKS = text(
    """
    SELECT lower(configuration->>'source_disk_id') AS source, resource_id, created_at
    FROM resources
    WHERE organization_id = :org AND resource_type = 'snapshot'
      AND lower(configuration->>'source_disk_id') = ANY(:sources)
      AND created_at >= :lo AND created_at < :hi
    """
)


def link_replacements(
    session: Session,
    org: uuid.UUID,
    rows: Sequence[Recommendation],
    resource_ids: Mapping[uuid.UUID, list[str]],
) -> dict[uuid.UUID, list[str]]:
    """Per recommendation of ``rows`` (changed, with ``applied_at``), its replacement resource ids (see the
    module contract); ``resource_ids`` are each one's own resources (never linked as their replacements)."""
    dated = [r for r in rows if r.applied_at is not None]
    found: dict[uuid.UUID, set[str]] = defaultdict(set)
    if not dated:
        return {}
    for row in session.execute(_EXECUTION_LINKS, {"org": org, "recs": [r.id for r in dated]}):
        data = row.data or {}
        if row.kind == "snapshot":
            found[row.rec].add(str(row.key))
        elif data.get("status") == "succeeded":
            successor = (data.get("after") or {}).get("replacement_id")
            if successor:
                found[row.rec].add(str(successor))
    owners: dict[str, list[Recommendation]] = defaultdict(list)
    for rec in dated:
        for rid in resource_ids.get(rec.id, []):
            owners[rid.lower()].append(rec)
    changes = [r.applied_at for r in dated if r.applied_at is not None]
    params = {
        "org": org,
        "sources": sorted(owners),
        "lo": min(changes) - LINK_WITHIN,
        "hi": max(changes) + LINK_WITHIN,
    }
    for row in session.execute(_SNAPSHOT_LINKS, params):
        for rec in owners.get(row.source, []):
            assert rec.applied_at is not None
            if abs(row.created_at - rec.applied_at) <= LINK_WITHIN:
                found[rec.id].add(str(row.resource_id))
    own = {rec_id: {i.lower() for i in ids} for rec_id, ids in resource_ids.items()}
    return {
        rec_id: sorted(i for i in ids if i.lower() not in own.get(rec_id, set()))
        for rec_id, ids in found.items()
    }
