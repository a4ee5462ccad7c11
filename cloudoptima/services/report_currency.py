"""The one currency of a report whose rows do not record a currency (recommendations, anomalies).

Recommendation estimates and anomaly amounts are stored without a currency: they are in the currency of the
costs they were computed from. :func:`period_currency` is that currency for ``[start, end)``: the only
billing currency of the organisation's ``cost_daily`` rows in the period, ``USD`` (the list prices'
currency) when there are none; several raise :class:`~cloudoptima.services.report_inputs.ReportInputError`
naming them, because amounts of different currencies would be summed.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Connection, text

from cloudoptima.services.report_inputs import ReportInputError

DEFAULT_CURRENCY = "USD"


def period_currency(
    connection: Connection, organization_id: uuid.UUID, start: date, end: date, what: str
) -> str:
    """The single currency of ``organization_id``'s costs in ``[start, end)`` (see module); ``what`` names the
    amounts in the error (e.g. ``"anomaly amounts"``)."""
    present = [
        str(c)
        for c in connection.scalars(
            text(
                "SELECT DISTINCT billing_currency FROM cost_daily WHERE organization_id = :org "
                "AND usage_date >= :d0 AND usage_date < :d1 ORDER BY 1"
            ),
            {"org": organization_id, "d0": start, "d1": end},
        )
    ]
    if len(present) > 1:
        raise ReportInputError(
            f"currency: costs from {start} to {end} are in several currencies ({', '.join(present)}) and "
            f"{what} do not record theirs, so they cannot be totalled in one report"
        )
    return present[0] if present else DEFAULT_CURRENCY


def organisation_name(connection: Connection, organization_id: uuid.UUID) -> str:
    """The organisation's name; :class:`ReportInputError` when there is no such organisation."""
    name = connection.scalar(text("SELECT name FROM organizations WHERE id = :org"), {"org": organization_id})
    if name is None:
        raise ReportInputError(f"organisation: no organisation with id {organization_id}")
    return str(name)
