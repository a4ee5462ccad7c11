"""Cost Management of the fake: the Query API (daily or monthly, grouped, tags, paged by three rows; actual and
amortised cost are the same here: the fake plants no reservations) and the forecast."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from cloudoptima_evals.fakes.azure.server import Reply, error

if TYPE_CHECKING:
    from cloudoptima_evals.fakes.azure.server import FakeAzureServer


def cost_query(
    server: FakeAzureServer,
    path: str,
    query: dict[str, str],
    body: dict[str, Any],
    resource_group: str | None = None,
) -> Reply:
    """The Query API at subscription or resource-group scope (``resource_group``: lower-cased name).
    ``dataset.include: ["Tags"]`` adds a ``Tags`` column (``"key":"value"`` strings, as Cost Management
    answers) and needs a ``ResourceId`` grouping; anything else in ``include`` is refused."""
    dataset = body.get("dataset") or {}
    include = dataset.get("include") or []
    if any(i != "Tags" for i in include):
        return error(400, "BadRequest", f"Invalid query definition: invalid include value(s) {include}.")
    granularity = dataset.get("granularity")
    if body.get("timeframe") != "Custom" or granularity not in ("Daily", "Monthly"):
        return error(
            400,
            "BadRequest",
            "Invalid query definition: timeframe Custom and Daily or Monthly granularity expected.",
        )
    if body.get("type") not in ("ActualCost", "AmortizedCost"):
        return error(400, "BadRequest", f"Invalid query definition: unknown type {body.get('type')!r}.")
    groups = [g["name"] for g in dataset.get("grouping", [])]
    known = {
        "ServiceName": "service",
        "ResourceLocation": "location",
        "ResourceGroupName": "resource_group",
        "ResourceId": "resource_id",
    }
    if any(g not in known for g in groups):
        return error(400, "BadRequest", f"Invalid dimension in grouping: {groups}.")
    tagged = "Tags" in include
    if tagged and "ResourceId" not in groups:
        return error(400, "BadRequest", "Invalid query definition: Tags can only be included per ResourceId.")
    start = date.fromisoformat(body["timePeriod"]["from"][:10])
    end = date.fromisoformat(body["timePeriod"]["to"][:10])
    totals: dict[tuple[Any, ...], Decimal] = defaultdict(Decimal)
    for row in server.tenant.costs:
        if start <= row.day <= end and resource_group in (None, row.resource_group.lower()):
            # Daily: UsageDate 20240115 (a number); Monthly: BillingMonth "2024-01-01T00:00:00" (a string).
            when: Any = (
                int(row.day.strftime("%Y%m%d")) if granularity == "Daily" else f"{row.day:%Y-%m}-01T00:00:00"
            )
            key = (when, *(getattr(row, known[g]) for g in groups))
            totals[key] += row.cost

    def tags(key: tuple[Any, ...]) -> list[list[str]]:
        if not tagged:
            return []
        resource = server.tenant.get(str(key[1 + groups.index("ResourceId")])) or {}
        return [[f'"{k}":"{v}"' for k, v in sorted((resource.get("tags") or {}).items())]]

    rows = [[float(total), *key, *tags(key), "USD"] for key, total in sorted(totals.items())]
    aggregations: dict[str, dict[str, Any]] = dataset.get("aggregation", {})
    first_aggregation: dict[str, Any] = next(iter(aggregations.values()), {})
    agg_name = first_aggregation.get("name", "Cost")
    skip = int(query.get("$skiptoken", "0"))
    properties: dict[str, Any] = {
        "columns": [
            {"name": agg_name, "type": "Number"},
            {"name": "UsageDate", "type": "Number"}
            if granularity == "Daily"
            else {"name": "BillingMonth", "type": "Datetime"},
            *({"name": g, "type": "String"} for g in groups),
            *([{"name": "Tags", "type": "String"}] if tagged else []),
            {"name": "Currency", "type": "String"},
        ],
        "rows": rows[skip : skip + 3],
        "nextLink": None,
    }
    if skip + 3 < len(rows):
        properties["nextLink"] = (
            f"{server.base_url}{path}?api-version={query['api-version']}&$skiptoken={skip + 3}"
        )
    return Reply(
        200,
        {
            "id": f"{path}/{uuid.uuid4()}",
            "name": str(uuid.uuid4()),
            "type": "Microsoft.CostManagement/query",
            "properties": properties,
        },
    )


def forecast(server: FakeAzureServer, body: dict[str, Any]) -> Reply:
    """The Forecast API: the tenant's planted daily forecast, else the run-rate of the 7 days before."""
    start = date.fromisoformat(body["timePeriod"]["from"][:10])
    end = date.fromisoformat(body["timePeriod"]["to"][:10])
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    daily = server.tenant.forecast_daily
    if daily is None:  # the run-rate of the last 7 days before the forecast: Azure's view of a flat estate
        week = [row.cost for row in server.tenant.costs if start - timedelta(days=7) <= row.day < start]
        daily = (sum(week, Decimal(0)) / 7).quantize(Decimal("0.0001"))
    rows = [[float(daily), int(d.strftime("%Y%m%d")), "Forecast", "USD"] for d in days]
    columns = [
        {"name": "Cost", "type": "Number"},
        {"name": "UsageDate", "type": "Number"},
        {"name": "CostStatus", "type": "String"},
        {"name": "Currency", "type": "String"},
    ]
    return Reply(
        200,
        {
            "id": "forecast",
            "name": "forecast",
            "type": "Microsoft.CostManagement/forecast",
            "properties": {"columns": columns, "rows": rows, "nextLink": None},
        },
    )
