"""The monthly cost review end to end: 1M cost rows over 12 months → ``build_report`` → PDF file.

Issue 19's target: *a 12-month monthly review PDF for 1M cost rows ≤ 10 s and ≤ 300 MB RSS*.

Rows are generated in SQL straight into ``cost_data``, then the daily rollup is built once with
``refresh_daily_rollup``, exactly as ingestion maintains it, and analysed. Two shapes (``--shape``):

- ``resources`` (default): one row per resource per day, ``rows / 365`` resources, each with its own
  cloud, account (of 50), service (of 60), region (of 20), team (of 12) and env drawn by hashing the
  resource number, so the rollup keeps about one row per resource and day (the rollup barely compresses:
  the hard case for the report);
- ``overview``: ``overview_query``'s generator, whose dimensions repeat with the row number (the rollup
  collapses to one row per service and day).
 The report reads the rollup only (see
``services/report_inputs.py``), as it does in the product.

Each measured generation runs in its own child process (``--one``), so its RSS is its own: the child imports
the report stack, then times ``report_catalog.build_report(connection, org, "monthly_cost_review",
{start_date, end_date, tag_key: "team"}, generated_at)`` and ``render(document, "pdf", file)`` into a temporary
file, and reports wall time and ``ru_maxrss`` (the child's peak RSS over its whole life: imports, query,
forecast, charts, PDF). Baselines measured in the same run: the same report over one month (in its own child),
and a bare ``SELECT sum(billed_cost)`` over the same 1M raw rows (in the parent).

Run with ``.venv/bin/python -m benchmarks.report_end_to_end [--rows 1000000]``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

START = date(2030, 1, 1)
END = date(2031, 1, 1)
ONE_MONTH = (date(2030, 12, 1), END)

RESOURCES_FILL = """
INSERT INTO cost_data (organization_id, provider, provider_name, billing_account_id, billing_currency,
    billing_period_start, billing_period_end, charge_category, charge_period_start, charge_period_end,
    billed_cost, effective_cost, list_cost, service_name, service_category, region_id, sub_account_id,
    resource_id, tags)
SELECT :org,
       (ARRAY['aws','azure','gcp'])[1 + h.cloud],
       (ARRAY['AWS','Microsoft','Google Cloud'])[1 + h.cloud],
       'billing-' || h.cloud,
       'USD',
       date_trunc('month', ts), date_trunc('month', ts) + interval '1 month',
       'Usage', ts, ts + interval '1 day',
       round((random() * 10)::numeric, 10), round((random() * 10)::numeric, 10),
       round((random() * 12)::numeric, 10),
       'service-' || h.service, (ARRAY['Compute','Storage','Networking','Databases'])[1 + h.service % 4],
       'region-' || h.region, 'account-' || h.account, 'res-' || r,
       jsonb_build_object('team', 'team-' || h.team, 'env', (ARRAY['prod','dev','staging'])[1 + h.env])
FROM generate_series(1, :n) AS g,
     LATERAL (SELECT (g - 1) % :resources AS r, (g - 1) / :resources AS day) AS rd,
     LATERAL (SELECT (hashint4(r) & 2147483647) % 3 AS cloud,
                     (hashint4(r + 1000003) & 2147483647) % 60 AS service,
                     (hashint4(r + 2000003) & 2147483647) % 20 AS region,
                     (hashint4(r + 3000017) & 2147483647) % 50 AS account,
                     (hashint4(r + 4000037) & 2147483647) % 12 AS team,
                     (hashint4(r + 5000011) & 2147483647) % 3 AS env) AS h,
     LATERAL (SELECT :t0 + (rd.day % 365) * interval '1 day' AS ts) AS t
"""
GENERATED_AT = datetime(2031, 1, 1, 6, 0, tzinfo=UTC)
TARGET_S, TARGET_MB = 10.0, 300.0


def run_one(url: str, org: uuid.UUID, start: date, end: date, profile: Path | None = None) -> dict[str, Any]:
    """Build and render the review in this process; returns seconds, bytes and peak RSS. With ``profile``, the
    build runs under cProfile and its 25 most expensive calls (cumulative) are written to that file."""
    import_started = time.perf_counter()
    from cloudoptima.reports.renderers import render
    from cloudoptima.services.report_catalog import build_report
    from cloudoptima.storage.engine import make_engine

    import_s = time.perf_counter() - import_started
    rss_after_imports = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    engine = make_engine(url)
    try:
        profiler = cProfile.Profile() if profile else None
        started = time.perf_counter()
        with engine.connect() as connection:
            if profiler:
                profiler.enable()
            document = build_report(
                connection,
                org,
                "monthly_cost_review",
                {"start_date": start.isoformat(), "end_date": end.isoformat(), "tag_key": "team"},
                GENERATED_AT,
            )
            if profiler:
                profiler.disable()
        build_s = time.perf_counter() - started
        if profiler and profile:
            with profile.open("w") as sink:
                pstats.Stats(profiler, stream=sink).sort_stats("cumulative").print_stats(25)
        with tempfile.TemporaryFile() as out:
            started = time.perf_counter()
            written = render(document, "pdf", out)
            render_s = time.perf_counter() - started
    finally:
        engine.dispose()
    return {
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "import_s": round(import_s, 3),
        "build_s": round(build_s, 3),
        "render_s": round(render_s, 3),
        "total_s": round(build_s + render_s, 3),
        "bytes": written,
        "rss_after_imports_mb": round(rss_after_imports, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _child(url: str, org: uuid.UUID, start: date, end: date, profile: Path | None = None) -> dict[str, Any]:
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.report_end_to_end",
            "--one",
            "--url",
            url,
            "--org",
            str(org),
            "--start",
            start.isoformat(),
            "--end",
            end.isoformat(),
            *(["--profile", str(profile)] if profile else []),
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    result: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--shape", choices=("resources", "overview"), default="resources")
    parser.add_argument("--one", action="store_true", help="(internal) generate one report and print JSON")
    parser.add_argument("--url")
    parser.add_argument("--org")
    parser.add_argument("--start", type=date.fromisoformat, default=START)
    parser.add_argument("--end", type=date.fromisoformat, default=END)
    parser.add_argument("--profile", type=Path, help="also profile the 12-month build into this file")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.url, uuid.UUID(args.org), args.start, args.end, args.profile)))
        return

    from sqlalchemy import text

    from benchmarks._support import embedded_database, report
    from benchmarks.overview_query import FILL, RAW_TOTAL, load_estate, utc
    from cloudoptima.storage.engine import make_engine

    with embedded_database() as url:
        engine = make_engine(url)
        started = time.perf_counter()
        fill = RESOURCES_FILL if args.shape == "resources" else FILL
        resources = max(1, args.rows // (END - START).days)
        estate = load_estate(engine, args.rows, fill=fill, params={"resources": resources}, chunk=500_000)
        org, rollup_rows = estate.organization_id, estate.rollup_rows
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE cost_data")
            connection.exec_driver_sql("VACUUM ANALYZE cost_daily")
        load_s = time.perf_counter() - started

        with engine.connect() as connection:
            params = {"org": org, "t0": utc(START), "t1": utc(END)}
            connection.execute(text(RAW_TOTAL), params).one()  # warm the cache
            started = time.perf_counter()
            raw_total = connection.execute(text(RAW_TOTAL), params).scalar_one()
            raw_sum_s = time.perf_counter() - started
        engine.dispose()

        _child(url, org, *ONE_MONTH)  # warm Postgres's cache and the font / matplotlib caches on disk
        month = _child(url, org, *ONE_MONTH)
        year = _child(url, org, START, END)
        year["load_average"] = [round(x, 2) for x in os.getloadavg()]
        if args.profile:
            _child(url, org, START, END, args.profile)  # profiled separately: the timed run is not slowed

    met = year["total_s"] <= TARGET_S and year["peak_rss_mb"] <= TARGET_MB
    rows = [
        ("shape; cost rows / rollup rows", f"{args.shape}; {args.rows:,} / {rollup_rows:,}"),
        ("load + rollup + analyse", f"{load_s:.1f} s"),
        ("baseline: SELECT sum(billed_cost) over the raw rows", f"{raw_sum_s:.3f} s (= {raw_total})"),
        (
            "baseline: 1-month review → PDF",
            f"{month['total_s']:.2f} s (build {month['build_s']:.2f} + pdf {month['render_s']:.2f}), "
            f"peak RSS {month['peak_rss_mb']:.0f} MB",
        ),
        (
            f"12-month review → PDF (target ≤ {TARGET_S:.0f} s, ≤ {TARGET_MB:.0f} MB)",
            f"{year['total_s']:.2f} s (build {year['build_s']:.2f} + pdf {year['render_s']:.2f}) = "
            f"{year['total_s'] / month['total_s']:.1f}× the 1-month review, "
            f"{year['total_s'] / raw_sum_s:.0f}× the raw sum; peak RSS {year['peak_rss_mb']:.0f} MB "
            f"(after imports {year['rss_after_imports_mb']:.0f} MB); {year['bytes'] / 1e3:.0f} kB: "
            f"{'met' if met else 'NOT met'}",
        ),
    ]
    report(
        f"report_end_to_end_{args.shape}",
        rows,
        {
            "shape": args.shape,
            "rows": args.rows,
            "rollup_rows": rollup_rows,
            "load_seconds": round(load_s, 2),
            "raw_sum_seconds": round(raw_sum_s, 4),
            "one_month": month,
            "twelve_months": year,
            "targets": {"total_s": f"<= {TARGET_S}", "peak_rss_mb": f"<= {TARGET_MB}"},
            "met": met,
        },
    )


if __name__ == "__main__":
    main()
