"""The input of the ``budgets`` report, filled through :class:`~cloudoptima.services.budgets.BudgetService` —
the service ``GET /v1/budgets`` answers with — so every number equals what the budget API computes.

Contract of :func:`budgets_report_input` for one organisation and a report period ``[start, end)``:

- the report's last day with data is ``min(end, generated_at's day) - 1`` (spend of a day counts once the day
  is over, as the API counts ``[period start, today)``); a period that has not begun on ``generated_at``'s
  day raises :class:`ReportInputError` naming ``start_date``;
- the budgets shown are those whose own ``[start_date, end_date)`` overlaps the report up to that day; each is
  evaluated (read-only: no alert state is changed, nothing fires) on its budget period containing that day
  (or its last period, when it ended earlier), with spend of ``[period start, as_of)`` where ``as_of`` is the
  day after the report's last day, or the period's end when it ended first — so for a period still running
  on ``generated_at``'s day it is exactly the API's evaluation of today; the forecast uses the API's model;
- one currency: the given one, else the only one of those budgets; several and none given raises
  ``ReportInputError`` naming ``currency``; budgets in another currency are left out (never summed);
- the alerts are the thresholds recorded as fired (``budgets.alert_state``) whose time falls in the report
  period; the budget service keeps the alerts of a budget's latest period only, so an earlier period's
  alerts are not shown.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, cast

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from cloudoptima.analytics.budgets import period_bounds
from cloudoptima.domain.analytics import ForecastModelName
from cloudoptima.domain.budgets import BudgetPeriod, BudgetScope, BudgetStatus, ScopeType
from cloudoptima.reports.document import ReportDocument
from cloudoptima.reports.templates.budgets import (
    BudgetLine,
    BudgetsReportInput,
    BudgetState,
    FiredAlert,
    build_budgets_report,
)
from cloudoptima.reports.templates.spend import DailySpend
from cloudoptima.services.budgets import BudgetService
from cloudoptima.services.report_currency import organisation_name
from cloudoptima.services.report_inputs import ReportInputError, validate_request
from cloudoptima.storage.models import Budget

FORECAST_MODEL: ForecastModelName = "fast"
"""The forecast model ``/v1/budgets`` evaluates with."""

_STATES: dict[BudgetStatus, BudgetState] = {
    BudgetStatus.ON_TRACK: "ok",
    BudgetStatus.AT_RISK: "at risk",
    BudgetStatus.EXCEEDED: "over",
}


def scope_label(scope: BudgetScope) -> str:
    """A budget scope as people read it."""
    values = ", ".join(scope.values)
    if scope.type is ScopeType.ACCOUNT:
        return f"accounts: {values}" if values else "all accounts"
    if scope.type is ScopeType.SERVICE:
        return f"services: {values}"
    if scope.type is ScopeType.TEAM:
        return f"teams: {values}"
    if scope.type is ScopeType.ALLOCATION:
        return f"{scope.dimension}: {values}"
    return f"tag {scope.tag_key}: {values}"


def _alerts(row: Budget, start: date, end: date) -> list[FiredAlert]:
    fired = dict((row.alert_state or {}).get("fired", {}))
    out: list[FiredAlert] = []
    for key, at in fired.items():
        moment = datetime.fromisoformat(str(at))
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        if not start <= moment.date() < end:
            continue
        kind, _, threshold = str(key).partition(":")
        out.append(
            FiredAlert(
                budget=row.name,
                type=cast(Literal["actual", "forecasted"], kind),
                threshold=Decimal(threshold),
                fired_at=moment,
            )
        )
    return out


def budgets_report_input(
    connection: Connection,
    organization_id: uuid.UUID,
    *,
    start: date,
    end: date,
    generated_at: datetime,
    currency: str | None = None,
) -> BudgetsReportInput:
    """The budgets report of ``organization_id`` for ``[start, end)`` (see the module contract).

    ``generated_at`` is the caller's clock (aware); the caller owns and closes ``connection``.
    """
    validate_request(start, end, generated_at)
    name = organisation_name(connection, organization_id)
    today = generated_at.astimezone(UTC).date()
    data_end = min(end, today)
    if data_end <= start:
        raise ReportInputError(
            f"start_date: the period starts on {start}; on {today} (generated_at) none of its days is over"
        )
    last_day = data_end - timedelta(days=1)
    with Session(bind=connection) as session:
        service = BudgetService(
            session, organization_id, now=lambda: generated_at, forecast_model=FORECAST_MODEL
        )
        rows = [r for r in service.list() if r.start_date <= last_day and r.end_date > start]
        present = sorted({r.currency for r in rows})
        if currency is not None:
            chosen = currency.upper()
            if present and chosen not in present:
                raise ReportInputError(
                    f"currency: no budget in {chosen} covers {start} – {last_day}; budgets are in "
                    f"{', '.join(present)}"
                )
        elif len(present) > 1:
            raise ReportInputError(
                f"currency: the budgets are in several currencies ({', '.join(present)}); choose one"
            )
        else:
            chosen = present[0] if present else "USD"
        lines: list[BudgetLine] = []
        alerts: list[FiredAlert] = []
        for row in rows:
            if row.currency != chosen:
                continue
            day = min(last_day, row.end_date - timedelta(days=1))
            period_start, period_end = period_bounds(
                BudgetPeriod(row.period), day, row.start_date, row.end_date
            )
            as_of = min(period_end, last_day + timedelta(days=1))
            evaluation = service.assess(row, day, as_of)
            scope = service.scope_of(row)
            daily = service.daily_spend(scope, row.currency, period_start, as_of)
            lines.append(
                BudgetLine(
                    name=row.name,
                    scope=scope_label(scope),
                    period=row.period,
                    period_start=period_start,
                    period_end=period_end,
                    as_of=as_of,
                    limit=row.amount,
                    spent=evaluation.current_spend,
                    forecast=evaluation.forecasted_spend if evaluation.forecast_available else None,
                    status=_STATES[evaluation.status],
                    daily=[DailySpend(date=d, cost=cost) for d, cost in sorted(daily.items())],
                )
            )
            alerts.extend(_alerts(row, start, end))
    return BudgetsReportInput(
        organisation_name=str(name),
        currency=chosen,
        start_date=start,
        end_date=end,
        generated_at=generated_at,
        budgets=lines,
        alerts=alerts,
    )


def build_budgets_document(
    connection: Connection, organization_id: uuid.UUID, parameters: Mapping[str, Any], generated_at: datetime
) -> ReportDocument:
    """The catalog's builder of the ``budgets`` template (parameters already resolved); a parameter at fault
    is named ``parameters.<name>``."""
    try:
        data = budgets_report_input(
            connection,
            organization_id,
            start=parameters["start_date"],
            end=parameters["end_date"],
            generated_at=generated_at,
            currency=parameters.get("currency"),
        )
    except ReportInputError as exc:
        if str(exc).startswith(("start_date:", "currency:")):
            raise ReportInputError(f"parameters.{exc}") from exc
        raise
    return build_budgets_report(data)


__all__ = ["FORECAST_MODEL", "budgets_report_input", "build_budgets_document", "scope_label"]
