"""RDS connections and CPU from CloudWatch (moto), read by the real connector and judged by the database rules."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from cloudoptima.analytics.recommendations import generate_recommendations
from cloudoptima.analytics.utilisation import summarise
from cloudoptima.domain.inventory import MetricName, ResourceKind
from cloudoptima.services.pricing import SandboxPriceCatalog
from tests.clouds.aws.conftest import TODAY, Estate, client, make_provider

DAYS = 8


def _seed(estate: Estate, identifier: str, connections: list[list[float]], cpu: float) -> None:
    """Two CloudWatch samples per hour: ``connections[h]`` and CPU ``cpu`` at :05, ``cpu + 2`` at :35."""
    first = datetime.combine(TODAY - timedelta(days=DAYS), time(0), tzinfo=UTC)
    dimension = [{"Name": "DBInstanceIdentifier", "Value": identifier}]
    data: list[dict[str, Any]] = []
    for hour, samples in enumerate(connections):
        for minute, (count, load) in zip((5, 35), zip(samples, (cpu, cpu + 2), strict=True), strict=True):
            stamp = first + timedelta(hours=hour, minutes=minute)
            data.append(
                {
                    "MetricName": "DatabaseConnections",
                    "Dimensions": dimension,
                    "Timestamp": stamp,
                    "Value": count,
                }
            )
            data.append(
                {"MetricName": "CPUUtilization", "Dimensions": dimension, "Timestamp": stamp, "Value": load}
            )
    cloudwatch = client(estate.endpoint, "cloudwatch")
    for offset in range(0, len(data), 1000):
        cloudwatch.put_metric_data(Namespace="AWS/RDS", MetricData=data[offset : offset + 1000])


def test_rds_connections_are_hourly_peaks_and_an_unused_database_is_found_idle(estate: Estate) -> None:
    rds = client(estate.endpoint, "rds")
    rds.create_db_instance(
        DBInstanceIdentifier="archive",
        DBInstanceClass="db.m5.xlarge",
        Engine="postgres",
        AllocatedStorage=100,
        MasterUsername="admin",
        MasterUserPassword="not-a-real-password",
    )
    hours = DAYS * 24
    busy = [[float(3 + h % 5), float(h % 2)] for h in range(hours)]  # the hour's peak is the first sample
    _seed(estate, estate.db_identifier, busy, cpu=20.0)
    _seed(estate, "archive", [[0.0, 0.0]] * hours, cpu=1.0)

    provider = make_provider(estate)
    databases = [r for r in provider.inventory().items if r.kind is ResourceKind.DATABASE]
    assert {d.name for d in databases} == {estate.db_identifier, "archive"}
    start, end = TODAY - timedelta(days=DAYS), TODAY
    read = provider.utilisation(databases, start, end)
    assert read.failures == []
    by_key = {(s.resource_id, s.metric): s for s in read.items}
    orders = next(d for d in databases if d.name == estate.db_identifier)
    archive = next(d for d in databases if d.name == "archive")
    assert list(by_key[(orders.resource_id, MetricName.CONNECTIONS)].values) == [max(s) for s in busy]
    assert set(by_key[(orders.resource_id, MetricName.CPU_PERCENT)].values) == {21.0}  # Average of 20 and 22
    assert set(by_key[(archive.resource_id, MetricName.CONNECTIONS)].values) == {0.0}

    summaries = {
        d.resource_id: summarise(s for s in read.items if s.resource_id == d.resource_id) for d in databases
    }
    as_of = datetime.combine(end, time(0), tzinfo=UTC)
    found = generate_recommendations(databases, summaries, SandboxPriceCatalog(), as_of=as_of)
    assert [(r.rule_id, list(r.resource_ids)) for r in found] == [("idle_database", [archive.resource_id])]
    assert found[0].category == "database" and found[0].estimated_savings_monthly > 0
