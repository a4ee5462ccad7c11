"""Unused commitment rows that span several days, spread over those days (#22).

Why: a FOCUS Unused row normally covers the hour or day it happened in, but some exports state a
commitment's unused part once for a longer period: the AWS CUR's ``RIFee`` row (and so the Unused row the
CUR reader derives from it) covers the whole billing month. Counting it on its first day would show a
month's idle reservation as one bad day.

Contract of :func:`spread_unused`: for each group of Unused usage rows of one (commitment, currency,
charge period) whose period is longer than one day and overlaps ``[start, end)``, the commitment's
committed amount over that period is C = U (the rows' EffectiveCost) + the EffectiveCost of its Used usage
rows starting in the period; C accrues evenly per hour of the period, so each UTC day's share is
C × hours of that day in the period / hours of the period (10 decimals, the period's last day taking the
remainder so the shares sum to C exactly), and the day's unused part is that share minus the day's used
cost. Summed over the period this is U exactly; per day it is what AWS's utilisation report shows for a
reservation (purchased hours × the effective hourly rate, minus the hours used at that rate). Quantities
follow the same rule when the Unused rows carry one. Only the days inside ``[start, end)`` are returned.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

SPANNING = "charge_period_end - charge_period_start > interval '1 day'"
"""SQL condition of a row whose charge period is longer than one day."""
_PLACES = Decimal("0.0000000001")
_DAY = "(charge_period_start AT TIME ZONE 'UTC')::date"


@dataclass(frozen=True, slots=True)
class SpreadDay:
    """The unused part of one commitment on one UTC day, spread from a longer Unused row."""

    day: date
    commitment_id: str
    currency: str
    unused_cost: Decimal
    unused_quantity: Decimal | None


def _tidy(value: Decimal) -> Decimal:
    """``value`` without the trailing zeros of the 10-decimal shares (``1.4400000000`` -> ``1.44``)."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def _shares(total: Decimal, t0: datetime, t1: datetime) -> dict[date, Decimal]:
    """``total`` split over the UTC days of ``[t0, t1)`` by hours, the last day taking the remainder."""
    seconds = Decimal((t1 - t0).total_seconds())
    shares: dict[date, Decimal] = {}
    day = t0.date()
    given = Decimal(0)
    while datetime.combine(day, time(), UTC) < t1:
        lo = max(t0, datetime.combine(day, time(), UTC))
        hi = min(t1, datetime.combine(day + timedelta(days=1), time(), UTC))
        share = (total * Decimal((hi - lo).total_seconds()) / seconds).quantize(_PLACES)
        shares[day] = share
        given += share
        day += timedelta(days=1)
    shares[max(shares)] += total - given
    return shares


def spread_unused(
    session: Session,
    organization_id: uuid.UUID,
    start: date,
    end: date,
    commitment_id: str | None = None,
) -> list[SpreadDay]:
    """The spread unused part per (day, commitment, currency) inside ``[start, end)`` (module contract)."""
    t0, t1 = datetime.combine(start, time(), UTC), datetime.combine(end, time(), UTC)
    params: dict[str, Any] = {"org": organization_id, "t0": t0, "t1": t1}
    narrow = ""
    if commitment_id is not None:
        narrow = " AND commitment_discount_id = :cid"
        params["cid"] = commitment_id
    groups = session.execute(
        text(
            f"""
            SELECT commitment_discount_id, billing_currency, charge_period_start, charge_period_end,
                   coalesce(sum(effective_cost), 0) AS unused, sum(commitment_discount_quantity) AS qty,
                   count(commitment_discount_quantity) AS qty_rows
            FROM cost_data
            WHERE organization_id = :org AND commitment_discount_id IS NOT NULL AND charge_category = 'Usage'
              AND commitment_discount_status = 'Unused' AND {SPANNING}
              AND charge_period_start < :t1 AND charge_period_end > :t0{narrow}
            GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
            """
        ),
        params,
    ).all()
    out: list[SpreadDay] = []
    for group in groups:
        used = {
            row.day: (Decimal(row.cost), row.qty)
            for row in session.execute(
                text(
                    f"""
                    SELECT {_DAY} AS day, coalesce(sum(effective_cost), 0) AS cost,
                           sum(commitment_discount_quantity) AS qty
                    FROM cost_data
                    WHERE organization_id = :org AND commitment_discount_id = :cid
                      AND billing_currency = :cur AND charge_category = 'Usage'
                      AND commitment_discount_status = 'Used'
                      AND charge_period_start >= :g0 AND charge_period_start < :g1
                    GROUP BY 1
                    """
                ),
                {
                    "org": organization_id,
                    "cid": group.commitment_discount_id,
                    "cur": group.billing_currency,
                    "g0": group.charge_period_start,
                    "g1": group.charge_period_end,
                },
            ).all()
        }
        g0 = group.charge_period_start.astimezone(UTC)
        g1 = group.charge_period_end.astimezone(UTC)
        committed = Decimal(group.unused) + sum((cost for cost, _ in used.values()), Decimal(0))
        cost_shares = _shares(committed, g0, g1)
        qty_shares: dict[date, Decimal] | None = None
        if group.qty_rows:
            used_qty = sum((Decimal(q) for _, q in used.values() if q is not None), Decimal(0))
            qty_shares = _shares(Decimal(group.qty) + used_qty, g0, g1)
        for day, share in cost_shares.items():
            if not start <= day < end:
                continue
            cost, qty = used.get(day, (Decimal(0), None))
            out.append(
                SpreadDay(
                    day=day,
                    commitment_id=group.commitment_discount_id,
                    currency=group.billing_currency,
                    unused_cost=_tidy(share - cost),
                    unused_quantity=None
                    if qty_shares is None
                    else _tidy(qty_shares[day] - (Decimal(qty) if qty is not None else Decimal(0))),
                )
            )
    return out
