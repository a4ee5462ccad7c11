"""Daily costs and the cloud's forecast from AWS Cost Explorer.

Contract:

- :meth:`CostExplorerReader.daily_costs` asks ``GetCostAndUsage`` (DAILY, ``UnblendedCost`` as billed cost,
  ``AmortizedCost`` as effective cost, ``UsageQuantity``) for ``[start, end)`` grouped by two dimensions
  (Cost Explorer allows two): ``SERVICE`` + ``USAGE_TYPE`` by default, the region derived from the usage
  type's prefix; or ``LINKED_ACCOUNT`` + ``SERVICE`` for a management account; or ``SERVICE`` + ``REGION``.
  Every page (``NextPageToken``) is read; amounts are exact ``Decimal``.
- With ``resource_level`` (opt-in) and the default grouping, the days of ``[start, end)`` within the last
  :data:`~.cost_resources.RESOURCE_DAYS` days (from ``today``) come from ``GetCostAndUsageWithResources``
  instead: per resource and usage type, tagged with the ``tag_keys`` cost allocation tags (see
  :mod:`.cost_resources`). Resource-level data exists only for the services the payer opted in, so what the
  resource rows of a (day, service, usage type) do not cover stays as one coarse remainder row: the totals
  equal the coarse read's. When the account has not enabled resource-level data those days keep the coarse
  rows. Older days stay coarse and untagged (Cost Explorer allows two group-bys; the CUR export keeps all).
- Each Cost Explorer request is billed (USD 0.01), so whole answers are cached per (account, query) in a
  :class:`CostQueryCache`; a repeated identical query makes no request.
- :meth:`CostExplorerReader.month_totals` asks ``GetCostAndUsage`` (MONTHLY, no grouping) for the
  provider's own whole-month totals: UnblendedCost (billed), AmortizedCost (effective), BlendedCost.
- :meth:`CostExplorerReader.forecast` asks ``GetCostForecast`` (80 % interval) for the future part of
  ``[start, end)``; None when the period is over or AWS has too little history.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from cloudoptima.clouds.aws.cost_cache import CostQueryCache, query_key
from cloudoptima.clouds.aws.cost_resources import RESOURCE_DAYS, ResourceCostReader
from cloudoptima.clouds.aws.errors import aws_errors, error_code
from cloudoptima.clouds.aws.regions import region_of_usage_type
from cloudoptima.clouds.month_totals import MonthTotal, ProviderBasis, months_between, next_month
from cloudoptima.clouds.protocol import CloudForecast, DailyCost, ForecastPoint

GROUPINGS: dict[str, tuple[str, str]] = {
    "service_usage_type": ("SERVICE", "USAGE_TYPE"),
    "account_service": ("LINKED_ACCOUNT", "SERVICE"),
    "service_region": ("SERVICE", "REGION"),
}
METRICS = ("UnblendedCost", "AmortizedCost", "UsageQuantity")
MONTH_METRICS: dict[str, ProviderBasis] = {
    "UnblendedCost": "billed",
    "AmortizedCost": "effective",
    "BlendedCost": "blended",
}
NO_FORECAST_CODES = frozenset({"DataUnavailableException", "ValidationException"})
# Cost Explorer answers "NoRegion" for global charges.
_NO_REGION = {"NoRegion", "global", ""}


def _remainders(coarse: list[DailyCost], detailed: list[DailyCost]) -> list[DailyCost]:
    """Per (day, service, usage type) of ``coarse``: what its resource rows in ``detailed`` do not cover, as
    a row without a resource (none where they cover it exactly)."""

    def key(row: DailyCost) -> tuple[Any, ...]:
        return (row.day, row.service_name, row.usage_type)

    covered: dict[tuple[Any, ...], tuple[Decimal, Decimal]] = {}
    for row in detailed:
        billed, effective = covered.get(key(row), (Decimal(0), Decimal(0)))
        covered[key(row)] = (billed + row.billed_cost, effective + (row.effective_cost or row.billed_cost))
    rest = []
    for row in coarse:
        billed, effective = covered.get(key(row), (Decimal(0), Decimal(0)))
        left = row.billed_cost - billed
        left_effective = (row.effective_cost or row.billed_cost) - effective
        if left or left_effective:
            update: dict[str, Decimal | None] = {"billed_cost": left, "effective_cost": left_effective}
            if billed or effective:  # partly covered: the quantity no longer describes the remainder
                update["usage_quantity"] = None
            rest.append(row.model_copy(update=update))
    return rest


def _amount(metrics: dict[str, Any], name: str) -> tuple[Decimal | None, str | None]:
    value = metrics.get(name)
    if not value or value.get("Amount") is None:
        return None, None
    return Decimal(str(value["Amount"])), value.get("Unit")


class CostExplorerReader:
    """Cost Explorer for one account. ``client`` is a boto3 ``ce`` client (us-east-1)."""

    def __init__(
        self,
        client: Any,
        account_id: str,
        billing_account_id: str,
        cache: CostQueryCache,
        grouping: str = "service_usage_type",
        *,
        resource_level: bool = False,
        tag_keys: tuple[str, ...] = (),
    ) -> None:
        if grouping not in GROUPINGS:
            raise ValueError(f"unknown cost grouping {grouping!r}; choose one of {sorted(GROUPINGS)}")
        self._client = client
        self._account_id = account_id
        self._billing_account_id = billing_account_id
        self._cache = cache
        self._grouping = GROUPINGS[grouping]
        self._resources = (
            ResourceCostReader(client, self._cached, self.row_of, METRICS)
            if resource_level and grouping == "service_usage_type"
            else None
        )
        self._tag_keys = tag_keys

    def daily_costs(self, start: date, end: date, today: date | None = None) -> list[DailyCost]:
        """Every (day, group) row of ``[start, end)`` — resource-level for the recent days when enabled
        (``today`` anchors the 14 days AWS keeps); raises protocol errors on failure."""
        rows = self._coarse(start, end)
        if self._resources is None or today is None:
            return rows
        first = max(start, today - timedelta(days=RESOURCE_DAYS - 1))
        recent = [r for r in rows if r.day >= first]
        services_of = {r.usage_type: r.service_name for r in recent if r.usage_type}
        detailed = self._resources.daily_costs(first, end, services_of, self._tag_keys)
        if detailed is None:
            return rows
        return [r for r in rows if r.day < first] + detailed + _remainders(recent, detailed)

    def _coarse(self, start: date, end: date) -> list[DailyCost]:
        if end <= start:
            return []
        query: dict[str, Any] = {
            "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
            "Granularity": "DAILY",
            "Metrics": list(METRICS),
            "GroupBy": [{"Type": "DIMENSION", "Key": key} for key in self._grouping],
        }
        results = self._cached("GetCostAndUsage", query, self._all_pages)
        rows: list[DailyCost] = []
        for period in results:
            day = date.fromisoformat(period["TimePeriod"]["Start"])
            if not start <= day < end:
                continue
            for group in period.get("Groups", []):
                values = dict(zip(self._grouping, group["Keys"], strict=False))
                usage_type, region = values.get("USAGE_TYPE"), values.get("REGION")
                if region in _NO_REGION:
                    region = None
                row = self.row_of(
                    day,
                    group.get("Metrics", {}),
                    service=values.get("SERVICE", "Unknown"),
                    usage_type=usage_type,
                    region=region or (region_of_usage_type(usage_type) if usage_type else None),
                    account_id=values.get("LINKED_ACCOUNT"),
                )
                if row is not None:
                    rows.append(row)
        return rows

    def forecast(self, start: date, end: date, today: date) -> CloudForecast | None:
        """Cost Explorer's daily forecast for the part of ``[start, end)`` from ``today`` on."""
        first = max(start, today)
        if end <= first:
            return None
        query: dict[str, Any] = {
            "TimePeriod": {"Start": first.isoformat(), "End": end.isoformat()},
            "Metric": "UNBLENDED_COST",
            "Granularity": "DAILY",
            "PredictionIntervalLevel": 80,
        }
        answer = self._cached("GetCostForecast", query, self._forecast_call)
        if answer is None:
            return None
        points = [
            ForecastPoint(
                day=date.fromisoformat(item["TimePeriod"]["Start"]),
                mean=Decimal(str(item["MeanValue"])),
                lower=Decimal(str(item["PredictionIntervalLowerBound"]))
                if item.get("PredictionIntervalLowerBound") is not None
                else None,
                upper=Decimal(str(item["PredictionIntervalUpperBound"]))
                if item.get("PredictionIntervalUpperBound") is not None
                else None,
            )
            for item in answer.get("ForecastResultsByTime", [])
        ]
        total = answer.get("Total", {})
        return CloudForecast(
            currency=str(total.get("Unit", "USD")),
            points=points,
            total=Decimal(str(total.get("Amount", sum((p.mean for p in points), Decimal(0))))),
            source="aws_cost_explorer",
        )

    def month_totals(self, start: date, end: date) -> list[MonthTotal]:
        """The account's whole-month totals of the months whose first day lies in ``[start, end)``:
        ``GetCostAndUsage`` MONTHLY without grouping, ``UnblendedCost`` (billed), ``AmortizedCost``
        (effective) and ``BlendedCost`` (blended); a month Cost Explorer answers without an amount is absent."""
        months = [m for m in months_between(start, end) if m >= start]
        if not months:
            return []
        query: dict[str, Any] = {
            "TimePeriod": {"Start": months[0].isoformat(), "End": next_month(months[-1]).isoformat()},
            "Granularity": "MONTHLY",
            "Metrics": list(MONTH_METRICS),
        }
        totals: list[MonthTotal] = []
        for period in self._cached("GetCostAndUsage", query, self._all_pages):
            first = date.fromisoformat(period["TimePeriod"]["Start"])
            if first not in months or date.fromisoformat(period["TimePeriod"]["End"]) != next_month(first):
                continue
            for metric, basis in MONTH_METRICS.items():
                amount, unit = _amount(period.get("Total", {}), metric)
                if amount is not None:
                    totals.append(
                        MonthTotal(
                            month=first,
                            basis=basis,
                            currency=(unit or "USD")[:3].upper(),
                            total=amount,
                            source=f"AWS Cost Explorer GetCostAndUsage MONTHLY {metric}",
                        )
                    )
        return totals

    def _cached(self, operation: str, query: dict[str, Any], fetch: Callable[[dict[str, Any]], Any]) -> Any:
        key = query_key(self._account_id, {"operation": operation, **query})
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        answer = fetch(query)
        if answer is not None:
            self._cache.put(key, answer)
        return answer

    def _all_pages(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        token: str | None = None
        with aws_errors("ce"):
            while True:
                params = dict(query, NextPageToken=token) if token else query
                page = self._client.get_cost_and_usage(**params)
                results.extend(page.get("ResultsByTime", []))
                token = page.get("NextPageToken")
                if not token:
                    return results

    def _forecast_call(self, query: dict[str, Any]) -> dict[str, Any] | None:
        with aws_errors("ce"):
            try:
                answer: dict[str, Any] = self._client.get_cost_forecast(**query)
            except ClientError as error:
                if error_code(error) in NO_FORECAST_CODES:
                    return None
                raise
        return answer

    def row_of(
        self,
        day: date,
        metrics: dict[str, Any],
        *,
        service: str,
        usage_type: str | None,
        region: str | None,
        account_id: str | None = None,
        resource_id: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> DailyCost | None:
        """One row from a group's metrics (None when it carries no billed cost)."""
        billed, unit = _amount(metrics, "UnblendedCost")
        if billed is None:
            return None
        effective, _ = _amount(metrics, "AmortizedCost")
        quantity, _ = _amount(metrics, "UsageQuantity")
        return DailyCost(
            day=day,
            provider="aws",
            billing_account_id=self._billing_account_id,
            account_id=account_id or self._account_id,
            service_name=service,
            region=region,
            usage_type=usage_type,
            resource_id=resource_id,
            tags=tags or {},
            billed_cost=billed,
            effective_cost=effective,
            currency=(unit or "USD")[:3].upper(),
            usage_quantity=quantity,
        )
