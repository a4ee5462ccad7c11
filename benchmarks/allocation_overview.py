"""Allocated views vs the plain overview at N cost rows (12 months, 3 clouds), in the same run.

Rows are generated in SQL straight into ``cost_data`` and the daily rollup is built once as ingestion
maintains it (``overview_query.load_estate``: tags ``team`` and ``env``), then a ``team`` dimension is allocated
month by month exactly as the ``ReallocateCosts`` workflow does (rules over a tag with key variants, a
service, a region; a networking category shared proportionally). Timed: the re-allocation, then
``cost_by_allocation`` (30 and 365 days, monthly series; also with ``reconcile``) against ``CostAnalytics.overview`` (the baseline)
with p50/p95 in milliseconds. Target: allocated p95 <= 50 ms.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, date, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from benchmarks._support import embedded_database, p50, percentile, report, timed
from benchmarks.overview_query import END, START, load_estate
from cloudoptima.services.allocation.dimensions import AllocationDimensions
from cloudoptima.services.allocation.engine import (
    activate_version,
    allocate_range,
    allocation_months,
    load_rule_set,
    next_month,
)
from cloudoptima.services.allocation.queries import cost_by_allocation
from cloudoptima.services.cost_analytics import CostAnalytics
from cloudoptima.storage.engine import make_engine

RULES = {
    "tag_aliases": {"environment": ["env", "stage"]},
    "rules": [
        {
            "value": "platform",
            "match": {"tags": [{"key": "Environment", "values": ["PROD"]}], "services": ["service-1"]},
        },
        {"value": "emea", "match": {"regions": ["region-3", "region-4"]}},
        {
            "value_from_tag": "Team",
            "match": {"tags": [{"key": "team", "values": ["team-1", "team-2", "team-3"]}]},
        },
        {"value": "data", "match": {"services": ["service-7", "service-8"]}},
    ],
    "shared": [{"name": "network", "match": {"services": ["service-59"]}}],
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    with embedded_database() as url:
        engine = make_engine(url)
        estate = load_estate(engine, args.rows)
        org = estate.organization_id
        load_s = estate.load_seconds + estate.rollup_seconds

        now = datetime(2031, 1, 2, tzinfo=UTC)
        with Session(engine) as session, session.begin():
            service = AllocationDimensions(session, org)
            dimension = service.create("team", None, now)
            view, _ = service.save_rules(dimension.id, RULES, None, now)
        version = view.latest_version
        started = time.perf_counter()
        allocated_rows = 0
        with engine.connect() as connection:
            months = allocation_months(connection, org)
        for month in months:  # one transaction per month, as the workflow's activities
            with engine.begin() as connection:
                rule_set = load_rule_set(connection, org, dimension.id, version)
                allocated_rows += allocate_range(
                    connection, org, dimension.id, version, rule_set, month, next_month(month)
                )
        with engine.begin() as connection:
            activate_version(connection, org, dimension.id, version, now)
            connection.exec_driver_sql("ANALYZE cost_allocated_daily")
            connection.exec_driver_sql("ANALYZE cost_allocated_totals")
            totals_rows = connection.execute(text("SELECT count(*) FROM cost_allocated_totals")).scalar_one()
        allocate_s = time.perf_counter() - started

        results: dict[str, dict[str, float]] = {}
        windows = {"30 days": (date(2030, 12, 2), END), "365 days": (START, END)}
        with engine.connect() as connection:
            analytics = CostAnalytics(connection, org)
            for label, (d0, d1) in windows.items():

                def overview(d0: date = d0, d1: date = d1) -> None:
                    analytics.overview(d0, d1, group_by="service")

                def by_allocation(d0: date = d0, d1: date = d1) -> None:
                    cost_by_allocation(connection, org, "team", d0, d1, granularity="monthly")

                def reconciled(d0: date = d0, d1: date = d1) -> None:
                    answer = cost_by_allocation(
                        connection, org, "team", d0, d1, granularity="monthly", reconcile=True
                    )
                    assert answer.currencies[0].pending == 0

                overview()
                by_allocation()
                reconciled()
                base = timed(overview, args.repeat)
                alloc = timed(by_allocation, args.repeat)
                checked = timed(reconciled, args.repeat)
                results[label] = {
                    "allocated_p50_ms": round(p50(alloc), 2),
                    "allocated_p95_ms": round(percentile(alloc, 95), 2),
                    "overview_p50_ms": round(p50(base), 2),
                    "overview_p95_ms": round(percentile(base, 95), 2),
                    "ratio_p95": round(percentile(alloc, 95) / percentile(base, 95), 2),
                    "reconciled_p50_ms": round(p50(checked), 2),
                    "reconciled_p95_ms": round(percentile(checked, 95), 2),
                }
        engine.dispose()
    rows = [
        ("rows", f"{args.rows:,}"),
        ("load + rollup s", f"{load_s:.1f}"),
        ("re-allocation s (12 months)", f"{allocate_s:.1f}"),
        ("allocated rows / totals rows", f"{allocated_rows:,} / {totals_rows:,}"),
    ]
    for label, r in results.items():
        rows += [
            (
                f"{label}: allocated p50 / p95 ms (target p95 ≤ 50)",
                f"{r['allocated_p50_ms']} / {r['allocated_p95_ms']}",
            ),
            (
                f"{label}: overview p50 / p95 ms (baseline)",
                f"{r['overview_p50_ms']} / {r['overview_p95_ms']}",
            ),
            (f"{label}: allocated / overview p95", f"{r['ratio_p95']}×"),
            (f"{label}: reconcile=true p50 / p95 ms", f"{r['reconciled_p50_ms']} / {r['reconciled_p95_ms']}"),
        ]
    report(
        "allocation_overview",
        rows,
        {
            "rows": args.rows,
            "load_seconds": load_s,
            "reallocation_seconds": allocate_s,
            "allocated_rows": allocated_rows,
            "totals_rows": totals_rows,
            "windows": results,
            "targets": {"allocated_p95_ms": "<= 50"},
        },
    )


if __name__ == "__main__":
    main()
