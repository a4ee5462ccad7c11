"""The ``report.ready`` notice: a report finished (completed or failed) and the person who asked hears of it.

Contract (:func:`notify_report_ready`, called by :class:`~cloudoptima.services.reports.Reports` in the
transaction that marks the report ``completed`` or ``failed``; the caller commits, so a rolled-back
completion notifies no one):

- The requester (``requested_by``), when there is one and they are still an active user of the
  organisation, gets an in-app notice (:meth:`Inbox.post <cloudoptima.services.inbox.Inbox.post>`): event
  type ``report.ready``, severity ``info`` when completed and ``warning`` when failed, title
  ``Report ready: <template name>`` / ``Report failed: <template name>``, summary naming the period, format
  and size (or the error), link :func:`report_link` (``{public_url}/v1/reports/{id}`` when the public URL is
  configured, else the API path ``/v1/reports/{id}``; with ``console_url`` (``Settings.resolved_console_url``)
  the console's reports page ``{console_url}/reports`` instead, for the inbox and channels, through
  ``cloudoptima.services.notice_links``; the signed download link is not put in the inbox: it
  expires, the report's page gives a fresh one) and payload ``report_id``, ``template_id``, ``template``,
  ``format``, ``status``, ``period`` (``start_date``, ``end_date`` end-exclusive, or null), ``size_bytes``,
  ``error``. A scheduled run's requester is the schedule's creator (while still an active user).
- The same notice is then dispatched through the organisation's notification rules
  (:func:`~cloudoptima.services.notification_rules.dispatch`): no default rule exists for ``report.ready``,
  so by default nothing else happens; an admin's rule can send it to a channel (Slack, Teams, email,
  webhook; the channel link is always absolute: :func:`report_link` under the public URL, else under
  ``base_url``, ``Settings.resolved_public_url``; no link only when neither is given) or to more users in-app (a requester who
  is also a rule recipient gets it once).
- Idempotent per report: both steps use the key ``report.ready:<report id>``, so a retried activity posts
  and queues nothing new. New inbox rows are announced on ``publish`` (the ``notifications`` WebSocket
  channel) after commit.
- A failure to notify never undoes the report's outcome: each step runs in its own savepoint and a failure
  is logged and left out of the result.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any, Final

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from cloudoptima.domain.inbox import InboxItem, InboxNotice
from cloudoptima.domain.notices import Notice, NoticeEventType, NoticeFact, NoticeSeverity
from cloudoptima.domain.notification_rules import DispatchContext
from cloudoptima.services.events import Publish
from cloudoptima.services.inbox import Inbox, InboxError
from cloudoptima.services.notice_links import notice_links
from cloudoptima.services.notification_rules import dispatch
from cloudoptima.services.report_catalog import TEMPLATES
from cloudoptima.storage.models import User

log = logging.getLogger(__name__)

REPORT_API_PATH: Final = "/v1/reports/{report_id}"
EVENT_TYPE: Final = NoticeEventType.REPORT_READY


def report_link(report_id: uuid.UUID, public_url: str | None) -> str:
    """Where a reader opens the report: absolute under ``public_url`` when it is known, else the API path."""
    path = REPORT_API_PATH.format(report_id=report_id)
    return f"{public_url.rstrip('/')}{path}" if public_url else path


def _channel_link(link: str, base_url: str | None) -> str | None:
    """``link`` when absolute, else under ``base_url`` (the gateway's address), else None."""
    if link.startswith(("http://", "https://")):
        return link
    return f"{base_url.rstrip('/')}{link}" if base_url else None


def idempotency_key(report_id: uuid.UUID) -> str:
    return f"report.ready:{report_id}"


def _size(size_bytes: int | None) -> str:
    if size_bytes is None:
        return "unknown size"
    if size_bytes < 1024:
        return f"{size_bytes} bytes"
    if size_bytes < 1024 * 1024:
        return f"{size_bytes / 1024:.1f} KiB"
    return f"{size_bytes / (1024 * 1024):.1f} MiB"


def notify_report_ready(
    session: Session,
    organization_id: uuid.UUID,
    *,
    report_id: uuid.UUID,
    template_id: str,
    format: str,
    status: str,
    parameters: dict[str, Any],
    size_bytes: int | None,
    error: str | None,
    requested_by: uuid.UUID | None,
    now: datetime,
    publish: Publish | None = None,
    public_url: str | None = None,
    base_url: str | None = None,
    console_url: str | None = None,
) -> list[InboxItem]:
    """Notify that the report finished (module contract). Returns the inbox notices (new or already
    posted) of the requester and of any in-app rule; ``[]`` for a report that is not finished."""
    if status not in ("completed", "failed"):
        return []
    template = TEMPLATES.get(template_id)
    name = template.name if template is not None else template_id
    start, end = parameters.get("start_date"), parameters.get("end_date")
    period = (
        {"start_date": start, "end_date": end} if isinstance(start, str) and isinstance(end, str) else None
    )
    period_text = f"{start} to {end} (end-exclusive)" if period else "no period"
    completed = status == "completed"
    severity = NoticeSeverity.INFO if completed else NoticeSeverity.WARNING
    if completed:
        title = f"Report ready: {name}"[:200]
        summary = f"{name}, {period_text}, {format}, {_size(size_bytes)}."
    else:
        title = f"Report failed: {name}"[:200]
        summary = f"{name}, {period_text}, {format}: {error or 'generation failed'}"[:2000]
    link = report_link(report_id, public_url)
    channel_link = _channel_link(link, base_url)
    if (
        console_url
    ):  # the console's reports page, for the inbox and channels (cloudoptima.services.notice_links)
        link, channel_link = notice_links("report", report_id, console_url, public_url or base_url)
    shown = InboxNotice(
        event_type=EVENT_TYPE.value,
        severity=severity.value,
        title=title,
        summary=summary,
        link=link,
        payload={
            "report_id": str(report_id),
            "template_id": template_id,
            "template": name,
            "format": format,
            "status": status,
            "period": period,
            "size_bytes": size_bytes,
            "error": error,
        },
    )
    facts = [
        NoticeFact(label="Report", value=name[:1000]),
        NoticeFact(label="Period", value=period_text),
        NoticeFact(label="Format", value=format),
    ]
    facts.append(
        NoticeFact(label="Size", value=_size(size_bytes))
        if completed
        else NoticeFact(label="Error", value=(error or "generation failed")[:1000])
    )
    key = idempotency_key(report_id)
    items: dict[uuid.UUID, InboxItem] = {}
    if requested_by is not None:
        active = session.scalar(
            select(User.id).where(
                User.organization_id == organization_id, User.id == requested_by, User.is_active
            )
        )
        if active is not None:
            try:
                with session.begin_nested():
                    for item in Inbox(session, organization_id, publish=publish).post(
                        [requested_by], shown, idempotency_key=key, now=now
                    ):
                        items[item.id] = item
            except (InboxError, SQLAlchemyError) as exc:
                log.warning("report %s: requester's notice not posted: %s", report_id, exc)
    try:
        notice = Notice(
            event_type=EVENT_TYPE,
            severity=severity,
            title=title,
            summary=summary,
            link=channel_link,
            facts=tuple(facts),
            organization_id=organization_id,
            occurred_at=now,
            idempotency_key=key,
        )
        with session.begin_nested():
            result = dispatch(
                session,
                organization_id,
                notice,
                context=DispatchContext(severity=severity, inbox_notice=shown),
                now=now,
                publish=publish,
            )
    except (ValidationError, SQLAlchemyError, ValueError) as exc:
        log.warning("report %s: report.ready not dispatched through the rules: %s", report_id, exc)
        return list(items.values())
    for item in result.inbox_items:
        items[item.id] = item
    return list(items.values())


__all__ = ["REPORT_API_PATH", "idempotency_key", "notify_report_ready", "report_link"]
