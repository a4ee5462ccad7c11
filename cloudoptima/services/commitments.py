"""Commitments from the billing data: the commitments seen, their utilisation and the coverage per day (#22).

Contract (definitions and eligibility rule: :mod:`cloudoptima.domain.commitments`):
- :func:`list_commitments` — every ``CommitmentDiscountId`` with a row starting in ``[start, end)`` (or in the
  whole history when both are None), per currency, with type, category, days seen and its totals.
- :func:`utilisation` — per commitment and UTC day, and per commitment over the period; ``commitment_id``
  narrows to one.
- :func:`coverage` — per UTC day and currency, and per currency over the period.
- The list, and utilisation when no ``commitment_id`` is asked, name the commitments seen without a
  utilisation basis (``not_derivable``: GCP committed use discounts, :mod:`cloudoptima.services.commitment_gaps`).
- An Unused row whose charge period is longer than a day (the CUR's ``RIFee`` month) counts, in utilisation
  and in a bounded list, as its per-day spread (:mod:`cloudoptima.services.commitment_spread`), not all on
  its first day; the unbounded list counts it whole.

Every query is scoped to ``organization_id`` (explicitly, besides the tenant session). Periods are
``[start, end)`` of UTC days; callers validate them (the REST and MCP layers give 422s / input errors naming
the field). Reads only ``cost_data``: what the provider's APIs say is owned (AWS RIs and Savings Plans, Azure
reservations, GCP CUDs) is the SDK inventory's job and is not read here — it will join on ``commitment_id``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from cloudoptima.domain.commitments import (
    Commitment,
    CommitmentList,
    CoverageDay,
    CoverageReport,
    CoverageTotal,
    UtilisationDay,
    UtilisationReport,
    UtilisationTotal,
)
from cloudoptima.services.commitment_gaps import gcp_not_derivable
from cloudoptima.services.commitment_spread import SPANNING, spread_unused

_CENT = Decimal("0.01")
_DAY = "(charge_period_start AT TIME ZONE 'UTC')::date"
_USED = "commitment_discount_status = 'Used'"
_UNUSED = "commitment_discount_status = 'Unused'"
_COMMITTED = f"(pricing_category = 'Committed' OR {_USED})"


def percent(part: Decimal | None, whole: Decimal | None) -> Decimal | None:
    """``100 × part / whole`` rounded half-up to 2 decimals; None when ``whole`` is None or zero."""
    if part is None or whole is None or whole == 0:
        return None
    return (Decimal(100) * part / whole).quantize(_CENT, rounding=ROUND_HALF_UP)


def _bounds(start: date | None, end: date | None) -> tuple[str, dict[str, Any]]:
    if start is None or end is None:
        return "", {}
    return (
        " AND charge_period_start >= :t0 AND charge_period_start < :t1",
        {"t0": datetime.combine(start, time(), UTC), "t1": datetime.combine(end, time(), UTC)},
    )


def _dec(value: Any) -> Decimal:
    return Decimal(value) if value is not None else Decimal(0)


def _qty(used: Any, unused: Any, seen: int) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    """Used and unused quantity and their utilisation; all None when no row gave a quantity."""
    if not seen:
        return None, None, None
    u, n = _dec(used), _dec(unused)
    return u, n, percent(u, u + n)


def _split(unused: str = _UNUSED) -> str:
    """Used / unused cost and quantity aggregates; ``unused`` is the SQL condition of the unused rows counted."""
    return f"""
    coalesce(sum(effective_cost) FILTER (WHERE charge_category = 'Usage' AND {_USED}), 0) AS used_cost,
    coalesce(sum(effective_cost) FILTER (WHERE charge_category = 'Usage' AND {unused}), 0) AS unused_cost,
    sum(commitment_discount_quantity) FILTER (WHERE charge_category = 'Usage' AND {_USED}) AS used_qty,
    sum(commitment_discount_quantity) FILTER (WHERE charge_category = 'Usage' AND {unused}) AS unused_qty,
    count(commitment_discount_quantity) FILTER (
        WHERE charge_category = 'Usage' AND ({_USED} OR {unused})) AS qty_rows
"""


_SPLIT = _split()
_UNSPREAD = f"({_UNUSED} AND NOT ({SPANNING}))"


def list_commitments(
    session: Session, organization_id: uuid.UUID, start: date | None = None, end: date | None = None
) -> CommitmentList:
    """The commitments seen in the billing data (module contract), ordered by id then currency."""
    where, params = _bounds(start, end)
    spread: dict[tuple[str, str], list[Any]] = {}
    if start is not None and end is not None:
        for part in spread_unused(session, organization_id, start, end):
            acc = spread.setdefault((part.commitment_id, part.currency), [Decimal(0), None, 0])
            acc[0] += part.unused_cost
            if part.unused_quantity is not None:
                acc[1] = _dec(acc[1]) + part.unused_quantity
                acc[2] += 1
    rows = session.execute(
        text(
            f"""
            SELECT commitment_discount_id, billing_currency, max(commitment_discount_name),
                   min(provider_name), max(commitment_discount_category), max(commitment_discount_type),
                   max(commitment_discount_unit), min({_DAY}), max({_DAY}),
                   coalesce(sum(billed_cost) FILTER (WHERE charge_category = 'Purchase'), 0),
                   {_split(_UNSPREAD) if where else _SPLIT}
            FROM cost_data
            WHERE organization_id = :org AND commitment_discount_id IS NOT NULL{where}
            GROUP BY 1, 2 ORDER BY 1, 2
            """
        ),
        {"org": organization_id, **params},
    ).all()
    items: list[Commitment] = []
    for row in rows:
        extra_cost, extra_qty, extra_rows = spread.get((row[0], row[1]), [Decimal(0), None, 0])
        used, unused = _dec(row.used_cost), _dec(row.unused_cost) + extra_cost
        unused_qty_raw = row.unused_qty if extra_qty is None else _dec(row.unused_qty) + extra_qty
        used_qty, unused_qty, qty_percent = _qty(row.used_qty, unused_qty_raw, row.qty_rows + extra_rows)
        items.append(
            Commitment(
                commitment_id=row[0],
                currency=row[1],
                name=row[2],
                provider=row[3],
                category=row[4],
                type=row[5],
                unit=row[6],
                first_seen=row[7],
                last_seen=row[8],
                purchase_billed_cost=_dec(row[9]),
                used_cost=used,
                unused_cost=unused,
                committed_cost=used + unused,
                utilisation_percent=percent(used, used + unused),
                used_quantity=used_qty,
                unused_quantity=unused_qty,
                quantity_utilisation_percent=qty_percent,
            )
        )
    return CommitmentList(
        start_date=start,
        end_date=end,
        commitments=items,
        not_derivable=gcp_not_derivable(session, organization_id, start, end),
    )


def utilisation(
    session: Session,
    organization_id: uuid.UUID,
    start: date,
    end: date,
    commitment_id: str | None = None,
) -> UtilisationReport:
    """Utilisation per commitment and day, and per commitment over ``[start, end)`` (module contract).

    Unused rows spanning more than a day (a CUR ``RIFee``'s month) are spread over their days
    (:mod:`cloudoptima.services.commitment_spread`) instead of being counted on their first day."""
    where, params = _bounds(start, end)
    if commitment_id is not None:
        where += " AND commitment_discount_id = :cid"
        params["cid"] = commitment_id
    rows = session.execute(
        text(
            f"""
            SELECT {_DAY} AS day, commitment_discount_id, billing_currency, {_SPLIT}
            FROM cost_data
            WHERE organization_id = :org AND commitment_discount_id IS NOT NULL
              AND charge_category = 'Usage' AND ({_USED} OR {_UNUSED})
              AND NOT ({_UNUSED} AND {SPANNING}){where}
            GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
            """
        ),
        {"org": organization_id, **params},
    ).all()
    cells: dict[tuple[date, str, str], list[Any]] = {}
    for row in rows:
        cells[(row.day, row[1], row[2])] = [
            _dec(row.used_cost),
            _dec(row.unused_cost),
            row.used_qty,
            row.unused_qty,
            int(row.qty_rows),
        ]
    for spread in spread_unused(session, organization_id, start, end, commitment_id):
        cell = cells.setdefault(
            (spread.day, spread.commitment_id, spread.currency), [Decimal(0), Decimal(0), None, None, 0]
        )
        cell[1] += spread.unused_cost
        if spread.unused_quantity is not None:
            cell[3] = _dec(cell[3]) + spread.unused_quantity
            cell[4] += 1
    days: list[UtilisationDay] = []
    sums: dict[tuple[str, str], list[Decimal | int]] = {}
    for (day, cid, currency), (used, unused, uq_raw, nq_raw, seen) in sorted(cells.items()):
        used_qty, unused_qty, qty_percent = _qty(uq_raw, nq_raw, seen)
        days.append(
            UtilisationDay(
                day=day,
                commitment_id=cid,
                currency=currency,
                used_cost=used,
                unused_cost=unused,
                utilisation_percent=percent(used, used + unused),
                used_quantity=used_qty,
                unused_quantity=unused_qty,
                quantity_utilisation_percent=qty_percent,
            )
        )
        acc = sums.setdefault((cid, currency), [Decimal(0), Decimal(0), Decimal(0), Decimal(0), 0])
        acc[0] += used
        acc[1] += unused
        acc[2] += _dec(uq_raw)
        acc[3] += _dec(nq_raw)
        acc[4] += seen
    totals: list[UtilisationTotal] = []
    for (cid, currency), (used_t, unused_t, uq, nq, seen_t) in sorted(sums.items()):
        qu, qn, qp = _qty(uq, nq, int(seen_t))
        totals.append(
            UtilisationTotal(
                commitment_id=cid,
                currency=currency,
                used_cost=Decimal(used_t),
                unused_cost=Decimal(unused_t),
                utilisation_percent=percent(Decimal(used_t), Decimal(used_t) + Decimal(unused_t)),
                used_quantity=qu,
                unused_quantity=qn,
                quantity_utilisation_percent=qp,
            )
        )
    return UtilisationReport(
        start_date=start,
        end_date=end,
        commitment_id=commitment_id,
        days=days,
        totals=totals,
        not_derivable=[] if commitment_id else gcp_not_derivable(session, organization_id, start, end),
    )


def coverage(session: Session, organization_id: uuid.UUID, start: date, end: date) -> CoverageReport:
    """Coverage per UTC day and currency over ``[start, end)`` and per currency (module contract)."""
    where, params = _bounds(start, end)
    base = f"organization_id = :org AND charge_category = 'Usage'{where}"
    services = session.execute(
        text(
            f"""
            SELECT DISTINCT provider_name, coalesce(service_category, '') FROM cost_data
            WHERE {base} AND {_COMMITTED} AND commitment_discount_status IS DISTINCT FROM 'Unused'
            ORDER BY 1, 2
            """
        ),
        {"org": organization_id, **params},
    ).all()
    if not services:
        return CoverageReport(start_date=start, end_date=end, eligible_services=[], days=[], totals=[])
    rows = session.execute(
        text(
            f"""
            SELECT {_DAY} AS day, billing_currency,
                   coalesce(sum(list_cost) FILTER (WHERE {_COMMITTED}), 0) AS covered,
                   coalesce(sum(list_cost), 0) AS eligible
            FROM cost_data
            WHERE {base} AND commitment_discount_status IS DISTINCT FROM 'Unused'
              AND (provider_name, coalesce(service_category, '')) IN (
                  SELECT p, s FROM unnest(CAST(:providers AS text[]), CAST(:categories AS text[])) AS u(p, s))
            GROUP BY 1, 2 ORDER BY 1, 2
            """
        ),
        {
            "org": organization_id,
            **params,
            "providers": [s[0] for s in services],
            "categories": [s[1] for s in services],
        },
    ).all()
    days: list[CoverageDay] = []
    sums: dict[str, tuple[Decimal, Decimal]] = {}
    for row in rows:
        covered, eligible = _dec(row.covered), _dec(row.eligible)
        days.append(
            CoverageDay(
                day=row.day,
                currency=row.billing_currency,
                covered_cost=covered,
                eligible_cost=eligible,
                coverage_percent=percent(covered, eligible),
            )
        )
        c0, e0 = sums.get(row.billing_currency, (Decimal(0), Decimal(0)))
        sums[row.billing_currency] = (c0 + covered, e0 + eligible)
    totals = [
        CoverageTotal(currency=cur, covered_cost=c, eligible_cost=e, coverage_percent=percent(c, e))
        for cur, (c, e) in sorted(sums.items())
    ]
    return CoverageReport(
        start_date=start,
        end_date=end,
        eligible_services=[f"{p}/{s}" for p, s in services],
        days=days,
        totals=totals,
    )
