"""``CollectionService.collect_account``: every step of one account in one call (what ``collection.account``
runs), against the real database and a sandbox estate; provider failures come from a strict wrapper at the
cloud edge."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from cloudoptima.clouds.protocol import CredentialsError, ProviderError, ThrottledError
from cloudoptima.clouds.sandbox.state import SandboxEstateStore
from cloudoptima.services.collection import AccountCollection, AccountRef, CollectionService
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import CloudAccount, ResourceDocument
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

NOW = datetime(2026, 11, 5, 12, tzinfo=UTC)


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, organization_id: Any, event_type: str, data: Any) -> int:
        self.events.append((event_type, dict(data)))
        return 1


class Flaky:
    """The real provider, except that chosen calls fail once (``fail[name]`` = the error to raise)."""

    def __init__(self, inner: Any, fail: dict[str, ProviderError], calls: list[tuple[Any, ...]]) -> None:
        self._inner, self._fail, self._calls = inner, fail, calls
        self._lock = threading.Lock()

    def _maybe_fail(self, name: str) -> None:
        with self._lock:
            error = self._fail.pop(name, None)
        if error is not None:
            raise error

    def costs(self, start: date, end: date) -> Any:
        self._calls.append(("costs", start, end))
        self._maybe_fail("costs")
        return self._inner.costs(start, end)

    def iam(self) -> Any:
        self._calls.append(("iam",))
        self._maybe_fail("iam")
        return self._inner.iam()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> SandboxEstateStore:
    return create_store(tmp_path_factory.mktemp("collect-account"))


@pytest.fixture
def tenants(engine: Engine, store: SandboxEstateStore) -> Iterator[tuple[Tenant, Tenant]]:
    one, two = create_tenant(engine, store), create_tenant(engine, store)
    yield one, two
    drop_tenant(engine, one)
    drop_tenant(engine, two)


def _service(engine: Engine, providers: Any = None, publish: Any = None) -> CollectionService:
    return CollectionService(engine, providers or registry().for_account, publish=publish, now=lambda: NOW)


def _collect(service: CollectionService, ref: AccountRef, **extra: Any) -> AccountCollection:
    return service.collect_account(ref, initial_days=INITIAL_DAYS, restate_days=3, today=TODAY, **extra)


def _refs(tenant: Tenant) -> list[AccountRef]:
    return [AccountRef(tenant.organization_id, account) for account in tenant.accounts.values()]


def test_one_call_equals_the_single_steps_and_a_repeat_changes_nothing(
    engine: Engine, tenants: tuple[Tenant, Tenant]
) -> None:
    combined, stepwise = tenants
    recorder = Recorder()
    service = _service(engine, publish=recorder)
    results = [_collect(service, ref) for ref in _refs(combined)]

    single = _service(engine)
    for ref in _refs(stepwise):
        plan = single.plan(ref, initial_days=INITIAL_DAYS, restate_days=3, today=TODAY)
        steps = [single.collect_costs(ref, start, end) for start, end in plan.windows]
        inventory = single.collect_inventory(ref)
        single.collect_utilisation(ref, plan.end - timedelta(days=7), plan.end)
        single.collect_iam(ref)
        single.finish(ref, costs_complete=True, cost_steps=steps, inventory=inventory)

    once = counts(engine, combined.organization_id)
    assert once == counts(engine, stepwise.organization_id)
    assert once["cost_data"] > 0 and once["billed"] == once["daily_billed"]
    for result in results:
        assert result.finish is not None and result.finish.last_sync_at == NOW
        assert not result.failures and result.costs_complete
        assert len(result.costs) == len(result.plan.windows) == 2
        assert result.inventory and result.utilisation and result.iam
        assert result.utilisation.resources > 0
    assert [kind for kind, _ in recorder.events] == ["cost_updates", "resource_changes"] * 3

    with session_factory(engine)() as session:
        instances = session.scalars(
            select(ResourceDocument).where(
                ResourceDocument.organization_id == combined.organization_id,
                ResourceDocument.resource_type == "compute_instance",
                ResourceDocument.status == "running",
            )
        ).all()
    assert instances and all("cpu_percent" in doc.metrics for doc in instances)

    again = [_collect(service, ref) for ref in _refs(combined)]
    assert counts(engine, combined.organization_id) == once
    # The repeat restates from the last sync (3 days before it), and keeps the utilisation summaries.
    assert all(r.plan.start == date(2026, 11, 2) and r.finish is not None for r in again)
    with session_factory(engine)() as session:
        kept = session.scalars(
            select(ResourceDocument).where(ResourceDocument.id.in_([doc.id for doc in instances]))
        ).all()
    assert all("cpu_percent" in doc.metrics for doc in kept)

    # Provider totals (#21): the first sync began on 10-27, so October's total is not asked for (its first
    # days were never collected); a later sync crossing into December records why November has none.
    def recorded() -> list[Any]:
        with engine.connect() as connection:
            return list(
                connection.execute(
                    text(
                        "SELECT month, unavailable_reason FROM provider_month_totals WHERE organization_id = :o"
                    ),
                    {"o": combined.organization_id},
                ).all()
            )

    assert recorded() == []
    december = service.collect_account(
        _refs(combined)[0], initial_days=INITIAL_DAYS, restate_days=3, today=date(2026, 12, 1)
    )
    assert december.plan.start == date(2026, 11, 2) and not december.plan.first_sync
    [(month, reason)] = recorded()
    assert month == date(2026, 11, 1) and "(SandboxProvider) reads no provider monthly total" in reason


def test_a_retryable_failure_is_left_pending_and_a_resume_repeats_no_committed_step(
    engine: Engine, tenants: tuple[Tenant, Tenant]
) -> None:
    flaky, clean = tenants
    calls: list[tuple[Any, ...]] = []
    fail: dict[str, ProviderError] = {
        "costs": ThrottledError("throttled (injected)"),
        "iam": ProviderError("iam api gone (injected)"),
    }
    base = registry()
    service = _service(engine, lambda row: Flaky(base.for_account(row), fail, calls))
    ref = _refs(flaky)[0]
    reported: list[AccountCollection] = []

    first = _collect(service, ref, progress=reported.append)

    assert first.finish is None, "a pending step keeps the sync unrecorded"
    assert [(f.step, f.retryable, f.window) for f in first.pending] == [
        ("costs", True, first.plan.windows[0])
    ]
    assert [f.label() for f in first.failures if not f.retryable] == ["iam: iam api gone (injected)"]
    assert [(c.start, c.end) for c in first.costs] == [first.plan.windows[1]]
    assert first.inventory is not None and first.utilisation is not None and first.iam is None
    assert reported and reported[-1] is first
    with session_factory(engine)() as session:
        row = session.get(CloudAccount, ref.cloud_account_id)
        assert row is not None and row.last_sync_at is None

    calls.clear()
    resumed = _collect(service, ref, resume=first)
    assert calls == [("costs", *first.plan.windows[0]), ("iam",)], "committed steps are not fetched again"
    assert resumed.finish is not None and resumed.finish.last_sync_at == NOW
    assert resumed.costs_complete and not resumed.failures

    clean_service = _service(engine)
    clean_ref = AccountRef(clean.organization_id, clean.accounts[next(iter(clean.accounts))])
    _collect(clean_service, clean_ref)
    assert counts(engine, flaky.organization_id) == counts(engine, clean.organization_id)


def _set_denied(engine: Engine, ref: AccountRef, denied: list[str]) -> None:
    with session_factory(engine)() as session, session.begin():
        row = session.get(CloudAccount, ref.cloud_account_id)
        assert row is not None
        row.settings = {"sandbox": {**row.settings["sandbox"], "denied_permissions": denied}}


def _history(engine: Engine, ref: AccountRef) -> tuple[int, dict[str, Any]]:
    with engine.connect() as connection:
        samples = connection.execute(
            text("SELECT count(*) FROM utilisation_daily WHERE cloud_account_id = :a"),
            {"a": ref.cloud_account_id},
        ).scalar_one()
        metrics: dict[str, Any] = dict(
            connection.execute(
                text("SELECT resource_id, metrics FROM resources WHERE cloud_account_id = :a"),
                {"a": ref.cloud_account_id},
            ).all()
        )
    return int(samples), metrics


def test_denied_steps_are_permission_problems_the_others_collect_and_a_later_success_clears_them(
    engine: Engine, store: SandboxEstateStore
) -> None:
    tenant = create_tenant(engine, store, limit=1)
    ref = _refs(tenant)[0]
    service = _service(engine)
    try:
        clean = _collect(service, ref)
        samples, metrics = _history(engine, ref)
        assert clean.permission_problems == [] and samples > 0

        _set_denied(engine, ref, ["monitoring.read", "iam.read"])
        state = _collect(service, ref)
        assert state.finish is not None and state.costs_complete and state.inventory is not None
        messages = [p.message for p in state.permission_problems]
        with engine.connect() as connection:
            kinds: dict[str, int] = dict(
                connection.execute(
                    text(
                        "SELECT resource_type, count(*) FROM resources WHERE cloud_account_id = :a "
                        "AND status != 'deleted' GROUP BY 1"
                    ),
                    {"a": ref.cloud_account_id},
                ).all()
            )
        assert messages == [
            "missing permission iam.read for IAM principals",
            f"missing permission monitoring.read for utilisation of {kinds['compute_instance']} instances "
            f"and {kinds['database']} databases",
        ]
        assert state.utilisation is not None and state.utilisation.samples == 0
        with session_factory(engine)() as session:
            row = session.get(CloudAccount, ref.cloud_account_id)
            assert row is not None
            assert row.status == "degraded"
            assert [p["message"] for p in row.permission_problems] == messages
        # A denied utilisation read leaves the stored history and the summaries the rules read as they were.
        assert _history(engine, ref) == (samples, metrics)
        assert ref in service.list_accounts("sandbox", tenant.organization_id)  # still collected

        _set_denied(engine, ref, [])
        again = _collect(service, ref)
        assert again.permission_problems == []
        with session_factory(engine)() as session:
            row = session.get(CloudAccount, ref.cloud_account_id)
            assert row is not None and (row.status, row.permission_problems) == ("active", [])
    finally:
        drop_tenant(engine, tenant)


def test_denied_costs_stop_asking_for_windows_and_refused_credentials_propagate(
    engine: Engine, store: SandboxEstateStore
) -> None:
    account = store.estate().accounts[0].account_id
    tenant = create_tenant(
        engine, store, limit=1, extra_settings={account: {"denied_permissions": ["billing.read"]}}
    )
    ref = _refs(tenant)[0]
    calls: list[tuple[Any, ...]] = []
    counting = registry()

    def providers(row: CloudAccount) -> Any:
        return Flaky(counting.for_account(row), {}, calls)

    try:
        state = _collect(_service(engine, providers), ref)
        assert [p.message for p in state.permission_problems] == ["missing permission billing.read for costs"]
        assert [c[0] for c in calls] == ["costs", "iam"]  # one denied window: the others are not asked for
        assert not state.costs_complete and state.inventory is not None and state.inventory.resources > 0
        with session_factory(engine)() as session:
            row = session.get(CloudAccount, ref.cloud_account_id)
            assert row is not None and row.status == "degraded" and row.last_sync_at is None
    finally:
        drop_tenant(engine, tenant)
    stranger = create_tenant(engine, store, limit=1, extra_settings={account: {"account_id": "999999999999"}})
    try:
        with pytest.raises(CredentialsError) as raised:
            _collect(_service(engine), _refs(stranger)[0])
        assert raised.value.permission is None and "999999999999" in str(raised.value)
    finally:
        drop_tenant(engine, stranger)


class Forecasting:
    """The real (sandbox) provider, with a cloud forecast of its own: a fixed answer, or an error."""

    def __init__(self, inner: Any, answer: Any) -> None:
        self._inner, self._answer = inner, answer
        self.asked: list[tuple[date, date]] = []

    def forecast(self, start: date, end: date) -> Any:
        self.asked.append((start, end))
        if isinstance(self._answer, Exception):
            raise self._answer
        return self._answer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_the_clouds_forecast_is_stored_and_its_failure_never_blocks_the_sync(
    engine: Engine, tenants: tuple[Tenant, Tenant]
) -> None:
    from decimal import Decimal

    from cloudoptima.clouds.protocol import CloudForecast, ForecastPoint
    from cloudoptima.storage import provider_forecasts

    tenant, _ = tenants
    ref = _refs(tenant)[0]
    points = [ForecastPoint(day=TODAY + timedelta(days=n), mean=Decimal("12.5")) for n in range(30)]
    answer = CloudForecast(points=points, total=Decimal(375), source="aws_cost_explorer")
    wrapped: list[Forecasting] = []

    def providers(answer_now: Any) -> Any:
        def build(row: CloudAccount) -> Any:
            wrapped.append(Forecasting(registry().for_account(row), answer_now))
            return wrapped[-1]

        return build

    def stored() -> list[provider_forecasts.StoredProviderForecast]:
        with engine.connect() as connection:
            return provider_forecasts.for_accounts(connection, ref.organization_id, [ref.cloud_account_id])

    result = _collect(_service(engine, providers(answer)), ref)
    assert wrapped[-1].asked == [(TODAY, TODAY + timedelta(days=30))]
    assert (
        result.forecast is not None and result.forecast.total == Decimal(375) and result.forecast.days == 30
    )
    (kept,) = stored()
    assert (kept.start, kept.end, kept.total, kept.source) == (
        TODAY,
        TODAY + timedelta(days=30),
        Decimal(375),
        "aws_cost_explorer",
    )

    failing = _collect(_service(engine, providers(ThrottledError("ce:GetCostForecast failed"))), ref)
    assert [f.label() for f in failing.failures] == ["forecast: ce:GetCostForecast failed"]
    assert not failing.pending and failing.finish is not None  # recorded, never retried, the sync still lands
    assert stored() == [kept]  # the last good forecast stays

    denied = _collect(
        _service(engine, providers(CredentialsError("denied", permission="ce:GetCostForecast"))), ref
    )
    assert [(p.step, p.permission) for p in denied.permission_problems] == [
        ("forecast", "ce:GetCostForecast")
    ]
    assert denied.finish is not None

    gone = _collect(_service(engine, providers(None)), ref)
    assert gone.forecast is not None and gone.forecast.source is None
    assert stored() == []  # the cloud offers none now: the stale one is removed
