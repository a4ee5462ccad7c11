"""BigQuery ``jobs.query`` / ``jobs.getQueryResults`` / ``jobs.get`` routes of the REST fake.

Strict like the service: the query must be standard SQL with ``@start``/``@end`` parameters and read the
configured export table; result rows are typed by a schema and paged with ``pageToken``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from cloudoptima_evals.fakes.gcp.errors import ApiError, page
from cloudoptima_evals.fakes.gcp.state import FakeGcp

Reply = tuple[int, dict[str, Any]]


class BigQueryRoutes:
    """Mixed into the fake's route table; needs ``s`` (state), ``queries`` and ``need``."""

    s: FakeGcp
    queries: dict[str, list[dict[str, Any]]]

    need: Callable[[str, str], None]  # the permission check of the class this is mixed into

    _SCHEMA = [
        ("day", "DATE"),
        ("billing_account_id", "STRING"),
        ("project_id", "STRING"),
        ("service", "STRING"),
        ("region", "STRING"),
        ("sku", "STRING"),
        ("resource", "STRING"),
        ("resource_name", "STRING"),
        ("labels", "STRING"),
        ("cost_type", "STRING"),
        ("currency", "STRING"),
        ("cost", "NUMERIC"),
        ("credits", "NUMERIC"),
        ("usage_amount", "NUMERIC"),
        ("usage_unit", "STRING"),
    ]

    _MONTH_SCHEMA = [
        ("invoice_month", "STRING"),
        ("currency", "STRING"),
        ("cost", "NUMERIC"),
        ("credits", "NUMERIC"),
    ]

    def _rowspage(self, job: str, token: str) -> dict[str, Any]:
        rows = self.queries[job]
        schema = self._MONTH_SCHEMA if rows and "invoice_month" in rows[0] else self._SCHEMA
        chunk, next_token = page(rows, token, self.s.page_size)
        reply: dict[str, Any] = {
            "kind": "bigquery#getQueryResultsResponse",
            "jobComplete": True,
            "jobReference": {"projectId": self.s.project, "jobId": job, "location": "US"},
            "schema": {"fields": [{"name": n, "type": t, "mode": "NULLABLE"} for n, t in schema]},
            "totalRows": str(len(rows)),
            "rows": [{"f": [{"v": r[n]} for n, _ in schema]} for r in chunk],
        }
        if next_token:
            reply["pageToken"] = next_token
        return reply

    def bq_query(self, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
        self.need("bigquery.jobs.create", f"projects/{m['p']}")
        sql = body.get("query", "")
        if body.get("useLegacySql") is not False or "@start" not in sql or "@end" not in sql:
            raise ApiError(
                400, "INVALID_ARGUMENT", "expected a standard-SQL query with @start/@end", "invalidQuery"
            )
        if "invoice.month AS invoice_month" in sql:
            return self._invoice_months(sql, body)
        if "UNNEST(labels)" not in sql or "resource.name AS resource_name" not in sql:
            raise ApiError(
                400,
                "INVALID_ARGUMENT",
                "the fake serves the labels and resource name columns",
                "invalidQuery",
            )
        if "FROM `billing-admin.billing.gcp_billing_export_resource_v1_X`" not in sql:
            raise ApiError(404, "NOT_FOUND", "Not found: Table in query", "notFound")
        self.need("bigquery.tables.getData", "billing-admin:billing.gcp_billing_export_resource_v1_X")
        params = {p["name"]: p["parameterValue"]["value"] for p in body.get("queryParameters", [])}
        start, end = date.fromisoformat(params["start"][:10]), date.fromisoformat(params["end"][:10])
        rows = [
            r
            for r in self.s.billing_rows
            if start.isoformat() <= r["day"] < end.isoformat() and r["project_id"] == params["project"]
        ]
        job = f"job_{self.s.next_id()}"
        self.queries[job] = rows
        return 200, {**self._rowspage(job, ""), "kind": "bigquery#queryResponse"}

    def _invoice_months(self, sql: str, body: Any) -> Reply:
        """The invoice-month totals query: Σ cost and Σ credits per invoice month (here the usage day's month:
        the fake plants no late usage) and currency of the project, for ``@first_month`` .. ``@last_month``."""
        if "FROM `billing-admin.billing.gcp_billing_export_resource_v1_X`" not in sql:
            raise ApiError(404, "NOT_FOUND", "Not found: Table in query", "notFound")
        self.need("bigquery.tables.getData", "billing-admin:billing.gcp_billing_export_resource_v1_X")
        params = {p["name"]: p["parameterValue"]["value"] for p in body.get("queryParameters", [])}
        if not {"first_month", "last_month", "project"} <= set(params):
            raise ApiError(400, "INVALID_ARGUMENT", "Query parameter not found", "invalidQuery")
        sums: dict[tuple[str, str], list[Decimal]] = {}
        for r in self.s.billing_rows:
            month = r["day"][:4] + r["day"][5:7]
            if (
                params["first_month"] <= month <= params["last_month"]
                and r["project_id"] == params["project"]
            ):
                cost, credits = sums.setdefault((month, r["currency"]), [Decimal(0), Decimal(0)])
                sums[(month, r["currency"])] = [
                    cost + Decimal(r["cost"]),
                    credits + Decimal(r["credits"] or 0),
                ]
        rows = [
            {"invoice_month": m, "currency": c, "cost": str(v[0]), "credits": str(v[1])}
            for (m, c), v in sorted(sums.items())
        ]
        job = f"job_{self.s.next_id()}"
        self.queries[job] = rows
        return 200, {**self._rowspage(job, ""), "kind": "bigquery#queryResponse"}

    def bq_results(self, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
        if m["job"] not in self.queries:
            raise ApiError(404, "NOT_FOUND", f"Not found: Job {m['job']}", "notFound")
        return 200, self._rowspage(m["job"], q.get("pageToken", ""))

    def bq_job(self, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
        if m["job"] not in self.queries:
            raise ApiError(404, "NOT_FOUND", f"Not found: Job {m['job']}", "notFound")
        return 200, {
            "kind": "bigquery#job",
            "jobReference": {"projectId": self.s.project, "jobId": m["job"], "location": "US"},
            "status": {"state": "DONE"},
            "configuration": {"query": {"query": "", "useLegacySql": False}},
            "statistics": {"query": {"statementType": "SELECT"}},
        }
