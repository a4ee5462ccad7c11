"""The input of the ``anomalies`` report, read through the anomaly service ``GET /v1/costs/anomalies`` answers
with (:meth:`AnomalyService.list`), so every incident and amount equals what the API lists.

Contract (:func:`anomalies_input`):

- the incidents are those whose first day lies in ``[start, end)``, of every status and severity (what
  ``GET /v1/costs/anomalies?start_date=…&end_date=…`` answers, without its page limit); a row without a first
  day or an impact (never written so by the detector) is left out rather than given invented numbers;
- the scope is the stored detection scope (``account …, service …``; ``total spend`` when empty), the service
  the stored ``service_name`` (the API's ``service``);
- the root cause is what is stored: the top cause is the first stored contribution that is not zero and not
  an ``(other)`` remainder (the one the explanation names first), the top driver the first stored resource
  driver, else usage-type driver, else tag driver (``drivers``), the explanation the stored ``root_cause``;
- the currency is :func:`~cloudoptima.services.report_currency.period_currency` of the period (anomaly rows
  record none);
- bad input raises :class:`~cloudoptima.services.report_inputs.ReportInputError` starting with the field.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from cloudoptima.reports.document import ReportDocument
from cloudoptima.reports.templates.anomalies import AnomaliesInput, AnomalyLine, build_anomalies
from cloudoptima.services.anomalies import AnomalyService
from cloudoptima.services.report_currency import organisation_name, period_currency
from cloudoptima.services.report_inputs import ReportInputError, validate_request
from cloudoptima.storage.models import Anomaly

_ALL = 1_000_000
_HIDDEN = ("(none)", "(other)")
_LABELS = {"account": "account", "service": "service", "region": "region", "usage_type": "usage type"}


def scope_label(dimensions: dict[str, Any] | None) -> str:
    """A cell as people read it, dimensions in the order account, service, region, usage type, then the others
    by name (JSONB keeps no order): ``account 1111, service Amazon EC2``; ``total spend`` when it names none."""
    order = list(_LABELS)
    items = sorted(
        (dimensions or {}).items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order else 9, kv[0])
    )
    parts = [f"{_LABELS.get(k, k)} {v}" for k, v in items if v not in _HIDDEN]
    return ", ".join(parts) if parts else "total spend"


def top_cause(row: Anomaly) -> tuple[str, Decimal] | None:
    """The stored contribution the explanation names first: its cell and its contribution."""
    for cause in row.contributions or []:
        dimensions = cause.get("dimensions") or {}
        contribution = Decimal(str(cause.get("contribution", "0")))
        if contribution != 0 and "(other)" not in dimensions.values():
            return scope_label(dimensions), contribution
    return None


def top_driver(row: Anomaly) -> tuple[str, Decimal, Decimal | None] | None:
    """The first stored driver (resources, else usage types, else tags): its name, change and share %."""
    drivers = row.drivers or {}
    for kind in ("resources", "usage_types", "tags"):
        for driver in drivers.get(kind) or []:
            key, label = str(driver["key"]), driver.get("label")
            name = f"{label} ({key})" if label and label != key else key
            share = driver.get("share_percent")
            return name, Decimal(str(driver["change"])), None if share is None else Decimal(str(share))
    return None


def anomaly_line(row: Anomaly) -> AnomalyLine:
    """One stored incident as a report line (``row`` has a first day and an impact)."""
    if row.start_date is None or row.impact_amount is None:
        raise ReportInputError(f"anomalies: incident {row.id} has no first day or no impact")
    cause, driver = top_cause(row), top_driver(row)
    return AnomalyLine(
        start_date=row.start_date,
        end_date=row.end_date or row.start_date,
        scope=scope_label(row.scope),
        service=row.service_name,
        severity=row.severity,  # type: ignore[arg-type]  # the detector's AnomalySeverity values
        kind="change" if row.kind == "change" else "anomaly",
        expected_spend=row.expected_spend,
        actual_spend=row.actual_spend,
        impact=row.impact_amount,
        status=row.status,
        top_cause=cause[0] if cause else None,
        top_cause_contribution=cause[1] if cause else None,
        top_driver=driver[0] if driver else None,
        top_driver_change=driver[1] if driver else None,
        top_driver_share_percent=driver[2] if driver else None,
        explanation=row.root_cause,
    )


def anomalies_in_period(
    connection: Connection, organization_id: uuid.UUID, start: date, end: date
) -> list[Anomaly]:
    """The stored incidents whose first day lies in ``[start, end)`` (with an impact), as the API lists them."""
    with Session(bind=connection) as session:
        rows = AnomalyService(session, organization_id).list(None, limit=_ALL)
        found = [
            r
            for r in rows
            if r.start_date is not None and start <= r.start_date < end and r.impact_amount is not None
        ]
    return found


def anomalies_input(
    connection: Connection,
    organization_id: uuid.UUID,
    *,
    start: date,
    end: date,
    generated_at: datetime,
    top_n: int = 10,
) -> AnomaliesInput:
    """The anomalies report of ``organization_id`` for ``[start, end)`` (see the module contract).

    ``generated_at`` is the caller's clock (aware); the caller owns and closes ``connection``.
    """
    validate_request(start, end, generated_at)
    name = organisation_name(connection, organization_id)
    currency = period_currency(connection, organization_id, start, end, "anomaly amounts")
    lines = [anomaly_line(row) for row in anomalies_in_period(connection, organization_id, start, end)]
    return AnomaliesInput(
        organisation_name=name,
        currency=currency,
        start_date=start,
        end_date=end,
        generated_at=generated_at,
        anomalies=lines,
        total_impact=sum((line.impact for line in lines), Decimal(0)),
        top_n=top_n,
    )


def build_anomalies_report(
    connection: Connection, organization_id: uuid.UUID, parameters: Mapping[str, Any], generated_at: datetime
) -> ReportDocument:
    """The catalog's builder of ``anomalies`` (``parameters`` resolved: ``start_date``, ``end_date``, ``top_n``)."""
    data = anomalies_input(
        connection,
        organization_id,
        start=parameters["start_date"],
        end=parameters["end_date"],
        generated_at=generated_at,
        top_n=parameters.get("top_n", 10),
    )
    return build_anomalies(data)
