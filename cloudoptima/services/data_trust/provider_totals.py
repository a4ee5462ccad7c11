"""The provider's own monthly totals of collected accounts (table ``provider_month_totals``, migration 0031).

Contract (every statement is filtered by ``organization_id``):

- :func:`record_month_totals` replaces, for one cloud account, the rows of the billing months ``months``
  (first days) with ``totals`` (:class:`~cloudoptima.clouds.month_totals.MonthTotal`, one per month, basis
  and currency); a month of ``months`` with no total gets one row with ``total`` NULL and ``reason`` (why the
  provider gave none). Runs inside the caller's transaction.
- :func:`month_totals_of` reads one billing month back: per cloud account, its totals by (currency, basis)
  with their source and when they were recorded, or the reason none is known.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Connection, text

from cloudoptima.clouds.month_totals import MonthTotal

_DELETE = text(
    "DELETE FROM provider_month_totals WHERE organization_id = :org AND cloud_account_id = :account "
    "AND month = ANY(CAST(:months AS date[]))"
)
_INSERT = text(
    """
    INSERT INTO provider_month_totals (organization_id, cloud_account_id, provider, account_identifier, month,
        currency, basis, total, source, unavailable_reason, recorded_at)
    VALUES (:org, :account, :provider, :identifier, :month, :currency, :basis, :total, :source, :reason, :at)
    """
)
_READ = text(
    """
    SELECT cloud_account_id, currency, basis, total, source, unavailable_reason, recorded_at
    FROM provider_month_totals
    WHERE organization_id = :org AND month = :month
      AND (CAST(:account AS uuid) IS NULL OR cloud_account_id = CAST(:account AS uuid))
    """
)


@dataclass(frozen=True)
class RecordedTotal:
    """One recorded provider total."""

    total: Decimal
    source: str
    recorded_at: datetime


@dataclass
class AccountMonthTotals:
    """What is recorded for one cloud account and billing month (see :func:`month_totals_of`)."""

    by_currency: dict[str, dict[str, RecordedTotal]] = field(default_factory=dict)
    """currency → basis (``billed`` | ``effective`` | ``blended``) → total."""
    reason: str | None = None
    recorded_at: datetime | None = None


def record_month_totals(
    connection: Connection,
    *,
    organization_id: uuid.UUID,
    cloud_account_id: uuid.UUID,
    provider: str,
    account_identifier: str,
    months: list[date],
    totals: list[MonthTotal],
    reason: str,
    recorded_at: datetime,
) -> int:
    """See the module contract; returns the number of rows written."""
    if not months:
        return 0
    connection.execute(
        _DELETE,
        {"org": organization_id, "account": cloud_account_id, "months": [m.isoformat() for m in months]},
    )
    base = {
        "org": organization_id,
        "account": cloud_account_id,
        "provider": provider,
        "identifier": account_identifier,
        "at": recorded_at,
    }
    rows = [
        base
        | {
            "month": t.month,
            "currency": t.currency,
            "basis": t.basis,
            "total": t.total,
            "source": t.source,
            "reason": None,
        }
        for t in totals
        if t.month in months
    ]
    covered = {t.month for t in totals}
    rows += [
        base
        | {"month": m, "currency": "", "basis": "billed", "total": None, "source": provider, "reason": reason}
        for m in months
        if m not in covered
    ]
    connection.execute(_INSERT, rows)
    return len(rows)


def month_totals_of(
    connection: Connection, organization_id: uuid.UUID, month: date, cloud_account_id: uuid.UUID | None = None
) -> dict[uuid.UUID, AccountMonthTotals]:
    """See the module contract (``month`` is the month's first day)."""
    out: dict[uuid.UUID, AccountMonthTotals] = {}
    rows = connection.execute(_READ, {"org": organization_id, "month": month, "account": cloud_account_id})
    for row in rows.mappings():
        item = out.setdefault(row["cloud_account_id"], AccountMonthTotals())
        item.recorded_at = max(filter(None, (item.recorded_at, row["recorded_at"])))
        if row["total"] is None:
            item.reason = row["unavailable_reason"]
            continue
        item.by_currency.setdefault(row["currency"], {})[row["basis"]] = RecordedTotal(
            Decimal(row["total"]), row["source"], row["recorded_at"]
        )
    return out
