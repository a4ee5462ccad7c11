"""The ``realised`` section of the savings report: the period's applied recommendations as the bill measured them.

Contract (:func:`realised_lines`):

- ``rows`` are the organisation's ``completed`` recommendations applied in the report's period (the report's
  applied lines); each is measured at ``as_of`` (the report's clock) by
  :func:`~cloudoptima.services.realised_savings.measure_recommendations`, the measurement ``GET /v1/savings``
  shows;
- one line per UTC month of ``applied_at`` (``YYYY-MM``) × type (the rule, else the category): ``completed``
  counts every row, ``measured`` those measured in the report's ``currency``; the money columns sum the
  measured ones' stored estimates and realised monthly savings (a measurement in another currency counts
  as not measured, so a line never mixes currencies);
- every query is scoped to ``organization_id``.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from cloudoptima.domain.savings import MeasurementStatus
from cloudoptima.reports.templates.savings import RealisedLine
from cloudoptima.services.realised_savings import WINDOW_DAYS, measure_recommendations
from cloudoptima.storage.models import Recommendation


@dataclass
class _Sums:
    completed: int = 0
    measured: int = 0
    estimated: Decimal = Decimal(0)
    realised: Decimal = Decimal(0)


def realised_lines(
    session: Session,
    organization_id: uuid.UUID,
    rows: Sequence[Recommendation],
    *,
    as_of: datetime,
    currency: str,
    window_days: int = WINDOW_DAYS,
) -> list[RealisedLine]:
    """The realised lines of ``rows`` (see the module contract), ordered by month then type."""
    measured = measure_recommendations(session, organization_id, rows, as_of, window_days=window_days)
    sums: dict[tuple[str, str], _Sums] = defaultdict(_Sums)
    for row in rows:
        if row.applied_at is None:
            continue
        entry = sums[(row.applied_at.astimezone(UTC).strftime("%Y-%m"), row.rule_id or row.category)]
        entry.completed += 1
        m = measured.get(row.id)
        if (
            m is not None
            and m.status is MeasurementStatus.MEASURED
            and m.currency == currency
            and m.realised_monthly is not None
        ):
            entry.measured += 1
            entry.estimated += row.estimated_savings_monthly or Decimal(0)
            entry.realised += m.realised_monthly
    return [
        RealisedLine(
            month=month,
            type=kind,
            completed=s.completed,
            measured=s.measured,
            estimated_savings_monthly=s.estimated,
            realised_savings_monthly=s.realised,
        )
        for (month, kind), s in sorted(sums.items())
    ]
