"""Daily costs of one project from the Cloud Billing export to BigQuery.

GCP has no cost API: costs come from the billing export table named in the account settings
(``project.dataset.gcp_billing_export_v1_XXXX`` or the detailed ``..._resource_v1_...``).

Contract:

- One parameterised query (``@start``, ``@end``, ``@project``; never string-formatted values; the table name
  is validated as ``project.dataset.table`` before it is quoted into the SQL) sums ``cost`` and the credits
  per UTC day, service, ``location.region``, SKU, project, resource (``global_name`` and ``name`` of the
  detailed export), labels and cost type, as ``NUMERIC``, so amounts arrive as ``Decimal`` and
  ``billed_cost = cost + credits`` exactly; the labels become the cost's ``tags``.
- A Compute Engine cost's ``resource_id`` is the inventory's id of the resource it names (the relative
  name ``projects/p/zones/z/instances/<name>``, see :func:`inventory_id`), so costs and resources join;
  other services keep the export's ``global_name``.
- Result pages are followed with ``pageToken`` (by the BigQuery client) until the end.
- :meth:`BigQueryBillingExportReader.month_totals` sums ``cost`` + credits of the project per
  ``invoice.month`` (``YYYYMM``) and currency for the whole invoice months asked (``@first_month`` ..
  ``@last_month``; partitions from 7 days before the first month, as late usage lands on the next invoice):
  the provider's own invoice-month total (billed basis), used for reconciliation.
- No table configured, or the query failing with a non-credential error, gives an empty result with one
  failure; credential errors raise :class:`CredentialsError` naming the permission.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Protocol

from google.api_core import exceptions as gexc
from google.api_core import retry as gretry
from google.cloud import bigquery

from cloudoptima.clouds.gcp.session import GcpSession
from cloudoptima.clouds.month_totals import MonthTotal
from cloudoptima.clouds.protocol import (
    CredentialsError,
    DailyCost,
    Failure,
    Partial,
    ProviderError,
    ThrottledError,
)

_COMPUTE = "//compute.googleapis.com/"
_TABLE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_]+\.[A-Za-z0-9_$-]+$")
_CHARGE_CATEGORY = {
    "regular": "Usage",
    "tax": "Tax",
    "adjustment": "Adjustment",
    "rounding error": "Adjustment",
}
_SERVICE_CATEGORY = {
    "Compute Engine": "Compute",
    "Cloud Storage": "Storage",
    "Cloud SQL": "Databases",
    "BigQuery": "Analytics",
    "Networking": "Networking",
    "Kubernetes Engine": "Compute",
    "Cloud Monitoring": "Management and Governance",
}

COST_SQL = """
SELECT
  DATE(usage_start_time) AS day,
  billing_account_id,
  project.id AS project_id,
  service.description AS service,
  location.region AS region,
  sku.description AS sku,
  {resource} AS resource,
  {resource_name} AS resource_name,
  (SELECT TO_JSON_STRING(ARRAY_AGG(STRUCT(l.key AS key, l.value AS value) ORDER BY l.key))
   FROM UNNEST(labels) AS l) AS labels,
  cost_type,
  currency,
  SUM(CAST(cost AS NUMERIC)) AS cost,
  SUM(IFNULL((SELECT SUM(CAST(c.amount AS NUMERIC)) FROM UNNEST(credits) AS c), 0)) AS credits,
  SUM(CAST(usage.amount_in_pricing_units AS NUMERIC)) AS usage_amount,
  ANY_VALUE(usage.pricing_unit) AS usage_unit
FROM `{table}`
WHERE _PARTITIONTIME >= TIMESTAMP_SUB(@start, INTERVAL 1 DAY)
  AND usage_start_time >= @start AND usage_start_time < @end
  AND project.id = @project
GROUP BY day, billing_account_id, project_id, service, region, sku, resource, resource_name, labels,
  cost_type, currency
ORDER BY day, service, sku
"""


MONTH_SQL = """
SELECT
  invoice.month AS invoice_month,
  currency,
  SUM(CAST(cost AS NUMERIC)) AS cost,
  SUM(IFNULL((SELECT SUM(CAST(c.amount AS NUMERIC)) FROM UNNEST(credits) AS c), 0)) AS credits
FROM `{table}`
WHERE _PARTITIONTIME >= TIMESTAMP_SUB(@start, INTERVAL 7 DAY) AND _PARTITIONTIME < TIMESTAMP_ADD(@end, INTERVAL 7 DAY)
  AND invoice.month >= @first_month AND invoice.month <= @last_month
  AND project.id = @project
GROUP BY invoice_month, currency
ORDER BY invoice_month, currency
"""


@dataclass(frozen=True)
class BillingRow:
    """One aggregated row of the export query."""

    day: date
    billing_account_id: str
    project_id: str
    service: str
    region: str | None
    sku: str | None
    resource: str | None
    cost_type: str
    currency: str
    cost: Decimal
    credits: Decimal
    usage_amount: Decimal | None
    usage_unit: str | None
    resource_name: str | None = None
    labels: dict[str, str] = field(default_factory=dict)


def parse_labels(value: str | None) -> dict[str, str]:
    """The export's ``labels`` (``[{"key", "value"}]`` as JSON text, or null) as a dict; last key wins."""
    if not value:
        return {}
    items = json.loads(value)
    return {str(item["key"]): str(item.get("value") or "") for item in items or []}


class BillingExportReader(Protocol):
    """Reads aggregated billing-export rows for ``project`` over ``[start, end)``."""

    def read(self, project: str, start: date, end: date) -> Iterator[BillingRow]: ...


def build_query(table: str, detailed: bool) -> str:
    """The cost SQL for ``table``; ``detailed`` exports carry ``resource.global_name``."""
    if not _TABLE.match(table):
        raise ValueError("billing_export_table must look like project.dataset.table")
    return COST_SQL.format(
        table=table,
        resource="resource.global_name" if detailed else "CAST(NULL AS STRING)",
        resource_name="resource.name" if detailed else "CAST(NULL AS STRING)",
    )


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, gexc.TooManyRequests | gexc.ServiceUnavailable | gexc.BadGateway):
        return True
    errors = getattr(exc, "errors", None) or []
    return isinstance(exc, gexc.Forbidden) and any(e.get("reason") == "rateLimitExceeded" for e in errors)


class BigQueryBillingExportReader:
    """Production reader: google-cloud-bigquery ``jobs.query`` + ``getQueryResults`` paging."""

    def __init__(
        self, session: GcpSession, table: str, detailed: bool = True, page_size: int = 10_000
    ) -> None:
        self.session = session
        self.sql = build_query(table, detailed)
        self.month_sql = MONTH_SQL.format(table=table)  # the table was validated by build_query
        self.page_size = page_size
        settings = session.settings
        self.retry = gretry.Retry(
            predicate=_retryable,
            initial=settings.retry_initial_delay,
            maximum=settings.retry_max_delay,
            multiplier=2.0,
            timeout=settings.retry_deadline,
        )

    def _client(self) -> bigquery.Client:
        override = self.session.endpoint("bigquery")
        return bigquery.Client(
            project=self.session.project,
            credentials=self.session.credentials,
            client_options={"api_endpoint": override} if override else None,
        )

    def month_totals(self, project: str, months: list[date]) -> list[MonthTotal]:
        """The project's billed total (cost + credits) per invoice month of ``months`` and currency."""
        if not months:
            return []
        last = months[-1]
        end = date(last.year + (last.month == 12), last.month % 12 + 1, 1)
        config = bigquery.QueryJobConfig(
            query_parameters=[
                bigquery.ScalarQueryParameter("start", "TIMESTAMP", datetime.combine(months[0], time(), UTC)),
                bigquery.ScalarQueryParameter("end", "TIMESTAMP", datetime.combine(end, time(), UTC)),
                bigquery.ScalarQueryParameter("first_month", "STRING", f"{months[0]:%Y%m}"),
                bigquery.ScalarQueryParameter("last_month", "STRING", f"{last:%Y%m}"),
                bigquery.ScalarQueryParameter("project", "STRING", project),
            ],
            use_legacy_sql=False,
        )
        rows = self._client().query_and_wait(
            self.month_sql,
            job_config=config,
            retry=self.retry,
            job_retry=None,  # type: ignore[arg-type]
            page_size=self.page_size,
        )
        totals = []
        for row in rows:
            text = str(row["invoice_month"] or "")
            if len(text) != 6 or not text.isdigit():
                continue
            month = date(int(text[:4]), int(text[4:]), 1)
            if month in months:
                totals.append(
                    MonthTotal(
                        month=month,
                        basis="billed",
                        currency=row["currency"] or "USD",
                        total=Decimal(row["cost"] or 0) + Decimal(row["credits"] or 0),
                        source="GCP billing export cost + credits per invoice.month",
                    )
                )
        return totals

    def read(self, project: str, start: date, end: date) -> Iterator[BillingRow]:
        """Rows of the cost query, page after page."""
        config = bigquery.QueryJobConfig(
            query_parameters=[
                bigquery.ScalarQueryParameter("start", "TIMESTAMP", datetime.combine(start, time(), UTC)),
                bigquery.ScalarQueryParameter("end", "TIMESTAMP", datetime.combine(end, time(), UTC)),
                bigquery.ScalarQueryParameter("project", "STRING", project),
            ],
            use_legacy_sql=False,
        )
        # job_retry=None: a failed query is not re-run
        rows = self._client().query_and_wait(
            self.sql,
            job_config=config,
            retry=self.retry,
            job_retry=None,  # type: ignore[arg-type]
            page_size=self.page_size,
        )
        for row in rows:
            yield BillingRow(
                day=row["day"],
                billing_account_id=row["billing_account_id"] or "",
                project_id=row["project_id"] or project,
                service=row["service"] or "Unknown",
                region=row["region"],
                sku=row["sku"],
                resource=row["resource"],
                cost_type=row["cost_type"] or "regular",
                currency=row["currency"] or "USD",
                cost=Decimal(row["cost"] or 0),
                credits=Decimal(row["credits"] or 0),
                usage_amount=row["usage_amount"],
                usage_unit=row["usage_unit"],
                resource_name=row["resource_name"],
                labels=parse_labels(row["labels"]),
            )


def inventory_id(global_name: str | None, name: str | None) -> str | None:
    """The inventory's id of the resource a billing row names.

    For Compute Engine the export's ``resource.global_name`` is ``//compute.googleapis.com/projects/p/zones/
    z/instances/<id or name>`` and ``resource.name`` the resource's name; the inventory names resources by
    relative name, so the scope path of the global name is kept and its last segment spelled with the name.
    Other global names are returned unchanged.
    """
    if not global_name or not global_name.startswith(_COMPUTE):
        return global_name
    relative = global_name[len(_COMPUTE) :]
    return f"{relative.rsplit('/', 1)[0]}/{name}" if name and "/" in relative else relative


def daily_costs(
    session: GcpSession, reader: BillingExportReader | None, start: date, end: date
) -> Partial[DailyCost]:
    """FOCUS-shaped daily costs of the session's project over ``[start, end)`` (see module docstring)."""
    if reader is None:
        return Partial[DailyCost](
            failures=[Failure(scope="billing-export", error="billing_export_table is not configured")]
        )
    scope = "bigquery/billing-export"
    try:
        rows = session.call(lambda: list(reader.read(session.project, start, end)), scope)
    except (CredentialsError, ThrottledError):
        raise
    except (ProviderError, gexc.GoogleAPIError) as exc:
        return Partial[DailyCost](failures=[Failure(scope=scope, error=str(exc), retryable=True)])
    items = [
        DailyCost(
            day=row.day,
            provider="gcp",
            billing_account_id=row.billing_account_id,
            account_id=row.project_id,
            service_name=row.service,
            service_category=_SERVICE_CATEGORY.get(row.service),
            region=row.region,
            usage_type=row.sku,
            resource_id=inventory_id(row.resource, row.resource_name),
            resource_name=row.resource_name,
            tags=row.labels,
            charge_category=_CHARGE_CATEGORY.get(row.cost_type, "Usage"),
            billed_cost=row.cost + row.credits,
            effective_cost=row.cost + row.credits,
            currency=row.currency,
            usage_quantity=row.usage_amount,
            usage_unit=row.usage_unit,
        )
        for row in rows
        if start <= row.day < end
    ]
    return Partial[DailyCost](items=items)
