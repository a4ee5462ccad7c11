"""``/costs/overview`` at N cost rows (12 months, 3 clouds): the service (rollup) vs the raw-row aggregate.

Rows are generated in SQL straight into ``cost_data`` (partitioned; ``INSERT … SELECT`` over
``generate_series`` in chunks of a million, with the table's secondary indexes dropped during the load and
rebuilt afterwards from their catalog definitions), then the daily rollup is built once, exactly as ingestion
maintains it. Each query is timed many times; p50/p95 in milliseconds. ``load_estate`` is shared with
``allocation_overview``.
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Engine, insert, text

from benchmarks._support import embedded_database, p50, percentile, report, timed
from cloudoptima.services.cost_analytics import CostAnalytics
from cloudoptima.storage.cost_loader import DEFAULT_ROLLUP_TAG_KEYS, refresh_daily_rollup
from cloudoptima.storage.engine import make_engine
from cloudoptima.storage.models import Organization
from cloudoptima.storage.partitions import ensure_cost_partitions, months_between

START = date(2030, 1, 1)
END = date(2031, 1, 1)

FILL = """
INSERT INTO cost_data (organization_id, provider, provider_name, billing_account_id, billing_currency,
    billing_period_start, billing_period_end, charge_category, charge_period_start, charge_period_end,
    billed_cost, effective_cost, list_cost, service_name, service_category, region_id, sub_account_id,
    resource_id, tags)
SELECT :org,
       (ARRAY['aws','azure','gcp'])[1 + g % 3],
       (ARRAY['AWS','Microsoft','Google Cloud'])[1 + g % 3],
       'billing-' || (g % 3),
       'USD',
       date_trunc('month', ts), date_trunc('month', ts) + interval '1 month',
       'Usage', ts, ts + interval '1 day',
       round((random() * 10)::numeric, 6), round((random() * 10)::numeric, 6), round((random() * 12)::numeric, 6),
       'service-' || (g % 60), (ARRAY['Compute','Storage','Networking','Databases'])[1 + g % 4],
       'region-' || (g % 20), 'account-' || (g % 50), 'res-' || (g % 200000),
       jsonb_build_object('team', 'team-' || (g % 12), 'env', (ARRAY['prod','dev','staging'])[1 + g % 3])
FROM generate_series(1, :n) AS g,
     LATERAL (SELECT :t0 + ((g::bigint * 7919) % 365) * interval '1 day' AS ts) AS t
"""

RAW = """
SELECT service_name, sum(billed_cost) FROM cost_data
WHERE organization_id = :org AND billing_currency = 'USD'
  AND charge_period_start >= :t0 AND charge_period_start < :t1 GROUP BY 1 ORDER BY 2 DESC LIMIT 50;
"""
RAW_SERIES = """
SELECT (charge_period_start AT TIME ZONE 'UTC')::date, sum(billed_cost) FROM cost_data
WHERE organization_id = :org AND billing_currency = 'USD'
  AND charge_period_start >= :t0 AND charge_period_start < :t1 GROUP BY 1 ORDER BY 1
"""
RAW_TOTAL = """
SELECT sum(billed_cost) FROM cost_data WHERE organization_id = :org AND billing_currency = 'USD'
  AND charge_period_start >= :t0 AND charge_period_start < :t1
"""


# The secondary (non-constraint) indexes of the partitioned ``cost_data``, as the migrations created them.
SECONDARY_INDEXES = """
SELECT i.indexname, i.indexdef FROM pg_indexes AS i
WHERE i.schemaname = current_schema() AND i.tablename = 'cost_data'
  AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conindid = to_regclass(i.indexname))
ORDER BY i.indexname
"""


def utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass(frozen=True)
class Estate:
    """One organisation's generated costs: ``rows`` cost rows over ``START``–``END`` and their daily rollup."""

    organization_id: uuid.UUID
    rows: int
    load_seconds: float
    rollup_seconds: float
    rollup_rows: int
    indexes_rebuilt: tuple[str, ...]


def load_estate(
    engine: Engine,
    rows: int,
    *,
    fill: str = FILL,
    params: Mapping[str, object] | None = None,
    chunk: int = 1_000_000,
) -> Estate:
    """Generate ``rows`` cost rows of a new organisation inside Postgres (``fill``, by default ``FILL``: 12
    months, 3 clouds, tags ``team`` and ``env``; an ``INSERT … SELECT`` over ``generate_series(1, :n)`` with
    ``:org`` and ``:t0`` bound, plus ``params``), then build its daily rollup with ``refresh_daily_rollup`` as ingestion does, and
    ``ANALYZE``. ``cost_data``'s secondary indexes (the tag GIN, the time indexes) are dropped during the load
    and recreated afterwards from their own definitions (a bulk load's usual order: one index build instead of
    ten million index updates); the queries then run against exactly the product's indexes. The rollup is
    built month by month (as ingestion refreshes the windows it loaded) with ``work_mem`` at 128 MB for that
    transaction only."""
    org = uuid.uuid4()
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(
            insert(Organization).values(id=org, name="bench", subscription_tier="free", settings={})
        )
        ensure_cost_partitions(connection, months_between(START, END))
        indexes = [(str(name), str(ddl)) for name, ddl in connection.execute(text(SECONDARY_INDEXES)).all()]
        for name, _ in indexes:
            connection.exec_driver_sql(f'DROP INDEX "{name}"')
    for offset in range(0, rows, chunk):
        with engine.begin() as connection:
            connection.execute(
                text(fill.replace("generate_series(1, :n)", f"generate_series({offset + 1}, {offset} + :n)")),
                {**(params or {}), "org": org, "n": min(chunk, rows - offset), "t0": utc(START)},
            )
    with engine.begin() as connection:
        connection.exec_driver_sql("SET maintenance_work_mem = '256MB'")
        for _, ddl in indexes:
            connection.exec_driver_sql(ddl)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    months = list(months_between(START, END))
    with engine.begin() as connection:
        connection.exec_driver_sql("SET LOCAL work_mem = '128MB'")
        rollup_rows = sum(
            refresh_daily_rollup(connection, org, month, following, DEFAULT_ROLLUP_TAG_KEYS)
            for month, following in zip(months, [*months[1:], END], strict=True)
        )
        connection.exec_driver_sql("ANALYZE cost_data")
        connection.exec_driver_sql("ANALYZE cost_daily")
    return Estate(
        organization_id=org,
        rows=rows,
        load_seconds=load_s,
        rollup_seconds=time.perf_counter() - started,
        rollup_rows=rollup_rows,
        indexes_rebuilt=tuple(name for name, _ in indexes),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    with embedded_database() as url:
        engine = make_engine(url)
        estate = load_estate(engine, args.rows)
        org, load_s, rollup_s, rollup_rows = (
            estate.organization_id,
            estate.load_seconds,
            estate.rollup_seconds,
            estate.rollup_rows,
        )

        results: dict[str, dict[str, float]] = {}
        windows = {"30 days": (date(2030, 12, 2), END), "365 days": (START, END)}
        with engine.connect() as connection:
            analytics = CostAnalytics(connection, org)
            for label, (d0, d1) in windows.items():
                analytics.overview(d0, d1, group_by="service")  # warm

                def overview(d0: date = d0, d1: date = d1) -> None:
                    analytics.overview(d0, d1, group_by="service")

                service = timed(overview, args.repeat)
                params = {"org": org, "t0": utc(d0), "t1": utc(d1)}

                def raw(params: dict[str, object] = params) -> None:
                    for sql in (RAW_TOTAL, RAW, RAW_SERIES):
                        connection.execute(text(sql), params).all()

                raw()
                raw_ms = timed(raw, max(3, args.repeat // 8))
                results[label] = {
                    "service_p50_ms": round(p50(service), 2),
                    "service_p95_ms": round(percentile(service, 95), 2),
                    "raw_p50_ms": round(p50(raw_ms), 2),
                    "raw_p95_ms": round(percentile(raw_ms, 95), 2),
                    "speedup_p50": round(p50(raw_ms) / p50(service), 1),
                }
        engine.dispose()
    rows = [("rows", f"{args.rows:,}"), ("load s", f"{load_s:.1f}"), ("rollup build s", f"{rollup_s:.1f}")]
    rows.append(("rollup rows", f"{rollup_rows:,}"))
    for label, r in results.items():
        rows += [
            (f"{label}: service p50 / p95 ms", f"{r['service_p50_ms']} / {r['service_p95_ms']}"),
            (f"{label}: raw p50 / p95 ms", f"{r['raw_p50_ms']} / {r['raw_p95_ms']}"),
            (f"{label}: speed-up (target ≥ 20×)", f"{r['speedup_p50']}×"),
        ]
    report(
        "overview_query",
        rows,
        {
            "rows": args.rows,
            "load_seconds": load_s,
            "rollup_seconds": rollup_s,
            "rollup_rows": rollup_rows,
            "windows": results,
            "targets": {"service_p95_ms": "<= 50", "speedup": ">= 20"},
        },
    )


if __name__ == "__main__":
    main()
