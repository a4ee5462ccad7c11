"""Daily costs and the cloud's own forecast from Azure Cost Management.

Contract:

- :func:`daily_costs` asks the Query API for ``ActualCost`` with ``Daily`` granularity over ``[start, end)``
  (sent as ``from = start 00:00:00``, ``to = end - 1 day 23:59:59``: the API's ``to`` is inclusive), summed
  ``Cost`` grouped by ServiceName, ResourceLocation, ResourceGroupName and ResourceId, including the
  resources' ``Tags`` (``dataset.include``), at each of the account's scopes (the subscription, or each
  configured resource group). Rows keep the resource id and its tags (Cost Management answers tags as
  ``"key":"value"`` strings; a JSON object is accepted too). Query results are not auto-paged by the SDK: we
  POST the same definition to each ``nextLink`` until there is none.
- Amounts are parsed from the raw JSON as ``Decimal`` (never through float), so the sum of the rows equals
  the sum Cost Management reports. The ``Currency`` column gives each row's currency.
- :func:`month_totals` asks the Query API for the whole months from ``start`` with ``Monthly`` granularity
  and no grouping, once as ``ActualCost`` (billed) and once as ``AmortizedCost`` (effective), at each of the
  account's scopes (summed, every page): the provider's own month totals per ``BillingMonth`` and currency.
- :func:`forecast` asks the Forecast API for daily ``ActualCost`` over ``[start, end)``; rows whose
  ``CostStatus`` is ``Actual`` are skipped. Bounds are used when the response carries them.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from azure.core.pipeline import PipelineResponse
from azure.mgmt.costmanagement.models import ForecastDefinition, QueryDefinition

from cloudoptima.clouds.azure import ids
from cloudoptima.clouds.azure.session import AzureSession
from cloudoptima.clouds.month_totals import MonthTotal, ProviderBasis, months_between, next_month
from cloudoptima.clouds.protocol import CloudForecast, DailyCost, ForecastPoint

GROUPS = ("ServiceName", "ResourceLocation", "ResourceGroupName", "ResourceId")
SERVICE_CATEGORIES = {
    "virtual machines": "Compute",
    "storage": "Storage",
    "bandwidth": "Networking",
    "virtual network": "Networking",
    "load balancer": "Networking",
    "azure monitor": "Management and Governance",
    "sql database": "Databases",
}


def _time_period(start: date, end: date) -> dict[str, str]:
    last = end - timedelta(days=1)
    return {"from": f"{start.isoformat()}T00:00:00+00:00", "to": f"{last.isoformat()}T23:59:59+00:00"}


def query_definition(start: date, end: date) -> dict[str, Any]:
    """The Query API body for daily ActualCost grouped by :data:`GROUPS`."""
    return {
        "type": "ActualCost",
        "timeframe": "Custom",
        "timePeriod": _time_period(start, end),
        "dataset": {
            "granularity": "Daily",
            "aggregation": {"totalCost": {"name": "Cost", "function": "Sum"}},
            "grouping": [{"type": "Dimension", "name": name} for name in GROUPS],
            "include": ["Tags"],
        },
    }


def _raw(pipeline_response: PipelineResponse[Any, Any], _deserialized: Any, _headers: Any) -> Any:
    """``cls=`` hook: keep the raw JSON (Decimal numbers) instead of the SDK's float model."""
    return json.loads(pipeline_response.http_response.text(), parse_float=Decimal)


def _day(value: Any) -> date:
    text = str(value)
    if text.isdigit() and len(text) == 8:  # 20240115
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    return date.fromisoformat(text[:10])


def _tags(value: Any) -> dict[str, str]:
    """A row's ``Tags`` cell: ``['"env":"prod"', ...]`` (Cost Management's form), a JSON object, or empty."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else None
        except ValueError:
            value = [value]
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    tags: dict[str, str] = {}
    for item in value or []:
        try:
            tags.update({str(k): str(v) for k, v in json.loads("{" + str(item) + "}").items()})
        except ValueError:
            continue
    return tags


def _columns(properties: dict[str, Any]) -> dict[str, int]:
    return {str(c["name"]).lower(): i for i, c in enumerate(properties.get("columns") or [])}


def daily_costs(session: AzureSession, start: date, end: date) -> list[DailyCost]:
    """Every daily cost row of the account's scopes in ``[start, end)`` (all pages of each scope: the
    subscription, or each configured resource group). Errors propagate."""
    body = query_definition(start, end)
    rows: list[DailyCost] = []
    for scope in session.read_scopes:
        page = session.costs.query.usage(scope, QueryDefinition(body), cls=_raw)
        while page:
            properties = page.get("properties") or {}
            rows += _rows(session, properties, start, end)
            next_link = properties.get("nextLink")
            page = session.arm_json("POST", next_link, body=body) if next_link else None
    return rows


def month_totals(session: AzureSession, start: date, end: date) -> list[MonthTotal]:
    """The provider's own totals of the whole months whose first day lies in ``[start, end)`` (see module
    contract). Errors propagate."""
    months = [m for m in months_between(start, end) if m >= start]
    if not months:
        return []
    totals: list[MonthTotal] = []
    kinds: tuple[tuple[ProviderBasis, str], ...] = (("billed", "ActualCost"), ("effective", "AmortizedCost"))
    for basis, kind in kinds:
        body = {
            "type": kind,
            "timeframe": "Custom",
            "timePeriod": _time_period(months[0], next_month(months[-1])),
            "dataset": {
                "granularity": "Monthly",
                "aggregation": {"totalCost": {"name": "Cost", "function": "Sum"}},
            },
        }
        sums: dict[tuple[date, str], Decimal] = {}
        for scope in session.read_scopes:
            page = session.costs.query.usage(scope, QueryDefinition(body), cls=_raw)
            while page:
                properties = page.get("properties") or {}
                col = _columns(properties)
                cost_i = col.get("cost", col.get("pretaxcost", col.get("totalcost", 0)))
                for row in properties.get("rows") or []:
                    month = _day(row[col["billingmonth"]]).replace(day=1)
                    currency = str(row[col["currency"]]) if "currency" in col else "USD"
                    amount = row[cost_i] if isinstance(row[cost_i], Decimal) else Decimal(str(row[cost_i]))
                    sums[(month, currency)] = sums.get((month, currency), Decimal(0)) + amount
                next_link = properties.get("nextLink")
                page = session.arm_json("POST", next_link, body=body) if next_link else None
        totals += [
            MonthTotal(
                month=month,
                basis=basis,
                currency=currency,
                total=total,
                source=f"Azure Cost Management query Monthly {kind}",
            )
            for (month, currency), total in sorted(sums.items())
            if month in months
        ]
    return totals


def _rows(session: AzureSession, properties: dict[str, Any], start: date, end: date) -> list[DailyCost]:
    col = _columns(properties)
    cost_i = col.get("cost", col.get("pretaxcost", col.get("totalcost", 0)))
    out: list[DailyCost] = []
    for row in properties.get("rows") or []:
        day = _day(row[col["usagedate"]])
        if not start <= day < end:
            continue
        service = str(row[col["servicename"]] or "Unassigned") if "servicename" in col else "Unassigned"
        resource_id = str(row[col["resourceid"]]) if "resourceid" in col and row[col["resourceid"]] else None
        parsed = ids.parse(resource_id or "")
        amount = row[cost_i]
        amount = amount if isinstance(amount, Decimal) else Decimal(str(amount))
        out.append(
            DailyCost(
                day=day,
                provider="azure",
                billing_account_id=session.settings.tenant_id,
                account_id=session.subscription_id,
                service_name=service,
                service_category=SERVICE_CATEGORIES.get(service.lower()),
                region=(str(row[col["resourcelocation"]]) or None) if "resourcelocation" in col else None,
                usage_type=parsed.type if parsed else None,
                resource_id=resource_id,
                resource_name=parsed.name if parsed else None,
                tags=_tags(row[col["tags"]]) if "tags" in col else {},
                billed_cost=amount,
                effective_cost=amount,
                currency=str(row[col["currency"]]) if "currency" in col else "USD",
            )
        )
    return out


def forecast(session: AzureSession, start: date, end: date) -> CloudForecast | None:
    """Cost Management's daily forecast for ``[start, end)`` at the account's scope, or None when it returns
    no forecast rows or the account reads several resource groups (forecasts do not add up)."""
    if len(session.read_scopes) != 1:
        return None
    body = {
        "type": "ActualCost",
        "timeframe": "Custom",
        "timePeriod": _time_period(start, end),
        "dataset": {
            "granularity": "Daily",
            "aggregation": {"totalCost": {"name": "Cost", "function": "Sum"}},
        },
        "includeActualCost": False,
        "includeFreshPartialCost": False,
    }
    result: Any = session.costs.forecast.usage(session.read_scopes[0], ForecastDefinition(body), cls=_raw)
    properties: dict[str, Any] = (result or {}).get("properties") or {}
    col = _columns(properties)
    points: dict[date, ForecastPoint] = {}
    currency = "USD"
    for row in properties.get("rows") or []:
        if "coststatus" in col and str(row[col["coststatus"]]).lower() == "actual":
            continue
        day = _day(row[col["usagedate"]])
        if not start <= day < end:
            continue
        currency = str(row[col["currency"]]) if "currency" in col else currency
        lower = row[col["cost_lowerbound"]] if "cost_lowerbound" in col else None
        upper = row[col["cost_upperbound"]] if "cost_upperbound" in col else None
        points[day] = ForecastPoint(
            day=day,
            mean=Decimal(str(row[col.get("cost", 0)])),
            lower=None if lower is None else Decimal(str(lower)),
            upper=None if upper is None else Decimal(str(upper)),
        )
    if not points:
        return None
    ordered = [points[d] for d in sorted(points)]
    return CloudForecast(
        currency=currency,
        points=ordered,
        total=sum((p.mean for p in ordered), Decimal(0)),
        source="azure-cost-management-forecast",
    )
