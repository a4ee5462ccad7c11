"""Tag coverage at N cost rows (12 months, 3 clouds, 200k resources): the coverage rollups vs the raw-row path,
with the overview query (``/costs/overview`` from ``cost_daily``) on the same data as the baseline.

Rows are generated in SQL as ``overview_query`` does (its ``FILL``), with tag spellings varied so coverage is
not trivial: a fifth of the rows lack ``team``, others spell it ``Team`` or ``owner-team`` (an alias), or give
``env`` as ``environment`` (an alias) or ``qa`` (not an allowed value). A tenth of the resources are in the
inventory (half of them carrying ``team``). ``cost_daily`` and the coverage rollups are then built once (the
rebuild a tag policy change runs), and each answer is timed many times: p50/p95 in milliseconds. Every rollup
answer is first checked equal to the raw-row answer.
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from benchmarks._support import embedded_database, p50, percentile, report, timed
from benchmarks.overview_query import END, FILL, START, utc
from cloudoptima.domain.tag_policy import RequiredTag, TagPolicy
from cloudoptima.services.cost_analytics import CostAnalytics
from cloudoptima.services.tag_governance import TagGovernance
from cloudoptima.storage.cost_loader import DEFAULT_ROLLUP_TAG_KEYS, refresh_daily_rollup
from cloudoptima.storage.cost_loader.tag_coverage import rebuild_tag_coverage
from cloudoptima.storage.engine import make_engine
from cloudoptima.storage.models import Organization
from cloudoptima.storage.partitions import ensure_cost_partitions, months_between

POLICY = TagPolicy(
    required=(
        RequiredTag(key="team", aliases=("owner-team",)),
        RequiredTag(key="env", aliases=("environment",), allowed_values=("prod", "dev", "staging")),
    )
)
TAGS = "jsonb_build_object('team', 'team-' || (g % 12), 'env', (ARRAY['prod','dev','staging'])[1 + g % 3])"
VARIED_TAGS = """CASE
    WHEN g % 5 = 0 THEN jsonb_build_object('env', (ARRAY['prod','dev','staging'])[1 + g % 3])
    WHEN g % 7 = 0 THEN jsonb_build_object('Team', 'team-' || (g % 12), 'environment', 'Prod')
    WHEN g % 11 = 0 THEN jsonb_build_object('owner-team', 'team-' || (g % 12), 'env', 'qa')
    ELSE jsonb_build_object('team', 'team-' || (g % 12), 'env', (ARRAY['prod','dev','staging'])[1 + g % 3])
END"""
INVENTORY = """
INSERT INTO resources (organization_id, resource_id, provider, resource_type, status, configuration, metrics,
    tags, recommendations, created_at, last_seen, last_updated)
SELECT :org, 'res-' || (i * 10), 'aws', 'compute_instance', 'running', '{}', '{}',
    CASE WHEN i % 2 = 0 THEN jsonb_build_object('team', 'inv') ELSE '{}'::jsonb END, '[]', now(), now(), now()
FROM generate_series(0, 19999) AS i
"""


def _load(url: str, rows: int) -> tuple[Any, uuid.UUID, dict[str, float]]:
    engine = make_engine(url)
    org = uuid.uuid4()
    fill = FILL.replace(TAGS, VARIED_TAGS)
    assert fill != FILL, "overview_query.FILL changed its tags: update TAGS"
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(
            insert(Organization).values(
                id=org,
                name="bench",
                subscription_tier="free",
                settings={"tag_policy": POLICY.model_dump(mode="json")},
            )
        )
        ensure_cost_partitions(connection, months_between(START, END))
        connection.execute(text(INVENTORY), {"org": org})
    chunk = 1_000_000
    for offset in range(0, rows, chunk):
        with engine.begin() as connection:
            connection.execute(
                text(fill.replace("generate_series(1, :n)", f"generate_series({offset + 1}, {offset} + :n)")),
                {"org": org, "n": min(chunk, rows - offset), "t0": utc(START)},
            )
    seconds["load"] = time.perf_counter() - started
    started = time.perf_counter()
    with engine.begin() as connection:
        refresh_daily_rollup(connection, org, START, END, DEFAULT_ROLLUP_TAG_KEYS)
    seconds["cost_daily build"] = time.perf_counter() - started
    started = time.perf_counter()
    with engine.begin() as connection:
        rebuild_tag_coverage(connection, org)
    seconds["coverage rollup build"] = time.perf_counter() - started
    with engine.begin() as connection:
        for table in (
            "cost_data",
            "cost_daily",
            "cost_tag_coverage_daily",
            "cost_tag_resource_days",
            "resources",
        ):
            connection.exec_driver_sql(f"ANALYZE {table}")
    return engine, org, seconds


def _calls(d0: date, d1: date) -> dict[str, Callable[[TagGovernance], object]]:
    """The timed answers of one window, each callable on the rollup or the raw-rows service."""

    def coverage(g: TagGovernance) -> object:
        return g.coverage(d0, d1)

    def by_account(g: TagGovernance) -> object:
        return g.untagged_spend("team", d0, d1, group_by="account")

    def page(g: TagGovernance) -> object:
        return g.untagged_resources("team", d0, d1, limit=50)

    return {"coverage": coverage, "untagged spend by account": by_account, "untagged resources page": page}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    with embedded_database() as url:
        engine, org, seconds = _load(url, args.rows)
        with engine.connect() as connection:
            sizes = {
                table: int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() or 0)
                for table in ("cost_daily", "cost_tag_coverage_daily", "cost_tag_resource_days")
            }
        windows = {"30 days": (date(2030, 12, 2), END), "365 days": (START, END)}
        with Session(engine) as fast, Session(engine) as raw:
            # The raw session forgets the rollups' state (uncommitted): every answer there reads the cost rows.
            raw.execute(text("DELETE FROM cost_tag_coverage_state WHERE organization_id = :o"), {"o": org})
            analytics = CostAnalytics(fast.connection(), org)
            rollup, rows = TagGovernance(fast, org), TagGovernance(raw, org)
            for label, (d0, d1) in windows.items():
                calls = _calls(d0, d1)
                measured: dict[str, float] = {}
                analytics.overview(d0, d1, group_by="service")
                baseline = timed(partial(analytics.overview, d0, d1, group_by="service"), args.repeat)
                measured["overview (baseline) p50 ms"] = round(p50(baseline), 1)
                for name, call in calls.items():
                    assert call(rollup) == call(rows), f"{label} {name}: rollup and raw rows differ"
                    fast_ms = timed(partial(call, rollup), args.repeat)
                    raw_ms = timed(partial(call, rows), max(3, args.repeat // 5))
                    measured[f"{name}: rollup p50 ms"] = round(p50(fast_ms), 1)
                    measured[f"{name}: rollup p95 ms"] = round(percentile(fast_ms, 95), 1)
                    measured[f"{name}: raw rows p50 ms"] = round(p50(raw_ms), 1)
                    measured[f"{name}: speed-up"] = round(p50(raw_ms) / p50(fast_ms), 1)
                    measured[f"{name}: rollup / overview"] = round(p50(fast_ms) / p50(baseline), 2)
                results[label] = measured
            raw.rollback()
        engine.dispose()
    table_rows = [("rows", f"{args.rows:,}")]
    table_rows += [(f"{name} s", f"{value:.1f}") for name, value in seconds.items()]
    table_rows += [(f"{name} rows", f"{value:,}") for name, value in sizes.items()]
    for label, measured in results.items():
        table_rows += [(f"{label}: {name}", f"{value}") for name, value in measured.items()]
    report(
        "tag_coverage",
        table_rows,
        {"rows": args.rows, "seconds": seconds, "table_rows": sizes, "windows": results},
    )


if __name__ == "__main__":
    main()
