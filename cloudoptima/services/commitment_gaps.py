"""Commitments the billing data shows but cannot give a utilisation for: GCP committed use discounts (#22).

GCP's standard (and detailed) billing export carries a committed use discount as two unrelated things: the
commitment fee rows (SKU description ``Commitment v1: …`` for resource-based, ``Commitment - dollar based
v1: …`` for spend-based commitments) and ``credits[]`` of type ``COMMITTED_USAGE_DISCOUNT`` /
``COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE`` on the usage they discounted, valued at on-demand prices (the
reader keeps them as Credit rows with ``x_credit_type``). No row names the commitment a credit drew on, and
a credit is an on-demand amount while the fee is at the committed price, so the used and unused parts of a
commitment are not in the export. :func:`gcp_not_derivable` reports, per currency, what was seen in
``[start, end)`` (the whole history when both are None) with that reason instead of a number; it reads only
``cost_data`` of ``organization_id``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from cloudoptima.domain.commitments import NotDerivable

GCP_REASON = (
    "not derivable from this export: GCP's billing export gives committed use discounts as commitment fee "
    "rows ('Commitment v1: ...') and COMMITTED_USAGE_DISCOUNT credits at on-demand prices on the usage, "
    "with no commitment id on the credits and no used/unused split; ingest GCP's FOCUS export or read the "
    "commitments' utilisation from GCP (CUD analysis) instead"
)
_CREDIT = (
    "charge_category = 'Credit' AND extensions->>'x_credit_type' "
    "IN ('COMMITTED_USAGE_DISCOUNT', 'COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE')"
)
_FEE = "charge_category <> 'Credit' AND charge_description LIKE 'Commitment%'"


def gcp_not_derivable(
    session: Session, organization_id: uuid.UUID, start: date | None, end: date | None
) -> list[NotDerivable]:
    """One entry per currency with GCP commitment fees or commitment credits in ``[start, end)``."""
    params: dict[str, Any] = {"org": organization_id}
    where = ""
    if start is not None and end is not None:
        where = " AND charge_period_start >= :t0 AND charge_period_start < :t1"
        params |= {"t0": datetime.combine(start, time(), UTC), "t1": datetime.combine(end, time(), UTC)}
    rows = session.execute(
        text(
            f"""
            SELECT billing_currency,
                   coalesce(sum(billed_cost) FILTER (WHERE {_FEE}), 0) AS fee,
                   coalesce(sum(billed_cost) FILTER (WHERE {_CREDIT}), 0) AS credit
            FROM cost_data
            WHERE organization_id = :org AND provider = 'gcp'{where}
              AND (({_FEE}) OR ({_CREDIT}))
            GROUP BY 1 ORDER BY 1
            """
        ),
        params,
    ).all()
    return [
        NotDerivable(
            provider="Google Cloud",
            currency=row.billing_currency,
            reason=GCP_REASON,
            commitment_fee_cost=Decimal(row.fee),
            discount_credit_cost=Decimal(row.credit),
        )
        for row in rows
    ]
