"""``recommendation.overdue``: an accepted recommendation is past its due date (#22; contract in the package).

:func:`notify_recommendations_overdue` looks at the organisation's recommendations that are ``accepted`` with
an owner and a due date before ``now``'s UTC day (the same "overdue" as ``GET /v1/recommendations?overdue=
true``) and whose ``overdue_notified_for`` is not that due date, and sends one notice each, addressed to the
owner (``DispatchContext.owner_user_id``: the default rule's ``recipients.owner``; admins may add rules of
their own). It records the due date in ``overdue_notified_for`` in the caller's transaction (a rolled-back run
notifies no one and is sent again), so repeated runs are silent and a new due date (accepting again) notifies
again once it has passed. Snoozed, dismissed, applied (any status but ``accepted``) ones never fire.
Severity ``warning``; title ``Overdue: <title>``; amount the estimated monthly saving in the organisation's
cost currency; facts owner, due date, days overdue, monthly saving, category, account, region; links as
``recommendation.created`` (console ``/recommendations/{id}``, API ``/v1/recommendations/{id}``); key
``recommendation.overdue:<id>:<due date>``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloudoptima.domain.notices import Notice, NoticeEventType, NoticeSeverity
from cloudoptima.domain.notification_rules import DispatchContext
from cloudoptima.domain.recommendations import RecommendationStatus
from cloudoptima.services.event_notices.common import cost_currency, fact, send
from cloudoptima.services.events import Publish
from cloudoptima.services.notice_links import notice_links
from cloudoptima.services.notification_rules import DispatchResult
from cloudoptima.storage.models import Recommendation, User


def notify_recommendations_overdue(
    session: Session,
    organization_id: uuid.UUID,
    *,
    now: datetime,
    publish: Publish | None = None,
    console_url: str | None = None,
    public_url: str | None = None,
) -> list[DispatchResult]:
    """Dispatch ``recommendation.overdue`` to the owner of each accepted recommendation past its due date,
    once per due date (module contract); returns one result per notice sent now."""
    if now.tzinfo is None:
        raise ValueError("now: must be timezone-aware (UTC)")
    today = now.astimezone(UTC).date()
    rows = session.execute(
        select(Recommendation, User.email)
        .join(User, User.id == Recommendation.owner_user_id)
        .where(
            Recommendation.organization_id == organization_id,
            Recommendation.status == RecommendationStatus.ACCEPTED.value,
            Recommendation.due_date < today,
            Recommendation.overdue_notified_for.is_distinct_from(Recommendation.due_date),
        )
        .order_by(Recommendation.due_date, Recommendation.id)
        .with_for_update(of=Recommendation)
    ).all()
    if not rows:
        return []
    currency = cost_currency(session, organization_id, now)
    results = []
    for row, owner_email in rows:
        due = row.due_date
        assert due is not None and row.owner_user_id is not None  # the query's conditions
        row.overdue_notified_for = due
        days = (today - due).days
        savings = row.estimated_savings_monthly
        saving_text = f"{savings} {currency}/month" if savings is not None else "not estimated"
        inbox_link, link = notice_links("recommendation", row.id, console_url, public_url)
        notice = Notice(
            event_type=NoticeEventType.RECOMMENDATION_OVERDUE,
            severity=NoticeSeverity.WARNING,
            title=f"Overdue: {row.title}"[:200],
            summary=(
                f"{row.title} was due on {due.isoformat()} and is {days} day{'s' if days != 1 else ''} overdue "
                f"(estimated saving {saving_text}): apply it, or accept it again with a new due date."
            )[:3000],
            amount=savings,
            currency=currency if savings is not None else None,
            link=link,
            facts=(
                fact("Owner", owner_email),
                fact("Due date", due.isoformat()),
                fact("Days overdue", days),
                fact("Monthly saving", saving_text),
                fact("Category", row.category),
                fact("Account", row.account_identifier or "unknown"),
                fact("Region", row.region or "global"),
            ),
            organization_id=organization_id,
            occurred_at=now,
            idempotency_key=f"recommendation.overdue:{row.id}:{due.isoformat()}",
        )
        context = DispatchContext(
            account_id=row.account_identifier, region=row.region, owner_user_id=row.owner_user_id
        )
        results.append(send(session, organization_id, notice, context, inbox_link, now=now, publish=publish))
    session.flush()
    return results
