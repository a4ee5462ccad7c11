"""What each resource really cost over the last 30 days, from the collected costs (``cost_data``).

Contract (``billed_last_30_days(session, organization_id, as_of, resources)``):

- Only live cloud accounts count (a sandbox estate's costs are generated from its own catalogue, which
  already prices it), and only rows of those accounts with a ``resource_id``.
- Per account the window is the 30 days that end where its collected costs end (at most ``as_of``): cost
  data arrives a day or two late, so a window ending at ``as_of`` would undercount. An account whose costs do
  not reach back to the window's start (a first collection of a few days) gives nothing.
- A resource counts only when it existed before the window (``created_at`` ≤ window start), so a month is
  not estimated from a week. The amount is Σ ``effective_cost`` (what the customer pays after discounts),
  ``billed_cost`` where a row has none; resource ids are compared case-insensitively (Azure exports
  lower-case ids). Returns ``{resource_id: amount}`` for resources with a positive amount.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from cloudoptima.domain.inventory import Resource
from cloudoptima.services.price_catalog import live_account_ids

WINDOW_DAYS = 30
_LOOKBACK_DAYS = 62

_QUERY = text(
    """
    WITH bounds AS (
        SELECT cloud_account_id, min(charge_period_start) AS first_start, max(charge_period_end) AS last_end
        FROM cost_data
        WHERE organization_id = :org AND cloud_account_id = ANY(:accounts)
          AND charge_period_start >= :lookback AND charge_period_start < :as_of
        GROUP BY cloud_account_id
    )
    SELECT lower(c.resource_id) AS resource, min(least(b.last_end, :as_of)) - interval '30 days' AS window_start,
           sum(coalesce(c.effective_cost, c.billed_cost)) AS amount
    FROM cost_data c JOIN bounds b ON b.cloud_account_id = c.cloud_account_id
    WHERE c.organization_id = :org AND c.cloud_account_id = ANY(:accounts)
      AND c.charge_period_start >= :lookback AND c.charge_period_start < :as_of
      AND b.first_start <= least(b.last_end, :as_of) - interval '30 days'
      AND c.charge_period_start >= least(b.last_end, :as_of) - interval '30 days'
      AND c.charge_period_start < least(b.last_end, :as_of)
      AND lower(c.resource_id) = ANY(:resources)
    GROUP BY lower(c.resource_id)
    """
)


def billed_last_30_days(
    session: Session, organization_id: uuid.UUID, as_of: datetime, resources: Sequence[Resource]
) -> dict[str, Decimal]:
    """See module contract."""
    accounts = live_account_ids(session, organization_id)
    if not accounts or not resources:
        return {}
    by_lower = {r.resource_id.lower(): r for r in resources}
    rows = session.execute(
        _QUERY,
        {
            "org": organization_id,
            "accounts": accounts,
            "lookback": as_of - timedelta(days=_LOOKBACK_DAYS),
            "as_of": as_of,
            "resources": list(by_lower),
        },
    ).all()
    billed: dict[str, Decimal] = {}
    for resource_key, window_start, amount in rows:
        resource = by_lower[resource_key]
        if amount is None or amount <= 0 or resource.created_at > window_start:
            continue
        billed[resource.resource_id] = Decimal(amount)
    return billed
