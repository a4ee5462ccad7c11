"""What changed inside an anomaly's cell: the resources, usage types and tag values whose cost moved.

An incident's contributions name cells (account, service, region, usage type). Inside the top cell, the
resources and tags an analyst acts on are the ones whose cost *changed*, not the biggest spenders: a
long-running database that costs the same every day explains nothing about a spike next to it.

Contract (every query filters the organisation; raw ``cost_data`` rows with a resource id):
- The window is the incident's days ``[start, end]`` (inclusive, UTC); the baseline is the
  ``baseline_days`` days just before it. A resource's (or tag value's, or usage type's) *expected* cost in
  the window is its baseline daily mean × window days; *change* = actual − expected; *share* = change /
  ``impact`` × 100 (one decimal; ``None`` when the impact is 0). Results are ranked by change in the
  impact's direction (largest first, then by id); only those moving in that direction with at least
  ``MIN_SHARE_PERCENT`` of the impact are returned, at most ``limit``.
- ``new`` marks a resource without cost in the baseline (launched, or first billed, in the window).
- ``cell`` keys ``account``, ``service``, ``region``, ``usage_type`` filter ``sub_account_id`` (or the
  billing account), ``service_name``, ``region_id`` and ``sku_meter``; ``(none)``/``(other)`` values and
  other keys do not filter.
- ``tag_drivers`` groups by the value of each of ``keys`` (``key=value``; rows without the key are
  ``key=(untagged)``); a key no row of the cell carries is left out.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import Connection, text

BASELINE_DAYS = 14
MIN_SHARE_PERCENT = Decimal(1)
"""A driver must carry at least this share of the impact: day-to-day noise of a steady resource is not a cause."""
HIDDEN = ("(none)", "(other)")
_CELL_SQL = {
    "account": "(sub_account_id = :c_account OR billing_account_id = :c_account)",
    "service": "service_name = :c_service",
    "region": "region_id = :c_region",
    "usage_type": "sku_meter = :c_usage_type",
}
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class Driver:
    """One resource, usage type or tag value and how its cost moved in the window."""

    key: str
    label: str | None
    actual: Decimal
    expected: Decimal
    change: Decimal
    share_percent: Decimal | None
    new: bool = False


@dataclass(frozen=True)
class Window:
    """An incident's days, its cell and its impact."""

    cell: dict[str, str]
    start: date
    end: date
    impact: Decimal
    baseline_days: int = BASELINE_DAYS

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _where(organization_id: uuid.UUID, window: Window) -> tuple[str, dict[str, Any]]:
    clauses = ["organization_id = :org", "charge_period_start >= :b0", "charge_period_start < :w1"]
    params: dict[str, Any] = {
        "org": organization_id,
        "b0": _midnight(window.start - timedelta(days=window.baseline_days)),
        "w0": _midnight(window.start),
        "w1": _midnight(window.end + timedelta(days=1)),
    }
    for key, condition in _CELL_SQL.items():
        value = window.cell.get(key)
        if value is not None and value not in HIDDEN:
            clauses.append(condition)
            params[f"c_{key}"] = value
    return " AND ".join(clauses), params


def _drivers(rows: Any, window: Window, limit: int) -> list[Driver]:
    sign = Decimal(1) if window.impact >= 0 else Decimal(-1)
    found: list[Driver] = []
    for key, label, actual, base in rows:
        actual_d = Decimal(actual or 0)
        expected = (Decimal(base or 0) / window.baseline_days * window.days).quantize(_CENT, ROUND_HALF_EVEN)
        change = actual_d.quantize(_CENT, ROUND_HALF_EVEN) - expected
        if change * sign <= 0:
            continue
        share = (
            (change / window.impact * 100).quantize(Decimal("0.1"), ROUND_HALF_EVEN)
            if window.impact
            else None
        )
        if share is not None and share < MIN_SHARE_PERCENT:
            continue
        found.append(
            Driver(
                key=str(key),
                label=None if label is None else str(label),
                actual=actual_d.quantize(_CENT, ROUND_HALF_EVEN),
                expected=expected,
                change=change,
                share_percent=share,
                new=not base,
            )
        )
    found.sort(key=lambda d: (-(d.change * sign), d.key))
    return found[:limit]


def resource_drivers(
    connection: Connection, organization_id: uuid.UUID, window: Window, *, limit: int = 6
) -> list[Driver]:
    """Resources of the cell whose cost moved in the impact's direction (label: resource name)."""
    where, params = _where(organization_id, window)
    rows = connection.execute(
        text(
            "SELECT resource_id, max(resource_name), "
            "sum(billed_cost) FILTER (WHERE charge_period_start >= :w0), "
            "sum(billed_cost) FILTER (WHERE charge_period_start < :w0) "
            f"FROM cost_data WHERE {where} AND resource_id IS NOT NULL GROUP BY resource_id"
        ),
        params,
    ).all()
    return _drivers(rows, window, limit)


def usage_type_drivers(
    connection: Connection, organization_id: uuid.UUID, window: Window, *, limit: int = 6
) -> list[Driver]:
    """Usage types (``sku_meter``) of the cell whose cost moved in the impact's direction."""
    where, params = _where(organization_id, window)
    rows = connection.execute(
        text(
            "SELECT COALESCE(sku_meter, '(none)'), NULL, "
            "sum(billed_cost) FILTER (WHERE charge_period_start >= :w0), "
            "sum(billed_cost) FILTER (WHERE charge_period_start < :w0) "
            f"FROM cost_data WHERE {where} GROUP BY 1"
        ),
        params,
    ).all()
    return _drivers(rows, window, limit)


def tag_drivers(
    connection: Connection,
    organization_id: uuid.UUID,
    window: Window,
    keys: tuple[str, ...],
    *,
    limit: int = 6,
) -> list[Driver]:
    """``key=value`` of each tag key in ``keys`` whose cost in the cell moved in the impact's direction."""
    where, params = _where(organization_id, window)
    rows = connection.execute(
        text(
            "SELECT k.key || '=' || COALESCE(c.tags ->> k.key, '(untagged)'), NULL, "
            "sum(c.billed_cost) FILTER (WHERE c.charge_period_start >= :w0), "
            "sum(c.billed_cost) FILTER (WHERE c.charge_period_start < :w0) "
            f"FROM cost_data c CROSS JOIN unnest(CAST(:keys AS text[])) AS k(key) WHERE {where} GROUP BY 1"
        ),
        {**params, "keys": list(keys)},
    ).all()
    # A key that no row of the cell carries says nothing ("owner=(untagged)" would be the whole change).
    carried = {str(r[0]).split("=", 1)[0] for r in rows if not str(r[0]).endswith("=(untagged)")}
    return _drivers([r for r in rows if str(r[0]).split("=", 1)[0] in carried], window, limit)
