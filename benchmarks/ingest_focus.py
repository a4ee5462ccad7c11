"""Ingest N FOCUS rows through the product vs a plain COPY of the same rows; peak RSS of the ingest.

The rows are a generated sandbox estate's FOCUS 1.2 files (57 columns, csv.gz). The baseline COPYs the same
decompressed CSV text into ``cost_data_plain``, an unpartitioned table of the same shape (the columns and
defaults of ``cost_data`` and the same indexes, read from the catalog), in the same run.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from sqlalchemy import insert, text

from benchmarks._support import embedded_database, report
from cloudoptima.clouds.sandbox import FOCUS_COLUMNS, generate_estate, write_estate
from cloudoptima.domain.focus import snake_case
from cloudoptima.storage.engine import make_engine
from cloudoptima.storage.models import Organization

CHILD = """
import json, resource, sys, time, uuid
from pathlib import Path
from cloudoptima.services.ingestion import ingest_path
from cloudoptima.storage.engine import make_engine
url, folder, org = sys.argv[1], Path(sys.argv[2]), uuid.UUID(sys.argv[3])
engine = make_engine(url)
started = time.perf_counter()
report = ingest_path(engine, folder, org)
elapsed = time.perf_counter() - started
# VmHWM is this process's own peak: ru_maxrss survives fork + exec, so it would report the parent's peak
# (the estate generator) whenever that is higher than the ingest's.
status = Path("/proc/self/status")
hwm = [line for line in status.read_text().splitlines() if line.startswith("VmHWM:")] if status.exists() else []
rss_mb = int(hwm[0].split()[1]) / 1024 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": elapsed, "rows": report.summary.rows_accepted, "rss_mb": rss_mb}))
"""


def generate(rows: int, out: Path) -> int:
    accounts = max(1, -(-rows // 5430))  # ~5,430 FOCUS rows per sandbox account over 90 days
    estate = generate_estate(seed=1, accounts=accounts, days=90)
    write_estate(estate, out)
    return sum(1 for f in (out / "focus").rglob("*.csv.gz") for _ in gzip.open(f, "rt")) - len(
        list((out / "focus").rglob("*.csv.gz"))
    )


def plain_copy(url: str, folder: Path) -> tuple[float, int]:
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    columns = ", ".join(snake_case(name) for name in FOCUS_COLUMNS)
    with psycopg.connect(dsn) as conn:
        conn.execute("DROP TABLE IF EXISTS cost_data_plain")
        conn.execute("CREATE TABLE cost_data_plain (LIKE cost_data INCLUDING DEFAULTS)")
        conn.execute("ALTER TABLE cost_data_plain ALTER COLUMN organization_id DROP NOT NULL")
        conn.execute("ALTER TABLE cost_data_plain ALTER COLUMN provider DROP NOT NULL")
        # The indexes the product keeps on cost_data (a fair baseline pays for them too).
        for (definition,) in conn.execute(
            "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = 'cost_data'::regclass"
        ).fetchall():
            conn.execute(
                re.sub(r"^CREATE INDEX \S+ ON (ONLY )?\S+", "CREATE INDEX ON cost_data_plain", definition)
            )
        indexes = conn.execute(
            "SELECT count(*) FROM pg_index WHERE indrelid = 'cost_data_plain'::regclass"
        ).fetchone()
        print(f"baseline table indexes: {indexes[0] if indexes else 0}", file=sys.stderr)
        conn.commit()
        started = time.perf_counter()
        copied = 0
        with conn.cursor() as cursor:
            for path in sorted(folder.rglob("*.csv.gz")):
                with (
                    gzip.open(path, "rb") as handle,
                    cursor.copy(
                        f"COPY cost_data_plain ({columns}) FROM STDIN WITH (FORMAT csv, HEADER true)"
                    ) as copy,
                ):
                    while chunk := handle.read(1 << 20):
                        copy.write(chunk)
                copied += cursor.rowcount
        conn.commit()
        return time.perf_counter() - started, copied


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cloudoptima-bench-focus-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        rows = generate(args.rows, folder)
        generated_s = time.perf_counter() - started
        with embedded_database() as url:
            engine = make_engine(url)
            org = uuid.uuid4()
            with engine.begin() as connection:
                connection.execute(
                    insert(Organization).values(id=org, name="bench", subscription_tier="free", settings={})
                )
            copy_s, copied = plain_copy(url, folder / "focus")
            child = subprocess.run(
                [sys.executable, "-c", CHILD, url, str(folder / "focus"), str(org)],
                capture_output=True,
                text=True,
                check=True,
            )
            result = json.loads(child.stdout.strip().splitlines()[-1])
            with engine.connect() as connection:
                stored = connection.execute(
                    text("SELECT count(*) FROM cost_data WHERE organization_id = :o"), {"o": org}
                ).scalar()
            engine.dispose()
    ingest_rate = result["rows"] / result["seconds"]
    copy_rate = copied / copy_s
    data = {
        "rows": rows,
        "generate_seconds": round(generated_s, 2),
        "copy_seconds": round(copy_s, 2),
        "copy_rows_per_s": round(copy_rate),
        "ingest_seconds": round(result["seconds"], 2),
        "ingest_rows_per_s": round(ingest_rate),
        "ratio_vs_copy": round(ingest_rate / copy_rate, 3),
        "ingest_peak_rss_mb": round(result["rss_mb"], 1),
        "rows_stored": stored,
        "targets": {"ratio_vs_copy": ">= 0.6", "peak_rss_mb": "<= 500"},
        "self_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    report(
        "ingest_focus",
        [
            ("rows", f"{rows:,}"),
            ("plain COPY rows/s", f"{copy_rate:,.0f}"),
            ("ingest rows/s (validate + normalise + COPY + replace + rollup)", f"{ingest_rate:,.0f}"),
            ("ratio vs COPY (target ≥ 0.6)", f"{ingest_rate / copy_rate:.2f}"),
            ("ingest peak RSS MB (target ≤ 500)", f"{result['rss_mb']:.0f}"),
        ],
        data,
    )


if __name__ == "__main__":
    main()
