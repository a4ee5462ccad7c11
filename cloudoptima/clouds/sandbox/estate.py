"""The sandbox estate: inventory, billing history, usage profiles, IAM and ground truth in one value.

An ``Estate`` is small (no hourly data, no cost rows). Hourly utilisation and daily FOCUS rows are pure
functions of it (``utilisation.py``, ``billing.py``) and are streamed, so a 100-account estate stays cheap
to hold. Contract:

- The estate covers the UTC days ``[spec.start, spec.end)``.
- ``segments[resource_id]`` is the resource's billing history: non-overlapping, time-ordered
  ``BillingSegment``s, each billing a fixed price configuration over ``[start, end)`` (``end=None`` = still
  billing). A resource with no open segment is not billing (stopped instance, deleted resource).
- ``profiles[resource_id]`` drives the resource's hourly utilisation (instances, databases, load balancers
  and disks have one; snapshots, IPs and buckets have none).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cloudoptima.clouds.sandbox.manifest import Manifest
from cloudoptima.domain.inventory import CloudAccount, Principal, Resource, UtcDatetime

PricingUnit = Literal["Hours", "GB-Mo"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EstateSpec(_Model):
    """How the estate was generated: ``days`` whole UTC days ending (exclusive) at ``end``."""

    seed: int
    accounts: int = Field(gt=0)
    days: int = Field(gt=0)
    end: date

    @property
    def start(self) -> date:
        """First day of the window (inclusive)."""
        return self.end - timedelta(days=self.days)


class BillingSegment(_Model):
    """A period during which a resource bills one price configuration.

    ``Hours``: cost = ``unit_price × size × billable hours`` (``size`` = count, usually 1);
    ``GB-Mo``: cost = ``unit_price × size × hours / (24 × days in month)`` (``size`` in GB).
    ``schedule="weekdays"`` bills no hours on Saturday and Sunday (UTC).
    """

    start: UtcDatetime
    end: UtcDatetime | None = None
    sku_id: str
    unit: PricingUnit
    unit_price: Decimal
    size: Decimal
    usage_type: str
    description: str
    schedule: Literal["always", "weekdays"] = "always"

    def monthly_cost(self) -> Decimal:
        """List price of a whole month of this configuration (730 h for hourly units)."""
        if self.unit == "Hours":
            return self.unit_price * self.size * Decimal(730)
        return self.unit_price * self.size

    def closed(self, at: datetime) -> BillingSegment:
        """This segment ending at ``at``."""
        return self.model_copy(update={"end": at})


class UsageProfile(_Model):
    """Parameters of a resource's hourly utilisation (see ``utilisation.py`` for the formula).

    ``cpu_cap`` / ``memory_cap`` clip the series so planted properties hold exactly (an idle VM's CPU
    never exceeds its cap). ``burst_probability`` is the chance per hour of a burst to ``burst_level``.
    """

    seed: int
    cpu_base: float = Field(ge=0, le=100)
    cpu_cap: float = Field(ge=0, le=100)
    daily_amplitude: float = Field(ge=0, le=1)
    weekend_factor: float = Field(ge=0)
    growth_per_day: float
    noise: float = Field(ge=0)
    burst_probability: float = Field(ge=0, le=1)
    burst_level: float = Field(ge=0, le=100)
    memory_base: float = Field(ge=0, le=100)
    memory_cap: float = Field(ge=0, le=100)
    network_bytes_per_hour: float = Field(ge=0)
    disk_ops_per_hour: float = Field(ge=0)
    requests_per_hour: float = Field(ge=0)
    connections: float = Field(default=30.0, ge=0)
    """Typical client connections of a database (0: nobody connects, every hour reads 0)."""


class Estate(_Model):
    """A generated multi-cloud estate and its ground truth."""

    spec: EstateSpec
    accounts: tuple[CloudAccount, ...]
    resources: tuple[Resource, ...]
    segments: dict[str, tuple[BillingSegment, ...]]
    profiles: dict[str, UsageProfile]
    principals: tuple[Principal, ...]
    manifest: Manifest

    @cached_property
    def _by_id(self) -> dict[str, Resource]:
        return {r.resource_id: r for r in self.resources}

    @cached_property
    def _by_account(self) -> dict[str, tuple[Resource, ...]]:
        grouped: dict[str, list[Resource]] = {}
        for resource in self.resources:
            grouped.setdefault(resource.account_id, []).append(resource)
        return {account: tuple(members) for account, members in grouped.items()}

    def resource(self, resource_id: str) -> Resource:
        """The resource with ``resource_id``; raises ``KeyError`` when absent."""
        return self._by_id[resource_id]

    def account(self, account_id: str) -> CloudAccount:
        """The account with ``account_id``; raises ``KeyError`` when absent."""
        for candidate in self.accounts:
            if candidate.account_id == account_id:
                return candidate
        raise KeyError(account_id)

    def account_resources(self, account_id: str) -> tuple[Resource, ...]:
        """The resources of one account, in inventory order."""
        return self._by_account.get(account_id, ())
