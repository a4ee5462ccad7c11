"""``recommendation.created``: one notice per new recommendation (contract in the package)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cloudoptima.domain.notices import Notice, NoticeEventType, NoticeSeverity
from cloudoptima.domain.notification_rules import DispatchContext
from cloudoptima.services.event_notices.common import cost_currency, fact, send
from cloudoptima.services.events import Publish
from cloudoptima.services.notice_links import notice_links
from cloudoptima.services.notification_rules import DispatchResult
from cloudoptima.storage.models import Recommendation


def billed_services(
    session: Session, organization_id: uuid.UUID, resource_ids: Iterable[str], now: datetime
) -> dict[str, str]:
    """The billing service (``cost_data.service_name``) each of these resources was charged under in the 62
    days before ``now``, by lower-case resource id (the most charged one when several)."""
    wanted = sorted({r.lower() for r in resource_ids if r})
    if not wanted:
        return {}
    rows = session.execute(
        text(
            "SELECT lower(resource_id), service_name FROM cost_data WHERE organization_id = :org "
            "AND charge_period_start >= :d0 AND charge_period_start < :d1 AND lower(resource_id) = ANY(:ids) "
            "AND service_name IS NOT NULL GROUP BY 1, 2 ORDER BY 1, sum(billed_cost) DESC, 2"
        ),
        {"org": organization_id, "d0": now - timedelta(days=62), "d1": now, "ids": wanted},
    ).all()
    found: dict[str, str] = {}
    for resource, service in rows:
        found.setdefault(str(resource), str(service))
    return found


def recommendation_notice(
    row: Recommendation,
    currency: str,
    *,
    now: datetime,
    console_url: str | None = None,
    public_url: str | None = None,
    service: str | None = None,
) -> tuple[Notice, DispatchContext, str]:
    """The ``recommendation.created`` notice of a stored recommendation, its context and the inbox's link."""
    savings = row.estimated_savings_monthly
    inbox_link, link = notice_links("recommendation", row.id, console_url, public_url)
    resources = [str(r) for r in row.resource_ids or []]
    facts = [
        fact("Category", row.category),
        fact("Risk", row.risk_level),
        fact("Provider", row.provider or "unknown"),
        fact("Account", row.account_identifier or "unknown"),
        fact("Region", row.region or "global"),
        fact(
            "Resources",
            ", ".join(resources[:10]) + (f" and {len(resources) - 10} more" if len(resources) > 10 else ""),
        ),
    ]
    if service is not None:
        facts.insert(4, fact("Service", service))
    if row.estimated_savings_annual is not None:
        facts.append(fact("Annual savings", f"{row.estimated_savings_annual} {currency}"))
    summary = (row.description or row.title)[:2000]
    notice = Notice(
        event_type=NoticeEventType.RECOMMENDATION_CREATED,
        severity=NoticeSeverity.INFO,
        title=f"Recommendation: {row.title}"[:200],
        summary=summary,
        amount=savings,
        currency=currency if savings is not None else None,
        link=link,
        facts=tuple(facts),
        organization_id=row.organization_id,
        occurred_at=now,
        idempotency_key=f"recommendation.created:{row.id}",
    )
    context = DispatchContext(account_id=row.account_identifier, service=service, region=row.region)
    return notice, context, inbox_link


def notify_recommendations_created(
    session: Session,
    organization_id: uuid.UUID,
    recommendation_ids: Iterable[uuid.UUID],
    *,
    now: datetime,
    publish: Publish | None = None,
    console_url: str | None = None,
    public_url: str | None = None,
    currency: str | None = None,
) -> list[DispatchResult]:
    """Dispatch ``recommendation.created`` for each of these new recommendations, largest saving first;
    amounts in ``currency`` (default: :func:`cost_currency`)."""
    ids = list(recommendation_ids)
    if not ids:
        return []
    currency = (currency or cost_currency(session, organization_id, now)).upper()
    rows = session.scalars(
        select(Recommendation)
        .where(Recommendation.organization_id == organization_id, Recommendation.id.in_(ids))
        .order_by(Recommendation.estimated_savings_monthly.desc().nulls_last(), Recommendation.id)
    ).all()
    services = billed_services(
        session, organization_id, (r for row in rows for r in row.resource_ids or []), now
    )
    results = []
    for row in rows:
        service = next(
            (services[r.lower()] for r in row.resource_ids or [] if r and r.lower() in services), None
        )
        notice, context, inbox_link = recommendation_notice(
            row, currency, now=now, console_url=console_url, public_url=public_url, service=service
        )
        results.append(send(session, organization_id, notice, context, inbox_link, now=now, publish=publish))
    return results
