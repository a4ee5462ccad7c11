"""Which price answers: the store first, then the sandbox catalogue, then the built-in tables — and savings
of a live account come from its billed cost when the collected costs cover the last 30 days."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
from sqlalchemy.orm import Session

from cloudoptima.analytics.recommendations import generate_recommendations
from cloudoptima.analytics.utilisation import summarise_values
from cloudoptima.clouds.sandbox import catalog, generate_estate
from cloudoptima.clouds.sandbox.utilisation import resource_arrays
from cloudoptima.domain.inventory import (
    CloudProvider,
    DiskAttributes,
    PublicIpAttributes,
    Resource,
    ResourceKind,
    ResourceState,
)
from cloudoptima.domain.prices import ListPrice, PriceKind, PriceSnapshot
from cloudoptima.services.builtin_prices import BUILTIN_LABELS
from cloudoptima.services.price_catalog import SANDBOX_LABEL, StoredPriceCatalog, price_catalog_for
from cloudoptima.services.pricing import SandboxPriceCatalog
from cloudoptima.services.recommendations import RecommendationService
from cloudoptima.storage.inventory_store import upsert_resources
from cloudoptima.storage.models import CloudAccount, CostRow, Organization
from cloudoptima.storage.partitions import ensure_cost_partitions
from cloudoptima.storage.price_store import replace_prices
from cloudoptima_gateway.routes.recommendations import recommendation_out

AWS, AZURE = CloudProvider.AWS, CloudProvider.AZURE
FETCHED = datetime(2031, 2, 27, 3, tzinfo=UTC)
AS_OF = datetime(2031, 3, 1, tzinfo=UTC)


def _instance(sku: str, price: str, vcpu: int, memory: int, region: str = "eu-west-1") -> ListPrice:
    family = sku.partition(".")[0]
    return ListPrice(
        AWS, PriceKind.INSTANCE, region, sku, Decimal(price), "AmazonEC2", None, family, vcpu, Decimal(memory)
    )


STORE = {
    AWS: PriceSnapshot(
        AWS,
        "AWS Price List",
        FETCHED,
        (
            _instance("m5.large", "0.107", 2, 8),
            _instance("m5.xlarge", "0.214", 4, 16),
            _instance("m7i.large", "0.1058", 2, 8),
            _instance("m7i.xlarge", "0.2116", 4, 16),
            ListPrice(AWS, PriceKind.PUBLIC_IP, "eu-west-1", "idle", Decimal("0.006"), "AmazonVPC"),
        ),
    )
}


def test_the_store_answers_first_then_the_sandbox_catalogue_then_the_built_in_tables() -> None:
    prices = StoredPriceCatalog(STORE)
    assert prices.instance_monthly(AWS, "eu-west-1", "m5.large") == Decimal("0.107") * 730
    assert (
        prices.price_source(AWS, "instance", "eu-west-1", "m5.large") == "AWS Price List, fetched 2031-02-27"
    )
    sandbox_m5 = catalog.monthly(catalog.instance_hourly(AWS, "m5.large", "us-east-1"))
    assert prices.instance_monthly(AWS, "us-east-1", "m5.large") == sandbox_m5, "not stored there: sandbox"
    assert prices.price_source(AWS, "instance", "us-east-1", "m5.large") == SANDBOX_LABEL
    assert prices.instance_monthly(AZURE, "eastus", "Standard_B1s") == Decimal("0.0104") * 730
    assert prices.price_source(AZURE, "instance", "eastus", "Standard_B1s") == BUILTIN_LABELS[AZURE]
    assert prices.instance_monthly(AZURE, "westeurope", "Standard_B1s") is None, "no table for that region"
    assert prices.price_source(AWS, "instance", "eu-west-1", "x9.huge") is None
    assert prices.public_ip_monthly(AWS, "eu-west-1", associated=False) == Decimal("0.006") * 730
    # sizes: a family only the store knows, and the store's own order
    assert prices.next_smaller_instance(AWS, "m7i.xlarge").name == "m7i.large"  # type: ignore[union-attr]
    assert prices.next_smaller_instance(AWS, "m7i.large") is None
    assert prices.instance_size(AWS, "m7i.large").memory_gib == Decimal(8)  # type: ignore[union-attr]


def test_never_refreshed_it_prices_the_sandbox_exactly_as_the_sandbox_catalogue() -> None:
    offline, sandbox = StoredPriceCatalog({}), SandboxPriceCatalog()
    for provider in CloudProvider:
        for region in catalog.regions(provider):
            for size in catalog.instance_types(provider):
                assert offline.instance_monthly(provider, region, size.name) == sandbox.instance_monthly(
                    provider, region, size.name
                )
                assert offline.next_smaller_instance(provider, size.name) == sandbox.next_smaller_instance(
                    provider, size.name
                )
            for disk in catalog.disk_types(provider):
                assert offline.disk_monthly(provider, region, disk, 100) == sandbox.disk_monthly(
                    provider, region, disk, 100
                )
            for associated in (True, False):
                assert offline.public_ip_monthly(
                    provider, region, associated=associated
                ) == sandbox.public_ip_monthly(provider, region, associated=associated)
            assert offline.load_balancer_monthly(provider, region) == sandbox.load_balancer_monthly(
                provider, region
            )
            assert offline.snapshot_monthly(provider, region, 10) == sandbox.snapshot_monthly(
                provider, region, 10
            )


def test_the_sandbox_estate_gets_the_same_recommendations_from_an_empty_store() -> None:
    estate = generate_estate(seed=5, accounts=2, days=60)
    live = [r for r in estate.resources if r.deleted_at is None]
    metrics = {}
    for resource in live:
        arrays = resource_arrays(estate, resource)
        metrics[resource.resource_id] = {
            str(m): summarise_values(v[~np.isnan(v)]) for m, v in arrays.items() if (~np.isnan(v)).any()
        }
    as_of = datetime(2026, 1, 1, tzinfo=UTC)
    before = generate_recommendations(live, metrics, SandboxPriceCatalog(), as_of=as_of)
    after = generate_recommendations(live, metrics, StoredPriceCatalog({}), as_of=as_of)
    assert len(before) > 10
    assert [(r.fingerprint, r.estimated_savings_monthly) for r in after] == [
        (r.fingerprint, r.estimated_savings_monthly) for r in before
    ]
    assert {r.evidence["price_source"] for r in after} == {SANDBOX_LABEL}


# ---- billed cost vs list price, through the service and the REST schema ------------------------------------
def _resource(rid: str, attributes: DiskAttributes | PublicIpAttributes, kind: ResourceKind) -> Resource:
    return Resource(
        resource_id=rid,
        name=rid,
        kind=kind,
        provider=AWS,
        account_id="123456789012",
        region="eu-west-1",
        service_name="Amazon Elastic Compute Cloud",
        sku_id="",
        attributes=attributes,
        monthly_cost=Decimal("1.00"),
        state=ResourceState.AVAILABLE,
        created_at=AS_OF - timedelta(days=90),
    )


def _cost(org: uuid.UUID, account: uuid.UUID, rid: str, day: date, billed: str, effective: str) -> CostRow:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return CostRow(
        id=uuid.uuid4(),
        organization_id=org,
        cloud_account_id=account,
        provider="aws",
        charge_period_start=start,
        charge_period_end=start + timedelta(days=1),
        billing_period_start=datetime(day.year, day.month, 1, tzinfo=UTC),
        billing_period_end=datetime(day.year + (day.month == 12), day.month % 12 + 1, 1, tzinfo=UTC),
        billed_cost=Decimal(billed),
        effective_cost=Decimal(effective),
        billing_account_id="123456789012",
        billing_currency="USD",
        charge_category="Usage",
        provider_name="AWS",
        resource_id=rid,
    )


def _organisation(session: Session, *, sandbox: bool) -> tuple[uuid.UUID, uuid.UUID]:
    org = Organization(name=f"prices-{uuid.uuid4().hex[:6]}", subscription_tier="free", settings={})
    session.add(org)
    session.flush()
    settings = {"sandbox": {"estate_dir": "/nowhere", "account_id": "123456789012"}} if sandbox else {}
    account = CloudAccount(
        organization_id=org.id,
        provider="aws",
        account_identifier="123456789012",
        credentials_encrypted="x",
        settings=settings,
    )
    session.add(account)
    session.flush()
    return org.id, account.id


def _seed(session: Session, org: uuid.UUID, account: uuid.UUID) -> None:
    disk = _resource("vol-0billed", DiskAttributes(disk_type="gp3", size_gb=500), ResourceKind.DISK)
    ip = _resource("eipalloc-0listed", PublicIpAttributes(address="203.0.113.9"), ResourceKind.PUBLIC_IP)
    upsert_resources(session.connection(), org, account, [disk, ip], {}, AS_OF, complete=True)
    ensure_cost_partitions(session.connection(), [date(2031, 1, 1), date(2031, 2, 1)])
    # 40 days of the disk's own costs, the last day 2031-02-28: the window is the 30 days up to there
    for n in range(40):
        day = date(2031, 2, 28) - timedelta(days=n)
        session.add(_cost(org, account, "VOL-0BILLED", day, "1.35", "1.00"))
    session.flush()
    replace_prices(session, AWS, STORE[AWS].prices, "AWS Price List", FETCHED)


def test_a_removal_saves_the_billed_cost_where_collected_else_the_stored_list_price(
    db_session: Session,
) -> None:
    org, account = _organisation(db_session, sandbox=False)
    _seed(db_session, org, account)
    service = RecommendationService(db_session, org, price_catalog_for(db_session, org), now=lambda: AS_OF)
    found = {r.rule_id: r for r in service.run(AS_OF).recommendations}

    disk = found["unattached_disk"]
    assert disk.estimated_savings_monthly == Decimal("30.00"), (
        "30 days × effective cost 1.00 (not billed 1.35)"
    )
    assert disk.evidence["price_source"] == "billed cost (last 30 days)"
    ip = found["unassociated_ip"]
    assert ip.estimated_savings_monthly == Decimal("4.38"), "0.006/h × 730 from the stored price list"
    assert ip.evidence["price_source"] == "AWS Price List, fetched 2031-02-27"
    rows = {row.rule_id: recommendation_out(row) for row in service.list()}
    assert rows["unattached_disk"].price_source == "billed cost (last 30 days)"
    assert rows["unassociated_ip"].price_source == "AWS Price List, fetched 2031-02-27"


def test_a_sandbox_estate_keeps_its_catalogue_prices_whatever_is_stored(db_session: Session) -> None:
    org, account = _organisation(db_session, sandbox=True)
    _seed(db_session, org, account)
    service = RecommendationService(db_session, org, price_catalog_for(db_session, org), now=lambda: AS_OF)
    found = {r.rule_id: r for r in service.run(AS_OF).recommendations}
    sandbox = SandboxPriceCatalog()
    expected_disk = sandbox.disk_monthly(AWS, "eu-west-1", "gp3", 500)
    assert expected_disk is not None
    assert found["unattached_disk"].estimated_savings_monthly == expected_disk.quantize(Decimal("0.01"))
    assert found["unattached_disk"].evidence["price_source"] == SANDBOX_LABEL
    expected_ip = sandbox.public_ip_monthly(AWS, "eu-west-1", associated=False)
    assert expected_ip is not None
    assert found["unassociated_ip"].estimated_savings_monthly == expected_ip.quantize(Decimal("0.01"))


def test_costs_that_do_not_cover_30_days_give_list_prices(db_session: Session) -> None:
    org, account = _organisation(db_session, sandbox=False)
    _seed(db_session, org, account)
    db_session.execute(
        CostRow.__table__.delete().where(  # type: ignore[attr-defined]
            CostRow.organization_id == org, CostRow.charge_period_start < datetime(2031, 2, 10, tzinfo=UTC)
        )
    )
    service = RecommendationService(db_session, org, price_catalog_for(db_session, org), now=lambda: AS_OF)
    disk = {r.rule_id: r for r in service.run(AS_OF).recommendations}["unattached_disk"]
    assert disk.evidence["price_source"] == SANDBOX_LABEL, "19 days of costs are not a month"


def test_the_first_collection_fetches_enough_days_for_billed_savings(db_session: Session) -> None:
    """With the default settings, the costs of a first collection already cover the billed-cost window,
    so the first analysis after connecting saves what the resource really cost."""
    from cloudoptima.services.collection import plan_windows
    from cloudoptima.settings import Settings

    org, account = _organisation(db_session, sandbox=False)
    _seed(db_session, org, account)
    db_session.execute(CostRow.__table__.delete().where(CostRow.organization_id == org))  # type: ignore[attr-defined]
    today = date(2031, 2, 28)
    initial = Settings.model_fields["collection_initial_days"].default
    plan = plan_windows(today, None, initial_days=initial, restate_days=3, window_days=7)
    day = plan.start
    while day <= today:  # the cloud has the days up to today (today's still partial)
        db_session.add(_cost(org, account, "vol-0billed", day, "1.00", "1.00"))
        day += timedelta(days=1)
    db_session.flush()
    analysed = datetime(2031, 2, 28, 18, tzinfo=UTC)  # the analysis after the first collection, same day
    service = RecommendationService(db_session, org, price_catalog_for(db_session, org), now=lambda: analysed)
    disk = {r.rule_id: r for r in service.run(analysed).recommendations}["unattached_disk"]
    assert disk.evidence["price_source"] == "billed cost (last 30 days)"
