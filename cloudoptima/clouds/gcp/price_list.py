"""GCP list prices from the Cloud Billing Catalog API (Compute Engine SKUs) for the price store.

Contract (``GcpBillingCatalog(client, api_key=...).fetch(scope)``):

- ``GET {base_url}/v1/services/6F81-5844-456A/skus?currencyCode=USD&pageSize=N[&pageToken=T]`` (with
  ``key=<api key>`` when one is given, as the API requires a key or an OAuth token), following
  ``nextPageToken`` until it is empty; 429/5xx are retried (:func:`cloudoptima.clouds.http_json.get_json`).
- Only ``OnDemand`` SKUs serving a region of ``scope`` are read: per-family vCPU-hour and GiB-hour rates
  ("E2 Instance Core running in Americas", "N1 Predefined Instance Ram ...", "Compute optimized Core ..."),
  persistent disk GB-month (standard, balanced, SSD; zonal), snapshot GB-month, static IPv4 hourly (idle,
  and in use on a standard VM) and the forwarding-rule hourly charge.
- Instance prices are derived for the machine types of ``scope``: every predefined size (2 … 64 vCPU) of
  each family-and-shape in use (``n2`` = n2-standard, ``n2-highmem``, ...) plus the exact types in use, as
  ``vCPU × core rate + GiB × RAM rate`` (shapes from :func:`cloudoptima.clouds.gcp.pricing.machine_shape`).
- An answer without a ``skus`` list, or a SKU whose price is not ``{units, nanos}``, raises
  :class:`PriceListError` naming the page and the SKU.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from cloudoptima.clouds.gcp import pricing
from cloudoptima.clouds.http_json import get_json
from cloudoptima.clouds.instance_families import gcp_family
from cloudoptima.domain.inventory import CloudProvider
from cloudoptima.domain.prices import ListPrice, PriceKind, PriceListError, PriceScope

BASE_URL = "https://cloudbilling.googleapis.com"
COMPUTE_SERVICE = "6F81-5844-456A"
SERVICE_NAME = "Compute Engine"
SOURCE = "GCP Cloud Billing Catalog"
PAGE_SIZE = 5000
SIZES = (2, 4, 8, 16, 32, 64)
_NANO = Decimal("0.000000001")
_RATE = re.compile(
    r"^(?:(?P<family>[A-Za-z0-9]+)(?: AMD| Predefined)? Instance|(?P<c2>Compute optimized)) (?P<part>Core|Ram) "
    r"running in "
)
_DISKS = {
    "Storage PD Capacity": "pd-standard",
    "Balanced PD Capacity": "pd-balanced",
    "SSD backed PD Capacity": "pd-ssd",
}


def family_of(machine_type: str) -> str:
    """The rightsizing family of a machine type: ``n2`` for n2-standard-*, ``n2-highmem`` for highmem, ...
    (the sandbox catalogue's family names)."""
    return gcp_family(machine_type) or pricing.family_of(machine_type)


def _unit_price(sku: dict[str, Any]) -> Decimal:
    """The lowest tier with a non-zero price of the SKU's first pricing info."""
    try:
        rates = sku["pricingInfo"][0]["pricingExpression"]["tieredRates"]
        tiers = sorted(
            (
                Decimal(str(r.get("startUsageAmount", 0))),
                Decimal(str(r["unitPrice"].get("units", "0")))
                + Decimal(int(r["unitPrice"].get("nanos", 0))) * _NANO,
            )
            for r in rates
        )
    except (KeyError, IndexError, TypeError, AttributeError, ValueError, InvalidOperation) as error:
        raise PriceListError(f"SKU {sku.get('skuId', '?')} has no readable unitPrice ({error!r})") from error
    return next((price for _, price in tiers if price > 0), Decimal(0))


class GcpBillingCatalog:
    """Reads list prices of one :class:`PriceScope` from the Cloud Billing Catalog (see module contract)."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        api_key: str | None = None,
        base_url: str = BASE_URL,
        page_size: int = PAGE_SIZE,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self._client = client
        self._api_key = api_key
        self._base_url = base_url.rstrip("/")
        self._page_size = page_size
        self._sleep = sleep
        self.pages_read = 0

    def fetch(self, scope: PriceScope) -> list[ListPrice]:
        """Every price of ``scope`` (see module contract)."""
        rates: dict[tuple[str, str, str], Decimal] = {}
        found: dict[tuple[PriceKind, str, str], ListPrice] = {}
        for page, sku in self._skus():
            category = sku.get("category") or {}
            if category.get("usageType") != "OnDemand":
                continue
            regions = [r for r in sku.get("serviceRegions") or [] if r in scope.regions]
            if not regions:
                continue
            description = str(sku.get("description", ""))
            try:
                picked = self._classify(description, sku)
            except PriceListError as error:
                raise PriceListError(f"{SOURCE} page {page}: {error}") from error
            if picked is None:
                continue
            kind, name, price = picked
            for region in regions:
                if kind is None:
                    rates.setdefault((region, name, description), price)
                elif price > 0:
                    found.setdefault(
                        (kind, region, name),
                        ListPrice(
                            provider=CloudProvider.GCP,
                            kind=kind,
                            region=region,
                            sku=name,
                            unit_price=price,
                            service=SERVICE_NAME,
                            provider_sku_id=sku.get("skuId"),
                        ),
                    )
        return [*found.values(), *self._instances(scope, rates)]

    @staticmethod
    def _classify(description: str, sku: dict[str, Any]) -> tuple[PriceKind | None, str, Decimal] | None:
        """``(kind, sku, price)``; kind None for a family rate (``sku`` = ``family:core|ram``)."""
        rate = _RATE.match(description)
        if rate is not None:
            family = "c2" if rate.group("c2") else rate.group("family").lower()
            return None, f"{family}:{rate.group('part').lower()}", _unit_price(sku)
        if description.startswith("Regional"):
            return None
        for prefix, disk in _DISKS.items():
            if description.startswith(prefix):
                return PriceKind.DISK, disk, _unit_price(sku)
        if description.startswith("Storage PD Snapshot"):
            return PriceKind.SNAPSHOT, "standard", _unit_price(sku)
        if description.startswith("Static Ip Charge"):
            return PriceKind.PUBLIC_IP, "idle", _unit_price(sku)
        if description.startswith("External IP Charge on a Standard VM"):
            return PriceKind.PUBLIC_IP, "in_use", _unit_price(sku)
        if description.startswith("Network Load Balancing: Forwarding Rule Minimum Service Charge"):
            return PriceKind.LOAD_BALANCER, "forwarding-rule", _unit_price(sku)
        return None

    @staticmethod
    def _instances(scope: PriceScope, rates: dict[tuple[str, str, str], Decimal]) -> Iterator[ListPrice]:
        by_region: dict[tuple[str, str], Decimal] = {}
        for (region, name, _), price in rates.items():
            by_region.setdefault((region, name), price)
        types = set(scope.instance_types)
        for family in scope.families:
            base, _, kind = family.partition("-")
            types.update(f"{base}-{kind or 'standard'}-{n}" for n in SIZES)
        for region in sorted(scope.regions):
            for machine_type in sorted(types):
                dimensions = pricing.machine_shape(machine_type)
                rate = pricing.family_of(machine_type)
                core, ram = by_region.get((region, f"{rate}:core")), by_region.get((region, f"{rate}:ram"))
                if dimensions is None or core is None or ram is None:
                    continue
                vcpu, memory = dimensions
                yield ListPrice(
                    provider=CloudProvider.GCP,
                    kind=PriceKind.INSTANCE,
                    region=region,
                    sku=machine_type,
                    unit_price=core * vcpu + ram * memory,
                    service=SERVICE_NAME,
                    family=family_of(machine_type),
                    vcpu=vcpu,
                    memory_gib=memory,
                )

    def _skus(self) -> Iterator[tuple[int, dict[str, Any]]]:
        url = f"{self._base_url}/v1/services/{COMPUTE_SERVICE}/skus"
        token = ""
        page = 0
        while True:
            page += 1
            params = {"currencyCode": "USD", "pageSize": str(self._page_size)}
            if token:
                params["pageToken"] = token
            if self._api_key:
                params["key"] = self._api_key
            kwargs: dict[str, Any] = {"sleep": self._sleep} if self._sleep is not None else {}
            body = get_json(self._client, url, what=f"{SOURCE} page {page}", params=params, **kwargs)
            self.pages_read += 1
            skus = body.get("skus")
            if not isinstance(skus, list):
                raise PriceListError(f"{SOURCE} page {page}: the answer has no skus list")
            for sku in skus:
                if not isinstance(sku, dict):
                    raise PriceListError(f"{SOURCE} page {page}: a SKU is not an object")
                yield page, sku
            token = str(body.get("nextPageToken") or "")
            if not token:
                return
