"""Cloud SQL through the real connector against the strict fakes: Cloud SQL Admin instances (paged),
Cloud Monitoring connections + CPU of ``cloudsql_database`` (gRPC), and the database rules on the result."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from cloudoptima.analytics.recommendations import generate_recommendations
from cloudoptima.analytics.utilisation import summarise
from cloudoptima.domain.inventory import DatabaseAttributes, MetricName, ResourceKind, ResourceState
from cloudoptima.services.pricing import SandboxPriceCatalog
from tests.clouds.gcp.conftest import GcpWorld

DAYS = 15
END = date(2024, 6, 1)
START = END - timedelta(days=DAYS)
CONNECTIONS = "cloudsql.googleapis.com/database/network/connections"
CPU = "cloudsql.googleapis.com/database/cpu/utilization"


def _seed(world: GcpWorld) -> dict[str, str]:
    s = world.state
    ids = {
        "orders": s.add_sql_instance("orders", "us-central1", "db-custom-4-15360"),
        "archive": s.add_sql_instance("archive", "us-central1", "db-custom-2-7680", availability="REGIONAL"),
        "kept": s.add_sql_instance(
            "dr-copy", "us-central1", "db-custom-2-7680", labels={"do-not-optimize": "true"}
        ),
        "off": s.add_sql_instance("old", "europe-west1", "db-custom-2-7680", activation="NEVER"),
    }
    first = datetime.combine(START, time(), UTC)
    hours = DAYS * 24
    # Two series of "orders" (two databases' connections): the hour's peak is the higher one.
    s.add_cloud_sql_series(
        "orders", CONNECTIONS, first, [float(5 + h % 9) for h in range(hours)], integer=True
    )
    s.add_cloud_sql_series("orders", CONNECTIONS, first, [30.0] * hours, integer=True)
    s.add_cloud_sql_series("orders", CPU, first, [0.12] * hours)
    for name in ("archive", "dr-copy"):
        s.add_cloud_sql_series(name, CONNECTIONS, first, [0.0] * hours, integer=True)
        s.add_cloud_sql_series(name, CPU, first, [0.015] * hours)
    # A Compute metric of the same shape must never be read as a database's.
    s.add_hourly_series(
        "us-central1-a", "orders", "compute.googleapis.com/instance/cpu/utilization", first, [0.9] * hours
    )
    return ids


def test_cloud_sql_instances_metrics_and_rules(world: GcpWorld) -> None:
    ids = _seed(world)
    provider = world.provider()
    inventory = provider.inventory()
    assert inventory.complete, inventory.failures
    assert [r for r, _ in world.state.calls].count("sql.instances:") == 2  # 4 instances, pages of 2
    databases = {r.resource_id: r for r in inventory.items if r.kind is ResourceKind.DATABASE}
    assert set(databases) == set(ids.values())
    orders = databases[ids["orders"]]
    assert isinstance(orders.attributes, DatabaseAttributes)
    assert (orders.attributes.vcpu, orders.attributes.memory_gib) == (4, Decimal(15))
    assert orders.monthly_cost == Decimal("197.25")  # (4 × 0.0413 + 15 × 0.007) × 730
    assert databases[ids["archive"]].monthly_cost == Decimal("197.25")  # 2 vCPU, 7.5 GB, ×2 for HA
    assert databases[ids["off"]].state is ResourceState.STOPPED and databases[ids["off"]].monthly_cost == 0

    read = provider.utilisation(list(databases.values()), START, END)
    assert read.complete, read.failures
    by = {(s.resource_id, s.metric): s for s in read.items}
    assert list(by[(ids["orders"], MetricName.CONNECTIONS)].values) == [30.0] * (DAYS * 24)
    assert set(by[(ids["orders"], MetricName.CPU_PERCENT)].values) == {12.0}
    assert set(by[(ids["archive"], MetricName.CONNECTIONS)].values) == {0.0}
    assert (ids["off"], MetricName.CPU_PERCENT) not in by

    summaries = {rid: summarise(s for s in read.items if s.resource_id == rid) for rid in databases}
    as_of = datetime.combine(END, time(), UTC)
    found = generate_recommendations(list(databases.values()), summaries, SandboxPriceCatalog(), as_of=as_of)
    assert sorted((r.rule_id, r.resource_ids[0]) for r in found) == [
        ("idle_database", ids["archive"]),
        ("rightsize_database", ids["orders"]),
    ]
    resize = next(r for r in found if r.rule_id == "rightsize_database")
    assert resize.actions[0].parameters == {"size": "db-custom-2-7680"}
    assert resize.estimated_savings_monthly == Decimal("98.62")  # (0.2702 − 0.1351) × 730


def test_cloud_sql_permission_denied_is_one_named_failure(world: GcpWorld) -> None:
    _seed(world)
    world.state.permissions.discard("cloudsql.instances.list")
    inventory = world.provider().inventory()
    assert [(f.scope, f.permission) for f in inventory.failures] == [
        ("sql/instances", "cloudsql.instances.list")
    ]
    assert any(r.kind is ResourceKind.COMPUTE_INSTANCE for r in inventory.items)  # the rest still collected
