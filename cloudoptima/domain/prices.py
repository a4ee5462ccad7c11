"""List prices as the providers publish them, and what a refresh of the price store fetches.

Contract:

- A :class:`ListPrice` is one on-demand list price in USD of one ``(provider, kind, region, sku)``:
  ``instance`` and ``database`` per hour (with vCPU, memory and family for instances), ``disk`` per GB-month
  of a disk type, ``snapshot`` per GB-month (sku ``standard``), ``public_ip`` per hour (sku ``in_use`` or
  ``idle``), ``load_balancer`` per hour (sku = the product, e.g. ``application``), ``object_storage`` per
  GB-month of a storage class (first tier).
- ``unit`` says which of ``hour`` / ``GB-month`` the ``unit_price`` is per (:data:`KIND_UNITS`).
- A :class:`PriceScope` is what one provider's refresh fetches: the regions and instance families the
  organisations' resources use (reference data stays small).
- Fetchers raise :class:`PriceListError` for an answer they cannot read (never a half-read price list).

No I/O and no third-party imports besides pydantic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol, runtime_checkable

from cloudoptima.domain.inventory import CloudProvider

HOURS_PER_MONTH = Decimal(730)
"""The providers' calculator convention for a month of 24x7 running."""


class PriceKind(StrEnum):
    """What a list price is the price of."""

    INSTANCE = "instance"
    DATABASE = "database"
    DISK = "disk"
    SNAPSHOT = "snapshot"
    PUBLIC_IP = "public_ip"
    LOAD_BALANCER = "load_balancer"
    OBJECT_STORAGE = "object_storage"


HOUR = "hour"
GB_MONTH = "GB-month"
KIND_UNITS: dict[PriceKind, str] = {
    PriceKind.INSTANCE: HOUR,
    PriceKind.DATABASE: HOUR,
    PriceKind.DISK: GB_MONTH,
    PriceKind.SNAPSHOT: GB_MONTH,
    PriceKind.PUBLIC_IP: HOUR,
    PriceKind.LOAD_BALANCER: HOUR,
    PriceKind.OBJECT_STORAGE: GB_MONTH,
}

PRICE_LIST_NAMES: dict[CloudProvider, str] = {
    CloudProvider.AWS: "AWS Price List",
    CloudProvider.AZURE: "Azure Retail Prices",
    CloudProvider.GCP: "GCP Cloud Billing Catalog",
}
"""How a provider's own price source is named in a saving's ``price_source``."""


@runtime_checkable
class PriceSources(Protocol):
    """A price catalogue that can say which source answers a price (the stored catalogue does)."""

    def price_source(self, provider: CloudProvider, kind: str, region: str, sku: str) -> str | None:
        """A label of the source of this price (``"AWS Price List, fetched 2031-03-01"``), None if unknown."""
        ...


class PriceListError(RuntimeError):
    """A provider's price list answered something that cannot be read as prices (names what and where)."""


@dataclass(frozen=True)
class ListPrice:
    """One on-demand list price (see module contract)."""

    provider: CloudProvider
    kind: PriceKind
    region: str
    sku: str
    unit_price: Decimal
    service: str
    """The provider's service (``AmazonEC2``, ``Virtual Machines``, ``Compute Engine`` ...)."""
    provider_sku_id: str | None = None
    family: str | None = None
    vcpu: int | None = None
    memory_gib: Decimal | None = None

    @property
    def unit(self) -> str:
        """``hour`` or ``GB-month``."""
        return KIND_UNITS[self.kind]

    @property
    def monthly(self) -> Decimal:
        """The price of a month: hourly × 730, or the GB-month price itself."""
        return self.unit_price * HOURS_PER_MONTH if self.unit == HOUR else self.unit_price


@dataclass(frozen=True)
class PriceScope:
    """What one provider's refresh fetches: regions, and instance families/types seen in them."""

    regions: frozenset[str]
    families: frozenset[str] = frozenset()
    instance_types: frozenset[str] = frozenset()
    database_classes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PriceSnapshot:
    """The stored prices of one provider and when/from where they were fetched."""

    provider: CloudProvider
    source: str
    fetched_at: datetime
    prices: tuple[ListPrice, ...] = field(default_factory=tuple)

    @property
    def label(self) -> str:
        """``"<source>, fetched <YYYY-MM-DD>"`` (what a saving's ``price_source`` says)."""
        return f"{self.source}, fetched {self.fetched_at.date().isoformat()}"
