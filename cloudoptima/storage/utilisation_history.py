"""Hourly utilisation history (``utilisation_hourly``): store series, read rolling-window summaries, prune.

Contract (every statement filters the organisation and the cloud account; the caller owns the transaction):

- ``store(connection, org, account, series)`` writes every present sample of ``series`` (hours that are
  ``None`` are skipped): the stored samples of those resources between the first and last hour read are
  deleted, then one CSV COPY writes the new ones — a re-read window replaces what was stored for it, so a
  retried or overlapping collection never duplicates (one ``(resource, metric, hour)`` per read, as every
  connector gives). Missing monthly partitions are created first. Returns the number of samples written.
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
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
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
    table = table.select(["resource_id", "metric", "hour", "value"])
    bounds = pc.min_max(table.column("hour")).as_py()
    months = months_between(bounds["min"].date(), bounds["max"].date() + timedelta(days=1))
    if _missing(connection, months):
        # The DDL lock is held to the end of the transaction: take it only when a month is missing, so
        # concurrent collections into existing months never wait on each other.
        ensure_month_partitions(connection, "utilisation_hourly", months, utilisation_partition_name)
    # A re-read window replaces what is stored for those resources in it (idempotent, no per-row conflict
    # checks): delete the window, then one COPY straight into the partitioned table.
    connection.execute(
        text(
            "DELETE FROM utilisation_hourly WHERE organization_id = :org AND cloud_account_id = :account "
            "AND resource_id = ANY(CAST(:ids AS text[])) AND hour >= :low AND hour <= :high"
        ),
        {
            "org": organization_id,
            "account": cloud_account_id,
            "ids": pc.unique(table.column("resource_id")).to_pylist(),
            "low": bounds["min"],
            "high": bounds["max"],
        },
    )
    n = table.num_rows
    rows = pa.table(
        {
            "organization_id": pa.array([str(organization_id)] * n, pa.string()),
            "cloud_account_id": pa.array([str(cloud_account_id)] * n, pa.string()),
            "resource_id": table.column("resource_id"),
            "metric": table.column("metric"),
            "hour": table.column("hour"),
            "value": table.column("value"),
        }
    )
    payload = io.BytesIO()
    pacsv.write_csv(rows, payload, pacsv.WriteOptions(include_header=False))
    raw: Any = connection.connection.driver_connection
    copy_sql = (
        "COPY utilisation_hourly (organization_id, cloud_account_id, resource_id, metric, hour, value) "
        "FROM STDIN WITH (FORMAT csv)"
    )
    with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
        copy.write(payload.getvalue())
    return int(table.num_rows)


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
    only = "AND resource_id = ANY(CAST(:ids AS text[])) " if resource_ids is not None else ""
    rows = connection.execute(
        text(
            "SELECT resource_id, metric, round(CAST(avg(value) AS numeric), 4), round(CAST(max(value) AS numeric), 4),"
            " round(CAST(percentile_cont(0.95) WITHIN GROUP (ORDER BY value) AS numeric), 4),"
            " round(CAST(percentile_cont(0.99) WITHIN GROUP (ORDER BY value) AS numeric), 4), count(*) "
            "FROM utilisation_hourly WHERE organization_id = :org AND cloud_account_id = :account "
            f"AND hour >= :start AND hour < :end {only}GROUP BY 1, 2"
        ),
        {
            "org": organization_id,
            "account": cloud_account_id,
            "start": start,
            "end": end,
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
            "WHERE i.inhparent = CAST('utilisation_hourly' AS regclass) ORDER BY 1"
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
