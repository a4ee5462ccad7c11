"""The inputs of report templates, filled from the database through the services the REST API answers with.

:func:`monthly_cost_review_input` builds a
:class:`~cloudoptima.reports.templates.monthly_cost_review.MonthlyCostReviewInput` for one organisation and a
period ``[start, end)`` (end-exclusive) from :class:`~cloudoptima.services.cost_analytics.CostAnalytics` —
``overview`` (total, previous period, daily series, as ``/costs/overview``) and ``compare`` (every account,
service, region and tag value this period and the previous one) — and
:func:`~cloudoptima.services.cost_forecast.forecast_organisation` (as ``/costs/forecast``). It never reads raw
cost rows: every number equals what the API answers for the same organisation, period and currency.

Contract:

- the previous period is the same number of days just before: ``[start - n, start)``;
- the period is non-empty and at most :data:`MAX_REPORT_DAYS` days;
- one currency: the given one, else the only one present in ``[previous start, end)``; several present and
  none given raises :class:`ReportInputError` naming them (amounts in different currencies are never summed);
- ``tag_key`` must be one of the organisation's rollup tag keys (the report reads the rollup only);
- the forecast runs as of ``min(end, generated_at's date)`` for ``forecast_days`` days with its interval at
  ``confidence_level``; no history gives no forecast;
- every bad input raises :class:`ReportInputError` (a ``ValueError``) whose message starts with the field.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, text

from cloudoptima.domain.costs import Driver
from cloudoptima.reports.templates.monthly_cost_review import (
    DailySpend,
    ForecastDay,
    MonthlyCostReviewInput,
    SpendLine,
)
from cloudoptima.services.cost_analytics import CostAnalytics
from cloudoptima.services.cost_forecast import forecast_organisation
from cloudoptima.services.ingestion import rollup_tag_keys

MAX_REPORT_DAYS = 366
"""The longest period a report covers (the cost API's own limit)."""

DEFAULT_FORECAST_DAYS = 30


class ReportInputError(ValueError):
    """A report cannot be built as asked; the message starts with the field at fault."""


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The period of the same length just before ``[start, end)``."""
    return start - (end - start), start


def last_full_month(today: date) -> tuple[date, date]:
    """The last calendar month that ended before ``today``: ``[first day, first day of the next)``."""
    end = today.replace(day=1)
    return (end - timedelta(days=1)).replace(day=1), end


def validate_period(start: date, end: date) -> None:
    """:class:`ReportInputError` unless ``[start, end)`` is non-empty and at most :data:`MAX_REPORT_DAYS`."""
    if end <= start:
        raise ReportInputError(
            f"end_date: {end} must be after start_date {start} (the period is end-exclusive)"
        )
    if (end - start).days > MAX_REPORT_DAYS:
        raise ReportInputError(
            f"end_date: the period {start} – {end} is {(end - start).days} days; "
            f"a report covers at most {MAX_REPORT_DAYS}"
        )


def validate_request(start: date, end: date, generated_at: datetime) -> None:
    """:class:`ReportInputError` unless ``generated_at`` is aware and ``[start, end)`` is a valid period."""
    if generated_at.tzinfo is None:
        raise ReportInputError("generated_at: must be timezone-aware (UTC)")
    validate_period(start, end)


def organisation_and_tag_keys(
    connection: Connection, organization_id: uuid.UUID, tag_key: str | None
) -> tuple[str, tuple[str, ...]]:
    """The organisation's name and rollup tag keys; :class:`ReportInputError` when there is no such
    organisation, or ``tag_key`` is given and is not one of those keys."""
    found = connection.execute(
        text("SELECT name, settings FROM organizations WHERE id = :org"), {"org": organization_id}
    ).first()
    if found is None:
        raise ReportInputError(f"organisation: no organisation with id {organization_id}")
    name, settings = str(found[0]), found[1] or {}
    tag_keys = rollup_tag_keys(settings)
    if tag_key is not None and tag_key not in tag_keys:
        raise ReportInputError(
            f"tag_key: {tag_key!r} is not one of the organisation's rollup tag keys "
            f"({', '.join(tag_keys) or 'none'}); add it to the organisation's rollup_tag_keys setting"
        )
    return name, tag_keys


def chosen_currency(analytics: CostAnalytics, start: date, end: date, currency: str | None) -> str:
    """The currency a cost report of ``[start, end)`` (and its previous period) is in: ``currency`` when the
    costs have it (or there are none), else the costs' only currency (``USD`` when there are none);
    :class:`ReportInputError` when ``currency`` is absent from the costs or, unasked, there are several."""
    prev_start, _ = previous_period(start, end)
    present = analytics.currencies(prev_start, end)
    if currency is not None:
        chosen = currency.upper()
        if present and chosen not in present:
            raise ReportInputError(
                f"currency: no costs in {chosen} from {prev_start} to {end}; costs are in {', '.join(present)}"
            )
        return chosen
    if len(present) > 1:
        raise ReportInputError(
            f"currency: costs from {prev_start} to {end} are in several currencies "
            f"({', '.join(present)}); choose one"
        )
    return present[0] if present else "USD"


def _lines(drivers: list[Driver], labels: dict[str, str] | None = None) -> list[SpendLine]:
    names = labels or {}
    return [
        SpendLine(label=names.get(d.key, d.key), cost=d.current, previous_cost=d.previous)
        for d in sorted(drivers, key=lambda d: (-d.current, d.key))
    ]


def _account_labels(connection: Connection, organization_id: uuid.UUID) -> dict[str, str]:
    """``"name (id)"`` for the organisation's connected accounts that have a name."""
    rows = connection.execute(
        text(
            "SELECT account_identifier, account_name FROM cloud_accounts "
            "WHERE organization_id = :org AND account_name IS NOT NULL AND account_name <> ''"
        ),
        {"org": organization_id},
    ).all()
    return {str(ident): f"{name} ({ident})" for ident, name in rows}


def monthly_cost_review_input(
    connection: Connection,
    organization_id: uuid.UUID,
    *,
    start: date,
    end: date,
    generated_at: datetime,
    tag_key: str | None = None,
    currency: str | None = None,
    forecast_days: int = DEFAULT_FORECAST_DAYS,
    confidence_level: float = 0.95,
    top_n: int = 10,
) -> MonthlyCostReviewInput:
    """The monthly cost review of ``organization_id`` for ``[start, end)`` (see the module contract).

    ``generated_at`` is the caller's clock (aware); the caller owns and closes ``connection``.
    """
    validate_request(start, end, generated_at)
    name, tag_keys = organisation_and_tag_keys(connection, organization_id, tag_key)
    analytics = CostAnalytics(connection, organization_id, tag_keys)
    prev_start, _prev_end = previous_period(start, end)
    chosen = chosen_currency(analytics, start, end, currency)

    overview = analytics.overview(
        start, end, granularity="daily", group_by="service", currency=chosen, breakdown_limit=1
    )

    def breakdown(group_by: str) -> list[Driver]:
        return analytics.compare(start, end, prev_start, group_by=group_by, currency=chosen).drivers

    as_of = min(end, generated_at.astimezone(UTC).date())
    forecast = forecast_organisation(
        connection,
        organization_id,
        today=as_of,
        days_ahead=forecast_days,
        confidence_level=confidence_level,
        currency=chosen,
    )
    forecast_points = forecast.result.points if forecast.result is not None else []
    return MonthlyCostReviewInput(
        organisation_name=name,
        currency=chosen,
        start_date=start,
        end_date=end,
        generated_at=generated_at,
        total_cost=overview.total_cost,
        previous_total_cost=overview.period_comparison.previous_period,
        by_account=_lines(breakdown("account"), _account_labels(connection, organization_id)),
        by_service=_lines(breakdown("service")),
        by_region=_lines(breakdown("region")),
        tag_key=tag_key,
        by_tag=_lines(breakdown(f"tag:{tag_key}")) if tag_key is not None else [],
        daily=[DailySpend(date=p.date, cost=p.cost) for p in overview.time_series],
        forecast=[
            ForecastDay(date=p.date, forecast=p.predicted, lower=p.lower, upper=p.upper)
            for p in forecast_points
        ],
        top_n=top_n,
    )


__all__ = [
    "DEFAULT_FORECAST_DAYS",
    "MAX_REPORT_DAYS",
    "ReportInputError",
    "last_full_month",
    "monthly_cost_review_input",
    "previous_period",
    "validate_period",
]
