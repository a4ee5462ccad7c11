"""What every event notice shares: a fact (:func:`fact`), the links (:func:`links`), a scope cell's words
(:func:`cell`), the organisation's cost currency (:func:`cost_currency`) and sending a notice through the
rules with the inbox's own link (:func:`send`).
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


def links(
    console_url: str | None, console_path: str, api_path: str, public_url: str | None = None
) -> tuple[str, str | None]:
    """(the inbox's link, the notice's absolute link or None) of a thing the console shows at
    ``console_path`` and the API answers at ``api_path``.

    With ``console_url`` (the web console's base URL): ``{console_url}{console_path}`` for both (the
    notice's only when absolute). Without it, the inbox links to the API path (the inbox is read through the
    API) and channels get the absolute ``{public_url}{api_path}`` (``public_url``: the address people reach
    the gateway at, ``Settings.resolved_public_url``); without either, channels get no link (a channel link
    must be absolute)."""
    if console_url:
        link = f"{console_url.rstrip('/')}{console_path}"
        return link, link if link.startswith(("http://", "https://")) else None
    if public_url and public_url.startswith(("http://", "https://")):
        return api_path, f"{public_url.rstrip('/')}{api_path}"
    return api_path, None


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
