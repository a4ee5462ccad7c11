"""The price catalogue every caller uses: the price store first, then the built-in tables, and who answered.

Contract (:class:`StoredPriceCatalog`, implements ``PriceCatalog`` and ``PriceSources``):

- Every price is answered by the first tier that knows it: (1) the price store's list price of that
  ``(provider, kind, region, sku)`` (``"AWS Price List, fetched 2031-03-01"``), (2) the sandbox catalogue
  (:data:`SANDBOX_LABEL`), (3) the connectors' built-in tables, exact entries only
  (:mod:`cloudoptima.services.builtin_prices`). Nobody knowing it gives ``None`` (never a guess).
- ``price_source(provider, kind, region, sku)`` names the tier that answers that price, ``None`` when none.
- Sizes (``instance_size``, ``next_smaller_instance``) come from the store's instance rows (vCPU, memory
  and family, any region), else the sandbox catalogue, else the built-in tables; the next smaller size is
  the stored size of the same family just below by (vCPU, memory).
- Storage classes (their order) and commitment rates come from the sandbox catalogue.
- With an empty store (never refreshed, offline) it answers exactly as ``SandboxPriceCatalog`` wherever
  that knows a price, so the sandbox estate is priced as before.

``price_catalog_for(session, organization_id)`` is the one factory REST, MCP tools, chat and the analysis
workflow use: an organisation with live cloud accounts gets the stored prices; one with only sandbox
accounts (or none) gets the built-in tiers alone, so the demo's numbers never depend on a refresh.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloudoptima.domain.inventory import CloudProvider
from cloudoptima.domain.prices import ListPrice, PriceKind, PriceSnapshot
from cloudoptima.domain.recommendations import InstanceSize
from cloudoptima.services.builtin_prices import BUILTIN_LABELS, builtin_monthly, builtin_size
from cloudoptima.services.pricing import SandboxPriceCatalog
from cloudoptima.storage.models import CloudAccount, ResourceDocument
from cloudoptima.storage.price_store import load_snapshots

SANDBOX_LABEL = "built-in sandbox catalogue (list prices, on-demand, 730 h/month)"
LOAD_BALANCER_SKU: dict[CloudProvider, str] = {
    CloudProvider.AWS: "application",
    CloudProvider.AZURE: "standard",
    CloudProvider.GCP: "forwarding-rule",
}
"""The load-balancer product whose fixed hourly price ``load_balancer_monthly`` answers."""

Answer = tuple[Decimal | None, str | None]


class StoredPriceCatalog:
    """Stored list prices with built-in fallbacks (see module contract)."""

    def __init__(
        self,
        snapshots: Mapping[CloudProvider, PriceSnapshot]
        | Callable[[], Mapping[CloudProvider, PriceSnapshot]],
        *,
        sandbox: SandboxPriceCatalog | None = None,
    ) -> None:
        """``snapshots`` or a function that loads them on the first question (so a request that never asks
        a price never reads the store)."""
        self._load = snapshots if callable(snapshots) else (lambda: snapshots)
        self._loaded = False
        self._labels: dict[CloudProvider, str] = {}
        self._prices: dict[tuple[CloudProvider, PriceKind, str, str], ListPrice] = {}
        self._sizes: dict[tuple[CloudProvider, str], ListPrice] = {}
        self._sandbox = sandbox or SandboxPriceCatalog()

    def _index(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for provider, snapshot in self._load().items():
            self._labels[provider] = snapshot.label
            for price in snapshot.prices:
                self._prices[(price.provider, price.kind, price.region, price.sku)] = price
                if price.kind == PriceKind.INSTANCE and price.vcpu and price.memory_gib and price.family:
                    self._sizes.setdefault((price.provider, price.sku), price)

    # ---- the tiers -----------------------------------------------------------------------------------------
    def _sandbox_unit(
        self, provider: CloudProvider, kind: PriceKind, region: str, sku: str
    ) -> Decimal | None:
        s = self._sandbox
        readers: dict[PriceKind, Callable[[], Decimal | None]] = {
            PriceKind.INSTANCE: lambda: s.instance_monthly(provider, region, sku),
            PriceKind.DATABASE: lambda: s.database_monthly(provider, region, sku),
            PriceKind.DISK: lambda: s.disk_monthly(provider, region, sku, 1),
            PriceKind.SNAPSHOT: lambda: s.snapshot_monthly(provider, region, 1),
            PriceKind.PUBLIC_IP: lambda: s.public_ip_monthly(provider, region, associated=sku == "in_use"),
            PriceKind.LOAD_BALANCER: lambda: s.load_balancer_monthly(provider, region),
            PriceKind.OBJECT_STORAGE: lambda: s.bucket_monthly(provider, region, sku, 1),
        }
        return readers[kind]()

    def _answer(self, provider: CloudProvider, kind: PriceKind, region: str, sku: str) -> Answer:
        """The monthly price of one unit and the label of the tier that knows it."""
        self._index()
        stored = self._prices.get((provider, kind, region, sku))
        if stored is not None:
            return stored.monthly, self._labels[provider]
        sandbox = self._sandbox_unit(provider, kind, region, sku)
        if sandbox is not None:
            return sandbox, SANDBOX_LABEL
        builtin = builtin_monthly(provider, kind, region, sku)
        if builtin is not None and provider in BUILTIN_LABELS:
            return builtin, BUILTIN_LABELS[provider]
        return None, None

    def _monthly(
        self, provider: CloudProvider, kind: PriceKind, region: str, sku: str, quantity: int = 1
    ) -> Decimal | None:
        unit, _ = self._answer(provider, kind, region, sku)
        return unit * quantity if unit is not None else None

    def price_source(self, provider: CloudProvider, kind: str, region: str, sku: str) -> str | None:
        """The label of the tier that answers this price (see module contract)."""
        return self._answer(provider, PriceKind(kind), region, sku)[1]

    # ---- PriceCatalog ----------------------------------------------------------------------------------------
    def instance_size(self, provider: CloudProvider, instance_type: str) -> InstanceSize | None:
        self._index()
        stored = self._sizes.get((provider, instance_type))
        if stored is not None:
            return _size(stored)
        return self._sandbox.instance_size(provider, instance_type) or builtin_size(provider, instance_type)

    def next_smaller_instance(self, provider: CloudProvider, instance_type: str) -> InstanceSize | None:
        self._index()
        current = self._sizes.get((provider, instance_type))
        if current is None:
            return self._sandbox.next_smaller_instance(provider, instance_type)
        family = sorted(
            (p for (prov, _), p in self._sizes.items() if prov == provider and p.family == current.family),
            key=lambda p: (p.vcpu or 0, p.memory_gib or 0, p.sku),
        )
        index = family.index(current)
        return _size(family[index - 1]) if index > 0 else None

    def instance_monthly(self, provider: CloudProvider, region: str, instance_type: str) -> Decimal | None:
        return self._monthly(provider, PriceKind.INSTANCE, region, instance_type)

    def database_monthly(self, provider: CloudProvider, region: str, instance_class: str) -> Decimal | None:
        return self._monthly(provider, PriceKind.DATABASE, region, instance_class)

    def next_smaller_database(self, provider: CloudProvider, instance_class: str) -> InstanceSize | None:
        return self._sandbox.next_smaller_database(provider, instance_class)

    def disk_monthly(
        self, provider: CloudProvider, region: str, disk_type: str, size_gb: int
    ) -> Decimal | None:
        return self._monthly(provider, PriceKind.DISK, region, disk_type, size_gb)

    def snapshot_monthly(self, provider: CloudProvider, region: str, size_gb: int) -> Decimal | None:
        return self._monthly(provider, PriceKind.SNAPSHOT, region, "standard", size_gb)

    def public_ip_monthly(self, provider: CloudProvider, region: str, *, associated: bool) -> Decimal | None:
        return self._monthly(provider, PriceKind.PUBLIC_IP, region, "in_use" if associated else "idle")

    def load_balancer_monthly(self, provider: CloudProvider, region: str) -> Decimal | None:
        return self._monthly(provider, PriceKind.LOAD_BALANCER, region, LOAD_BALANCER_SKU[provider])

    def storage_classes(self, provider: CloudProvider) -> tuple[str, ...]:
        return self._sandbox.storage_classes(provider)

    def bucket_monthly(
        self, provider: CloudProvider, region: str, storage_class: str, size_gb: int
    ) -> Decimal | None:
        return self._monthly(provider, PriceKind.OBJECT_STORAGE, region, storage_class, size_gb)

    def commitment_rate(self, provider: CloudProvider) -> Decimal | None:
        return self._sandbox.commitment_rate(provider)


def _size(price: ListPrice) -> InstanceSize:
    assert price.vcpu is not None and price.memory_gib is not None and price.family is not None
    return InstanceSize(name=price.sku, family=price.family, vcpu=price.vcpu, memory_gib=price.memory_gib)


def live_account_ids(session: Session, organization_id: uuid.UUID) -> list[uuid.UUID]:
    """The organisation's cloud accounts that are not sandbox estates."""
    rows = session.execute(
        select(CloudAccount.id, CloudAccount.settings).where(CloudAccount.organization_id == organization_id)
    ).all()
    return [
        account_id for account_id, settings in rows if not isinstance((settings or {}).get("sandbox"), dict)
    ]


def price_catalog_for(session: Session, organization_id: uuid.UUID) -> StoredPriceCatalog:
    """The catalogue of one organisation (see module contract); reads the store, for the regions the
    organisation's resources are in, on its first question."""

    def load() -> Mapping[CloudProvider, PriceSnapshot]:
        if not live_account_ids(session, organization_id):
            return {}
        regions = session.scalars(
            select(ResourceDocument.region)
            .where(ResourceDocument.organization_id == organization_id, ResourceDocument.region.is_not(None))
            .distinct()
        ).all()
        return load_snapshots(session, [r for r in regions if r])

    return StoredPriceCatalog(load)
