"""Azure SQL databases through the real azure-mgmt clients against the strict fake: inventory (generic list
for servers, paged database lists, master left out), Monitor connections + CPU, and the database rules."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from cloudoptima.analytics.recommendations import generate_recommendations
from cloudoptima.analytics.utilisation import summarise
from cloudoptima.domain.inventory import DatabaseAttributes, MetricName, ResourceKind, ResourceState
from cloudoptima.services.pricing import SandboxPriceCatalog
from cloudoptima_evals.fakes.azure import sql
from cloudoptima_evals.fakes.azure.server import FakeAzureServer
from tests.clouds.azure.conftest import READER_ID, READER_SECRET, Estate, ProviderFactory

DAYS = 8


def test_sql_databases_are_inventoried_and_an_unused_one_is_found_idle(
    fake: FakeAzureServer, estate: Estate, make_provider: ProviderFactory
) -> None:
    t = fake.tenant
    orders = sql.add_sql_database(
        t, "rg-prod", "sql-shop", "orders", "eastus", objective="GP_Gen5_4", capacity=4
    )
    archive = sql.add_sql_database(t, "rg-prod", "sql-shop", "archive", "eastus")
    kept = sql.add_sql_database(
        t, "rg-prod", "sql-shop", "dr-copy", "eastus", tags={"do-not-optimize": "true"}
    )
    sql.add_sql_database(
        t, "rg-eu", "sql-eu", "trial", "westeurope", objective="GP_S_Gen5_1", capacity=1, status="Paused"
    )
    legacy = sql.add_sql_database(
        t, "rg-eu", "sql-eu", "legacy", "westeurope", objective="S1", tier="Standard", family=None
    )
    today = t.now.date()
    first = datetime.combine(today - timedelta(days=DAYS), time(), UTC)
    hours = DAYS * 24
    sql.plant(t, orders, "connection_successful", first, [float(h % 7) for h in range(hours)])
    sql.plant(t, orders, "cpu_percent", first, [12.5] * hours)
    for db in (archive, kept):
        sql.plant(t, db, "connection_successful", first, [0.0] * hours)
        sql.plant(t, db, "cpu_percent", first, [0.8] * hours)

    provider = make_provider(READER_ID, READER_SECRET)  # a reader: listing and metrics need only */read
    inventory = provider.inventory()
    assert inventory.failures == []
    databases = {r.name: r for r in inventory.items if r.kind is ResourceKind.DATABASE}
    assert set(databases) == {"orders", "archive", "dr-copy", "trial", "legacy"}  # three pages, no master
    big = databases["orders"]
    assert isinstance(big.attributes, DatabaseAttributes)
    assert (big.attributes.instance_class, big.attributes.vcpu, big.state) == (
        "GP_Gen5_4",
        4,
        ResourceState.RUNNING,
    )
    assert big.monthly_cost == Decimal("736.42")  # 4 vCores × 0.2522 $/h × 730
    assert databases["trial"].state is ResourceState.STOPPED and databases["trial"].monthly_cost == 0
    assert databases["legacy"].monthly_cost == Decimal("29.43") and databases["dr-copy"].tags == {
        "do-not-optimize": "true"
    }

    read = provider.utilisation(list(databases.values()), first.date(), today)
    assert read.failures == []
    series = {(s.resource_id, s.metric): s for s in read.items}
    assert list(series[(orders, MetricName.CONNECTIONS)].values) == [float(h % 7) for h in range(hours)]
    assert set(series[(orders, MetricName.CPU_PERCENT)].values) == {12.5}
    assert (legacy, MetricName.CONNECTIONS) not in series  # nothing planted: Monitor returns gaps only

    summaries = {
        r.resource_id: summarise(s for s in read.items if s.resource_id == r.resource_id)
        for r in databases.values()
    }
    found = generate_recommendations(
        list(databases.values()),
        summaries,
        SandboxPriceCatalog(),
        as_of=datetime.combine(today, time(), UTC),
    )
    assert [(r.rule_id, list(r.resource_ids)) for r in found] == [("idle_database", [archive])]
    assert found[0].actions == [] and "cannot be stopped" in found[0].manual_steps[0]
    assert found[0].estimated_savings_monthly == Decimal("368.21")  # its inventory price: 2 × 0.2522 × 730


def test_a_subscription_without_sql_servers_makes_no_sql_call(
    fake: FakeAzureServer, estate: Estate, make_provider: ProviderFactory
) -> None:
    inventory = make_provider().inventory()
    assert inventory.failures == []
    assert not [r for r in inventory.items if r.kind is ResourceKind.DATABASE]
    assert not [path for _, path in fake.requests if "/providers/microsoft.sql" in path.lower()]
