"""Collection steps on the real database over a sandbox estate: windows, idempotent replacement, inventory
with utilisation, IAM, bookkeeping and the error paths."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, select, text

from cloudoptima.clouds.protocol import CredentialsError, DailyCost, Partial
from cloudoptima.clouds.registry import ProviderRegistry, sandbox_store_dir
from cloudoptima.clouds.sandbox import generate_estate, write_estate
from cloudoptima.clouds.sandbox.provider import SandboxProvider
from cloudoptima.clouds.sandbox.state import SandboxEstateStore
from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.collection import (
    AccountRef,
    CollectionService,
    IncompleteReadError,
    plan_windows,
)
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import CloudAccount, IamPrincipal, ResourceDocument
from tests.workflows.collection_support import (
    TODAY,
    Tenant,
    counts,
    create_store,
    create_tenant,
    drop_tenant,
    registry,
)

WINDOW = (date(2026, 10, 27), date(2026, 11, 6))


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[uuid.UUID, str, dict[str, Any]]] = []

    def __call__(self, organization_id: uuid.UUID, event_type: str, data: Any) -> int:
        self.events.append((organization_id, event_type, dict(data)))
        return 1


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> SandboxEstateStore:
    return create_store(tmp_path_factory.mktemp("collect-service"))


@pytest.fixture
def tenant(engine: Engine, store: SandboxEstateStore) -> Iterator[Tenant]:
    created = create_tenant(engine, store)
    yield created
    drop_tenant(engine, created)


def _fernet_key() -> str:
    return Fernet.generate_key().decode()


def _service(engine: Engine, recorder: Recorder | None = None) -> CollectionService:
    return CollectionService(
        engine,
        registry().for_account,
        publish=recorder,
        now=lambda: datetime(2026, 11, 5, 12, tzinfo=UTC),
    )


def _refs(tenant: Tenant) -> list[AccountRef]:
    return [AccountRef(tenant.organization_id, account) for account in tenant.accounts.values()]


def test_plan_fetches_initial_days_then_restates_from_the_last_sync() -> None:
    first = plan_windows(TODAY, None, initial_days=10, restate_days=3, window_days=7)
    assert (first.start, first.end, first.first_sync) == (date(2026, 10, 27), date(2026, 11, 6), True)
    assert first.windows == [(date(2026, 10, 27), date(2026, 11, 3)), (date(2026, 11, 3), date(2026, 11, 6))]
    later = plan_windows(
        TODAY, datetime(2026, 11, 4, 23, 30, tzinfo=UTC), initial_days=10, restate_days=3, window_days=7
    )
    assert (later.start, later.end, later.windows) == (
        date(2026, 11, 1),
        date(2026, 11, 6),
        [(date(2026, 11, 1), date(2026, 11, 6))],
    )
    stale = plan_windows(
        TODAY, datetime(2025, 1, 1, tzinfo=UTC), initial_days=10, restate_days=3, window_days=100
    )
    assert stale.start == date(2026, 11, 6) - timedelta(days=93)


def test_costs_land_exactly_and_a_recollected_window_replaces_only_its_days(
    engine: Engine, tenant: Tenant, store: SandboxEstateStore
) -> None:
    service = _service(engine)
    aws, azure, _ = _refs(tenant)
    first = service.collect_costs(aws, *WINDOW)
    service.collect_costs(azure, *WINDOW)
    truth = SandboxProvider(store.state_dir, next(iter(tenant.accounts))).costs(*WINDOW).items
    assert first.rows == len(truth) > 0
    assert first.billed_total == sum((c.billed_cost for c in truth), Decimal(0))
    before = counts(engine, tenant.organization_id)
    assert before["billed"] == before["daily_billed"]

    again = service.collect_costs(aws, date(2026, 11, 3), date(2026, 11, 6))
    after = counts(engine, tenant.organization_id)
    assert again.replaced == again.rows > 0
    assert after == before

    with engine.connect() as connection:
        per_account: dict[uuid.UUID, Decimal] = dict(
            connection.execute(
                text(
                    "SELECT cloud_account_id, sum(billed_cost) FROM cost_data WHERE organization_id = :org "
                    "GROUP BY 1"
                ),
                {"org": tenant.organization_id},
            ).all()
        )
    assert per_account[aws.cloud_account_id] == first.billed_total


def test_an_incomplete_cost_read_writes_nothing(engine: Engine, store: SandboxEstateStore) -> None:
    region = store.estate().accounts[0].regions[0]
    tenant = create_tenant(
        engine,
        store,
        limit=1,
        extra_settings={store.estate().accounts[0].account_id: {"fail_regions": [region]}},
    )
    try:
        with pytest.raises(IncompleteReadError) as raised:
            _service(engine).collect_costs(_refs(tenant)[0], *WINDOW)
        assert raised.value.retryable and region in str(raised.value)
        assert counts(engine, tenant.organization_id)["cost_data"] == 0
    finally:
        drop_tenant(engine, tenant)


def test_inventory_utilisation_and_iam_upsert_without_duplicates(engine: Engine, tenant: Tenant) -> None:
    service = _service(engine)
    ref = _refs(tenant)[0]
    inventory = service.collect_inventory(ref)
    utilisation = service.collect_utilisation(ref, date(2026, 10, 29), date(2026, 11, 5), heartbeat=None)
    iam = service.collect_iam(ref)
    assert inventory.complete and inventory.resources > 0
    assert utilisation.resources > 0 and utilisation.series >= utilisation.resources
    assert iam.complete and iam.principals > 0
    first = counts(engine, tenant.organization_id)

    service.collect_inventory(ref)
    service.collect_iam(ref)
    assert counts(engine, tenant.organization_id) == first
    with session_factory(engine)() as session:
        instances = session.scalars(
            select(ResourceDocument).where(
                ResourceDocument.organization_id == tenant.organization_id,
                ResourceDocument.resource_type == "compute_instance",
                ResourceDocument.status == "running",
            )
        ).all()
        principals = session.scalars(
            select(IamPrincipal).where(IamPrincipal.organization_id == tenant.organization_id)
        ).all()
    assert instances and all("cpu_percent" in doc.metrics for doc in instances)
    assert all(0 <= doc.metrics["cpu_percent"]["p95"] <= 100 for doc in instances)
    assert {p.status for p in principals} == {"active"}
    assert sum(p.privileged for p in principals) == iam.privileged


def test_finish_records_the_sync_and_publishes(engine: Engine, tenant: Tenant) -> None:
    recorder = Recorder()
    service = _service(engine, recorder)
    ref = _refs(tenant)[0]
    step = service.collect_costs(ref, *WINDOW)
    inventory = service.collect_inventory(ref)
    done = service.finish(ref, costs_complete=True, cost_steps=[step], inventory=inventory)
    assert done.last_sync_at == datetime(2026, 11, 5, 12, tzinfo=UTC)
    assert done.monthly_spend == step.billed_total.quantize(Decimal("0.01"))
    assert [e[1] for e in recorder.events] == ["cost_updates", "resource_changes"]
    assert recorder.events[0][2]["rows"] == step.rows
    with session_factory(engine)() as session:
        row = session.get(CloudAccount, ref.cloud_account_id)
        assert row is not None and row.status == "active" and row.last_sync_at == done.last_sync_at

    incomplete = service.finish(ref, costs_complete=False)
    assert incomplete.last_sync_at == done.last_sync_at


def test_denied_permission_raises_and_mark_error_records_it(
    engine: Engine, store: SandboxEstateStore
) -> None:
    account = store.estate().accounts[1].account_id
    tenant = create_tenant(
        engine, store, limit=2, extra_settings={account: {"denied_permissions": ["billing.read"]}}
    )
    recorder = Recorder()
    service = _service(engine, recorder)
    ref = AccountRef(tenant.organization_id, tenant.accounts[account])
    try:
        with pytest.raises(CredentialsError) as raised:
            service.collect_costs(ref, *WINDOW)
        assert raised.value.permission == "billing.read"
        service.mark_error(ref, str(raised.value))
        with session_factory(engine)() as session:
            row = session.get(CloudAccount, ref.cloud_account_id)
            assert row is not None
            assert (row.status, row.verification_error) == ("error", str(raised.value))
        assert recorder.events[-1][1] == "collection_failed"
        listed = service.list_accounts("sandbox", tenant.organization_id)
        assert ref not in listed and len(listed) == 1
        assert service.list_accounts("live", tenant.organization_id) == []
    finally:
        drop_tenant(engine, tenant)


def test_registry_refuses_what_it_cannot_build(tmp_path: Path) -> None:
    class Row:
        provider = "oracle"
        account_identifier = "x"
        credentials_encrypted = CredentialCipher(_fernet_key()).encrypt({})
        settings: dict[str, Any] = {}

    with pytest.raises(CredentialsError, match="unknown cloud provider"):
        registry().for_account(Row())
    Row.provider = "aws"
    with pytest.raises(CredentialsError, match="cannot be decrypted"):
        registry().for_account(Row())
    Row.settings = {"sandbox": {"estate_dir": str(tmp_path / "missing"), "account_id": "1"}}
    with pytest.raises(CredentialsError, match="no sandbox estate"):
        registry().for_account(Row())


def test_registry_adopts_a_written_estate_into_a_living_store(tmp_path: Path) -> None:
    estate = generate_estate(seed=3, accounts=1, days=5, end=date(2026, 1, 1))
    write_estate(estate, tmp_path / "sandbox")
    settings = {"estate_dir": str(tmp_path / "sandbox"), "account_id": estate.accounts[0].account_id}
    store_dir = sandbox_store_dir(settings)
    assert store_dir == (tmp_path / "sandbox.store").resolve()
    assert sandbox_store_dir(settings) == store_dir
    assert SandboxEstateStore.open(store_dir).estate().accounts == estate.accounts
    assert sandbox_store_dir({"state_dir": str(store_dir)}) == store_dir
    assert sandbox_store_dir({"estate_dir": str(store_dir / "estate")}) == store_dir


def test_provider_registry_names() -> None:
    assert ProviderRegistry(CredentialCipher(_fernet_key())).provider_names == ("aws", "azure", "gcp")


class _ListsTwice:
    """A provider whose inventory and IAM reads list every item twice, the second copy renamed."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def inventory(self) -> Any:
        read = self._inner.inventory()
        renamed = [item.model_copy(update={"name": f"{item.name}-again"}) for item in read.items]
        return read.model_copy(update={"items": [*read.items, *renamed]})

    def iam(self) -> Any:
        read = self._inner.iam()
        renamed = [item.model_copy(update={"name": f"{item.name}-again"}) for item in read.items]
        return read.model_copy(update={"items": [*read.items, *renamed]})

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_a_read_listing_an_item_twice_stores_it_once_with_its_last_copy(
    engine: Engine, tenant: Tenant
) -> None:
    providers = registry()
    service = CollectionService(
        engine,
        lambda row: _ListsTwice(providers.for_account(row)),
        now=lambda: datetime(2026, 11, 5, 12, tzinfo=UTC),
    )
    ref = _refs(tenant)[0]
    inventory = service.collect_inventory(ref)
    iam = service.collect_iam(ref)
    with session_factory(engine)() as session:
        names = session.scalars(
            select(ResourceDocument.resource_name).where(
                ResourceDocument.cloud_account_id == ref.cloud_account_id
            )
        ).all()
        principals = session.scalars(
            select(IamPrincipal.name).where(IamPrincipal.cloud_account_id == ref.cloud_account_id)
        ).all()
    assert inventory.resources == len(names) > 0 and iam.principals == len(principals) > 0
    assert all(name.endswith("-again") for name in [*names, *principals])


class _CoarseCosts:
    """An account whose cost source sums resources away (Cost Explorer by service / region / usage type) —
    except the days from ``detailed_from`` on, which stay per resource (Cost Explorer's resource-level days)."""

    def __init__(self, inner: Any, detailed_from: date | None = None) -> None:
        self._inner = inner
        self._detailed_from = detailed_from

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def costs(self, start: date, end: date) -> Partial[DailyCost]:
        read = self._inner.costs(start, end)
        sums: dict[tuple[Any, ...], Decimal] = defaultdict(Decimal)
        first: dict[tuple[Any, ...], DailyCost] = {}
        recent = self._detailed_from
        detailed = [item for item in read.items if recent is not None and item.day >= recent]
        for item in read.items:
            if item in detailed:
                continue
            key = (item.day, item.service_name, item.region, item.usage_type)
            sums[key] += item.billed_cost
            first.setdefault(key, item)
        coarse = [
            first[key].model_copy(
                update={"resource_id": None, "resource_name": None, "tags": {}, "billed_cost": total,
                        "effective_cost": total, "list_cost": total, "usage_quantity": None}
            )
            for key, total in sums.items()
        ]  # fmt: skip
        return Partial[DailyCost](items=coarse + detailed, failures=read.failures)


def _by_day_and_tags(
    engine: Engine, ref: AccountRef, start: date, end: date
) -> dict[tuple[Any, ...], Decimal]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT usage_date, CAST(tag_values AS text), sum(billed_cost) FROM cost_daily "
                "WHERE organization_id = :org AND cloud_account_id = :account "
                "AND usage_date >= :d0 AND usage_date < :d1 GROUP BY 1, 2"
            ),
            {"org": ref.organization_id, "account": ref.cloud_account_id, "d0": start, "d1": end},
        ).all()
    return {(r[0], r[1]): Decimal(r[2]) for r in rows}


def test_a_coarser_recollection_keeps_resource_level_days_and_fills_the_others(
    engine: Engine, tenant: Tenant, store: SandboxEstateStore
) -> None:
    aws = _refs(tenant)[0]
    detailed_end = date(2026, 11, 3)
    detailed = _service(engine).collect_costs(aws, WINDOW[0], detailed_end)
    assert detailed.rows > 0 and detailed.kept_days == 0
    tagged = _by_day_and_tags(engine, aws, WINDOW[0], detailed_end)
    assert any(key[1] != "{}" for key in tagged), "the sandbox's costs carry tags"
    with engine.connect() as connection:
        resources_before = connection.execute(
            text("SELECT count(DISTINCT resource_id) FROM cost_data WHERE organization_id = :org"),
            {"org": aws.organization_id},
        ).scalar()
    assert resources_before

    coarse_service = CollectionService(
        engine,
        lambda row: _CoarseCosts(registry().for_account(row)),
        now=lambda: datetime(2026, 11, 5, 12, tzinfo=UTC),
    )
    step = coarse_service.collect_costs(aws, *WINDOW)
    assert step.kept_days == (detailed_end - WINDOW[0]).days
    assert step.rows > 0  # 3 to 5 November had no detailed rows: they are filled, coarse
    assert _by_day_and_tags(engine, aws, WINDOW[0], detailed_end) == tagged
    with engine.connect() as connection:
        per_day = dict(
            connection.execute(
                text(
                    "SELECT CAST(charge_period_start AT TIME ZONE 'UTC' AS date), bool_and(resource_id IS NULL) "
                    "FROM cost_data WHERE organization_id = :org AND cloud_account_id = :account GROUP BY 1"
                ),
                {"org": aws.organization_id, "account": aws.cloud_account_id},
            ).all()
        )
    assert [day for day, coarse in sorted(per_day.items()) if coarse] == [
        date(2026, 11, 3),
        date(2026, 11, 4),
        date(2026, 11, 5),
    ]
    totals = counts(engine, tenant.organization_id)
    assert totals["billed"] == totals["daily_billed"]

    # A read detailed only for its recent days (Cost Explorer's resource-level 14 days) is judged day by day:
    # the older days it brings coarse keep their stored detail; its detailed days replace.
    mixed = CollectionService(
        engine,
        lambda row: _CoarseCosts(registry().for_account(row), detailed_from=date(2026, 11, 4)),
        now=lambda: datetime(2026, 11, 5, 12, tzinfo=UTC),
    ).collect_costs(aws, *WINDOW)
    assert mixed.kept_days == (detailed_end - WINDOW[0]).days
    assert _by_day_and_tags(engine, aws, WINDOW[0], detailed_end) == tagged
    with engine.connect() as connection:
        coarse_days = connection.execute(
            text(
                "SELECT DISTINCT CAST(charge_period_start AT TIME ZONE 'UTC' AS date) FROM cost_data "
                "WHERE organization_id = :org AND cloud_account_id = :account AND resource_id IS NULL"
            ),
            {"org": aws.organization_id, "account": aws.cloud_account_id},
        ).scalars()
        assert sorted(coarse_days) == [date(2026, 11, 3)]

    # A detailed read replaces coarse days again: detail always wins.
    again = _service(engine).collect_costs(aws, *WINDOW)
    assert again.kept_days == 0 and again.replaced > 0
