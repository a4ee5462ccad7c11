"""The FOCUS files: layout, columns and value formats."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from cloudoptima.clouds.sandbox import FOCUS_COLUMNS, Estate, read_cost_rows
from cloudoptima.clouds.sandbox.loader import cost_files

STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T00:00:00Z$")
MONEY = re.compile(r"^\d+\.\d{6}$")
PROVIDERS = {"aws": "AWS", "azure": "Microsoft", "gcp": "Google Cloud"}
CATEGORIES = {"Compute", "Storage", "Networking", "Databases"}


def _day(stamp: str) -> date:
    return date.fromisoformat(stamp[:10])


def test_files_are_laid_out_per_provider_account_and_month(estate: Estate, written: Path) -> None:
    files = cost_files(written)
    accounts = {(a.provider.value, a.account_id) for a in estate.accounts}
    assert {(p.parent.parent.name, p.parent.name) for p in files} == accounts
    months = {p.name for p in files}
    assert months == {"2025-09.csv.gz", "2025-10.csv.gz", "2025-11.csv.gz", "2025-12.csv.gz"}
    with gzip.open(files[0], "rt", encoding="utf-8") as handle:
        assert handle.readline().rstrip("\n").split(",") == list(FOCUS_COLUMNS)
    assert len(FOCUS_COLUMNS) == 57


def test_every_row_is_valid_focus(estate: Estate, written: Path) -> None:
    spec = estate.spec
    keys: Counter[tuple[str, str, str]] = Counter()
    rows = 0
    for row in read_cost_rows(written):
        rows += 1
        start, end = row["ChargePeriodStart"], row["ChargePeriodEnd"]
        assert STAMP.match(start) and STAMP.match(end)
        assert _day(end) == _day(start) + timedelta(days=1)
        assert spec.start <= _day(start) < spec.end
        assert _day(row["BillingPeriodStart"]) == _day(start).replace(day=1)
        assert _day(row["BillingPeriodEnd"]) == (_day(start).replace(day=28) + timedelta(days=4)).replace(
            day=1
        )
        costs = {row[c] for c in ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")}
        assert len(costs) == 1
        cost = costs.pop()
        assert MONEY.match(cost), cost
        listed = Decimal(row["ListUnitPrice"]) * Decimal(row["PricingQuantity"])
        assert abs(listed - Decimal(cost)) <= Decimal("0.000001")
        assert row["ChargeCategory"] == "Usage" and row["BillingCurrency"] == "USD"
        assert row["ProviderName"] in PROVIDERS.values()
        assert row["ServiceCategory"] in CATEGORIES
        assert row["PricingUnit"] in {"Hours", "GB-Mo"} and row["ConsumedUnit"] == row["PricingUnit"]
        assert row["ConsumedQuantity"] == row["PricingQuantity"]
        assert row["ResourceId"] and row["SkuId"] and row["RegionId"] and row["BillingAccountId"]
        tags = json.loads(row["Tags"])
        assert isinstance(tags, dict)
        assert all(isinstance(v, str) for v in tags.values())
        keys[(row["ResourceId"], start, row["SkuId"])] += 1
    assert rows > 10_000
    assert max(keys.values()) == 1


def test_rows_belong_to_the_account_and_month_of_their_file(estate: Estate, written: Path) -> None:
    for path in cost_files(written)[:6]:
        provider, account = path.parent.parent.name, path.parent.name
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            lines = handle.read().splitlines()[1:]
        assert lines
        for line in lines:
            assert f",{account}," in line
            assert f",{PROVIDERS[provider]}," in line
            assert f",{path.name[:7]}-" in line
