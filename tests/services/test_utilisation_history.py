"""Utilisation history: a first collection backfills, later ones append, summaries come from the stored
history (the same numbers as ``summarise_values``), old months are dropped, and idle / rightsizing rules get
enough samples from the first collection."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, text

from cloudoptima.analytics.utilisation import summarise_values
from cloudoptima.clouds.sandbox.state import SandboxEstateStore
from cloudoptima.domain.inventory import MetricName, UtilisationSeries
from cloudoptima.services.collection import AccountRef, CollectionService
from cloudoptima.storage import utilisation_history
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import ResourceDocument
from tests.workflows.collection_support import Tenant, create_store, create_tenant, drop_tenant, registry

END = date(2026, 11, 6)


class CountingProvider:
    """The sandbox account, recording the windows utilisation was asked for."""

    def __init__(self, inner: Any, calls: list[tuple[date, date, int]]) -> None:
        self._inner, self._calls = inner, calls

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def utilisation(self, resources: list[Any], start: date, end: date) -> Any:
        self._calls.append((start, end, len(resources)))
        return self._inner.utilisation(resources, start, end)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> SandboxEstateStore:
    return create_store(tmp_path_factory.mktemp("history"))


@pytest.fixture
def tenant(engine: Engine, store: SandboxEstateStore) -> Iterator[Tenant]:
    created = create_tenant(engine, store)
    yield created
    drop_tenant(engine, created)


def _service(engine: Engine, calls: list[tuple[date, date, int]], **kwargs: Any) -> CollectionService:
    return CollectionService(
        engine,
        lambda row: CountingProvider(registry().for_account(row), calls),
        now=lambda: datetime(2026, 11, 5, 12, tzinfo=UTC),
        **kwargs,
    )


def _instances(engine: Engine, ref: AccountRef) -> list[ResourceDocument]:
    with session_factory(engine)() as session:
        return list(
            session.query(ResourceDocument)
            .filter(
                ResourceDocument.organization_id == ref.organization_id,
                ResourceDocument.cloud_account_id == ref.cloud_account_id,
                ResourceDocument.resource_type == "compute_instance",
                ResourceDocument.status != "deleted",
            )
            .all()
        )


def test_first_collection_backfills_then_later_ones_append(engine: Engine, tenant: Tenant) -> None:
    ref = AccountRef(tenant.organization_id, next(iter(tenant.accounts.values())))
    calls: list[tuple[date, date, int]] = []
    service = _service(engine, calls)
    service.collect_inventory(ref)
    first = service.collect_utilisation(ref, END - timedelta(days=30), END)
    assert calls and {(start, end) for start, end, _n in calls} == {(END - timedelta(days=30), END)}
    assert first.samples > 0 and first.resources > 0
    instances = _instances(engine, ref)
    running = [doc for doc in instances if "cpu_percent" in doc.metrics]
    assert running
    # 30 days of hourly samples on a VM that ran throughout: enough for idle_vm / rightsize_vm (>= 14 days).
    assert max(doc.metrics["cpu_percent"]["samples"] for doc in running) == 30 * 24

    calls.clear()
    later = service.collect_utilisation(ref, END - timedelta(days=30), END + timedelta(days=2))
    # Only the newest stored day onwards is read again: history is appended, not replaced by a short window.
    assert {(start, end) for start, end, _n in calls} == {(END - timedelta(days=1), END + timedelta(days=2))}
    assert later.samples < first.samples
    grown = {doc.resource_id: doc.metrics for doc in _instances(engine, ref)}
    for doc in running:
        assert grown[doc.resource_id]["cpu_percent"]["samples"] >= doc.metrics["cpu_percent"]["samples"]
    assert max(m["cpu_percent"]["samples"] for m in grown.values() if "cpu_percent" in m) == 32 * 24


def test_summaries_from_history_equal_summarise_values(engine: Engine, tenant: Tenant) -> None:
    org, account = tenant.organization_id, next(iter(tenant.accounts.values()))
    rng = np.random.default_rng(7)
    values = [float(v) for v in rng.gamma(2.0, 7.5, size=500)]
    with_gaps: tuple[float | None, ...] = tuple(None if i % 17 == 0 else v for i, v in enumerate(values))
    series = UtilisationSeries(
        resource_id="i-summary",
        metric=MetricName.CPU_PERCENT,
        start=datetime(2026, 10, 1, tzinfo=UTC),
        values=with_gaps,
    )
    with engine.begin() as connection:
        written = utilisation_history.store(connection, org, account, [series])
        again = utilisation_history.store(connection, org, account, [series])  # idempotent upsert
        found = utilisation_history.summaries(
            connection, org, account, datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
        )
        stored = connection.execute(
            text(
                "SELECT count(*) FROM utilisation_daily d, unnest(d.hours) AS u(v) "
                "WHERE d.organization_id = :org AND d.resource_id = 'i-summary' AND u.v IS NOT NULL"
            ),
            {"org": org},
        ).scalar()
    present = np.asarray([v for v in with_gaps if v is not None])
    assert written == again == stored == present.size
    assert found["i-summary"]["cpu_percent"] == pytest.approx(summarise_values(present), abs=1e-4)


def test_prune_drops_only_months_wholly_before_the_retention(engine: Engine, tenant: Tenant) -> None:
    org, account = tenant.organization_id, next(iter(tenant.accounts.values()))
    old = UtilisationSeries(
        resource_id="i-old", metric=MetricName.CPU_PERCENT, start=datetime(2019, 1, 31, 22, tzinfo=UTC),
        values=(1.0, 2.0, 3.0, 4.0),
    )  # fmt: skip
    with engine.begin() as connection:
        utilisation_history.store(connection, org, account, [old])
        dropped = utilisation_history.prune(connection, datetime(2019, 2, 15, tzinfo=UTC))
        kept = connection.execute(
            text(
                "SELECT count(*) FROM utilisation_daily d, unnest(d.hours) AS u(v) "
                "WHERE d.organization_id = :org AND d.resource_id = 'i-old' AND u.v IS NOT NULL"
            ),
            {"org": org},
        ).scalar()
    assert dropped == ["utilisation_daily_y2019m01"]
    assert kept == 2  # the two February hours stay: their month is not over before the cut-off


def test_window_must_fit_in_the_retention(engine: Engine) -> None:
    with pytest.raises(ValueError, match="between 1 and the retention"):
        CollectionService(engine, lambda row: row, utilisation_window_days=120, utilisation_retention_days=93)


def test_a_reread_span_replaces_only_its_own_hours(engine: Engine, tenant: Tenant) -> None:
    org, account = tenant.organization_id, next(iter(tenant.accounts.values()))
    day = datetime(2026, 10, 10, tzinfo=UTC)

    def series(start: datetime, values: tuple[float | None, ...], metric: MetricName) -> UtilisationSeries:
        return UtilisationSeries(resource_id="i-span", metric=metric, start=start, values=values)

    with engine.begin() as connection:
        utilisation_history.store(
            connection,
            org,
            account,
            [
                series(day, tuple(float(h) for h in range(24)), MetricName.CPU_PERCENT),
                series(day, tuple(1000.0 + h for h in range(24)), MetricName.NETWORK_IN_BYTES),
            ],
        )
        # Noon of day 1 to 05:00 of day 2, CPU only, with 14:00 missing in the new read.
        reread = tuple(None if h == 2 else 100.0 + h for h in range(18))
        written = utilisation_history.store(
            connection, org, account, [series(day + timedelta(hours=12), reread, MetricName.CPU_PERCENT)]
        )
        rows = connection.execute(
            text(
                "SELECT d.metric, d.day, u.i - 1, u.v FROM utilisation_daily d "
                "CROSS JOIN LATERAL unnest(d.hours) WITH ORDINALITY AS u(v, i) "
                "WHERE d.organization_id = :org AND d.resource_id = 'i-span' AND u.v IS NOT NULL"
            ),
            {"org": org},
        ).all()
    stored = {
        (str(metric), datetime(d.year, d.month, d.day, tzinfo=UTC) + timedelta(hours=slot)): value
        for metric, d, slot, value in rows
    }
    assert written == 17
    cpu = {hour: value for (metric, hour), value in stored.items() if metric == "cpu_percent"}
    expected = {day + timedelta(hours=h): float(h) for h in range(12)}
    expected |= {day + timedelta(hours=12 + h): 100.0 + h for h in range(18) if h != 2}
    assert cpu == expected  # the morning kept, the span replaced (14:00 now absent), day 2 appended
    # The network metric was not in the re-read: outside the span kept, inside it replaced by nothing.
    network = {hour for (metric, hour) in stored if metric == "network_in_bytes"}
    assert network == {day + timedelta(hours=h) for h in range(12)}
