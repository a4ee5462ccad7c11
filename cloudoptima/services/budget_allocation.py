"""Budgets scoped to allocation values: their daily spend and the check of their scope (#21 B).

Contract:
- :func:`allocation_daily_spend` — the spend per UTC day of ``[start, end)`` in one billing currency of the
  values ``scope.values`` of the allocation dimension named ``scope.dimension``, read from
  ``cost_allocated_totals`` at the dimension's ACTIVE rule-set version (billed cost, the basis of every other
  budget), so it equals ``GET /v1/costs/by-allocation`` for those values and days to the cent. Days without
  cost are absent. A dimension that does not exist (deleted since) or has no active version yet counts no
  spend (an empty answer), as a tag budget on a tag nobody uses does.
- :func:`dimension_names` feeds the scope check (``budget_scope_check``: an unknown dimension is refused naming
  ``scope.dimension``). A value the active version has never assigned is legal (a rule may name a team with
  no cost yet, or the next version may); :func:`unseen_values` lists such values so callers can say so.
- Every query is scoped to the organisation.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import Connection, text

from cloudoptima.domain.budgets import BudgetScope


def _active(
    connection: Connection, organization_id: uuid.UUID, name: str
) -> tuple[uuid.UUID, int | None] | None:
    row = connection.execute(
        text(
            "SELECT id, active_version FROM allocation_dimensions WHERE organization_id = :org AND name = :name"
        ),
        {"org": organization_id, "name": name},
    ).first()
    return None if row is None else (row[0], row[1])


def allocation_daily_spend(
    connection: Connection,
    organization_id: uuid.UUID,
    scope: BudgetScope,
    currency: str,
    start: date,
    end: date,
) -> dict[date, Decimal]:
    """Allocated spend per day of the scope's values (module contract)."""
    found = _active(connection, organization_id, scope.dimension or "")
    if found is None or found[1] is None:
        return {}
    dimension_id, version = found
    rows = connection.execute(
        text(
            "SELECT usage_date, sum(billed_cost) FROM cost_allocated_totals WHERE organization_id = :org "
            "AND dimension_id = :dim AND version = :ver AND billing_currency = :currency "
            "AND usage_date >= :d0 AND usage_date < :d1 AND value = ANY(:values) GROUP BY 1 ORDER BY 1"
        ),
        {
            "org": organization_id,
            "dim": dimension_id,
            "ver": version,
            "currency": currency,
            "d0": start,
            "d1": end,
            "values": list(scope.values),
        },
    ).all()
    return {day: Decimal(cost) for day, cost in rows}


def dimension_names(connection: Connection, organization_id: uuid.UUID) -> list[str]:
    """The organisation's allocation dimension names, sorted."""
    return [
        str(name)
        for name in connection.execute(
            text("SELECT name FROM allocation_dimensions WHERE organization_id = :org ORDER BY name"),
            {"org": organization_id},
        ).scalars()
    ]


def unseen_values(connection: Connection, organization_id: uuid.UUID, scope: BudgetScope) -> list[str]:
    """The scope's values the dimension's active version has assigned no cost to (any day, any currency);
    every value when the dimension is unknown or not allocated yet."""
    found = _active(connection, organization_id, scope.dimension or "")
    if found is None or found[1] is None:
        return list(scope.values)
    seen = {
        str(v)
        for v in connection.execute(
            text(
                "SELECT DISTINCT value FROM cost_allocated_totals WHERE organization_id = :org "
                "AND dimension_id = :dim AND version = :ver AND value = ANY(:values)"
            ),
            {"org": organization_id, "dim": found[0], "ver": found[1], "values": list(scope.values)},
        ).scalars()
    }
    return [v for v in scope.values if v not in seen]
