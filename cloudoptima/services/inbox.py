"""The in-app inbox: notices stored per user, listed newest first, marked read, pushed on the WebSocket.

Contract:
- :meth:`Inbox.post` stores one ``notifications`` row per addressed user of the organisation. Posting is
  idempotent per ``(user, idempotency_key)``: a repeat (a retried activity) inserts nothing and returns the
  rows stored the first time. Users that are not in the organisation are refused (:class:`InboxError` on
  ``user_ids``).
- Every newly stored row is announced as a ``notifications`` event (``cloudoptima.services.events``) with
  ``data = {"user_id", "notification": {...}}`` through the ``publish`` the inbox was built with, **after the
  session's transaction commits** (a rolled-back post announces nothing; a repeat announces nothing). The
  gateway stream forwards the event only to the sockets of that user. Publishing is best effort: a failure
  is logged; the row is in Postgres and the inbox lists it.
- :meth:`Inbox.list` reads one user's notices newest first by ``(created_at, id)`` in keyset pages
  (``next_cursor`` resumes exactly after the last row, stable while notices arrive); ``unread_only``
  restricts to unread. :meth:`Inbox.unread_count` counts the unread.
- :meth:`Inbox.mark_read` marks the caller's own notices read (already-read ones keep their ``read_at``);
  an id that is unknown, of another user or of another organisation is :class:`NotificationNotFound`
  and nothing is marked. :meth:`Inbox.mark_all_read` marks every unread notice of the user.
- Every query is scoped to the organisation (tenant repository) and to the user; the caller owns the
  transaction. ``now`` comes from the caller and must carry a time zone.

Event hooks (called by the kernel's callers, never by routes) build the event's notice and hand it to
:func:`cloudoptima.services.notification_rules.dispatch`, which applies the organisation's notification rules
(by default, on a fresh install: approvals to the users whose role may decide them, budget alerts to the
admins, both in-app): :func:`notify_pending_approval` once per execution (in-app only to roles among its
plan's ``approver_roles``); :func:`notify_budget_alerts` once per budget, period, threshold and type.
"""

from __future__ import annotations

import base64
import binascii
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, SessionTransaction

from cloudoptima.domain.budgets import AlertEvent, NotificationType
from cloudoptima.domain.inbox import InboxItem, InboxNotice
from cloudoptima.domain.notices import Notice, NoticeEventType, NoticeFact, NoticeSeverity
from cloudoptima.domain.notification_rules import DispatchContext
from cloudoptima.domain.remediation import RemediationState
from cloudoptima.services.events import Publish
from cloudoptima.services.notice_links import notice_links
from cloudoptima.storage.models import Notification, PolicyExecution, User
from cloudoptima.storage.tenancy import TenantRepository

log = logging.getLogger(__name__)

NOTIFICATIONS_CHANNEL = "notifications"
"""The event type (WebSocket channel) inbox notices are announced on."""
MAX_PAGE = 100
MAX_KEY = 200
APPROVAL_API_PATH = "/v1/executions/{execution_id}"
"""Where the API shows one waiting approval: the execution (plan, impact, risk, ``pending_approval`` state);
the decision is ``POST /v1/approvals/{execution_id}/decision``."""
_OUTBOX = "cloudoptima.inbox.outbox"


class InboxError(ValueError):
    """Bad input; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class NotificationNotFound(LookupError):
    """A notice id that is not the caller's (unknown, another user's or another organisation's)."""

    def __init__(self, notification_id: uuid.UUID) -> None:
        super().__init__(f"notification {notification_id} not found")
        self.notification_id = notification_id


@dataclass(frozen=True)
class InboxPage:
    items: list[InboxItem]
    next_cursor: str | None


class _Notifications(TenantRepository[Notification]):
    model = Notification


def item_of(row: Notification) -> InboxItem:
    """The reader's view of one stored notice."""
    return InboxItem(
        id=row.id,
        user_id=row.user_id,
        event_type=row.event_type,
        severity=row.severity,  # type: ignore[arg-type]
        title=row.title,
        summary=row.summary,
        link=row.link,
        payload=dict(row.payload or {}),
        created_at=row.created_at,
        read_at=row.read_at,
    )


def encode_cursor(row: InboxItem) -> str:
    raw = f"{row.created_at.isoformat()}|{row.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The ``(created_at, id)`` a cursor resumes after; :class:`InboxError` on ``cursor`` when malformed."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, row_id = raw.split("|")
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None:
            raise ValueError("naive")
        return moment, uuid.UUID(row_id)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InboxError("cursor", "is not a cursor this endpoint returned") from exc


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise InboxError("now", "must carry a time zone")
    return now


class Inbox:
    """One organisation's inbox (see module contract)."""

    def __init__(
        self, session: Session, organization_id: uuid.UUID, *, publish: Publish | None = None
    ) -> None:
        self._repo = _Notifications(session, organization_id)
        self._session = session
        self._org = organization_id
        self._publish = publish

    def post(
        self,
        user_ids: Iterable[uuid.UUID],
        notice: InboxNotice,
        *,
        idempotency_key: str,
        now: datetime,
    ) -> list[InboxItem]:
        """Store ``notice`` for each user once per key; announce the new rows after commit."""
        if not idempotency_key or len(idempotency_key) > MAX_KEY or "\x00" in idempotency_key:
            raise InboxError("idempotency_key", f"must be 1-{MAX_KEY} characters without NUL")
        now = _aware(now)
        users = list(dict.fromkeys(user_ids))
        if not users:
            return []
        known = set(
            self._session.scalars(
                select(User.id).where(User.organization_id == self._org, User.id.in_(users))
            ).all()
        )
        unknown = [str(u) for u in users if u not in known]
        if unknown:
            raise InboxError("user_ids", f"not users of this organisation: {', '.join(unknown)}")
        values = [
            {
                "id": uuid.uuid4(),
                "organization_id": self._org,
                "user_id": user,
                "event_type": notice.event_type,
                "severity": notice.severity,
                "title": notice.title,
                "summary": notice.summary,
                "link": notice.link,
                "payload": notice.payload,
                "idempotency_key": idempotency_key,
                "created_at": now,
            }
            for user in users
        ]
        inserted = set(
            self._session.scalars(
                insert(Notification)
                .values(values)
                .on_conflict_do_nothing(constraint="uq_notifications_idempotency_key")
                .returning(Notification.id)
            ).all()
        )
        rows = self._session.scalars(
            self._repo.query()
            .where(Notification.user_id.in_(users), Notification.idempotency_key == idempotency_key)
            .execution_options(populate_existing=True)
        ).all()
        by_user = {row.user_id: item_of(row) for row in rows}
        items = [by_user[user] for user in users]
        if self._publish is not None:
            outbox: list[tuple[Publish, uuid.UUID, dict[str, Any]]] = self._session.info.setdefault(
                _OUTBOX, []
            )
            for item in items:
                if item.id in inserted:
                    data = {"user_id": str(item.user_id), "notification": item.model_dump(mode="json")}
                    outbox.append((self._publish, self._org, data))
        return items

    def list(
        self,
        user_id: uuid.UUID,
        *,
        unread_only: bool = False,
        limit: int = 50,
        cursor: str | None = None,
    ) -> InboxPage:
        """One page of the user's notices, newest first (see module contract)."""
        if not 1 <= limit <= MAX_PAGE:
            raise InboxError("limit", f"must be between 1 and {MAX_PAGE}")
        query = self._repo.query().where(Notification.user_id == user_id)
        if unread_only:
            query = query.where(Notification.read_at.is_(None))
        if cursor:
            at, row_id = decode_cursor(cursor)
            query = query.where(
                or_(
                    Notification.created_at < at,
                    and_(Notification.created_at == at, Notification.id < row_id),
                )
            )
        rows = self._session.scalars(
            query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit + 1)
        ).all()
        items = [item_of(row) for row in rows[:limit]]
        more = len(rows) > limit
        return InboxPage(items=items, next_cursor=encode_cursor(items[-1]) if more else None)

    def unread_count(self, user_id: uuid.UUID) -> int:
        """How many of the user's notices are unread."""
        count = self._session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(
                Notification.organization_id == self._org,
                Notification.user_id == user_id,
                Notification.read_at.is_(None),
            )
        )
        return int(count or 0)

    def mark_read(
        self, user_id: uuid.UUID, ids: Sequence[uuid.UUID], *, now: datetime
    ) -> Sequence[InboxItem]:
        """Mark the user's notices ``ids`` read; :class:`NotificationNotFound` (nothing marked) for an id
        that is not the user's."""
        now = _aware(now)
        wanted = list(dict.fromkeys(ids))
        rows = {
            row.id: row
            for row in self._session.scalars(
                self._repo.query().where(Notification.user_id == user_id, Notification.id.in_(wanted))
            ).all()
        }
        for notification_id in wanted:
            if notification_id not in rows:
                raise NotificationNotFound(notification_id)
        for row in rows.values():
            if row.read_at is None:
                row.read_at = now
        self._session.flush()
        return [item_of(rows[i]) for i in wanted]

    def mark_all_read(self, user_id: uuid.UUID, *, now: datetime) -> int:
        """Mark every unread notice of the user read; returns how many were marked."""
        now = _aware(now)
        result = self._session.execute(
            update(Notification)
            .where(
                Notification.organization_id == self._org,
                Notification.user_id == user_id,
                Notification.read_at.is_(None),
            )
            .values(read_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)


@sa_event.listens_for(Session, "after_commit")
def _announce(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released (SQLAlchemy fires after_commit for it): wait for the real commit
    for publish, org, data in session.info.pop(_OUTBOX, None) or []:
        try:
            publish(org, NOTIFICATIONS_CHANNEL, data)
        except Exception:  # best effort: the notice is stored and listed
            log.exception("could not announce notification %s", data["notification"]["id"])


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous: SessionTransaction) -> None:
    if not previous.nested:
        session.info.pop(_OUTBOX, None)


def approval_link(execution_id: uuid.UUID, console_url: str | None) -> str:
    """Where a reader opens the approval: the console's page when its URL is known, else the execution in
    the API (:data:`APPROVAL_API_PATH`, a path: absolute only under the console)."""
    return notice_links("execution", execution_id, console_url, None)[0]


def approval_channel_link(
    execution_id: uuid.UUID, console_url: str | None, public_url: str | None
) -> str | None:
    """The absolute link channel notices carry: the console's page, else ``{public_url}/v1/executions/{id}``
    (``public_url``: ``Settings.resolved_public_url``), else None (a channel link must be absolute)."""
    return notice_links("execution", execution_id, console_url, public_url)[1]


def notify_pending_approval(
    session: Session,
    organization_id: uuid.UUID,
    execution_id: uuid.UUID,
    *,
    now: datetime,
    publish: Publish | None = None,
    console_url: str | None = None,
    public_url: str | None = None,
) -> list[InboxItem]:
    """Dispatch "approval waiting" (``approval.requested``) through the organisation's notification rules,
    once per execution; in-app it reaches only users whose role may decide it (its plan's ``approver_roles``;
    by default every one of them). Returns the inbox notices (new or already posted).

    Nothing is dispatched (``[]``) when the execution is unknown or no longer ``pending_approval``."""
    from cloudoptima.services.notification_rules import dispatch  # here: the rules module imports this one

    row = session.scalars(
        select(PolicyExecution).where(
            PolicyExecution.organization_id == organization_id, PolicyExecution.id == execution_id
        )
    ).first()
    if row is None or row.status != RemediationState.PENDING_APPROVAL.value:
        return []
    plan = dict(row.plan or {})
    roles = [str(r) for r in plan.get("approver_roles") or []]
    title = str(plan.get("title") or "Remediation")
    impact = dict(plan.get("impact") or {})
    savings = impact.get("savings")
    summary = f"{row.risk_level or 'unknown'}-risk remediation waiting for approval"
    if savings is not None:  # read by people: cents and a UTC minute, not a Decimal's or isoformat's digits
        summary += f"; saves {Decimal(str(savings)):.2f} per month"
    if row.expires_at is not None:
        summary += f"; expires {row.expires_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    link = approval_link(row.id, console_url)
    shown = InboxNotice(
        event_type="approval.pending",
        severity="warning",
        title=f"Approval needed: {title}"[:200],
        summary=summary,
        link=link,
        payload={
            "execution_id": str(row.id),
            "risk_level": row.risk_level,
            "approver_roles": roles,
            "expires_at": row.expires_at.isoformat() if row.expires_at else None,
        },
    )
    facts = [NoticeFact(label="Risk", value=str(row.risk_level or "unknown"))]
    if row.expires_at is not None:
        facts.append(NoticeFact(label="Expires", value=row.expires_at.isoformat()))
    notice = Notice(
        event_type=NoticeEventType.APPROVAL_REQUESTED,
        severity=NoticeSeverity.WARNING,
        title=shown.title,
        summary=summary,
        link=approval_channel_link(row.id, console_url, public_url),
        facts=tuple(facts),
        organization_id=organization_id,
        occurred_at=now,
        idempotency_key=f"approval.pending:{row.id}",
    )
    context = DispatchContext(
        amount=Decimal(str(savings)) if savings is not None else None,
        audience_roles=tuple(roles),
        inbox_notice=shown,
    )
    result = dispatch(session, organization_id, notice, context=context, now=now, publish=publish)
    return list(result.inbox_items)


def notify_budget_alerts(
    session: Session,
    organization_id: uuid.UUID,
    *,
    budget_id: uuid.UUID,
    budget_name: str,
    period_start: date,
    fired: Sequence[AlertEvent],
    now: datetime,
    publish: Publish | None = None,
    currency: str = "USD",
    console_url: str | None = None,
    public_url: str | None = None,
) -> list[InboxItem]:
    """Dispatch each fired threshold of a budget (``budget.actual`` / ``budget.forecasted``, with the budget id,
    the spend as amount and the budget's ``currency``) through the organisation's notification rules (by
    default: its active admins in-app), once per budget, period, threshold and type. Returns the inbox
    notices (new or already posted). Links: the console's budgets page under ``console_url``, else the budget
    in the API (absolute under ``public_url`` on channels; ``cloudoptima.services.notice_links``)."""
    from cloudoptima.services.notification_rules import dispatch  # here: the rules module imports this one

    inbox_link, link = notice_links("budget", budget_id, console_url, public_url)
    posted: list[InboxItem] = []
    for alert in fired:
        kind = str(alert.type)
        severity = "critical" if alert.threshold >= 100 else "warning"
        title = f"Budget {budget_name}: {kind} spend crossed {alert.threshold}%"[:200]
        summary = f"{kind.capitalize()} spend {alert.spend} of {alert.limit} (threshold {alert.threshold}%)"
        shown = InboxNotice(
            event_type="budget.alert",
            severity=severity,
            title=title,
            summary=summary,
            link=inbox_link,
            payload={
                "budget_id": str(budget_id),
                "period_start": period_start.isoformat(),
                "threshold": str(alert.threshold),
                "type": kind,
                "spend": str(alert.spend),
                "limit": str(alert.limit),
                "currency": currency,
            },
        )
        notice = Notice(
            event_type=(
                NoticeEventType.BUDGET_FORECASTED
                if alert.type == NotificationType.FORECASTED
                else NoticeEventType.BUDGET_ACTUAL
            ),
            severity=NoticeSeverity(severity),
            title=title,
            summary=summary,
            amount=alert.spend,
            currency=currency,
            link=link,
            facts=(
                NoticeFact(label="Budget", value=budget_name[:1000]),
                NoticeFact(label="Period start", value=period_start.isoformat()),
                NoticeFact(label="Threshold", value=f"{alert.threshold}%"),
                NoticeFact(label="Limit", value=f"{alert.limit} {currency}"),
            ),
            organization_id=organization_id,
            occurred_at=now,
            idempotency_key=f"budget.alert:{budget_id}:{period_start.isoformat()}:{kind}:{alert.threshold}",
        )
        context = DispatchContext(budget_id=budget_id, amount=alert.spend, inbox_notice=shown)
        result = dispatch(session, organization_id, notice, context=context, now=now, publish=publish)
        posted += result.inbox_items
    return posted
