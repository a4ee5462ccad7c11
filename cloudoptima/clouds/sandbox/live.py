"""The sandbox estate as a live cloud: daily costs and hourly utilisation for any window, not just the generated one.

Contract:

- ``account_costs`` sums the per-resource, per-day charges of ``billing.charge`` (the very numbers written
  to the FOCUS files, already rounded to 6 decimals) into one :class:`DailyCost` per day × resource × usage
  type, carrying the resource's id, name and tags as the FOCUS files do, so a total over the generated
  window equals the FOCUS files' total exactly and cost by tag or by resource survives a collection. Days after the
  window bill from each resource's open billing segment, so the estate keeps costing money after ``spec.end``.
- ``hourly_series`` returns the generator's series inside the window. Past it, the window is continued in
  blocks of ``spec.days`` days: block ``b`` is the generator's formula on a window shifted by ``b`` windows,
  with a profile seed derived from ``(profile.seed, b)`` and the rates grown by ``(1 + growth)^(b·days)``, so
  the values are deterministic and presence (running / stopped / deleted) follows the billing segments.
  Hours at or after ``now`` and before the window have no sample (``None``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import numpy as np

from cloudoptima.clouds.protocol import DailyCost
from cloudoptima.clouds.sandbox.billing import charge, day_start
from cloudoptima.clouds.sandbox.estate import Estate, EstateSpec, UsageProfile
from cloudoptima.clouds.sandbox.providers import service
from cloudoptima.clouds.sandbox.utilisation import FloatArray, resource_arrays
from cloudoptima.domain.inventory import MetricName, Resource, UtilisationSeries

_DAY = timedelta(days=1)
_HOUR = timedelta(hours=1)


@dataclass
class _Sum:
    cost: Decimal
    quantity: Decimal
    unit: str


def account_costs(
    estate: Estate, account_id: str, start: date, end: date, resources: Iterable[Resource]
) -> list[DailyCost]:
    """Daily costs of ``resources`` (of ``account_id``) on the days ``[start, end)``, per resource, ordered."""
    account = estate.account(account_id)
    sums: dict[tuple[date, str, str, str], _Sum] = {}
    by_id: dict[str, Resource] = {}
    for resource in resources:
        by_id[resource.resource_id] = resource
        for segment in estate.segments.get(resource.resource_id, ()):
            day = max(start, segment.start.date())
            stop = end if segment.end is None else min(end, segment.end.date() + _DAY)
            while day < stop:
                item = charge(resource.resource_id, segment, day)
                day += _DAY
                if item is None:
                    continue
                key = (item.day, resource.resource_id, segment.usage_type, segment.unit)
                total = sums.get(key)
                if total is None:
                    sums[key] = _Sum(item.cost, item.quantity, segment.unit)
                else:
                    total.cost += item.cost
                    total.quantity += item.quantity
    items = []
    for (day, resource_id, usage_type, _unit), total in sorted(sums.items(), key=lambda kv: kv[0]):
        resource = by_id[resource_id]
        label = service(resource.provider, resource.kind)
        items.append(
            DailyCost(
                day=day,
                provider=account.provider.value,
                billing_account_id=account.billing_account_id,
                account_id=account_id,
                service_name=label.name,
                service_category=label.category,
                region=resource.region,
                usage_type=usage_type,
                resource_id=resource_id,
                resource_name=resource.name,
                tags=dict(resource.tags),
                billed_cost=total.cost,
                effective_cost=total.cost,
                list_cost=total.cost,
                usage_quantity=total.quantity,
                usage_unit=total.unit,
            )
        )
    return items


def _continued(profile: UsageProfile, block: int, days: int) -> UsageProfile:
    """``profile`` for the ``block``-th continuation window: fresh noise, rates grown for the elapsed days."""
    digest = hashlib.sha256(f"{profile.seed}/continuation/{block}".encode()).digest()
    growth = (1.0 + profile.growth_per_day) ** (block * days)
    return profile.model_copy(
        update={
            "seed": int.from_bytes(digest[:8], "big") >> 1,
            "cpu_base": min(100.0, profile.cpu_base * growth),
            "network_bytes_per_hour": profile.network_bytes_per_hour * growth,
            "disk_ops_per_hour": profile.disk_ops_per_hour * growth,
            "requests_per_hour": profile.requests_per_hour * growth,
        }
    )


def _block_arrays(estate: Estate, resource: Resource, block: int) -> dict[MetricName, FloatArray]:
    if block == 0:
        return resource_arrays(estate, resource)
    spec = estate.spec
    profile = estate.profiles.get(resource.resource_id)
    if profile is None:
        return {}
    shifted = Estate.model_construct(
        spec=EstateSpec(
            seed=spec.seed, accounts=spec.accounts, days=spec.days, end=spec.end + block * spec.days * _DAY
        ),
        accounts=estate.accounts,
        resources=estate.resources,
        segments=estate.segments,
        profiles={resource.resource_id: _continued(profile, block, spec.days)},
        principals=estate.principals,
        manifest=estate.manifest,
    )
    return resource_arrays(shifted, resource)


def hourly_series(
    estate: Estate, resource: Resource, start: datetime, hours: int, now: datetime
) -> tuple[UtilisationSeries, ...]:
    """One series per metric of ``resource`` over ``hours`` hours from ``start`` (on the hour, UTC)."""
    origin = day_start(estate.spec.start)
    block_hours = estate.spec.days * 24
    first = int((start - origin) / _HOUR)
    last = first + min(hours, max(0, int((now - start) / _HOUR)))
    merged: dict[MetricName, FloatArray] = {}
    for block in range(max(0, first // block_hours), max(0, (last - 1) // block_hours) + 1):
        lo, hi = block * block_hours, (block + 1) * block_hours
        take_lo, take_hi = max(lo, first), min(hi, last)
        if take_hi <= take_lo:
            continue
        for metric, values in _block_arrays(estate, resource, block).items():
            cells = merged.setdefault(metric, np.full(hours, np.nan))
            cells[take_lo - first : take_hi - first] = values[take_lo - lo : take_hi - lo]
    return tuple(
        UtilisationSeries(
            resource_id=resource.resource_id,
            metric=metric,
            start=start,
            values=tuple(None if np.isnan(v) else float(v) for v in values.tolist()),
        )
        for metric, values in merged.items()
    )
