"""Azure list prices from the Azure Retail Prices API for the price store (no credentials needed).

Contract (``AzureRetailPrices(client).fetch(scope)``):

- ``GET {base_url}/api/retail/prices?api-version=2023-01-01-preview&meterRegion='primary'&$filter=...``
  with one OData filter (``eq`` clauses joined by ``and``, string values in single quotes; values are
  case-sensitive from this api-version on, so the region is sent as its ARM name, ``West Europe`` →
  ``westeurope``) per region and product: Linux
  pay-as-you-go VM hourly prices of ``scope.families`` (Windows, Spot and Low Priority meters are skipped),
  managed disks (the P10/E10/S10 LRS monthly tier price / 128 GiB as the per-GB-month price, as the sandbox
  catalogue counts), LRS snapshot GB-month, the Standard static public IPv4 hourly price, the Standard load
  balancer hourly price and Hot/Cool/Archive LRS block blob GB-month (first tier).
- Pages are followed through ``NextPageLink`` verbatim until it is null; 429/5xx are retried
  (:func:`cloudoptima.clouds.http_json.get_json`).
- An answer without ``Items``, or an item without a numeric ``retailPrice``, raises :class:`PriceListError`
  naming the query and the page. VM sizes' vCPU count comes from the size name; memory from the built-in
  size table, else the series' GiB per vCPU (D 4, E 8, F 2), else unknown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from cloudoptima.clouds.azure import pricing
from cloudoptima.clouds.http_json import get_json
from cloudoptima.clouds.instance_families import azure_family
from cloudoptima.domain.inventory import CloudProvider
from cloudoptima.domain.prices import ListPrice, PriceKind, PriceListError, PriceScope

BASE_URL = "https://prices.azure.com"
API_VERSION = "2023-01-01-preview"
SOURCE = "Azure Retail Prices"
DISK_TIER_GB = Decimal(128)
_VM = re.compile(r"^Standard_([A-Z]+)(\d+)([a-z]*)(?:_v(\d+))?$")
_GIB_PER_VCPU = {"D": Decimal(4), "E": Decimal(8), "F": Decimal(2)}
_DISK_METERS = {
    "P10 LRS Disk": "Premium_LRS",
    "E10 LRS Disk": "StandardSSD_LRS",
    "S10 LRS Disk": "Standard_LRS",
}
_BLOB_METERS = {
    "Hot LRS Data Stored": "Hot",
    "Cool LRS Data Stored": "Cool",
    "Archive LRS Data Stored": "Archive",
}

Picked = list[tuple[PriceKind, str, Decimal]]
Pick = Callable[[dict[str, Any]], Picked]
"""An item → the ``(kind, sku, unit price)`` it prices (none when it is not one we keep)."""


@dataclass(frozen=True)
class _Query:
    service: str
    clauses: tuple[tuple[str, str], ...]
    pick: Pick

    def odata(self, region: str) -> str:
        pairs = (("serviceName", self.service), ("armRegionName", region), ("priceType", "Consumption"))
        return " and ".join(f"{k} eq '{v}'" for k, v in (*pairs, *self.clauses))


def vm_family(size: str) -> str | None:
    """``Standard_D4s_v5`` → ``Dsv5``; ``Standard_B2ms`` → ``B`` (the sandbox catalogue's family names)."""
    return azure_family(size)


def vm_shape(size: str) -> tuple[int | None, Decimal | None]:
    """(vCPU, memory GiB) of a size name (see module contract)."""
    known = pricing.VM_SIZES.get(size)
    if known is not None:
        return known[0], known[1]
    match = _VM.match(size)
    if match is None:
        return None, None
    vcpu = int(match.group(2))
    ratio = _GIB_PER_VCPU.get(match.group(1))
    return vcpu, (ratio * vcpu if ratio is not None else None)


def _vm(families: frozenset[str]) -> Pick:
    def pick(item: dict[str, Any]) -> Picked:
        size = str(item.get("armSkuName") or "")
        sku_name = str(item.get("skuName") or "")
        if "Windows" in str(item.get("productName", "")) or "Spot" in sku_name or "Low Priority" in sku_name:
            return []
        if item.get("unitOfMeasure") != "1 Hour" or vm_family(size) not in families:
            return []
        return [(PriceKind.INSTANCE, size, _price(item))]

    return pick


def _storage(item: dict[str, Any]) -> Picked:
    meter = str(item.get("meterName", ""))
    if meter in _DISK_METERS and item.get("unitOfMeasure") == "1/Month":
        return [(PriceKind.DISK, _DISK_METERS[meter], _price(item) / DISK_TIER_GB)]
    if meter == "LRS Snapshot" and item.get("unitOfMeasure") == "1 GB/Month":
        return [(PriceKind.SNAPSHOT, "standard", _price(item))]
    return []


def _blob(item: dict[str, Any]) -> Picked:
    meter = str(item.get("meterName", ""))
    if meter in _BLOB_METERS and Decimal(str(item.get("tierMinimumUnits", 0))) == 0:
        return [(PriceKind.OBJECT_STORAGE, _BLOB_METERS[meter], _price(item))]
    return []


def _ip(item: dict[str, Any]) -> Picked:
    if item.get("meterName") == "Standard IPv4 Static Public IP" and item.get("unitOfMeasure") == "1 Hour":
        price = _price(item)  # a Standard static IPv4 costs the same associated or not
        return [(PriceKind.PUBLIC_IP, "in_use", price), (PriceKind.PUBLIC_IP, "idle", price)]
    return []


def _lb(item: dict[str, Any]) -> Picked:
    if item.get("meterName") == "Standard Included LB Rules and Outbound Rules":
        return [(PriceKind.LOAD_BALANCER, "standard", _price(item))]
    return []


def _price(item: dict[str, Any]) -> Decimal:
    try:
        return Decimal(str(item["retailPrice"]))
    except (KeyError, InvalidOperation) as error:
        raise PriceListError(f"item {item.get('meterId', '?')} has no numeric retailPrice") from error


def _queries(scope: PriceScope) -> list[_Query]:
    queries = [_Query("Virtual Machines", (), _vm(scope.families))] if scope.families else []
    return [
        *queries,
        _Query("Storage", (("productName", "Premium SSD Managed Disks"),), _storage),
        _Query("Storage", (("productName", "Standard SSD Managed Disks"),), _storage),
        _Query("Storage", (("productName", "Standard HDD Managed Disks"),), _storage),
        _Query("Storage", (("productName", "General Block Blob v2"),), _blob),
        _Query("Virtual Network", (("productName", "IP Addresses"),), _ip),
        _Query("Load Balancer", (), _lb),
    ]


class AzureRetailPrices:
    """Reads list prices of one :class:`PriceScope` from the Retail Prices API (see module contract)."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        base_url: str = BASE_URL,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self._client = client
        self._base_url = base_url.rstrip("/")
        self._sleep = sleep
        self.pages_read = 0

    def fetch(self, scope: PriceScope) -> list[ListPrice]:
        """Every price of ``scope``; the first item of a ``(kind, region, sku)`` wins."""
        found: dict[tuple[PriceKind, str, str], ListPrice] = {}
        for region in sorted(scope.regions):
            for query in _queries(scope):
                for price in self._prices(query, region):
                    found.setdefault((price.kind, price.region, price.sku), price)
        return list(found.values())

    def _prices(self, query: _Query, region: str) -> Iterator[ListPrice]:
        odata = query.odata(region.lower().replace(" ", ""))
        for page, item in self._items(odata):
            try:
                picked = query.pick(item)
            except PriceListError as error:
                raise PriceListError(f"{SOURCE} [{odata}] page {page}: {error}") from error
            for kind, sku, unit_price in picked:
                if unit_price > 0:
                    yield self._price(query, region, item, kind, sku, unit_price)

    @staticmethod
    def _price(
        query: _Query, region: str, item: dict[str, Any], kind: PriceKind, sku: str, unit_price: Decimal
    ) -> ListPrice:
        vcpu, memory = vm_shape(sku) if kind == PriceKind.INSTANCE else (None, None)
        return ListPrice(
            provider=CloudProvider.AZURE,
            kind=kind,
            region=region,
            sku=sku,
            unit_price=unit_price,
            service=query.service,
            provider_sku_id=item.get("skuId"),
            family=vm_family(sku) if kind == PriceKind.INSTANCE else None,
            vcpu=vcpu,
            memory_gib=memory,
        )

    def _items(self, odata: str) -> Iterator[tuple[int, dict[str, Any]]]:
        url: str | None = f"{self._base_url}/api/retail/prices"
        params: dict[str, str] | None = {
            "api-version": API_VERSION,
            "meterRegion": "'primary'",
            "$filter": odata,
        }
        page = 0
        while url:
            page += 1
            kwargs: dict[str, Any] = {"sleep": self._sleep} if self._sleep is not None else {}
            body = get_json(
                self._client, url, what=f"{SOURCE} [{odata}] page {page}", params=params, **kwargs
            )
            self.pages_read += 1
            items = body.get("Items")
            if not isinstance(items, list):
                raise PriceListError(f"{SOURCE} [{odata}] page {page}: the answer has no Items list")
            for item in items:
                if not isinstance(item, dict):
                    raise PriceListError(f"{SOURCE} [{odata}] page {page}: an item is not an object")
                yield page, item
            url, params = body.get("NextPageLink"), None
