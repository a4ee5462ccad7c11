"""Hourly utilisation of VMs and SQL databases from Azure Monitor (one ``metrics.list`` call each, ``PT1H``).

Contract:

- ``Percentage CPU`` (Average) → ``cpu_percent``; ``Network In Total`` / ``Network Out Total`` (Total bytes
  per hour) → ``network_in_bytes`` / ``network_out_bytes``; ``Disk Read Operations/Sec`` +
  ``Disk Write Operations/Sec`` (Average per second × 3600) → ``disk_io_ops`` per hour.
- Series start at ``start`` 00:00 UTC and have one slot per hour of ``[start, end)``; an hour without a sample
  is ``None``. Memory is not a platform metric for VMs (it needs the guest agent) and is not reported.
- SQL databases (``Microsoft.Sql/servers/databases``): ``cpu_percent`` (Average) → ``cpu_percent``;
  ``connection_successful`` (Total: connections opened in the hour) → ``connections``.
- Only compute instances and SQL databases are queried. A resource whose metrics call fails is listed in
  failures as ``monitor/{region}``; missing permissions raise :class:`CredentialsError`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from cloudoptima.clouds.azure.errors import translate
from cloudoptima.clouds.azure.session import AzureSession
from cloudoptima.clouds.protocol import CredentialsError, Failure
from cloudoptima.domain.inventory import MetricName, Resource, ResourceKind, UtilisationSeries

METRICS = (
    "Percentage CPU",
    "Network In Total",
    "Network Out Total",
    "Disk Read Operations/Sec",
    "Disk Write Operations/Sec",
)


def _hour_index(stamp: datetime, start: datetime) -> int:
    stamp = stamp.astimezone(UTC) if stamp.tzinfo else stamp.replace(tzinfo=UTC)
    return int((stamp - start).total_seconds() // 3600)


SQL_METRICS = ("cpu_percent", "connection_successful")
_TOTALS = {"Network In Total", "Network Out Total", "connection_successful"}
"""Metrics read as the hour's Total (counters); the others as its Average."""


def _read(
    session: AzureSession, resource: Resource, start: date, end: date, names: tuple[str, ...]
) -> tuple[datetime, int, dict[str, list[float | None]]]:
    """(first hour, hours, metric name → hourly values) of one resource over ``[start, end)``."""
    begin = datetime(start.year, start.month, start.day, tzinfo=UTC)
    finish = datetime(end.year, end.month, end.day, tzinfo=UTC)
    hours = int((finish - begin).total_seconds() // 3600)
    response = session.monitor.metrics.list(
        resource.resource_id,
        timespan=f"{begin.strftime('%Y-%m-%dT%H:%M:%SZ')}/{finish.strftime('%Y-%m-%dT%H:%M:%SZ')}",
        interval="PT1H",
        metricnames=",".join(names),
        aggregation="Average,Total",
    )
    raw: dict[str, list[float | None]] = {}
    for metric in response.value or []:
        name = metric.name.value if metric.name is not None else None
        if name is None:
            continue
        values: list[float | None] = [None] * hours
        for series in metric.timeseries or []:
            for point in series.data or []:
                index = _hour_index(point.time_stamp, begin)
                value = point.total if name in _TOTALS else point.average
                if 0 <= index < hours and value is not None:
                    values[index] = float(value)
        raw[name] = values
    return begin, hours, raw


def _percent(values: list[float | None] | None) -> list[float | None] | None:
    return None if values is None else [None if v is None else min(max(v, 0.0), 100.0) for v in values]


class _Collected:
    """Series of one resource, keeping only those with at least one sample."""

    def __init__(self, resource: Resource, begin: datetime) -> None:
        self.resource, self.begin = resource, begin
        self.items: list[UtilisationSeries] = []

    def add(self, metric: MetricName, values: list[float | None] | None) -> None:
        if values is not None and any(v is not None for v in values):
            self.items.append(
                UtilisationSeries(
                    resource_id=self.resource.resource_id,
                    metric=metric,
                    start=self.begin,
                    values=tuple(values),
                )
            )


def sql_series(session: AzureSession, db: Resource, start: date, end: date) -> list[UtilisationSeries]:
    """The hourly CPU and connection series of one SQL database over ``[start, end)``."""
    begin, _, raw = _read(session, db, start, end, SQL_METRICS)
    out = _Collected(db, begin)
    out.add(MetricName.CPU_PERCENT, _percent(raw.get("cpu_percent")))
    out.add(MetricName.CONNECTIONS, raw.get("connection_successful"))
    return out.items


def vm_series(session: AzureSession, vm: Resource, start: date, end: date) -> list[UtilisationSeries]:
    """The hourly series of one VM over ``[start, end)`` (errors propagate as SDK exceptions)."""
    begin, hours, raw = _read(session, vm, start, end, METRICS)
    out = _Collected(vm, begin)
    out.add(MetricName.CPU_PERCENT, _percent(raw.get("Percentage CPU")))
    out.add(MetricName.NETWORK_IN_BYTES, raw.get("Network In Total"))
    out.add(MetricName.NETWORK_OUT_BYTES, raw.get("Network Out Total"))
    reads, writes = raw.get("Disk Read Operations/Sec"), raw.get("Disk Write Operations/Sec")
    if reads is not None or writes is not None:
        pairs = zip(reads or [None] * hours, writes or [None] * hours, strict=True)
        out.add(
            MetricName.DISK_IO_OPS,
            [None if r is None and w is None else ((r or 0.0) + (w or 0.0)) * 3600 for r, w in pairs],
        )
    return out.items


def utilisation(
    session: AzureSession, resources: list[Resource], start: date, end: date
) -> tuple[list[UtilisationSeries], list[Failure]]:
    """Series for every compute instance and SQL database in ``resources``; per-resource failures are collected."""
    items: list[UtilisationSeries] = []
    failures: list[Failure] = []
    for resource in resources:
        read: Callable[[AzureSession, Resource, date, date], list[UtilisationSeries]]
        if resource.kind == ResourceKind.COMPUTE_INSTANCE:
            read = vm_series
        elif (
            resource.kind == ResourceKind.DATABASE
            and "/microsoft.sql/servers/" in resource.resource_id.lower()
        ):
            read = sql_series
        else:
            continue
        try:
            items += read(session, resource, start, end)
        except Exception as exc:
            error = translate(exc, f"read metrics of {resource.name}")
            if isinstance(error, CredentialsError):
                raise error from None
            failures.append(
                Failure(scope=f"monitor/{resource.region}", error=str(error), retryable=error.retryable)
            )
    return items, failures
