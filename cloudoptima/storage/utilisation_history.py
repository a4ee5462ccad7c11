"""Utilisation history (``utilisation_daily``): store series, read rolling-window summaries, prune.

Storage: one row per (cloud account, resource, metric, UTC day) holding that day's 24 hourly values (the
hour's mean, as the clouds report hourly data; ``NULL`` for an hour without a sample) — 24× fewer rows
than one per hour, which is what keeps a first collection of many accounts (30 days of backfill) cheap.

Contract (every statement filters the organisation and the cloud account; the caller owns the transaction):

- ``store(connection, org, account, series)`` writes every present sample of ``series`` (hours that are
  ``None`` are skipped). A re-read window replaces what was stored for it: for the resources in the read,
  every stored sample between the first and the last hour read is replaced (samples outside that span, on
  the same days, are kept), so a retried or overlapping collection never duplicates. Missing monthly
  partitions are created first. Returns the number of samples written (hours, not rows).
- ``store_table(connection, org, account, table)`` does the same for a long Arrow table
  (``resource_id, metric, hour, value``), as the sandbox's ``utilisation.parquet`` is.
- ``advance(connection, org, account, resource_ids, until)`` records that those resources were read up to
  the day ``until`` (exclusive), samples or not; ``read_until(connection, org, account)`` returns
  ``{resource_id: day}``, what an incremental collection continues from.
- ``summaries(connection, org, account, start, end)`` is ``{resource_id: {metric: {"avg", "max", "p95",
  "p99", "samples"}}}`` over the hours in ``[start, end)``: the numbers of
  :func:`cloudoptima.analytics.utilisation.summarise_values` (linear percentiles, rounded to 4 places),
  computed by Postgres.
- ``prune(connection, before)`` drops the monthly partitions that end at or before ``before`` (retention)
  and returns their names; rows are never deleted one by one.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Connection, text

from cloudoptima.domain.inventory import UtilisationSeries
from cloudoptima.storage.partitions import (
    ensure_month_partitions,
    months_between,
    next_month,
    utilisation_partition_name,
)

Summary = dict[str, dict[str, float]]


def store(
    connection: Connection,
    organization_id: uuid.UUID,
    cloud_account_id: uuid.UUID,
    series: Sequence[UtilisationSeries],
) -> int:
    """Upsert the present samples of ``series`` (see the module contract)."""
    ids: list[np.ndarray] = []  # type: ignore[type-arg]
    metrics: list[np.ndarray] = []  # type: ignore[type-arg]
    hours: list[np.ndarray] = []  # type: ignore[type-arg]
    values: list[np.ndarray] = []  # type: ignore[type-arg]
    for item in series:
        raw = np.asarray([np.nan if v is None else v for v in item.values], dtype=float)
        present = np.flatnonzero(~np.isnan(raw))
        if present.size == 0:
            continue
        origin = np.datetime64(item.start.astimezone(UTC).replace(tzinfo=None), "s")
        hours.append(origin + present.astype("timedelta64[h]"))
        values.append(raw[present])
        ids.append(np.full(present.size, item.resource_id, dtype=object))
        metrics.append(np.full(present.size, str(item.metric), dtype=object))
    if not values:
        return 0
    table = pa.table(
        {
            "resource_id": pa.array(np.concatenate(ids), pa.string()),
            "metric": pa.array(np.concatenate(metrics), pa.string()),
            "hour": pa.array(np.concatenate(hours), pa.timestamp("s", tz="UTC")),
            "value": pa.array(np.concatenate(values), pa.float64()),
        }
    )
    return store_table(connection, organization_id, cloud_account_id, table)


def store_table(
    connection: Connection, organization_id: uuid.UUID, cloud_account_id: uuid.UUID, table: pa.Table
) -> int:
    """Upsert a long table ``resource_id, metric, hour (timestamp, UTC), value`` (see the module contract)."""
    if table.num_rows == 0:
        return 0
    table = pa.table(
        {
            "resource_id": table.column("resource_id").cast(pa.string()),
            "metric": table.column("metric").cast(pa.string()),
            "hour": table.column("hour").cast(pa.timestamp("s", tz="UTC")),
            "value": table.column("value").cast(pa.float64()),
        }
    )
    bounds = pc.min_max(table.column("hour")).as_py()
    low, high = bounds["min"], bounds["max"]
    months = months_between(low.date(), high.date() + timedelta(days=1))
    if _missing(connection, months):
        # The DDL lock is held to the end of the transaction: take it only when a month is missing, so
        # concurrent collections into existing months never wait on each other.
        ensure_month_partitions(
            connection, "utilisation_daily", months, utilisation_partition_name, bound=date.isoformat
        )
    written = int(table.num_rows)
    ids = pc.unique(table.column("resource_id")).to_pylist()
    scope = {"org": organization_id, "account": cloud_account_id, "ids": ids}
    if low.hour != 0 or high.hour != 23:
        # The first or last day is read in part: keep its stored hours outside the span read.
        table = pa.concat_tables([table, _stored_outside(connection, scope, low, high)])
    # A re-read window replaces what is stored for those resources on its days (idempotent, no per-row
    # conflict checks): delete those days, then one COPY straight into the partitioned table.
    connection.execute(
        text(
            "DELETE FROM utilisation_daily WHERE organization_id = :org AND cloud_account_id = :account "
            "AND resource_id = ANY(CAST(:ids AS text[])) AND day >= :low AND day <= :high"
        ),
        {**scope, "low": low.date(), "high": high.date()},
    )
    days = _day_rows(table)
    n = days.num_rows
    rows = pa.table(
        {
            "organization_id": pa.array([str(organization_id)] * n, pa.string()),
            "cloud_account_id": pa.array([str(cloud_account_id)] * n, pa.string()),
            "resource_id": days.column("resource_id"),
            "metric": days.column("metric"),
            "day": days.column("day"),
            "hours": days.column("hours"),
        }
    )
    payload = io.BytesIO()
    pacsv.write_csv(rows, payload, pacsv.WriteOptions(include_header=False))
    raw: Any = connection.connection.driver_connection
    copy_sql = (
        "COPY utilisation_daily (organization_id, cloud_account_id, resource_id, metric, day, hours) "
        "FROM STDIN WITH (FORMAT csv)"
    )
    with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
        copy.write(payload.getvalue())
    return written


def _stored_outside(connection: Connection, scope: dict[str, Any], low: datetime, high: datetime) -> pa.Table:
    """The stored samples of ``scope``'s resources on the days of ``low`` and ``high``, outside [low, high]."""
    rows = connection.execute(
        text(
            "SELECT d.resource_id, d.metric, d.day, u.i - 1, u.v FROM utilisation_daily d "
            "CROSS JOIN LATERAL unnest(d.hours) WITH ORDINALITY AS u(v, i) "
            "WHERE d.organization_id = :org AND d.cloud_account_id = :account "
            "AND d.resource_id = ANY(CAST(:ids AS text[])) AND d.day IN (:low_day, :high_day) "
            "AND u.v IS NOT NULL"
        ),
        {**scope, "low_day": low.date(), "high_day": high.date()},
    ).all()
    kept = [
        (resource_id, metric, hour, value)
        for resource_id, metric, day, slot, value in rows
        if not low <= (hour := datetime.combine(day, time(), tzinfo=UTC) + timedelta(hours=slot)) <= high
    ]
    return pa.table(
        {
            "resource_id": pa.array([k[0] for k in kept], pa.string()),
            "metric": pa.array([k[1] for k in kept], pa.string()),
            "hour": pa.array([k[2] for k in kept], pa.timestamp("s", tz="UTC")),
            "value": pa.array([k[3] for k in kept], pa.float64()),
        }
    )


def _day_rows(table: pa.Table) -> pa.Table:
    """Group a long table into ``resource_id, metric, day, hours`` rows, ``hours`` a Postgres array literal
    of 24 values (``NULL`` where no sample); the last of duplicate samples of one hour wins."""
    hours = table.column("hour").combine_chunks()
    stamps = hours.cast(pa.int64()).to_numpy()
    day_numbers = stamps // 86_400
    long = pa.table(
        {
            "resource_id": table.column("resource_id"),
            "metric": table.column("metric"),
            "day": pa.array(day_numbers.astype("datetime64[D]"), pa.date32()),
            "slot": pa.array((stamps - day_numbers * 86_400) // 3_600, pa.int64()),
            "value": table.column("value"),
        }
    )
    grouped = long.group_by(["resource_id", "metric", "day"], use_threads=False).aggregate(
        [("slot", "list"), ("value", "list")]
    )
    slots = grouped.column("slot_list").combine_chunks()
    parents = pc.list_parent_indices(slots).to_numpy()
    matrix = np.full((grouped.num_rows, 24), np.nan)
    matrix[parents, pc.list_flatten(slots).to_numpy()] = pc.list_flatten(
        grouped.column("value_list").combine_chunks()
    ).to_numpy()
    flat = matrix.ravel()
    text_values = pc.fill_null(
        pc.cast(pa.array(flat, pa.float64(), mask=np.isnan(flat)), pa.string()), "NULL"
    )
    offsets = pa.array(np.arange(0, flat.size + 1, 24, dtype=np.int32))
    joined = pc.binary_join(pa.ListArray.from_arrays(offsets, text_values), ",")
    return pa.table(
        {
            "resource_id": grouped.column("resource_id"),
            "metric": grouped.column("metric"),
            "day": grouped.column("day"),
            "hours": pc.binary_join_element_wise("{", joined, "}", ""),
        }
    )


def _missing(connection: Connection, months: Sequence[date]) -> bool:
    names = [utilisation_partition_name(m) for m in months]
    found = connection.execute(
        text("SELECT count(*) FROM pg_class WHERE relname = ANY(CAST(:names AS text[]))"), {"names": names}
    ).scalar()
    return int(found or 0) < len(set(names))


def read_until(
    connection: Connection, organization_id: uuid.UUID, cloud_account_id: uuid.UUID
) -> dict[str, date]:
    """``{resource_id: day (exclusive) up to which its series was read}`` of one account."""
    rows = connection.execute(
        text(
            "SELECT resource_id, read_until FROM utilisation_cursors "
            "WHERE organization_id = :org AND cloud_account_id = :account"
        ),
        {"org": organization_id, "account": cloud_account_id},
    )
    return {str(r[0]): r[1] for r in rows}


def advance(
    connection: Connection,
    organization_id: uuid.UUID,
    cloud_account_id: uuid.UUID,
    resource_ids: Sequence[str],
    until: date,
) -> None:
    """Record that ``resource_ids`` were read up to ``until`` (never moves a cursor back)."""
    if not resource_ids:
        return
    connection.execute(
        text(
            "INSERT INTO utilisation_cursors (organization_id, cloud_account_id, resource_id, read_until) "
            "SELECT :org, :account, unnest(CAST(:ids AS text[])), :until "
            "ON CONFLICT (cloud_account_id, resource_id) DO UPDATE "
            "SET read_until = greatest(utilisation_cursors.read_until, EXCLUDED.read_until)"
        ),
        {
            "org": organization_id,
            "account": cloud_account_id,
            "ids": list(dict.fromkeys(resource_ids)),
            "until": until,
        },
    )


def summaries(
    connection: Connection,
    organization_id: uuid.UUID,
    cloud_account_id: uuid.UUID,
    start: datetime,
    end: datetime,
    resource_ids: Sequence[str] | None = None,
) -> dict[str, Summary]:
    """Per resource and metric: avg, max, p95, p99 and samples of ``[start, end)`` (see module contract)."""
    only = "AND d.resource_id = ANY(CAST(:ids AS text[])) " if resource_ids is not None else ""
    rows = connection.execute(
        text(
            "SELECT d.resource_id, d.metric, round(CAST(avg(u.v) AS numeric), 4),"
            " round(CAST(max(u.v) AS numeric), 4),"
            " round(CAST(percentile_cont(0.95) WITHIN GROUP (ORDER BY u.v) AS numeric), 4),"
            " round(CAST(percentile_cont(0.99) WITHIN GROUP (ORDER BY u.v) AS numeric), 4), count(*) "
            "FROM utilisation_daily d CROSS JOIN LATERAL unnest(d.hours) WITH ORDINALITY AS u(v, i) "
            "WHERE d.organization_id = :org AND d.cloud_account_id = :account "
            "AND d.day >= :first_day AND d.day <= :last_day AND u.v IS NOT NULL "
            "AND (CAST(d.day AS timestamp) AT TIME ZONE 'UTC') + (u.i - 1) * interval '1 hour' >= :start "
            "AND (CAST(d.day AS timestamp) AT TIME ZONE 'UTC') + (u.i - 1) * interval '1 hour' < :end "
            f"{only}GROUP BY 1, 2"
        ),
        {
            "org": organization_id,
            "account": cloud_account_id,
            "start": start,
            "end": end,
            "first_day": start.astimezone(UTC).date(),
            "last_day": end.astimezone(UTC).date(),
            "ids": list(resource_ids or []),
        },
    )
    found: dict[str, Summary] = {}
    for resource_id, metric, avg, peak, p95, p99, samples in rows:
        found.setdefault(str(resource_id), {})[str(metric)] = {
            "avg": float(avg),
            "max": float(peak),
            "p95": float(p95),
            "p99": float(p99),
            "samples": float(samples),
        }
    return found


def prunable(connection: Connection, before: datetime) -> bool:
    """True when some monthly partition lies wholly before ``before`` (a cheap catalogue read, no lock)."""
    return bool(_old_partitions(connection, before))


def _old_partitions(connection: Connection, before: datetime) -> list[str]:
    rows = connection.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = CAST('utilisation_daily' AS regclass) ORDER BY 1"
        )
    ).all()
    old: list[str] = []
    for (name,) in rows:
        year, month = int(name[-7:-3]), int(name[-2:])
        end = next_month(datetime(year, month, 1, tzinfo=UTC).date())
        if datetime(end.year, end.month, 1, tzinfo=UTC) <= before:
            old.append(name)
    return old


def prune(connection: Connection, before: datetime) -> list[str]:
    """Drop the monthly partitions wholly before ``before``; their names, oldest first."""
    dropped = _old_partitions(connection, before)
    for name in dropped:
        connection.execute(text(f'DROP TABLE IF EXISTS "{name}"'))
    return dropped


def hourly_matrix(
    connection: Connection,
    organization_id: uuid.UUID,
    start: datetime,
    end: datetime,
    *,
    provider: str | None = None,
    account: str | None = None,
    resource_ids: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
) -> tuple[list[tuple[uuid.UUID, str, str]], pd.DatetimeIndex, np.ndarray]:  # type: ignore[type-arg]
    """The stored hours of ``[start, end)`` (both on the hour) as one row per (cloud account, resource,
    metric) — ``(keys, hours, values)``, ``values`` ``(len(keys), len(hours))`` with ``NaN`` where no
    sample — filtered by provider, account identifier, resources and metrics when given."""
    hours = pd.date_range(start, end, freq="h", inclusive="left")
    clauses = ["d.organization_id = :org", "d.day >= :first_day", "d.day <= :last_day"]
    params: dict[str, Any] = {
        "org": organization_id,
        "first_day": start.astimezone(UTC).date(),
        "last_day": (end - timedelta(hours=1)).astimezone(UTC).date(),
    }
    if provider:
        clauses.append("a.provider = :provider")
        params["provider"] = provider
    if account:
        clauses.append("a.account_identifier = :account")
        params["account"] = account
    if resource_ids is not None:
        clauses.append("d.resource_id = ANY(CAST(:ids AS text[]))")
        params["ids"] = list(resource_ids)
    if metrics is not None:
        clauses.append("d.metric = ANY(CAST(:metrics AS text[]))")
        params["metrics"] = list(metrics)
    rows = connection.execute(
        text(
            "SELECT d.cloud_account_id, d.resource_id, d.metric, d.day, d.hours FROM utilisation_daily d "
            "JOIN cloud_accounts a ON a.id = d.cloud_account_id AND a.organization_id = d.organization_id "
            f"WHERE {' AND '.join(clauses)} ORDER BY 1, 2, 3, 4"
        ),
        params,
    ).all()
    index: dict[tuple[uuid.UUID, str, str], int] = {}
    for account_id, resource_id, metric, _day, _hours in rows:
        index.setdefault((account_id, str(resource_id), str(metric)), len(index))
    values = np.full((len(index), len(hours)), np.nan)
    origin = (
        pd.Timestamp(start).tz_convert("UTC") if pd.Timestamp(start).tzinfo else pd.Timestamp(start, tz="UTC")
    )
    for account_id, resource_id, metric, day, day_hours in rows:
        offset = int((pd.Timestamp(day, tz="UTC") - origin) / pd.Timedelta(hours=1))
        day_values = np.asarray([np.nan if v is None else v for v in day_hours], dtype=float)
        low, high = max(0, -offset), min(24, len(hours) - offset)
        if low < high:
            values[index[(account_id, str(resource_id), str(metric))], offset + low : offset + high] = (
                day_values[low:high]
            )
    return list(index), hours, values
