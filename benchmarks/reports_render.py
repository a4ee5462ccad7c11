"""Time and peak RSS of each report renderer on a large document: 12 months of daily trend (with a 30-day
forecast band), top-N bars, a budget burn-down, and a 5,000-row table (``--rows``).

Each format runs in its own child process (``--one FORMAT``), so its peak RSS is its own: the child reports its
RSS before rendering (imports and the built document), the peak while rendering (Linux high-water mark, reset
just before) and ``ru_maxrss`` of the whole child. The
output goes to a temporary file, as a large report would. JSON is the baseline for the time ratios. No database.

``--rows 50000`` is the memory-bound check of ``cloudoptima/reports/renderers.py``: what a render adds to the
child's RSS (``render_peak_rss_mb - rss_before_render_mb``) stays under 100 MB for every format (XLSX and CSV
stream, so theirs does not grow with the table; PDF and JSON are built in memory). The end-to-end target
(1M cost rows → 12-month review PDF) is ``benchmarks/report_end_to_end.py``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from cloudoptima.reports.document import (
    BarChart,
    BarItem,
    BurnDownChart,
    BurnDownPoint,
    Chart,
    Column,
    ReportDocument,
    Section,
    Table,
    TrendChart,
    TrendPoint,
)
from cloudoptima.reports.renderers import FORMATS, render

START = date(2025, 12, 1)
END = date(2026, 12, 1)


def build_document(rows: int) -> ReportDocument:
    """The benchmark document (deterministic numbers with 2- and 3-decimal amounts)."""
    days = (END - START).days
    points = []
    for i in range(days + 30):
        day = START + timedelta(days=i)
        actual = Decimal(1000 + (i * 37) % 250) + Decimal(i % 100) / 100 if i < days else None
        band = i >= days - 30
        points.append(
            TrendPoint(
                date=day,
                actual=actual,
                forecast=Decimal("1120.50") if band else None,
                lower=Decimal("1010.25") if band else None,
                upper=Decimal("1230.75") if band else None,
            )
        )
    cumulative, burn = Decimal(0), []
    for point in points[:days]:
        assert point.actual is not None
        cumulative += point.actual
        burn.append(BurnDownPoint(date=point.date, cumulative_actual=cumulative))
    table = Table(
        id="resources",
        title="Cost by resource",
        columns=[
            Column(key="resource", title="Resource", kind="text"),
            Column(key="account", title="Account", kind="text"),
            Column(key="service", title="Service", kind="text"),
            Column(key="first_seen", title="First seen", kind="date"),
            Column(key="line_items", title="Line items", kind="integer"),
            Column(key="cost", title="Cost", kind="money"),
            Column(key="change_percent", title="Change %", kind="percent"),
        ],
        rows=[
            [
                f"arn:aws:ec2:eu-central-1:1234567890{i % 10:02d}:instance/i-{i:017x}",
                f"account-{i % 40:02d}",
                ("AmazonEC2", "AmazonS3", "AmazonRDS", "AWSLambda")[i % 4],
                START + timedelta(days=i % days),
                i % 720 + 1,
                Decimal(i % 9973) / 1000 + Decimal("0.10"),
                Decimal(i % 400 - 200) / 10,
            ]
            for i in range(rows)
        ],
        totals=True,
    )
    charts: list[Chart] = [
        TrendChart(id="daily_trend", title="Daily cost with forecast", points=points),
        BarChart(
            id="top_services",
            title="Top 10 services",
            items=[BarItem(label=f"Service {n}", value=Decimal(10_000 - n * 700)) for n in range(10)],
        ),
        BurnDownChart(id="budget", title="Budget burn-down", limit=Decimal("420000"), points=burn),
    ]
    return ReportDocument(
        title="Monthly cost review (benchmark)",
        organisation_name="Benchmark Org",
        start_date=START,
        end_date=END,
        generated_at=datetime(2026, 12, 1, 6, 0, tzinfo=UTC),
        currency="USD",
        sections=[
            Section(id="overview", title="Overview", charts=charts),
            Section(id="resources", title="Resources", tables=[table]),
        ],
    )


def _status_mb(field: str) -> float:
    """``VmRSS`` / ``VmHWM`` (peak since the last reset) of this process from ``/proc/self/status``, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # KiB
    raise RuntimeError(f"{field} not in /proc/self/status")


def run_one(fmt: str, rows: int) -> dict[str, Any]:
    """Render one format in this process; returns seconds, bytes and RSS figures.

    ``render_peak_rss_mb`` is the peak RSS while rendering: the kernel's high-water mark is reset to the current
    RSS (``/proc/self/clear_refs`` ← 5) just before the render; ``process_peak_rss_mb`` is ``ru_maxrss`` of the
    whole child (imports, building the document and rendering)."""
    started = time.perf_counter()
    document = build_document(rows)
    build_s = time.perf_counter() - started
    Path("/proc/self/clear_refs").write_text("5")
    before = _status_mb("VmRSS")
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        written = render(document, fmt, out)
        seconds = time.perf_counter() - started
    return {
        "format": fmt,
        "rows": rows,
        "build_s": round(build_s, 3),
        "render_s": round(seconds, 3),
        "bytes": written,
        "rss_before_render_mb": round(before, 1),
        "render_peak_rss_mb": round(_status_mb("VmHWM"), 1),
        "process_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--one", choices=FORMATS, help="(internal) render one format and print JSON")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.rows)))
        return
    from benchmarks._support import report

    results = []
    for fmt in FORMATS:
        child = subprocess.run(
            [sys.executable, "-m", "benchmarks.reports_render", "--one", fmt, "--rows", str(args.rows)],
            check=True,
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        results.append(json.loads(child.stdout.strip().splitlines()[-1]))
    baseline = next(r for r in results if r["format"] == "json")["render_s"] or 1e-9
    rows = []
    for r in results:
        rows.append(
            (
                f"{r['format']} ({r['rows']:,} rows + 395-day trend)",
                f"{r['render_s']:.2f} s ({r['render_s'] / baseline:.1f}× json), {r['bytes'] / 1e6:.2f} MB, "
                f"RSS {r['rss_before_render_mb']:.0f} → peak {r['render_peak_rss_mb']:.0f} MB "
                f"(process peak {r['process_peak_rss_mb']:.0f} MB)",
            )
        )
    report("reports_render", rows, {"rows": args.rows, "results": results})


if __name__ == "__main__":
    main()
