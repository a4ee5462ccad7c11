"""The scheduled pass: send every due digest, each user in its own transaction, failures recorded.

Contract:
- :func:`send_due` sends every digest due at ``now``, user by user, each in its own transaction with the
  subscription row locked (``FOR UPDATE SKIP LOCKED``: two passes never send one digest twice): ``email`` as
  a multipart (text + HTML) message through the SMTP sender (Message-ID derived from the idempotency key
  ``digest:<user>:<start>:<end>``), ``in_app`` through :meth:`Inbox.post` with that key (a repeat posts
  nothing). Success sets ``last_sent_at = now`` and clears ``last_error``; a failure (SMTP down, no SMTP
  configured, any error building the digest) records ``last_attempt_at`` and ``last_error``, leaves
  ``last_sent_at`` unchanged (so the next pass tries again) and never stops the other users. An email
  accepted by the server whose transaction then fails to commit is sent again next pass with the same
  Message-ID.
- :func:`due_subscriptions` is the worker's one cross-tenant read; everything else is scoped to the
  organisation. ``now`` comes from the caller and must carry a time zone.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.domain.inbox import InboxNotice
from cloudoptima.domain.notices import Notice
from cloudoptima.notifications.channels import DeliveryError
from cloudoptima.notifications.email import SmtpSender
from cloudoptima.notifications.email_channel import EmailChannel
from cloudoptima.services.digests.figures import digest_figures
from cloudoptima.services.digests.notice import digest_notice, notice_payload
from cloudoptima.services.digests.schedule import aware, is_due, period_at, schedule_of
from cloudoptima.services.digests.subscriptions import DigestRows
from cloudoptima.services.events import Publish
from cloudoptima.services.inbox import Inbox
from cloudoptima.storage.models import NotificationDigestRow, User
from cloudoptima.storage.tenancy import tenant_session

log = logging.getLogger(__name__)

MAX_ERROR = 2000


@dataclass(frozen=True)
class DigestPassResult:
    """What one pass did: ``due`` subscriptions found, ``sent`` digests, ``failed`` user ids (recorded on
    their rows, retried next pass)."""

    due: int = 0
    sent: int = 0
    failed: list[str] = field(default_factory=list)


def due_subscriptions(session: Session, now: datetime) -> list[NotificationDigestRow]:
    """Every subscription of an active user that is due at ``now`` (the one cross-tenant read)."""
    now = aware(now)
    rows = session.scalars(
        select(NotificationDigestRow)
        .join(User, User.id == NotificationDigestRow.user_id)
        .where(User.is_active, User.organization_id == NotificationDigestRow.organization_id)
        .order_by(NotificationDigestRow.organization_id, NotificationDigestRow.user_id)
    ).all()
    return [row for row in rows if is_due(row, now)]


def _deliver(
    session: Session,
    row: NotificationDigestRow,
    notice: Notice,
    user: User,
    *,
    smtp: SmtpSender | None,
    publish: Publish | None,
    now: datetime,
) -> None:
    if row.channel == "in_app":
        Inbox(session, row.organization_id, publish=publish).post(
            [user.id],
            InboxNotice(
                event_type="digest",
                severity=notice.severity.value,
                title=notice.title,
                summary=notice.summary[:2000],
                link=notice.link,
                payload=dict(notice_payload(notice)),
            ),
            idempotency_key=notice.idempotency_key,
            now=now,
        )
        return
    if smtp is None:
        raise DeliveryError(
            retryable=True,
            reason="SMTP is not configured (set SMTP_HOST); email digests wait until it is",
            channel="email",
            target=user.email,
        )
    EmailChannel(smtp).deliver(notice, user.email)


def send_one(
    session: Session,
    organization_id: uuid.UUID,
    user_id: uuid.UUID,
    *,
    now: datetime,
    smtp: SmtpSender | None,
    base_url: str,
    publish: Publish | None = None,
) -> bool | None:
    """Send one user's digest if still due (row locked); True sent, False failed (recorded), None not due."""
    now = aware(now)
    row = session.scalars(
        DigestRows(session, organization_id)
        .query()
        .where(NotificationDigestRow.user_id == user_id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).first()
    if row is None or not is_due(row, now):
        return None
    try:
        with session.begin_nested():
            user = session.scalars(
                select(User).where(User.organization_id == organization_id, User.id == user_id)
            ).one()
            period = period_at(schedule_of(row), now)
            figures = digest_figures(session, organization_id, user, period, now=now, base_url=base_url)
            notice = digest_notice(organization_id, user.id, period, figures)
            _deliver(session, row, notice, user, smtp=smtp, publish=publish, now=now)
    except Exception as exc:
        log.warning("digest for user %s failed: %s", user_id, exc)
        row.last_attempt_at = now
        row.last_error = str(exc)[:MAX_ERROR] or type(exc).__name__
        session.flush()
        return False
    row.last_sent_at = row.last_attempt_at = now
    row.last_error = None
    session.flush()
    return True


def send_due(
    sessions: sessionmaker[Session],
    now: datetime,
    *,
    smtp: SmtpSender | None,
    base_url: str,
    publish: Publish | None = None,
) -> DigestPassResult:
    """Send every digest due at ``now``, each user in its own transaction (see module)."""
    now = aware(now)
    with sessions() as session:
        due = [(row.organization_id, row.user_id) for row in due_subscriptions(session, now)]
    sent = 0
    failed: list[str] = []
    for organization_id, user_id in due:
        try:
            with tenant_session(sessions, organization_id) as session:
                outcome = send_one(
                    session, organization_id, user_id, now=now, smtp=smtp, base_url=base_url, publish=publish
                )
        except Exception:
            log.exception("digest pass failed for user %s", user_id)
            outcome = False
        if outcome is True:
            sent += 1
        elif outcome is False:
            failed.append(str(user_id))
    return DigestPassResult(due=len(due), sent=sent, failed=failed)
