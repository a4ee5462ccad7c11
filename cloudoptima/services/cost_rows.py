"""Provider ``DailyCost`` items → canonical ``cost_data`` batches (what :class:`CostLoader` COPYs).

Contract:

- One row per item; the charge period is the item's UTC day ``[day, day + 1)``, the billing period its
  calendar month ``[first of month, first of next month)``.
- Money keeps its exact digits (Decimal → plain decimal string, never float); ``effective_cost`` and
  ``list_cost`` fall back to ``billed_cost`` when the cloud gives none (FOCUS requires both).
- ``provider`` is the short code (``aws | azure | gcp | oci | other``), ``provider_name`` the FOCUS
  ProviderName; ``usage_type`` goes to ``sku_meter`` (where the sandbox's FOCUS files put it too), usage
  quantity and unit to ``consumed_quantity`` / ``consumed_unit``.
- ``resource_id`` / ``resource_name`` are kept as given; ``tags`` become compact JSON text with sorted keys
  (what the ingest path stores, so the rollup projects both the same way), ``NULL`` when there are none.
- ``source_file`` names the collection (``collection:<provider>:<account>``) so a row says where it came from.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pyarrow as pa

from cloudoptima.clouds.protocol import DailyCost
from cloudoptima.ingest.providers import provider_code

PROVIDER_NAMES = {"aws": "AWS", "azure": "Microsoft", "gcp": "Google Cloud", "oci": "Oracle"}
_TS = pa.timestamp("us", tz="UTC")


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _month(day: date) -> tuple[datetime, datetime]:
    first = day.replace(day=1)
    following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return _midnight(first), _midnight(following)


def _money(value: Decimal | None) -> str | None:
    if value is None:
        return None
    text = format(value, "f")
    return text if text not in ("-0", "") else "0"


def _code(name: str) -> str:
    lowered = name.strip().lower()
    return lowered if lowered in PROVIDER_NAMES else provider_code(name)


def cost_batch(items: Sequence[DailyCost], source: str) -> pa.Table:
    """The canonical batch of ``items`` (see the module contract); an empty table when there are none."""
    columns: dict[str, list[object]] = {
        name: []
        for name in (
            "provider",
            "provider_name",
            "billing_account_id",
            "sub_account_id",
            "billing_currency",
            "billing_period_start",
            "billing_period_end",
            "charge_period_start",
            "charge_period_end",
            "charge_category",
            "billed_cost",
            "effective_cost",
            "list_cost",
            "service_name",
            "service_category",
            "region_id",
            "resource_id",
            "resource_name",
            "tags",
            "sku_meter",
            "consumed_quantity",
            "consumed_unit",
            "source_file",
        )
    }
    for item in items:
        code = _code(item.provider)
        period_start, period_end = _month(item.day)
        values: dict[str, object] = {
            "provider": code,
            "provider_name": PROVIDER_NAMES.get(code, item.provider),
            "billing_account_id": item.billing_account_id,
            "sub_account_id": item.account_id,
            "billing_currency": item.currency.upper(),
            "billing_period_start": period_start,
            "billing_period_end": period_end,
            "charge_period_start": _midnight(item.day),
            "charge_period_end": _midnight(item.day + timedelta(days=1)),
            "charge_category": item.charge_category,
            "billed_cost": _money(item.billed_cost),
            "effective_cost": _money(
                item.effective_cost if item.effective_cost is not None else item.billed_cost
            ),
            "list_cost": _money(item.list_cost if item.list_cost is not None else item.billed_cost),
            "service_name": item.service_name,
            "service_category": item.service_category,
            "region_id": item.region,
            "resource_id": item.resource_id,
            "resource_name": item.resource_name,
            "tags": json.dumps(item.tags, sort_keys=True, separators=(",", ":")) if item.tags else None,
            "sku_meter": item.usage_type,
            "consumed_quantity": _money(item.usage_quantity),
            "consumed_unit": item.usage_unit,
            "source_file": source,
        }
        for name, value in values.items():
            columns[name].append(value)
    timestamps = {"billing_period_start", "billing_period_end", "charge_period_start", "charge_period_end"}
    return pa.table(
        {
            name: pa.array(values, type=_TS if name in timestamps else pa.string())
            for name, values in columns.items()
        }
    )
