"""Hourly utilisation series from CloudWatch ``GetMetricData``.

Contract: for ``[start, end)`` (whole UTC days) each series starts at ``start`` 00:00 UTC and has one slot
per hour (``None`` where CloudWatch has no sample). Queries are batched up to 500 per request and every
``NextToken`` page is read. Instances give CPU (Average, clipped to 0–100), NetworkIn/Out (Sum, bytes per
hour) and DiskReadOps + DiskWriteOps (Sum); application load balancers give RequestCount (Sum); RDS
instances give CPU (Average) and ``DatabaseConnections`` (Maximum: the hour's peak, so one short-lived
connection shows; 0 = nobody connected). Series with no sample at all are left out. A region whose reads fail becomes a
:class:`Failure` with scope ``"cloudwatch/<region>"``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from cloudoptima.clouds.aws.ec2_inventory import utc
from cloudoptima.clouds.aws.errors import aws_errors
from cloudoptima.clouds.aws.inventory import failure_of
from cloudoptima.clouds.protocol import Failure, Partial, ProviderError
from cloudoptima.domain.inventory import MetricName, Resource, ResourceKind, UtilisationSeries

MAX_QUERIES_PER_CALL = 500
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class MetricQuery:
    """One CloudWatch metric feeding one (resource, metric) series; several may add up (disk read + write)."""

    resource_id: str
    metric: MetricName
    namespace: str
    name: str
    dimension: tuple[str, str]
    stat: str


def queries_for(resource: Resource) -> list[MetricQuery]:
    """The CloudWatch metrics that describe ``resource`` (none for kinds without utilisation)."""
    rid = resource.resource_id
    if resource.kind == ResourceKind.COMPUTE_INSTANCE:
        dim = ("InstanceId", rid)
        return [
            MetricQuery(rid, MetricName.CPU_PERCENT, "AWS/EC2", "CPUUtilization", dim, "Average"),
            MetricQuery(rid, MetricName.NETWORK_IN_BYTES, "AWS/EC2", "NetworkIn", dim, "Sum"),
            MetricQuery(rid, MetricName.NETWORK_OUT_BYTES, "AWS/EC2", "NetworkOut", dim, "Sum"),
            MetricQuery(rid, MetricName.DISK_IO_OPS, "AWS/EC2", "DiskReadOps", dim, "Sum"),
            MetricQuery(rid, MetricName.DISK_IO_OPS, "AWS/EC2", "DiskWriteOps", dim, "Sum"),
        ]
    if resource.kind == ResourceKind.LOAD_BALANCER and ":loadbalancer/app/" in rid:
        suffix = rid.split(":loadbalancer/", 1)[1]
        return [
            MetricQuery(
                rid,
                MetricName.REQUESTS,
                "AWS/ApplicationELB",
                "RequestCount",
                ("LoadBalancer", suffix),
                "Sum",
            )
        ]
    if resource.kind == ResourceKind.DATABASE:
        dim = ("DBInstanceIdentifier", resource.name)
        return [
            MetricQuery(rid, MetricName.CPU_PERCENT, "AWS/RDS", "CPUUtilization", dim, "Average"),
            MetricQuery(rid, MetricName.CONNECTIONS, "AWS/RDS", "DatabaseConnections", dim, "Maximum"),
        ]
    return []


class UtilisationReader:
    """Reads hourly series per region. ``client_for(service, region)`` gives boto3 clients."""

    def __init__(self, client_for: Callable[[str, str], Any]) -> None:
        self._client_for = client_for

    def read(self, resources: list[Resource], start: date, end: date) -> Partial[UtilisationSeries]:
        """Series for ``resources`` over ``[start, end)``; one failure per region that could not be read."""
        first = datetime.combine(start, time(0), tzinfo=UTC)
        hours = max(0, (end - start).days * 24)
        by_region: dict[str, list[MetricQuery]] = defaultdict(list)
        for resource in resources:
            by_region[resource.region].extend(queries_for(resource))
        series: list[UtilisationSeries] = []
        failures: list[Failure] = []
        for region, queries in sorted(by_region.items()):
            if not queries or hours == 0:
                continue
            try:
                series.extend(self._region(region, queries, first, hours))
            except ProviderError as error:
                failures.append(failure_of(f"cloudwatch/{region}", error))
        return Partial(items=series, failures=failures)

    def _region(
        self, region: str, queries: list[MetricQuery], first: datetime, hours: int
    ) -> list[UtilisationSeries]:
        cloudwatch = self._client_for("cloudwatch", region)
        slots: dict[tuple[str, MetricName], list[float | None]] = {}
        for offset in range(0, len(queries), MAX_QUERIES_PER_CALL):
            batch = queries[offset : offset + MAX_QUERIES_PER_CALL]
            for query, stamps, values in self._fetch(cloudwatch, batch, first, first + hours * HOUR):
                cells = slots.setdefault((query.resource_id, query.metric), [None] * hours)
                for stamp, value in zip(stamps, values, strict=False):
                    index = int((utc(stamp) - first) // HOUR)
                    if 0 <= index < hours:
                        cells[index] = (cells[index] or 0.0) + float(value)
        result = []
        for (resource_id, metric), cells in slots.items():
            if all(cell is None for cell in cells):
                continue
            if metric == MetricName.CPU_PERCENT:
                cells = [None if c is None else min(100.0, max(0.0, c)) for c in cells]
            result.append(
                UtilisationSeries(resource_id=resource_id, metric=metric, start=first, values=tuple(cells))
            )
        return result

    def _fetch(
        self, cloudwatch: Any, batch: list[MetricQuery], first: datetime, last: datetime
    ) -> list[tuple[MetricQuery, list[datetime], list[float]]]:
        by_id = {f"q{i}": query for i, query in enumerate(batch)}
        data_queries = [
            {
                "Id": query_id,
                "MetricStat": {
                    "Metric": {
                        "Namespace": q.namespace,
                        "MetricName": q.name,
                        "Dimensions": [{"Name": q.dimension[0], "Value": q.dimension[1]}],
                    },
                    "Period": 3600,
                    "Stat": q.stat,
                },
                "ReturnData": True,
            }
            for query_id, q in by_id.items()
        ]
        found: list[tuple[MetricQuery, list[datetime], list[float]]] = []
        token: str | None = None
        with aws_errors("cloudwatch"):
            while True:
                params: dict[str, Any] = {
                    "MetricDataQueries": data_queries,
                    "StartTime": first,
                    "EndTime": last,
                    "ScanBy": "TimestampAscending",
                }
                if token:
                    params["NextToken"] = token
                page = cloudwatch.get_metric_data(**params)
                for result in page.get("MetricDataResults", []):
                    query = by_id.get(result["Id"])
                    if query is not None and result.get("Timestamps"):
                        found.append((query, list(result["Timestamps"]), list(result["Values"])))
                token = page.get("NextToken")
                if not token:
                    return found
