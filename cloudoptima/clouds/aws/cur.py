"""Daily costs from a Cost and Usage Report (CUR 1 CSV/CSV.gz/Parquet or CUR 2.0 Parquet) in S3.

Contract:

- Reads the report files under ``s3://bucket/prefix``. When manifests are present (``*-Manifest.json`` with
  ``reportKeys`` for CUR 1 or ``dataFiles`` for CUR 2.0), only the files they list are read, so superseded
  report versions are not counted twice; otherwise every ``.csv``, ``.csv.gz`` and ``.parquet`` is read.
- Column names are matched after normalisation (``lineItem/UsageStartDate`` and
  ``line_item_usage_start_date`` are the same column).
- Rows are summed per (UTC day, account, service, region, usage type, charge category, currency) for
  ``[start, end)``; amounts are parsed as ``Decimal`` from their text, so sums are exact.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from cloudoptima.clouds.aws.errors import aws_errors
from cloudoptima.clouds.protocol import DailyCost

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
_CHARGE_CATEGORY = {
    "Usage": "Usage",
    "DiscountedUsage": "Usage",
    "SavingsPlanCoveredUsage": "Usage",
    "Tax": "Tax",
    "Credit": "Credit",
    "Refund": "Credit",
    "Fee": "Purchase",
    "RIFee": "Purchase",
    "SavingsPlanRecurringFee": "Purchase",
    "SavingsPlanUpfrontFee": "Purchase",
    "SavingsPlanNegation": "Adjustment",
    "BundledDiscount": "Adjustment",
}
_DATA_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".snappy.parquet")


def normalise(column: str) -> str:
    """``lineItem/UsageStartDate`` → ``line_item_usage_start_date``."""
    return "_".join(_CAMEL.sub("_", part).lower() for part in column.split("/"))


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


class CurReader:
    """Reads CUR files from ``bucket``/``prefix`` through a boto3 ``s3`` client."""

    def __init__(self, s3: Any, bucket: str, prefix: str, account_id: str) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._prefix = prefix.strip("/")
        self._account_id = account_id

    def daily_costs(self, start: date, end: date) -> list[DailyCost]:
        """Aggregated rows of ``[start, end)`` (see module contract)."""
        totals: dict[tuple[Any, ...], list[Decimal | None]] = defaultdict(lambda: [Decimal(0), None, None])
        for row in self._rows():
            started = row.get("line_item_usage_start_date")
            billed = _decimal(row.get("line_item_unblended_cost"))
            if not started or billed is None:
                continue
            day = (
                started
                if isinstance(started, datetime)
                else datetime.fromisoformat(str(started).replace("Z", "+00:00"))
            ).date()
            if not start <= day < end:
                continue
            key = (
                day,
                str(row.get("bill_payer_account_id") or self._account_id),
                str(row.get("line_item_usage_account_id") or self._account_id),
                str(row.get("product_product_name") or row.get("line_item_product_code") or "Unknown"),
                str(row.get("product_region_code") or row.get("product_region") or "") or None,
                str(row.get("line_item_usage_type") or "") or None,
                _CHARGE_CATEGORY.get(str(row.get("line_item_line_item_type") or "Usage"), "Usage"),
                str(row.get("line_item_currency_code") or "USD"),
            )
            total = totals[key]
            total[0] = (total[0] or Decimal(0)) + billed
            effective = _decimal(row.get("pricing_public_on_demand_cost"))
            quantity = _decimal(row.get("line_item_usage_amount"))
            if effective is not None:
                total[1] = (total[1] or Decimal(0)) + effective
            if quantity is not None:
                total[2] = (total[2] or Decimal(0)) + quantity
        return [
            DailyCost(
                day=key[0],
                provider="aws",
                billing_account_id=key[1],
                account_id=key[2],
                service_name=key[3],
                region=key[4],
                usage_type=key[5],
                charge_category=key[6],
                currency=key[7],
                billed_cost=values[0] or Decimal(0),
                list_cost=values[1],
                usage_quantity=values[2],
            )
            for key, values in sorted(totals.items(), key=lambda item: tuple(str(k) for k in item[0]))
        ]

    def data_keys(self) -> list[str]:
        """The report files to read: the manifests' lists, else every data file under the prefix."""
        with aws_errors("s3"):
            paginator = self._s3.get_paginator("list_objects_v2")
            keys = [
                obj["Key"]
                for page in paginator.paginate(Bucket=self._bucket, Prefix=self._prefix)
                for obj in page.get("Contents", [])
            ]
            listed: list[str] = []
            for manifest in (k for k in keys if k.endswith("-Manifest.json")):
                body = json.loads(self._s3.get_object(Bucket=self._bucket, Key=manifest)["Body"].read())
                listed += body.get("reportKeys", [])
                listed += [f.removeprefix(f"s3://{self._bucket}/") for f in body.get("dataFiles", [])]
        if listed:
            return sorted(set(listed))
        return sorted(k for k in keys if k.endswith(_DATA_SUFFIXES))

    def _rows(self) -> Iterator[dict[str, Any]]:
        for key in self.data_keys():
            with aws_errors("s3"):
                raw = self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read()
            if key.endswith(".parquet"):
                yield from self._parquet_rows(raw)
                continue
            text = gzip.decompress(raw).decode("utf-8") if key.endswith(".gz") else raw.decode("utf-8")
            for row in csv.DictReader(io.StringIO(text)):
                yield {normalise(k): v for k, v in row.items() if k}

    @staticmethod
    def _parquet_rows(raw: bytes) -> Iterator[dict[str, Any]]:
        import pyarrow.parquet as pq  # heavy; only CUR Parquet needs it

        table = pq.read_table(io.BytesIO(raw))
        # Money columns as text so Decimal parsing stays exact.
        names = [normalise(n) for n in table.column_names]
        for batch in table.to_batches():
            columns = [[None if v is None else str(v) for v in col.to_pylist()] for col in batch.columns]
            for values in zip(*columns, strict=True):
                yield dict(zip(names, values, strict=True))
