"""Re-allocation: ``cost_allocated_daily`` for one dimension version computed from ``cost_data``.

Contract:
- :func:`allocate_range` rebuilds the rows of ``(dimension, version)`` for the UTC days ``[start, end)`` in
  the caller's transaction: delete, then insert (idempotent: a rerun writes the same rows). Ordinary rows are
  grouped in SQL (one scan into a temporary stage table); shared rows are split in Python with
  :func:`cloudoptima.domain.allocation.split_exact`, so per day and currency the allocated rows sum to the
  ``cost_data`` total exactly. Each row carries billed and effective cost (FOCUS ``EffectiveCost``, a row
  without one counting 0 as in ``cost_daily``); a shared row's effective cost is split over the same targets
  with the same weights as its billed cost, so both bases sum exactly to their ``cost_data`` totals.
- :func:`allocation_months` lists the months holding the organisation's cost (from ``cost_daily``, cheap),
  the batches a full re-allocation runs in.
- :func:`activate_version` switches the dimension to ``version`` atomically (readers see the old version or
  the new one, never a mix) unless a newer version is already active, then drops the other versions' rows.
- :func:`reallocate_days` recomputes the active version (and a newer one being re-allocated) of every
  dimension of an organisation for some days: the hook after ingestion or collection loaded those days.
- Writers of one dimension are serialised by :func:`lock_dimension` (transaction-scoped advisory lock).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from cloudoptima.domain.allocation import UNALLOCATED, RuleSet, SharedCostRule, parse_rule_set, split_exact
from cloudoptima.services.allocation.sql import compile_rule_set

_KEY = "usage_date, cloud_account_id, provider, service_name, region_id, billing_currency"
_INSERT = (
    "INSERT INTO cost_allocated_daily (organization_id, dimension_id, version, usage_date, cloud_account_id, "
    "provider, service_name, region_id, billing_currency, value, billed_cost, effective_cost, shared) "
)


def _utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def allocation_months(connection: Connection, organization_id: uuid.UUID) -> list[date]:
    """First days of the months from the organisation's first to last day of cost (empty without cost)."""
    first, last = connection.execute(
        text("SELECT min(usage_date), max(usage_date) FROM cost_daily WHERE organization_id = :org"),
        {"org": organization_id},
    ).one()
    if first is None:
        return []
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = next_month(month)
    return months


def load_rule_set(
    connection: Connection, organization_id: uuid.UUID, dimension_id: uuid.UUID, version: int
) -> RuleSet:
    """Version ``version`` of the dimension's rules; LookupError when there is none in this organisation."""
    row = connection.execute(
        text(
            "SELECT rules FROM allocation_rule_sets WHERE organization_id = :org AND dimension_id = :dim "
            "AND version = :ver"
        ),
        {"org": organization_id, "dim": dimension_id, "ver": version},
    ).first()
    if row is None:
        raise LookupError(f"dimension {dimension_id} has no rule set version {version}")
    return parse_rule_set(row[0])


def allocate_range(
    connection: Connection,
    organization_id: uuid.UUID,
    dimension_id: uuid.UUID,
    version: int,
    rule_set: RuleSet,
    start: date,
    end: date,
) -> int:
    """Rebuild ``(dimension_id, version)`` for ``[start, end)`` (module contract); returns rows written."""
    scope = {"org": organization_id, "dim": dimension_id, "ver": version}
    lock_dimension(connection, dimension_id)
    connection.execute(
        text(
            "DELETE FROM cost_allocated_daily WHERE organization_id = :org AND dimension_id = :dim "
            "AND version = :ver AND usage_date >= :d0 AND usage_date < :d1"
        ),
        {**scope, "d0": start, "d1": end},
    )
    compiled = compile_rule_set(rule_set)
    params: dict[str, Any] = {**compiled.params, **scope, "t0": _utc(start), "t1": _utc(end)}
    connection.execute(text("DROP TABLE IF EXISTS allocation_stage"))
    connection.execute(
        text(
            f"""
            CREATE TEMPORARY TABLE allocation_stage ON COMMIT DROP AS
            SELECT (c.charge_period_start AT TIME ZONE 'UTC')::date AS usage_date, c.cloud_account_id,
                   c.provider, c.service_name, c.region_id, c.billing_currency,
                   {compiled.value_sql} AS value, {compiled.shared_sql} AS shared_ix,
                   sum(c.billed_cost) AS cost, COALESCE(sum(c.effective_cost), 0) AS effective
            FROM cost_data c {compiled.tag_join}
            WHERE c.organization_id = :org AND c.charge_period_start >= :t0 AND c.charge_period_start < :t1
            GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
            """
        ),
        params,
    )
    written = connection.execute(
        text(
            f"{_INSERT} SELECT :org, :dim, :ver, {_KEY}, value, sum(cost), sum(effective), false FROM allocation_stage "
            f"WHERE shared_ix < 0 GROUP BY {_KEY}, value"
        ),
        scope,
    ).rowcount
    if rule_set.shared:
        written += _split_shared(connection, scope, rule_set.shared)
    connection.execute(text("DROP TABLE allocation_stage"))
    _refresh_totals(connection, scope, start, end)
    return int(written or 0)


def _refresh_totals(connection: Connection, scope: dict[str, Any], start: date, end: date) -> None:
    """``cost_allocated_totals`` of ``[start, end)`` rebuilt from the version's allocated rows."""
    params = {**scope, "d0": start, "d1": end}
    where = (
        "organization_id = :org AND dimension_id = :dim AND version = :ver AND usage_date >= :d0 "
        "AND usage_date < :d1"
    )
    connection.execute(text(f"DELETE FROM cost_allocated_totals WHERE {where}"), params)
    connection.execute(
        text(
            "INSERT INTO cost_allocated_totals (organization_id, dimension_id, version, usage_date, "
            "billing_currency, value, billed_cost, shared_cost, effective_cost, shared_effective_cost) "
            "SELECT :org, :dim, :ver, usage_date, billing_currency, value, sum(billed_cost), "
            "COALESCE(sum(billed_cost) FILTER (WHERE shared), 0), sum(effective_cost), "
            f"COALESCE(sum(effective_cost) FILTER (WHERE shared), 0) FROM cost_allocated_daily WHERE {where} "
            "GROUP BY usage_date, billing_currency, value"
        ),
        params,
    )


def _split_shared(connection: Connection, scope: dict[str, Any], rules: tuple[SharedCostRule, ...]) -> int:
    weights: dict[tuple[date, str], dict[str, Decimal]] = defaultdict(dict)
    for day, currency, value, cost in connection.execute(
        text(
            "SELECT usage_date, billing_currency, value, sum(cost) FROM allocation_stage WHERE shared_ix < 0 "
            "GROUP BY 1, 2, 3"
        )
    ):
        weights[(day, currency)][value] = Decimal(cost)
    out: list[dict[str, Any]] = []
    shared_rows = connection.execute(
        text(
            f"SELECT {_KEY}, shared_ix, sum(cost), sum(effective) FROM allocation_stage WHERE shared_ix >= 0 "
            f"GROUP BY {_KEY}, shared_ix ORDER BY {_KEY}, shared_ix"
        )
    ).all()
    for day, account, provider, service, region, currency, index, cost, effective in shared_rows:
        day_weights = weights.get((day, currency), {})
        parts = split_parts(rules[index], Decimal(cost), day_weights)
        effective_parts = split_parts(rules[index], Decimal(effective), day_weights)
        for (value, part), (_, effective_part) in zip(parts, effective_parts, strict=True):
            if part == 0 and effective_part == 0:
                continue
            out.append(
                {
                    **scope,
                    "usage_date": day,
                    "cloud_account_id": account,
                    "provider": provider,
                    "service_name": service,
                    "region_id": region,
                    "billing_currency": currency,
                    "value": value,
                    "billed_cost": part,
                    "effective_cost": effective_part,
                }
            )
    if not out:
        return 0
    connection.execute(
        text(
            f"{_INSERT} VALUES (:org, :dim, :ver, :usage_date, :cloud_account_id, :provider, :service_name, "
            ":region_id, :billing_currency, :value, :billed_cost, :effective_cost, true)"
        ),
        out,
    )
    return len(out)


def split_parts(
    rule: SharedCostRule, amount: Decimal, day_weights: dict[str, Decimal]
) -> list[tuple[str, Decimal]]:
    """One shared amount split by ``rule`` given the day's allocated cost per value (domain contract)."""
    if rule.method == "fixed":
        return list(zip(rule.targets, split_exact(amount, list(rule.percentages)), strict=True))
    if rule.method == "even":
        return list(zip(rule.targets, split_exact(amount, [Decimal(1)] * len(rule.targets)), strict=True))
    targets = list(rule.targets) or sorted(v for v in day_weights if v != UNALLOCATED)
    weights = [max(Decimal(0), day_weights.get(v, Decimal(0))) for v in targets]
    if targets and sum(weights) > 0:
        return list(zip(targets, split_exact(amount, weights), strict=True))
    if rule.targets:
        return list(zip(targets, split_exact(amount, [Decimal(1)] * len(targets)), strict=True))
    return [(UNALLOCATED, amount)]


def activate_version(
    connection: Connection, organization_id: uuid.UUID, dimension_id: uuid.UUID, version: int, now: datetime
) -> bool:
    """Make ``version`` the one readers see unless a newer one already is; drop every other version's rows.
    Returns whether ``version`` is (now) active."""
    lock_dimension(connection, dimension_id)
    active = connection.execute(
        text(
            "UPDATE allocation_dimensions SET active_version = :ver, allocated_at = :now, updated_at = :now "
            "WHERE organization_id = :org AND id = :dim AND (active_version IS NULL OR active_version <= :ver) "
            "RETURNING id"
        ),
        {"org": organization_id, "dim": dimension_id, "ver": version, "now": now},
    ).first()
    keep = version
    if active is None:
        current = connection.execute(
            text(
                "SELECT active_version FROM allocation_dimensions WHERE organization_id = :org AND id = :dim"
            ),
            {"org": organization_id, "dim": dimension_id},
        ).scalar()
        keep = -1 if current is None else int(current)
    for table in ("cost_allocated_daily", "cost_allocated_totals"):
        connection.execute(
            text(
                f"DELETE FROM {table} WHERE organization_id = :org AND dimension_id = :dim "
                "AND version <> :keep AND version <= :ver"
            ),
            {"org": organization_id, "dim": dimension_id, "keep": keep, "ver": version},
        )
    return active is not None


def lock_dimension(connection: Connection, dimension_id: uuid.UUID) -> None:
    """Serialise writers of one dimension's allocated rows (a transaction-scoped advisory lock), so a month
    re-allocated by the workflow and days re-allocated by an ingest never interleave."""
    connection.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended('allocation:' || CAST(:dim AS text), 0))"),
        {"dim": dimension_id},
    )


def reallocate_days(connection: Connection, organization_id: uuid.UUID, start: date, end: date) -> int:
    """Recompute ``[start, end)`` of every dimension's active version, and of its newest version while that
    one is still being re-allocated (so rows arriving mid-run are not missed): the hook after cost rows
    changed."""
    written = 0
    dimensions = connection.execute(
        text(
            "SELECT id, active_version, latest_version FROM allocation_dimensions WHERE organization_id = :org "
            "AND latest_version > 0 ORDER BY name"
        ),
        {"org": organization_id},
    ).all()
    for dimension_id, active, latest in dimensions:
        versions = sorted({v for v in (active, latest) if v is not None and (active is None or v >= active)})
        for version in versions:
            rule_set = load_rule_set(connection, organization_id, dimension_id, version)
            written += allocate_range(
                connection, organization_id, dimension_id, version, rule_set, start, end
            )
    return written
