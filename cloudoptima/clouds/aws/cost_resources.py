"""Resource-level daily costs from Cost Explorer's ``GetCostAndUsageWithResources`` (opt-in, last 14 days).

Contract:

- AWS keeps resource-level daily data for the last :data:`RESOURCE_DAYS` days, and only when the payer
  account opted in (Billing preferences). :meth:`ResourceCostReader.daily_costs` asks for ``[start, end)``
  (the caller clips it to that window) grouped by ``RESOURCE_ID`` + ``USAGE_TYPE``, filtered to the services
  the coarse read saw. Only the services the payer opted in have resource-level data: the caller keeps what
  these rows do not cover (see ``costs._remainders``). The service
  of a row is the one the coarse read put its usage type under, the region comes from the usage type's
  prefix; amounts are exact ``Decimal``. A row without a resource (``NoResourceId``) keeps ``resource_id``
  None.
- Tags: for each cost allocation tag key (at most 5), one more request grouped by ``RESOURCE_ID`` +
  ``TAG:<key>`` gives each resource's value of that tag per day (``key$value``; an empty value means
  untagged); rows carry the tags found.
- When the account has not enabled resource-level data (AWS answers ``DataUnavailableException`` or a
  ``ValidationException``) the answer is None and the caller keeps its coarse rows. Every page is read and
  whole answers are cached like the coarse ones (each request is billed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from botocore.exceptions import ClientError

from cloudoptima.clouds.aws.errors import aws_errors, error_code
from cloudoptima.clouds.aws.regions import region_of_usage_type
from cloudoptima.clouds.protocol import DailyCost

RESOURCE_DAYS = 14
NOT_ENABLED_CODES = frozenset({"DataUnavailableException", "ValidationException"})
OPERATION = "GetCostAndUsageWithResources"
_NO_RESOURCE = {"", "NoResourceId", "No resource id"}

Cached = Callable[[str, dict[str, Any], Callable[[dict[str, Any]], Any]], Any]
"""``CostExplorerReader._cached``: (operation, query, fetch) → the cached or fetched answer."""
RowOf = Callable[..., DailyCost | None]
"""``CostExplorerReader.row_of``: builds one DailyCost from a group's metrics (None without a cost)."""


class NotEnabledError(LookupError):
    """The account has no resource-level data (not opted in, or the days are out of reach)."""


class ResourceCostReader:
    """Resource-level rows for one account (see module contract)."""

    def __init__(self, client: Any, cached: Cached, row_of: RowOf, metrics: Sequence[str]) -> None:
        self._client = client
        self._cached = cached
        self._row_of = row_of
        self._metrics = list(metrics)

    def daily_costs(
        self, start: date, end: date, services_of: dict[str, str], tag_keys: Sequence[str] = ()
    ) -> list[DailyCost] | None:
        """Rows of ``[start, end)`` per (day, resource, usage type), or None when not enabled.

        ``services_of`` maps each usage type the coarse read saw to its service (also the filter)."""
        services = sorted(set(services_of.values()))
        if end <= start or not services:
            return []
        base: dict[str, Any] = {
            "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
            "Granularity": "DAILY",
            "Filter": {"Dimensions": {"Key": "SERVICE", "Values": services}},
            "Metrics": self._metrics,
        }
        try:
            periods = self._query(base, [{"Type": "DIMENSION", "Key": "USAGE_TYPE"}])
            tags: dict[tuple[date, str], dict[str, str]] = {}
            for key in tag_keys:
                for day, resource, value in self._tag_values(base, key):
                    tags.setdefault((day, resource), {})[key] = value
        except NotEnabledError:
            return None
        rows: list[DailyCost] = []
        for day, keys, metrics in periods:
            resource, usage_type = keys[0], keys[1] if len(keys) > 1 else ""
            resource_id = None if resource in _NO_RESOURCE else resource
            row = self._row_of(
                day,
                metrics,
                service=services_of.get(usage_type, "Unknown"),
                usage_type=usage_type or None,
                region=region_of_usage_type(usage_type) if usage_type else None,
                resource_id=resource_id,
                tags=tags.get((day, resource_id), {}) if resource_id else {},
            )
            if row is not None and start <= day < end:
                rows.append(row)
        return rows

    def _tag_values(self, base: dict[str, Any], key: str) -> list[tuple[date, str, str]]:
        found = []
        for day, keys, _metrics in self._query(base, [{"Type": "TAG", "Key": key}]):
            resource, tagged = keys[0], keys[1] if len(keys) > 1 else ""
            value = tagged.split("$", 1)[1] if "$" in tagged else ""
            if value and resource not in _NO_RESOURCE:
                found.append((day, resource, value))
        return found

    def _query(
        self, base: dict[str, Any], second: list[dict[str, str]]
    ) -> list[tuple[date, list[str], dict[str, Any]]]:
        query = dict(base, GroupBy=[{"Type": "DIMENSION", "Key": "RESOURCE_ID"}, *second])
        answer = self._cached(OPERATION, query, self._all_pages)
        if answer is None:
            raise NotEnabledError
        return [
            (date.fromisoformat(period["TimePeriod"]["Start"]), list(group["Keys"]), group.get("Metrics", {}))
            for period in answer
            for group in period.get("Groups", [])
        ]

    def _all_pages(self, query: dict[str, Any]) -> list[dict[str, Any]] | None:
        results: list[dict[str, Any]] = []
        token: str | None = None
        with aws_errors("ce"):
            while True:
                params = dict(query, NextPageToken=token) if token else query
                try:
                    page = self._client.get_cost_and_usage_with_resources(**params)
                except ClientError as error:
                    if error_code(error) in NOT_ENABLED_CODES:
                        return None
                    raise
                results.extend(page.get("ResultsByTime", []))
                token = page.get("NextPageToken")
                if not token:
                    return results
