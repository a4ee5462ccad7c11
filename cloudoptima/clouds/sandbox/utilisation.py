"""Hourly utilisation of sandbox resources, computed on demand from their ``UsageProfile``.

For hour ``i`` of the window (day ``d``, hour-of-day ``h``, weekday ``w``)::

    shape  = (1 + amplitude·sin(2π(h − 8)/24)) · (weekend_factor if w ≥ Sat else 1) · (1 + growth)^d
    cpu    = min(cap, cpu_base · shape · lognormal_noise), raised to burst_level·U(0.85, 1) in burst hours
    memory = min(memory_cap, memory_base · (1 + 0.1·sin(…)) · lognormal_noise)
    network in (out at 0.6×), disk ops, requests, database connections = rate · shape · lognormal_noise

Each metric draws from its own stream seeded by ``(profile.seed, metric)``.

Random draws depend only on the profile seed and the window length, never on whether the resource ran, so a
stop/start leaves the other hours unchanged. An hour is present (not NaN) only while the resource bills: an
instance, database or load balancer while it runs (schedule honoured), a disk while it exists (its I/O is 0
when unattached). Percentages are rounded to 3 decimals, counts to integers.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from cloudoptima.clouds.sandbox.billing import day_start
from cloudoptima.clouds.sandbox.estate import Estate, UsageProfile
from cloudoptima.domain.inventory import (
    DiskAttributes,
    MetricName,
    Resource,
    ResourceKind,
    UtilisationSeries,
)

FloatArray = npt.NDArray[np.float64]

METRICS: dict[ResourceKind, tuple[MetricName, ...]] = {
    ResourceKind.COMPUTE_INSTANCE: (
        MetricName.CPU_PERCENT,
        MetricName.MEMORY_PERCENT,
        MetricName.NETWORK_IN_BYTES,
        MetricName.NETWORK_OUT_BYTES,
        MetricName.DISK_IO_OPS,
    ),
    ResourceKind.DATABASE: (
        MetricName.CPU_PERCENT,
        MetricName.MEMORY_PERCENT,
        MetricName.NETWORK_IN_BYTES,
        MetricName.NETWORK_OUT_BYTES,
        MetricName.DISK_IO_OPS,
        MetricName.CONNECTIONS,
    ),
    ResourceKind.LOAD_BALANCER: (
        MetricName.REQUESTS,
        MetricName.NETWORK_IN_BYTES,
        MetricName.NETWORK_OUT_BYTES,
    ),
    ResourceKind.DISK: (MetricName.DISK_IO_OPS,),
}
"""Which metrics each resource kind reports (other kinds report none)."""

_STREAM = {metric: code for code, metric in enumerate(MetricName)}


def _presence(estate: Estate, resource: Resource, hours: int) -> npt.NDArray[np.bool_]:
    origin = day_start(estate.spec.start)
    present = np.zeros(hours, dtype=np.bool_)
    for segment in estate.segments.get(resource.resource_id, ()):
        lo = max(0, int((segment.start - origin).total_seconds() // 3600))
        hi = (
            hours
            if segment.end is None
            else min(hours, -(-int((segment.end - origin).total_seconds()) // 3600))
        )
        if hi <= lo:
            continue
        window = np.ones(hi - lo, dtype=np.bool_)
        if segment.schedule == "weekdays":
            weekday = (estate.spec.start.weekday() + np.arange(lo, hi) // 24) % 7
            window = weekday < 5
        present[lo:hi] |= window
    return present


def _noise(rng: np.random.Generator, sigma: float, n: int) -> FloatArray:
    return np.exp(sigma * rng.standard_normal(n) - sigma * sigma / 2.0)


def _raw(
    profile: UsageProfile, first_weekday: int, hours: int, metrics: tuple[MetricName, ...]
) -> dict[MetricName, FloatArray]:
    index = np.arange(hours)
    day = index // 24
    hour = (index % 24).astype(np.float64)
    weekend = ((first_weekday + day) % 7) >= 5
    cycle = np.sin(2.0 * np.pi * (hour - 8.0) / 24.0)
    shape = (
        (1.0 + profile.daily_amplitude * cycle)
        * np.where(weekend, profile.weekend_factor, 1.0)
        * (1.0 + profile.growth_per_day) ** day
    )
    out: dict[MetricName, FloatArray] = {}
    for metric in metrics:
        rng = np.random.default_rng([profile.seed, _STREAM[metric]])
        if metric is MetricName.CPU_PERCENT:
            cpu = np.minimum(profile.cpu_cap, profile.cpu_base * shape * _noise(rng, profile.noise, hours))
            burst = rng.random(hours) < profile.burst_probability
            level = profile.burst_level * rng.uniform(0.85, 1.0, hours)
            cpu = np.where(burst, np.minimum(profile.cpu_cap, np.maximum(cpu, level)), cpu)
            out[metric] = np.asarray(np.round(cpu, 3), dtype=np.float64)
        elif metric is MetricName.MEMORY_PERCENT:
            memory = profile.memory_base * (1.0 + 0.1 * cycle) * _noise(rng, 0.03, hours)
            out[metric] = np.asarray(np.round(np.minimum(profile.memory_cap, memory), 3), dtype=np.float64)
        else:
            out[metric] = np.round(_rate(profile, metric) * shape * _noise(rng, profile.noise, hours))
    return out


def _rate(profile: UsageProfile, metric: MetricName) -> float:
    if metric is MetricName.NETWORK_IN_BYTES:
        return profile.network_bytes_per_hour
    if metric is MetricName.NETWORK_OUT_BYTES:
        return 0.6 * profile.network_bytes_per_hour
    if metric is MetricName.DISK_IO_OPS:
        return profile.disk_ops_per_hour
    if metric is MetricName.CONNECTIONS:
        return profile.connections
    return profile.requests_per_hour


def utilisation_arrays(estate: Estate, resource_id: str) -> dict[MetricName, FloatArray]:
    """Hourly values per metric over the estate window (NaN = no sample); empty for unmetered kinds."""
    resource = estate.resource(resource_id)
    return resource_arrays(estate, resource)


def resource_arrays(estate: Estate, resource: Resource) -> dict[MetricName, FloatArray]:
    """Like ``utilisation_arrays`` for a resource already in hand (no lookup)."""
    metrics = METRICS.get(resource.kind, ())
    profile = estate.profiles.get(resource.resource_id)
    if not metrics or profile is None:
        return {}
    hours = estate.spec.days * 24
    raw = _raw(profile, estate.spec.start.weekday(), hours, metrics)
    present = _presence(estate, resource, hours)
    attributes = resource.attributes
    if isinstance(attributes, DiskAttributes):
        unattached = np.zeros(hours, dtype=np.bool_)
        if attributes.attached_to is None:
            unattached[:] = True
            if attributes.detached_at is not None:
                origin = day_start(estate.spec.start)
                cut = int((attributes.detached_at - origin).total_seconds() // 3600)
                unattached[: max(0, min(hours, cut))] = False
        raw[MetricName.DISK_IO_OPS] = np.where(unattached, 0.0, raw[MetricName.DISK_IO_OPS])
    return {metric: np.where(present, raw[metric], np.nan) for metric in metrics}


def utilisation_series(estate: Estate, resource_id: str) -> tuple[UtilisationSeries, ...]:
    """The resource's hourly series as domain objects (one per metric), starting at the window start."""
    start = day_start(estate.spec.start)
    series = []
    for metric, values in utilisation_arrays(estate, resource_id).items():
        cells = tuple(None if np.isnan(v) else float(v) for v in values.tolist())
        series.append(UtilisationSeries(resource_id=resource_id, metric=metric, start=start, values=cells))
    return tuple(series)
