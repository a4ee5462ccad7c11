"""What every event notice shares: a fact (:func:`fact`), a scope cell's words (:func:`cell`), the
organisation's cost currency (:func:`cost_currency`) and sending a notice through the rules with the inbox's
own link (:func:`send`). Links come from ``cloudoptima.services.notice_links``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import text
from sqlalchemy.orm import Session

from cloudoptima.domain.notices import Notice, NoticeFact
from cloudoptima.domain.notification_rules import DispatchContext
from cloudoptima.services.events import Publish
from cloudoptima.services.notification_rules import DispatchResult, dispatch, inbox_notice_of

DEFAULT_CURRENCY: Final = "USD"
FACT_LIMIT: Final = 1000
"""A fact's value is cut to this many characters."""


def fact(label: str, value: object) -> NoticeFact:
    """A notice fact, its value as text cut to :data:`FACT_LIMIT` characters."""
    return NoticeFact(label=label, value=str(value)[:FACT_LIMIT])


def send(
    session: Session,
    organization_id: uuid.UUID,
    notice: Notice,
    context: DispatchContext,
    inbox_link: str,
    *,
    now: datetime,
    publish: Publish | None,
) -> DispatchResult:
    """Dispatch ``notice`` through the organisation's rules; in-app it is shown with ``inbox_link``."""
    shown = inbox_notice_of(notice, context).model_copy(update={"link": inbox_link})
    context = context.model_copy(update={"inbox_notice": shown})
    return dispatch(session, organization_id, notice, context=context, now=now, publish=publish)


def cell(dimensions: Mapping[str, Any]) -> str:
    """A scope or contribution cell in words (``service EC2, region us-east-1``; ``total spend`` for none)."""
    parts = [f"{k.replace('_', ' ')} {v}" for k, v in dimensions.items() if v not in ("(none)", "(other)")]
    return ", ".join(parts) if parts else "total spend"


def cost_currency(session: Session, organization_id: uuid.UUID, now: datetime) -> str:
    """The organisation's cost currency: the billing currency of most of its ``cost_daily`` rows of the 30
    days before ``now``, ``USD`` (the list prices' currency) without any."""
    day = now.date()
    found = session.scalar(
        text(
            "SELECT billing_currency FROM cost_daily WHERE organization_id = :org AND usage_date >= :d0 "
            "AND usage_date < :d1 GROUP BY 1 ORDER BY sum(row_count) DESC, 1 LIMIT 1"
        ),
        {"org": organization_id, "d0": day - timedelta(days=30), "d1": day + timedelta(days=1)},
    )
    return str(found).upper() if found else DEFAULT_CURRENCY
