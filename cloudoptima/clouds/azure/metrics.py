"""Hourly utilisation of VMs from Azure Monitor metrics (one ``metrics.list`` call per VM, ``PT1H``).

Contract:

- ``Percentage CPU`` (Average) → ``cpu_percent``; ``Network In Total`` / ``Network Out Total`` (Total bytes
  per hour) → ``network_in_bytes`` / ``network_out_bytes``; ``Disk Read Operations/Sec`` +
  ``Disk Write Operations/Sec`` (Average per second × 3600) → ``disk_io_ops`` per hour.
- Series start at ``start`` 00:00 UTC and have one slot per hour of ``[start, end)``; an hour without a sample
  is ``None``. Memory is not a platform metric for VMs (it needs the guest agent) and is not reported.
- Only compute instances are queried. A VM whose metrics call fails is listed in failures as
  ``monitor/{region}``; missing permissions raise :class:`CredentialsError`.
"""

from __future__ import annotations

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


def vm_series(session: AzureSession, vm: Resource, start: date, end: date) -> list[UtilisationSeries]:
    """The hourly series of one VM over ``[start, end)`` (errors propagate as SDK exceptions)."""
    begin = datetime(start.year, start.month, start.day, tzinfo=UTC)
    finish = datetime(end.year, end.month, end.day, tzinfo=UTC)
    hours = int((finish - begin).total_seconds() // 3600)
    response = session.monitor.metrics.list(
        vm.resource_id,
        timespan=f"{begin.strftime('%Y-%m-%dT%H:%M:%SZ')}/{finish.strftime('%Y-%m-%dT%H:%M:%SZ')}",
        interval="PT1H",
        metricnames=",".join(METRICS),
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
                value = point.total if "Network" in name else point.average
                if 0 <= index < hours and value is not None:
                    values[index] = float(value)
        raw[name] = values
    out: list[UtilisationSeries] = []

    def add(metric: MetricName, values: list[float | None] | None) -> None:
        if values is not None and any(v is not None for v in values):
            out.append(
                UtilisationSeries(
                    resource_id=vm.resource_id, metric=metric, start=begin, values=tuple(values)
                )
            )

    cpu = raw.get("Percentage CPU")
    add(
        MetricName.CPU_PERCENT,
        None if cpu is None else [None if v is None else min(max(v, 0.0), 100.0) for v in cpu],
    )
    add(MetricName.NETWORK_IN_BYTES, raw.get("Network In Total"))
    add(MetricName.NETWORK_OUT_BYTES, raw.get("Network Out Total"))
    reads, writes = raw.get("Disk Read Operations/Sec"), raw.get("Disk Write Operations/Sec")
    if reads is not None or writes is not None:
        pairs = zip(reads or [None] * hours, writes or [None] * hours, strict=True)
        add(
            MetricName.DISK_IO_OPS,
            [None if r is None and w is None else ((r or 0.0) + (w or 0.0)) * 3600 for r, w in pairs],
        )
    return out


def utilisation(
    session: AzureSession, resources: list[Resource], start: date, end: date
) -> tuple[list[UtilisationSeries], list[Failure]]:
    """Series for every compute instance in ``resources``; per-VM failures are collected."""
    items: list[UtilisationSeries] = []
    failures: list[Failure] = []
    for resource in resources:
        if resource.kind != ResourceKind.COMPUTE_INSTANCE:
            continue
        try:
            items += vm_series(session, resource, start, end)
        except Exception as exc:
            error = translate(exc, f"read metrics of {resource.name}")
            if isinstance(error, CredentialsError):
                raise error from None
            failures.append(
                Failure(scope=f"monitor/{resource.region}", error=str(error), retryable=error.retryable)
            )
    return items, failures
