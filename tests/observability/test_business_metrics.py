"""Business metrics recorded where the work happens, against the real database and Redis: one account's
collection (sandbox estate), a billing-file ingest with a quarantined row, the cost cache, and the scrape-time
gauges (pending approvals and their age, active organisations). Counters are process-wide, so each test reads
the change it caused."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from cloudoptima.clouds.sandbox.state import SandboxEstateStore
from cloudoptima.domain.remediation.plans import RemediationState
from cloudoptima.observability.metrics import REGISTRY
from cloudoptima.services.cache import CostCache
from cloudoptima.services.collection import AccountRef, CollectionService
from cloudoptima.services.ingestion import ingest_path
from cloudoptima.services.operator_gauges import OperatorGauges
from cloudoptima.storage.models import CloudAccount, Organization, PolicyExecution, User
from tests.workflows.collection_support import (
    INITIAL_DAYS,
    TODAY,
    Tenant,
    counts,
    create_store,
    create_tenant,
    drop_tenant,
    registry,
)

FOCUS_SAMPLE = Path(__file__).parents[1] / "fixtures/focus_official_sample/focus_1.0_sample_1000.csv"
NOW = datetime(2026, 11, 5, 12, tzinfo=UTC)


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def by_provider(name: str) -> dict[str, float]:
    """The samples of ``name`` by provider label."""
    return {
        s.labels["provider"]: s.value
        for family in REGISTRY.collect()
        for s in family.samples
        if s.name == name
    }


def grown(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: v - before.get(k, 0.0) for k, v in after.items() if v != before.get(k, 0.0)}


@pytest.fixture
def org(engine: Engine) -> Iterator[uuid.UUID]:
    with Session(engine) as session:
        row = Organization(name=f"metrics-{uuid.uuid4().hex[:8]}", settings={})
        session.add(row)
        session.commit()
        org_id = row.id
    yield org_id
    with Session(engine) as session:
        session.execute(delete(Organization).where(Organization.id == org_id))
        session.commit()


def test_ingest_counts_accepted_and_quarantined_rows_once_per_run(
    engine: Engine, org: uuid.UUID, tmp_path: Path
) -> None:
    with FOCUS_SAMPLE.open(encoding="utf-8") as source:
        rows = list(csv.reader(source))
    header, body = rows[0], [list(r) for r in rows[1:6]]
    body[1][header.index("BilledCost")] = "not-a-number"
    path = tmp_path / "five.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *body])
    before = (
        value("cloudoptima_ingest_rows_total", format="focus"),
        value("cloudoptima_ingest_quarantined_rows_total", format="focus"),
        value("cost_data_points_collected_total", provider="billing_file"),
        value("cloudoptima_ingest_duration_seconds_count", format="focus"),
    )
    report = ingest_path(engine, path, org)
    assert (report.summary.rows_accepted, report.summary.rows_quarantined) == (4, 1)
    after = (
        value("cloudoptima_ingest_rows_total", format="focus"),
        value("cloudoptima_ingest_quarantined_rows_total", format="focus"),
        value("cost_data_points_collected_total", provider="billing_file"),
        value("cloudoptima_ingest_duration_seconds_count", format="focus"),
    )
    assert [a - b for a, b in zip(after, before, strict=True)] == [4, 1, 4, 1]


@pytest.fixture
def tenant(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tenant]:
    store: SandboxEstateStore = create_store(tmp_path_factory.mktemp("metrics-collect"))
    one = create_tenant(engine, store)
    yield one
    drop_tenant(engine, one)


def test_collection_records_rows_and_duration_per_account_run(engine: Engine, tenant: Tenant) -> None:
    service = CollectionService(engine, registry().for_account, now=lambda: NOW)
    refs = [AccountRef(tenant.organization_id, account) for account in tenant.accounts.values()]
    names = ("cost_data_points_collected_total", "cloudoptima_collection_rows_sum")
    runs = "cloudoptima_collection_duration_seconds_count"
    before = {name: by_provider(name) for name in (*names, runs)}
    results = [
        service.collect_account(ref, initial_days=INITIAL_DAYS, restate_days=3, today=TODAY) for ref in refs
    ]
    written: dict[str, float] = {}
    with Session(engine) as session:
        for ref, result in zip(refs, results, strict=True):
            provider = session.get_one(CloudAccount, ref.cloud_account_id).provider
            written[provider] = written.get(provider, 0) + sum(cost.rows for cost in result.costs)
    assert sum(written.values()) == counts(engine, tenant.organization_id)["cost_data"] > 0
    for name in names:
        assert grown(before[name], by_provider(name)) == written, name
    assert sum(grown(before[runs], by_provider(runs)).values()) == len(refs)

    # a finished run asked again does no work and records nothing
    settled = by_provider(runs)
    again = service.collect_account(
        refs[0], initial_days=INITIAL_DAYS, restate_days=3, today=TODAY, resume=results[0]
    )
    assert again.finish is not None
    assert by_provider(runs) == settled


async def test_cost_cache_counts_hits_and_misses(redis_url: str) -> None:
    client = aioredis.from_url(redis_url, decode_responses=True)
    cache = CostCache(client)
    org, params = uuid.uuid4(), {"q": uuid.uuid4().hex}
    misses, hits = (
        value("cloudoptima_cache_requests_total", cache="cost", result="miss"),
        value("cloudoptima_cache_requests_total", cache="cost", result="hit"),
    )

    async def compute() -> str:
        return '{"total": "1.00"}'

    try:
        assert (await cache.get_or_compute(org, "summary", params, compute))[1] is False
        assert (await cache.get_or_compute(org, "summary", params, compute))[1] is True
    finally:
        await client.aclose()
    assert value("cloudoptima_cache_requests_total", cache="cost", result="miss") - misses == 1
    assert value("cloudoptima_cache_requests_total", cache="cost", result="hit") - hits == 1


def _gauges(engine: Engine, now: datetime) -> dict[str, float]:
    registry_ = CollectorRegistry()
    registry_.register(OperatorGauges(lambda: engine, lambda: now))
    return {s.name: s.value for family in registry_.collect() for s in family.samples}


def test_operator_gauges_read_pending_approvals_their_age_and_active_organisations(
    engine: Engine, org: uuid.UUID
) -> None:
    before = _gauges(engine, NOW)
    with Session(engine) as session:
        session.add(
            User(organization_id=org, email=f"{org.hex[:8]}@example.com", password_hash="x", role="admin")
        )
        session.add(
            PolicyExecution(
                organization_id=org,
                status=RemediationState.PENDING_APPROVAL.value,
                started_at=NOW - timedelta(hours=3),
                kind="remediation",
            )
        )
        session.commit()
    after = _gauges(engine, NOW)
    assert after["cloudoptima_pending_approvals"] - before["cloudoptima_pending_approvals"] == 1
    assert after["active_organizations"] - before["active_organizations"] == 1
    assert after["cloudoptima_pending_approval_oldest_age_seconds"] >= 3 * 3600
    later = _gauges(engine, NOW + timedelta(minutes=10))
    assert (
        later["cloudoptima_pending_approval_oldest_age_seconds"]
        - after["cloudoptima_pending_approval_oldest_age_seconds"]
        == 600
    )
