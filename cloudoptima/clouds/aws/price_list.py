"""AWS list prices from the AWS Price List Query API (``pricing:GetProducts``) for the price store.

Contract (``AwsPriceList(client).fetch(scope)``):

- ``client`` is a boto3 ``pricing`` client (the API lives in us-east-1; retries are the client's: build it
  with ``retries={"mode": "standard", ...}`` so throttling and 5xx are retried).
- Per region of ``scope``: Linux, shared-tenancy, on-demand instance prices of each family in
  ``scope.families`` (``instanceType CONTAINS "<family>."``), EBS volume GB-month per volume type, EBS
  snapshot GB-month, the public IPv4 hourly price (in use and idle), the Application Load Balancer hourly
  price, S3 storage GB-month per storage class (first tier) and single-AZ PostgreSQL RDS class hourly
  prices of ``scope.database_classes`` (each class asked for exactly, ``ANY_OF``).
- Every query is paged with ``NextToken`` until the API returns none.
- A product whose JSON or on-demand price cannot be read raises :class:`PriceListError` naming the service,
  the page and the SKU; products with a price of 0 (free tiers) are skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from cloudoptima.domain.inventory import CloudProvider
from cloudoptima.domain.prices import ListPrice, PriceKind, PriceListError, PriceScope

PAGE_SIZE = 100
SOURCE = "AWS Price List"

_S3_CLASSES: dict[str, str] = {
    "Standard": "STANDARD",
    "Standard - Infrequent Access": "STANDARD_IA",
    "One Zone - Infrequent Access": "ONEZONE_IA",
    "Glacier Instant Retrieval": "GLACIER_IR",
    "Amazon Glacier": "GLACIER",
    "Glacier Deep Archive": "DEEP_ARCHIVE",
    "Intelligent-Tiering Frequent Access": "INTELLIGENT_TIERING",
}
_MEMORY = re.compile(r"^\s*([\d.,]+)\s*GiB\s*$")

Key = Callable[[dict[str, str]], str | None]


@dataclass(frozen=True)
class _Query:
    kind: PriceKind
    service: str
    filters: tuple[tuple[str, str, str], ...]
    """``(type, field, value)``."""
    key: Key
    """The store ``sku`` of a product from its attributes (None = not one we keep)."""


def _filters(*pairs: tuple[str, str], region: str) -> tuple[tuple[str, str, str], ...]:
    return (("TERM_MATCH", "regionCode", region), *(("TERM_MATCH", f, v) for f, v in pairs))


def _queries(region: str, scope: PriceScope) -> list[_Query]:
    queries = [
        _Query(
            PriceKind.INSTANCE,
            "AmazonEC2",
            (
                *_filters(
                    ("productFamily", "Compute Instance"),
                    ("operatingSystem", "Linux"),
                    ("tenancy", "Shared"),
                    ("preInstalledSw", "NA"),
                    ("capacitystatus", "Used"),
                    region=region,
                ),
                ("CONTAINS", "instanceType", f"{family}."),
            ),
            _instance_key(family),
        )
        for family in sorted(scope.families)
    ]
    queries += [
        _Query(
            PriceKind.DISK,
            "AmazonEC2",
            _filters(("productFamily", "Storage"), region=region),
            lambda a: a.get("volumeApiName"),
        ),
        _Query(
            PriceKind.SNAPSHOT,
            "AmazonEC2",
            _filters(("productFamily", "Storage Snapshot"), region=region),
            lambda a: "standard" if a.get("usagetype", "").endswith("EBS:SnapshotUsage") else None,
        ),
        _Query(
            PriceKind.PUBLIC_IP,
            "AmazonVPC",
            _filters(("group", "VPCPublicIPv4Address"), region=region),
            lambda a: {"InUseAddress": "in_use", "IdleAddress": "idle"}.get(
                a.get("usagetype", "").rpartition(":")[2]
            ),
        ),
        _Query(
            PriceKind.LOAD_BALANCER,
            "AWSELB",
            _filters(("productFamily", "Load Balancer-Application"), region=region),
            lambda a: "application" if a.get("usagetype", "").endswith("LoadBalancerUsage") else None,
        ),
        _Query(
            PriceKind.OBJECT_STORAGE,
            "AmazonS3",
            _filters(("productFamily", "Storage"), region=region),
            lambda a: _S3_CLASSES.get(a.get("volumeType", "")),
        ),
    ]
    if scope.database_classes:
        queries.append(
            _Query(
                PriceKind.DATABASE,
                "AmazonRDS",
                (
                    *_filters(
                        ("productFamily", "Database Instance"),
                        ("databaseEngine", "PostgreSQL"),
                        ("deploymentOption", "Single-AZ"),
                        region=region,
                    ),
                    ("ANY_OF", "instanceType", ",".join(sorted(scope.database_classes))),
                ),
                lambda a: a.get("instanceType"),
            )
        )
    return queries


def _instance_key(family: str) -> Key:
    def key(attributes: dict[str, str]) -> str | None:
        instance_type = attributes.get("instanceType")
        return instance_type if _family(instance_type) == family else None

    return key


def _family(instance_type: str | None) -> str | None:
    return instance_type.partition(".")[0] if instance_type and "." in instance_type else None


def _on_demand_usd(product: dict[str, Any], where: str) -> Decimal:
    """The first-tier on-demand USD price of a product (``PriceListError`` when there is none)."""
    try:
        terms = product["terms"]["OnDemand"]
        prices = [
            (Decimal(str(dim.get("beginRange", "0"))), Decimal(dim["pricePerUnit"]["USD"]))
            for term in terms.values()
            for dim in term["priceDimensions"].values()
        ]
    except (KeyError, TypeError, AttributeError, InvalidOperation) as error:
        raise PriceListError(f"{where}: no readable on-demand USD price ({error!r})") from error
    if not prices:
        raise PriceListError(f"{where}: no on-demand price dimension")
    return min(prices)[1]


def _memory(text: str | None) -> Decimal | None:
    match = _MEMORY.match(text or "")
    return Decimal(match.group(1).replace(",", "")) if match else None


def family_of(instance_type: str) -> str | None:
    """``m5.large`` → ``m5`` (what a refresh asks the Price List for); None for a name without a family."""
    return _family(instance_type)


class AwsPriceList:
    """Reads list prices of one :class:`PriceScope` from the Price List Query API (see module contract)."""

    @classmethod
    def from_environment(cls, endpoint_url: str | None = None) -> AwsPriceList:
        """A reader over a ``pricing`` client in us-east-1 with the default credential chain (any valid AWS
        credentials may read the Price List) and standard-mode retries."""
        import boto3
        from botocore.config import Config

        client = boto3.client(
            "pricing",
            region_name="us-east-1",
            endpoint_url=endpoint_url,
            config=Config(
                retries={"mode": "standard", "max_attempts": 5}, connect_timeout=10, read_timeout=60
            ),
        )
        return cls(client)

    def __init__(self, client: Any, *, page_size: int = PAGE_SIZE) -> None:
        self._client = client
        self._page_size = page_size
        self.pages_read = 0

    def fetch(self, scope: PriceScope) -> list[ListPrice]:
        """Every price of ``scope``, one per ``(kind, region, sku)`` (the first product found wins)."""
        found: dict[tuple[PriceKind, str, str], ListPrice] = {}
        for region in sorted(scope.regions):
            for query in _queries(region, scope):
                for price in self._prices(query, region):
                    found.setdefault((price.kind, price.region, price.sku), price)
        return list(found.values())

    def _prices(self, query: _Query, region: str) -> Iterator[ListPrice]:
        for page, raw in self._products(query):
            where = f"{SOURCE} {query.service} page {page}"
            try:
                product = json.loads(raw) if isinstance(raw, str) else raw
                attributes = product["product"]["attributes"]
                sku_id = str(product["product"].get("sku", ""))
            except (ValueError, KeyError, TypeError) as error:
                raise PriceListError(f"{where}: a product is not Price List JSON ({error!r})") from error
            sku = query.key(attributes)
            if sku is None:
                continue
            usd = _on_demand_usd(product, f"{where} SKU {sku_id}")
            if usd <= 0:
                continue
            instance = query.kind == PriceKind.INSTANCE
            yield ListPrice(
                provider=CloudProvider.AWS,
                kind=query.kind,
                region=region,
                sku=sku,
                unit_price=usd,
                service=query.service,
                provider_sku_id=sku_id or None,
                family=_family(sku) if instance else None,
                vcpu=int(attributes["vcpu"])
                if instance and str(attributes.get("vcpu", "")).isdigit()
                else None,
                memory_gib=_memory(attributes.get("memory")) if instance else None,
            )

    def _products(self, query: _Query) -> Iterator[tuple[int, Any]]:
        token: str | None = None
        page = 0
        while True:
            request: dict[str, Any] = {
                "ServiceCode": query.service,
                "Filters": [{"Type": t, "Field": f, "Value": v} for t, f, v in query.filters],
                "FormatVersion": "aws_v1",
                "MaxResults": self._page_size,
            }
            if token:
                request["NextToken"] = token
            response = self._client.get_products(**request)
            page += 1
            self.pages_read += 1
            for raw in response.get("PriceList", []):
                yield page, raw
            token = response.get("NextToken")
            if not token:
                return
