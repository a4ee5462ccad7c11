"""Strict local fakes of the three providers' price lists, each a real HTTP server on 127.0.0.1.

- :class:`FakeAwsPricing`: the Price List Query API's JSON 1.1 protocol (``POST /`` with
  ``X-Amz-Target: AWSPriceListService.GetProducts``), SigV4 ``Authorization`` required, filters checked
  (type, field) and applied to the products' attributes (TERM_MATCH/EQUALS exact, CONTAINS, ANY_OF),
  ``MaxResults`` ≤ 100, ``NextToken`` only as issued; ``PriceList`` items are JSON strings, as AWS sends.
- :class:`FakeAzureRetail`: ``GET /api/retail/prices`` requires ``api-version=2023-01-01-preview`` and an
  OData ``$filter`` of ``field eq 'value'`` clauses joined by `` and `` over the documented fields (400
  otherwise), compared case-sensitively as that api-version does; ``meterRegion='primary'`` drops
  non-primary meters; pages of ``page_size`` items with a ``NextPageLink`` carrying ``$skip`` (and the
  other parameters), as the service sends it.
- :class:`FakeGcpCatalog`: ``GET /v1/services/6F81-5844-456A/skus`` requires ``key`` and
  ``currencyCode=USD``; pages by ``pageSize`` with opaque ``nextPageToken`` values it checks.

Every fake records its requests and can fail the next N calls (``fail(status, times)``) to exercise retries,
or serve ``malformed`` bodies.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

Answer = tuple[int, dict[str, str], bytes]


@dataclass
class _Faults:
    status: int = 0
    times: int = 0
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=dict)

    def take(self) -> Answer | None:
        if self.times <= 0:
            return None
        self.times -= 1
        return self.status, self.headers, self.body


class _Server:
    """Serves ``handle(method, path, query, headers, body)`` in a daemon thread."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, list[str]], dict[str, Any]]] = []
        self.faults = _Faults()
        self.malformed: bytes | None = None
        handle = self._dispatch

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, payload = handle(self.command, self.path, dict(self.headers.items()), body)
                self.send_response(status)
                for key, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _any  # noqa: N815 - http.server's naming

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def fail(
        self, status: int, times: int = 1, *, body: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        """Answer the next ``times`` requests with ``status``."""
        self.faults = _Faults(status, times, json.dumps(body or {}).encode(), headers or {})

    def _dispatch(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        parts = urlsplit(target)
        query = parse_qs(parts.query, keep_blank_values=True)
        self.requests.append((method, parts.path, query, headers))
        fault = self.faults.take()
        if fault is not None:
            return fault
        if self.malformed is not None:
            return 200, {}, self.malformed
        status, payload = self.handle(method, parts.path, query, headers, body)
        return status, {}, json.dumps(payload).encode()

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        raise NotImplementedError


def _paged(items: list[Any], start: int, size: int) -> tuple[list[Any], int | None]:
    chunk = items[start : start + size]
    following = start + size
    return chunk, (following if following < len(items) else None)


# ---- AWS Price List ---------------------------------------------------------------------------------------
_AWS_FILTER_TYPES = {"TERM_MATCH", "EQUALS", "CONTAINS", "ANY_OF", "NONE_OF"}


def aws_product(
    service: str, sku: str, attributes: dict[str, str], usd: str, unit: str = "Hrs"
) -> dict[str, Any]:
    """A Price List product document as ``GetProducts`` returns it (aws_v1)."""
    term = f"{sku}.JRTCKXETXF"
    return {
        "product": {
            "productFamily": attributes.get("productFamily", ""),
            "attributes": attributes,
            "sku": sku,
        },
        "serviceCode": service,
        "terms": {
            "OnDemand": {
                term: {
                    "offerTermCode": "JRTCKXETXF",
                    "sku": sku,
                    "priceDimensions": {
                        f"{term}.6YS6EN2CT7": {
                            "unit": unit,
                            "beginRange": "0",
                            "endRange": "Inf",
                            "pricePerUnit": {"USD": usd},
                            "description": f"${usd} per {unit}",
                        }
                    },
                }
            }
        },
        "version": "20261201000000",
        "publicationDate": "2026-12-01T00:00:00Z",
    }


class FakeAwsPricing(_Server):
    """The ``pricing`` API over ``products`` (see module docstring)."""

    def __init__(self, products: list[dict[str, Any]], *, page_size: int = 2) -> None:
        super().__init__()
        self.products = products
        self.page_size = page_size
        self.tokens: dict[str, tuple[str, int]] = {}

    def fail_throttled(self, times: int = 1) -> None:
        self.fail(400, times, body={"__type": "ThrottlingException", "message": "Rate exceeded"})

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        def error(kind: str, message: str) -> tuple[int, Any]:
            return 400, {"__type": kind, "message": message}

        lower = {k.lower(): v for k, v in headers.items()}
        if method != "POST" or path != "/":
            return error("UnknownOperationException", f"{method} {path}")
        if lower.get("x-amz-target") != "AWSPriceListService.GetProducts":
            return error("UnknownOperationException", str(lower.get("x-amz-target")))
        if not lower.get("authorization", "").startswith("AWS4-HMAC-SHA256 "):
            return error("MissingAuthenticationTokenException", "Missing Authentication Token")
        request = json.loads(body)
        service = request.get("ServiceCode")
        if not service:
            return error("InvalidParameterException", "ServiceCode is required")
        if int(request.get("MaxResults", 100)) > 100:
            return error("InvalidParameterException", "MaxResults must be <= 100")
        filters = request.get("Filters", [])
        for f in filters:
            if f.get("Type") not in _AWS_FILTER_TYPES or not f.get("Field") or "Value" not in f:
                return error("InvalidParameterException", f"bad filter {f}")
        key = json.dumps([service, filters], sort_keys=True)
        start = 0
        if "NextToken" in request:
            issued = self.tokens.pop(request["NextToken"], None)
            if issued is None or issued[0] != key:
                return error("InvalidNextTokenException", "The next token is invalid")
            start = issued[1]
        matching = [
            p for p in self.products if p["serviceCode"] == service and all(_matches(p, f) for f in filters)
        ]
        size = min(self.page_size, int(request.get("MaxResults", 100)))
        chunk, following = _paged(matching, start, size)
        answer: dict[str, Any] = {"FormatVersion": "aws_v1", "PriceList": [json.dumps(p) for p in chunk]}
        if following is not None:
            token = uuid.uuid4().hex
            self.tokens[token] = (key, following)
            answer["NextToken"] = token
        return 200, answer


def _matches(product: dict[str, Any], f: dict[str, str]) -> bool:
    attributes = {**product["product"]["attributes"], "productFamily": product["product"]["productFamily"]}
    value: str | None = attributes.get(f["Field"])
    if value is None:
        return False
    if f["Type"] in ("TERM_MATCH", "EQUALS"):
        return value.lower() == f["Value"].lower()
    if f["Type"] == "CONTAINS":
        return f["Value"].lower() in value.lower()
    options = {v.strip().lower() for v in f["Value"].split(",")}
    return (value.lower() in options) == (f["Type"] == "ANY_OF")


# ---- Azure Retail Prices ----------------------------------------------------------------------------------
AZURE_FILTER_FIELDS = {
    "armRegionName",
    "location",
    "meterId",
    "meterName",
    "productId",
    "skuId",
    "productName",
    "skuName",
    "serviceName",
    "serviceId",
    "serviceFamily",
    "priceType",
    "armSkuName",
}
_CLAUSE = re.compile(r"^(\w+) eq '([^']*)'$")


def azure_item(
    region: str, service: str, product: str, meter: str, price: str, unit: str, **extra: Any
) -> dict[str, Any]:
    """One Retail Prices item (the fields the API returns)."""
    return {
        "currencyCode": "USD",
        "tierMinimumUnits": 0.0,
        "retailPrice": float(price),
        "unitPrice": float(price),
        "armRegionName": region,
        "location": region,
        "effectiveStartDate": "2024-01-01T00:00:00Z",
        "meterId": str(uuid.uuid4()),
        "meterName": meter,
        "productId": "DZH318Z0BQPS",
        "skuId": f"DZH318Z0BQPS/{uuid.uuid4().hex[:4]}",
        "productName": product,
        "skuName": extra.pop("skuName", meter),
        "serviceName": service,
        "serviceId": "DZH313Z7MMC8",
        "serviceFamily": "Compute",
        "unitOfMeasure": unit,
        "type": "Consumption",
        "isPrimaryMeterRegion": True,
        "armSkuName": extra.pop("armSkuName", ""),
        **extra,
    }


class FakeAzureRetail(_Server):
    """``/api/retail/prices`` over ``items`` (see module docstring)."""

    API_VERSION = "2023-01-01-preview"

    def __init__(self, items: list[dict[str, Any]], *, page_size: int = 2) -> None:
        super().__init__()
        self.items = items
        self.page_size = page_size
        self.filters: list[str] = []

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        def error(message: str) -> tuple[int, Any]:
            return 400, {"Error": {"Code": "BadRequest", "Message": message}}

        if method != "GET" or path != "/api/retail/prices":
            return 404, {"Error": {"Code": "NotFound", "Message": path}}
        if query.get("api-version") != [self.API_VERSION]:
            return error(f"unsupported api-version {query.get('api-version')}")
        odata = (query.get("$filter") or [""])[0]
        clauses: list[tuple[str, str]] = []
        for clause in odata.split(" and ") if odata else []:
            match = _CLAUSE.match(clause)
            if match is None or match.group(1) not in AZURE_FILTER_FIELDS:
                return error(f"Invalid OData filter clause {clause!r}")
            clauses.append((match.group(1), match.group(2)))
        if "$skip" not in query:
            self.filters.append(odata)
        primary = query.get("meterRegion") == ["'primary'"]
        priced = [dict(i, priceType=i["type"]) for i in self.items]
        matching = [
            {k: v for k, v in i.items() if k != "priceType"}
            for i in priced
            if all(str(i.get(k, "")) == v for k, v in clauses) and (i["isPrimaryMeterRegion"] or not primary)
        ]
        start = int((query.get("$skip") or ["0"])[0])
        chunk, following = _paged(matching, start, self.page_size)
        link = None
        if following is not None:
            kept = {k: v[0] for k, v in query.items() if k != "$skip"}
            link = f"{self.url}/api/retail/prices?" + urlencode({**kept, "$skip": following})
        return 200, {
            "BillingCurrency": "USD",
            "CustomerEntityId": "Default",
            "CustomerEntityType": "Retail",
            "Items": chunk,
            "NextPageLink": link,
            "Count": len(chunk),
        }


# ---- GCP Cloud Billing Catalog ----------------------------------------------------------------------------
GCP_KEY = "test-api-key"


def gcp_sku(
    description: str, regions: list[str], usd: str, unit: str = "h", usage: str = "OnDemand"
) -> dict[str, Any]:
    """One Cloud Billing Catalog SKU (price as ``units`` + ``nanos``)."""
    units, _, fraction = usd.partition(".")
    nanos = int((fraction + "000000000")[:9])
    sku_id = uuid.uuid4().hex[:14].upper()
    return {
        "name": f"services/6F81-5844-456A/skus/{sku_id}",
        "skuId": sku_id,
        "description": description,
        "category": {
            "serviceDisplayName": "Compute Engine",
            "resourceFamily": "Compute",
            "resourceGroup": "CPU",
            "usageType": usage,
        },
        "serviceRegions": regions,
        "pricingInfo": [
            {
                "summary": "",
                "pricingExpression": {
                    "usageUnit": unit,
                    "displayQuantity": 1,
                    "tieredRates": [
                        {
                            "startUsageAmount": 0,
                            "unitPrice": {"currencyCode": "USD", "units": units, "nanos": nanos},
                        }
                    ],
                },
                "currencyConversionRate": 1,
                "effectiveTime": "2026-12-01T00:00:00Z",
            }
        ],
        "serviceProviderName": "Google",
    }


class FakeGcpCatalog(_Server):
    """``/v1/services/6F81-5844-456A/skus`` over ``skus`` (see module docstring)."""

    def __init__(self, skus: list[dict[str, Any]]) -> None:
        super().__init__()
        self.skus = skus
        self.tokens: dict[str, int] = {}

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        def error(status: int, reason: str, message: str) -> tuple[int, Any]:
            return status, {"error": {"code": status, "message": message, "status": reason}}

        if method != "GET" or path != "/v1/services/6F81-5844-456A/skus":
            return error(404, "NOT_FOUND", path)
        if query.get("key") != [GCP_KEY]:
            return error(403, "PERMISSION_DENIED", "The request is missing a valid API key.")
        if query.get("currencyCode") != ["USD"]:
            return error(400, "INVALID_ARGUMENT", "currencyCode must be USD here")
        size = int((query.get("pageSize") or ["5000"])[0])
        if not 0 < size <= 5000:
            return error(400, "INVALID_ARGUMENT", "pageSize must be in 1..5000")
        start = 0
        if query.get("pageToken"):
            issued = self.tokens.pop(query["pageToken"][0], None)
            if issued is None:
                return error(400, "INVALID_ARGUMENT", "Invalid page token")
            start = issued
        chunk, following = _paged(self.skus, start, size)
        token = ""
        if following is not None:
            token = uuid.uuid4().hex
            self.tokens[token] = following
        return 200, {"skus": chunk, "nextPageToken": token}


Factory = Callable[[], _Server]
