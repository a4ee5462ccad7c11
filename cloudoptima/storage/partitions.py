"""Monthly partitions: ``cost_data`` on ``charge_period_start``, ``utilisation_daily`` on ``day``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

from sqlalchemy import Connection, text


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"cost_data_y{month.year:04d}m{month.month:02d}"


def months_between(start: date, end_exclusive: date) -> list[date]:
    """First days of every month touched by ``[start, end_exclusive)``."""
    months: list[date] = []
    current = month_start(start)
    while current < end_exclusive:
        months.append(current)
        current = next_month(current)
    return months


def ensure_cost_partitions(connection: Connection, months: Iterable[date]) -> list[str]:
    """Create the monthly partitions that do not exist yet; returns the names created.

    Takes a transaction-level advisory lock so concurrent loaders do not race on DDL.
    """
    return ensure_month_partitions(connection, "cost_data", months, partition_name)


def utilisation_partition_name(month: date) -> str:
    return f"utilisation_daily_y{month.year:04d}m{month.month:02d}"


def timestamp_bound(month: date) -> str:
    """A partition bound on a ``timestamptz`` column: midnight UTC of ``month``."""
    return f"{month.isoformat()}T00:00:00+00"


def ensure_month_partitions(
    connection: Connection,
    table: str,
    months: Iterable[date],
    name_of: Callable[[date], str],
    *,
    bound: Callable[[date], str] = timestamp_bound,
) -> list[str]:
    """Create ``table``'s missing monthly partitions (named by ``name_of``, bounds written by ``bound``:
    :func:`timestamp_bound` for a ``timestamptz`` key, ``date.isoformat`` for a ``date`` key) under an
    advisory lock."""
    created: list[str] = []
    lock = "cloudoptima.cost_partitions" if table == "cost_data" else f"cloudoptima.partitions.{table}"
    connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:lock))"), {"lock": lock})
    for month in sorted(set(map(month_start, months))):
        name = name_of(month)
        # pg_class under this statement's snapshot: to_regclass may answer from a stale catalog cache after
        # waiting on the lock for another loader that just created the partition.
        exists = connection.execute(
            text("SELECT 1 FROM pg_class WHERE relname = :name"), {"name": name}
        ).scalar()
        if exists is not None:
            continue
        connection.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {table} "
                f"FOR VALUES FROM ('{bound(month)}') TO ('{bound(next_month(month))}')"
            )
        )
        created.append(name)
    return created
