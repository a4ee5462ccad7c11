"""Rebuilding an organisation's daily cost rollup (``cost_daily``) from its cost rows, e.g. after its
``rollup_tag_keys`` setting changed: the rollup keeps only those keys' values, so rows rolled up before the
change carry the old keys until rebuilt.

Contract: :func:`rebuild_cost_rollup` recomputes every calendar month (UTC) from the first to the last month
holding cost rows of the organisation, on the caller's connection and transaction (the caller commits; the
rollup and whatever changed the keys then change together), re-projecting the tag values on ``tag_keys``.
Rollup rows outside those months (none are written from cost rows there) are left alone; the tag coverage
rollups (``storage.cost_loader.tag_coverage``) are rebuilt with them. After the commit the
caller bumps the organisation's cost version (``services.cache``) so no cached answer of the old rollup is
served. Returns the months and the rollup rows written. Only this organisation's rows are read or written.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, text

from cloudoptima.storage.cost_loader import refresh_daily_rollup
from cloudoptima.storage.cost_loader.tag_coverage import rebuild_tag_coverage


@dataclass(frozen=True)
class RollupRebuild:
    months: int
    rows: int
    tag_keys: tuple[str, ...]


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def rebuild_cost_rollup(
    connection: Connection, organization_id: uuid.UUID, tag_keys: tuple[str, ...]
) -> RollupRebuild:
    """Recompute the organisation's ``cost_daily`` month by month (see module contract)."""
    first, last = connection.execute(
        text(
            "SELECT min(charge_period_start AT TIME ZONE 'UTC')::date, max(charge_period_start AT TIME ZONE 'UTC')::date "
            "FROM cost_data WHERE organization_id = :org"
        ),
        {"org": organization_id},
    ).one()
    months = rows = 0
    if first is None or last is None:
        return RollupRebuild(0, 0, tag_keys)
    month = date(first.year, first.month, 1)
    while month <= last:
        following = _next_month(month)
        rows += refresh_daily_rollup(connection, organization_id, month, following, tag_keys)
        months += 1
        month = following
    rebuild_tag_coverage(connection, organization_id)
    return RollupRebuild(months, rows, tag_keys)
