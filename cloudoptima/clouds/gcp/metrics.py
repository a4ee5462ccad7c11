"""Hourly utilisation of Compute instances and Cloud SQL instances from Cloud Monitoring
(``projects.timeSeries.list`` over gRPC).

Contract:

- One paged ``list_time_series`` per metric type for the whole project, aligned to 3600 s, and only for the
  kinds requested: ``resource.type="gce_instance"`` series are matched to instances by
  ``metric.labels.instance_name`` and ``resource.labels.zone``; ``resource.type="cloudsql_database"`` series
  to Cloud SQL instances by ``resource.labels.database_id`` (``project:instance``). The number of calls does
  not grow with the number of resources.
- Cloud SQL: ``database/cpu/utilization`` (0–1 gauge, ``ALIGN_MEAN``) → ``cpu_percent``;
  ``database/network/connections`` (gauge of open connections, ``ALIGN_MAX``: the hour's peak) →
  ``connections``.
- CPU (``instance/cpu/utilization``, a 0–1 gauge) uses ``ALIGN_MEAN`` and is reported as a percentage.
  Network bytes and disk operations are DELTA counters: ``ALIGN_SUM`` gives bytes / operations *per hour*,
  which is what :class:`MetricName` promises (``ALIGN_MEAN`` would give a per-sample mean). Disk read and
  write operations, and several devices of one instance, are added up into ``disk_io_ops``.
- An aligned point's timestamp is the *end* of its hour, so it fills the slot ``[end - 1 h, end)``.
- A metric failing (other than credentials / throttling) is one failure ``monitoring/<metric>``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial

from google.api_core import exceptions as gexc
from google.cloud import monitoring_v3
from google.cloud.monitoring_v3.services.metric_service.transports import MetricServiceGrpcTransport

from cloudoptima.clouds.gcp.inventory import last_segment
from cloudoptima.clouds.gcp.session import GcpSession
from cloudoptima.clouds.protocol import CredentialsError, Failure, Partial, ProviderError, ThrottledError
from cloudoptima.domain.inventory import MetricName, Resource, ResourceKind, UtilisationSeries

HOUR = timedelta(hours=1)
_A = monitoring_v3.Aggregation.Aligner
# metric type -> (our metric, aligner, scale)
METRICS: dict[str, tuple[MetricName, int, float]] = {
    "compute.googleapis.com/instance/cpu/utilization": (MetricName.CPU_PERCENT, _A.ALIGN_MEAN, 100.0),
    "compute.googleapis.com/instance/network/received_bytes_count": (
        MetricName.NETWORK_IN_BYTES,
        _A.ALIGN_SUM,
        1.0,
    ),
    "compute.googleapis.com/instance/network/sent_bytes_count": (
        MetricName.NETWORK_OUT_BYTES,
        _A.ALIGN_SUM,
        1.0,
    ),
    "compute.googleapis.com/instance/disk/read_ops_count": (MetricName.DISK_IO_OPS, _A.ALIGN_SUM, 1.0),
    "compute.googleapis.com/instance/disk/write_ops_count": (MetricName.DISK_IO_OPS, _A.ALIGN_SUM, 1.0),
}


CLOUD_SQL_METRICS: dict[str, tuple[MetricName, int, float]] = {
    "cloudsql.googleapis.com/database/cpu/utilization": (MetricName.CPU_PERCENT, _A.ALIGN_MEAN, 100.0),
    "cloudsql.googleapis.com/database/network/connections": (MetricName.CONNECTIONS, _A.ALIGN_MAX, 1.0),
}


@dataclass(frozen=True)
class _Family:
    """The Monitoring resource type of one kind of resource, its metrics and how series find resources."""

    resource_type: str
    metrics: dict[str, tuple[MetricName, int, float]]
    resource_key: Callable[[Resource], tuple[str, str]]
    series_key: Callable[[monitoring_v3.TimeSeries], tuple[str, str]]
    wanted: Callable[[Resource], bool]


def _instance_key(resource: Resource) -> tuple[str, str]:
    """(zone, name) of an instance from its ``projects/p/zones/z/instances/name`` id."""
    parts = resource.resource_id.split("/")
    zone = parts[parts.index("zones") + 1] if "zones" in parts else resource.region
    return zone, last_segment(resource.resource_id)


def _cloud_sql_key(resource: Resource) -> tuple[str, str]:
    """("", ``project:instance``) of a Cloud SQL instance from its ``projects/p/instances/name`` id."""
    parts = resource.resource_id.split("/")
    return "", f"{parts[1]}:{parts[-1]}"


_FAMILIES = (
    _Family(
        "gce_instance",
        METRICS,
        _instance_key,
        lambda s: (s.resource.labels.get("zone", ""), s.metric.labels.get("instance_name", "")),
        lambda r: r.kind == ResourceKind.COMPUTE_INSTANCE,
    ),
    _Family(
        "cloudsql_database",
        CLOUD_SQL_METRICS,
        _cloud_sql_key,
        lambda s: ("", s.resource.labels.get("database_id", "")),
        lambda r: (
            r.kind == ResourceKind.DATABASE
            and "/instances/" in r.resource_id
            and "/zones/" not in r.resource_id
        ),
    ),
)


def _list(
    client: monitoring_v3.MetricServiceClient,
    request: monitoring_v3.ListTimeSeriesRequest,
    session: GcpSession,
) -> list[monitoring_v3.TimeSeries]:
    return list(client.list_time_series(request=request, retry=session.retry))


def utilisation(
    session: GcpSession, resources: list[Resource], start: date, end: date
) -> Partial[UtilisationSeries]:
    """Hourly series for the instances and Cloud SQL instances among ``resources`` over ``[start, end)``."""
    if end <= start:
        return Partial[UtilisationSeries]()
    begin = datetime.combine(start, time(), UTC)
    finish = datetime.combine(end, time(), UTC)
    hours = int((finish - begin) / HOUR)
    sums: dict[tuple[str, MetricName], list[float | None]] = defaultdict(lambda: [None] * hours)
    failures: list[Failure] = []
    for family in _FAMILIES:
        wanted = {family.resource_key(r): r for r in resources if family.wanted(r)}
        if wanted:
            failures += _read_family(session, family, wanted, begin, finish, sums)
    items = [
        UtilisationSeries(
            resource_id=resource_id,
            metric=metric,
            start=begin,
            values=tuple(
                min(v, 100.0) if v is not None and metric == MetricName.CPU_PERCENT else v for v in values
            ),
        )
        for (resource_id, metric), values in sums.items()
    ]
    return Partial[UtilisationSeries](items=items, failures=failures)


def _read_family(
    session: GcpSession,
    family: _Family,
    wanted: dict[tuple[str, str], Resource],
    begin: datetime,
    finish: datetime,
    sums: dict[tuple[str, MetricName], list[float | None]],
) -> list[Failure]:
    """Add every metric of ``family`` for the ``wanted`` resources into ``sums``; the failed metrics."""
    client = session.grpc_client("monitoring", monitoring_v3.MetricServiceClient, MetricServiceGrpcTransport)
    hours = int((finish - begin) / HOUR)
    interval = monitoring_v3.TimeInterval(start_time=begin, end_time=finish)
    failures: list[Failure] = []
    for metric_type, (metric, aligner, scale) in family.metrics.items():
        request = monitoring_v3.ListTimeSeriesRequest(
            name=f"projects/{session.project}",
            filter=f'metric.type = "{metric_type}" AND resource.type = "{family.resource_type}"',
            interval=interval,
            aggregation=monitoring_v3.Aggregation(
                alignment_period={"seconds": 3600}, per_series_aligner=aligner
            ),
            view=monitoring_v3.ListTimeSeriesRequest.TimeSeriesView.FULL,
            page_size=1000,
        )
        scope = f"monitoring/{metric_type.rsplit('/', 2)[-2]}/{metric_type.rsplit('/', 1)[-1]}"
        try:
            series_list = session.call(partial(_list, client, request, session), scope)
        except (CredentialsError, ThrottledError):
            raise
        except (ProviderError, gexc.GoogleAPIError) as exc:
            failures.append(Failure(scope=scope, error=str(exc), retryable=True))
            continue
        for series in series_list:
            resource = wanted.get(family.series_key(series))
            if resource is None:
                continue
            values = sums[(resource.resource_id, metric)]
            for point in series.points:
                ended: datetime = point.interval.end_time  # type: ignore[assignment]  # proto-plus datetime
                slot = int((ended - begin) / HOUR) - 1
                if not 0 <= slot < hours:
                    continue
                value = point.value
                raw = value.double_value if "double_value" in value else float(value.int64_value)
                cell = values[slot]
                if aligner == _A.ALIGN_MAX:  # a peak: several series of one resource keep the highest
                    values[slot] = max(cell, raw * scale) if cell is not None else raw * scale
                else:
                    values[slot] = (cell or 0.0) + raw * scale
    return failures
