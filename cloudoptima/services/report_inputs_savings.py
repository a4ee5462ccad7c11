"""The input of the ``savings`` report, read through the recommendation service ``GET /v1/recommendations``
answers with (:meth:`RecommendationService.list`), so every line and amount equals what the API lists.

Contract (:func:`savings_input`):

- *open*: every ``active`` recommendation now (``GET /v1/recommendations?status=active``, without its page
  limit); ``accepted`` ones are counted with their estimated sum and how many are past their due date at
  ``generated_at``; ``scheduled`` and ``applied`` (being applied: an execution is changing the cloud) are
  counted;
- *applied in the period*: ``completed`` recommendations whose ``applied_at`` (set when the change was
  verified) falls on a UTC day of ``[start, end)``;
- *dismissed in the period*: ``dismissed`` recommendations whose ``dismissed_at`` falls on a day of the period;
- amounts are the stored estimates (``estimated_savings_monthly``), except the *realised* lines: the applied
  recommendations measured from the bill at ``generated_at``
  (:func:`~cloudoptima.services.report_inputs_realised.realised_lines`, as ``GET /v1/savings`` measures);
- the currency is :func:`~cloudoptima.services.report_currency.period_currency` of the period;
- bad input raises :class:`~cloudoptima.services.report_inputs.ReportInputError` starting with the field.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from cloudoptima.domain.recommendations import RecommendationStatus
from cloudoptima.reports.document import ReportDocument
from cloudoptima.reports.templates.savings import AppliedLine, RecommendationLine, SavingsInput, build_savings
from cloudoptima.services.price_catalog import price_catalog_for
from cloudoptima.services.realised_savings import WINDOW_DAYS
from cloudoptima.services.recommendations import RecommendationService
from cloudoptima.services.report_currency import organisation_name, period_currency
from cloudoptima.services.report_inputs import validate_request
from cloudoptima.services.report_inputs_realised import realised_lines
from cloudoptima.storage.models import Recommendation

_ALL = 1_000_000
"""No page limit: a report lists every recommendation of a state."""


def resource_label(row: Recommendation) -> str:
    """The affected resource as people read it: ``name (id)`` (or the id), ``+n more`` when several."""
    affected: list[Any] = [r for r in row.affected_resources or [] if isinstance(r, dict) and r.get("id")]
    ids = [str(r["id"]) for r in affected] or [str(r) for r in row.resource_ids or []]
    if not ids:
        return ""
    first = ids[0]
    if affected and affected[0].get("name") and str(affected[0]["name"]) != first:
        first = f"{affected[0]['name']} ({first})"
    return first if len(ids) == 1 else f"{first} +{len(ids) - 1} more"


def recommendation_type(row: Recommendation) -> str:
    """The recommendation's type: its rule, else its category."""
    return row.rule_id or row.category


def _line(row: Recommendation) -> dict[str, Any]:
    return {
        "title": row.title,
        "resource": resource_label(row),
        "type": recommendation_type(row),
        "risk_level": row.risk_level,
        "estimated_savings_monthly": row.estimated_savings_monthly,
        "confidence": row.confidence,
    }


def estimated_total(lines: Sequence[RecommendationLine]) -> Decimal:
    """The sum of the lines' estimated monthly savings (lines without an estimate add nothing)."""
    return sum(
        (line.estimated_savings_monthly for line in lines if line.estimated_savings_monthly is not None),
        Decimal(0),
    )


def _day(moment: datetime | None) -> date | None:
    return None if moment is None else moment.astimezone(UTC).date()


def savings_input(
    connection: Connection,
    organization_id: uuid.UUID,
    *,
    start: date,
    end: date,
    generated_at: datetime,
    top_n: int = 10,
) -> SavingsInput:
    """The savings report of ``organization_id`` for ``[start, end)`` (see the module contract).

    ``generated_at`` is the caller's clock (aware); the caller owns and closes ``connection``.
    """
    validate_request(start, end, generated_at)
    name = organisation_name(connection, organization_id)
    currency = period_currency(connection, organization_id, start, end, "recommendation estimates")
    with Session(bind=connection) as session:
        service = RecommendationService(
            session, organization_id, price_catalog_for(session, organization_id), now=lambda: generated_at
        )

        def of(status: RecommendationStatus) -> list[Recommendation]:
            return service.list(status=status, sort_by="savings", limit=_ALL)

        open_rows = of(RecommendationStatus.ACTIVE)
        applied_rows = [
            (row, day)
            for row in of(RecommendationStatus.COMPLETED)
            if (day := _day(row.applied_at)) is not None and start <= day < end
        ]
        dismissed = [
            row
            for row in of(RecommendationStatus.DISMISSED)
            if (day := _day(row.dismissed_at)) is not None and start <= day < end
        ]
        open_lines = [RecommendationLine.model_validate(_line(row)) for row in open_rows]
        applied_lines = [
            AppliedLine.model_validate(_line(row) | {"applied_on": day}) for row, day in applied_rows
        ]
        realised = realised_lines(
            session,
            organization_id,
            [row for row, _day in applied_rows],
            as_of=generated_at,
            currency=currency,
            window_days=WINDOW_DAYS,
        )
        accepted = of(RecommendationStatus.ACCEPTED)
        today = generated_at.astimezone(UTC).date()
        scheduled = len(of(RecommendationStatus.SCHEDULED))
        in_progress = len(of(RecommendationStatus.APPLIED))
    return SavingsInput(
        organisation_name=name,
        currency=currency,
        start_date=start,
        end_date=end,
        generated_at=generated_at,
        open=open_lines,
        open_savings_monthly=estimated_total(open_lines),
        accepted_count=len(accepted),
        accepted_savings_monthly=sum(
            (r.estimated_savings_monthly or Decimal(0) for r in accepted), Decimal(0)
        ),
        accepted_overdue=sum(1 for r in accepted if r.due_date is not None and r.due_date < today),
        scheduled_count=scheduled,
        in_progress_count=in_progress,
        applied=applied_lines,
        applied_savings_monthly=estimated_total(applied_lines),
        dismissed_count=len(dismissed),
        realised=realised,
        realised_window_days=WINDOW_DAYS,
        top_n=top_n,
    )


def build_savings_report(
    connection: Connection, organization_id: uuid.UUID, parameters: Mapping[str, Any], generated_at: datetime
) -> ReportDocument:
    """The catalog's builder of ``savings`` (``parameters`` resolved: ``start_date``, ``end_date``, ``top_n``)."""
    data = savings_input(
        connection,
        organization_id,
        start=parameters["start_date"],
        end=parameters["end_date"],
        generated_at=generated_at,
        top_n=parameters.get("top_n", 10),
    )
    return build_savings(data)
