"""``/v1/notifications``: the caller's in-app inbox (``cloudoptima.services.inbox``).

Every signed-in role reads and marks its own inbox only (no permission beyond being signed in): notices of
another user or another organisation are never listed, and marking one read answers 404 as if it did not
exist. ``GET`` lists newest first in keyset pages (``next_cursor``; ``unread=true`` for unread only) with the
unread count; a bad ``cursor`` is a 422 naming it. New notices are also pushed on the WebSocket
(``/v1/stream``, channel ``notifications``) to the addressed user only.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from cloudoptima.domain.inbox import InboxItem
from cloudoptima.services.inbox import MAX_PAGE, Inbox, InboxError, NotificationNotFound
from cloudoptima_gateway.audit import AuditedRoute
from cloudoptima_gateway.deps import CurrentPrincipal, TenantDb
from cloudoptima_gateway.schemas.common import invalid, not_found
from cloudoptima_gateway.schemas.notifications import (
    NotificationList,
    NotificationOut,
    ReadAll,
    UnreadCount,
)

router = APIRouter(prefix="/notifications", tags=["notifications"], route_class=AuditedRoute)


def out(item: InboxItem) -> NotificationOut:
    return NotificationOut.model_validate(item.model_dump(exclude={"user_id"}))


@router.get("", response_model=NotificationList)
def list_notifications(
    principal: CurrentPrincipal,
    session: TenantDb,
    unread: Annotated[bool, Query(description="Only unread notices")] = False,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> NotificationList:
    """The caller's notices, newest first (see module docstring)."""
    inbox = Inbox(session, principal.organization_id)
    try:
        page = inbox.list(principal.user_id, unread_only=unread, limit=limit, cursor=cursor)
    except InboxError as exc:
        raise invalid(exc.field, exc.message) from exc
    return NotificationList(
        items=[out(i) for i in page.items],
        next_cursor=page.next_cursor,
        unread_count=inbox.unread_count(principal.user_id),
    )


@router.get("/unread-count", response_model=UnreadCount)
def unread_count(principal: CurrentPrincipal, session: TenantDb) -> UnreadCount:
    """How many of the caller's notices are unread."""
    return UnreadCount(unread_count=Inbox(session, principal.organization_id).unread_count(principal.user_id))


@router.post("/read-all", response_model=ReadAll)
def read_all(principal: CurrentPrincipal, session: TenantDb) -> ReadAll:
    """Mark every unread notice of the caller read."""
    inbox = Inbox(session, principal.organization_id)
    marked = inbox.mark_all_read(principal.user_id, now=datetime.now(UTC))
    return ReadAll(marked=marked, unread_count=inbox.unread_count(principal.user_id))


@router.post("/{notification_id}/read", response_model=NotificationOut)
def mark_read(notification_id: uuid.UUID, principal: CurrentPrincipal, session: TenantDb) -> NotificationOut:
    """Mark one of the caller's notices read (already read: unchanged); 404 for any other id."""
    try:
        [item] = Inbox(session, principal.organization_id).mark_read(
            principal.user_id, [notification_id], now=datetime.now(UTC)
        )
    except NotificationNotFound as exc:
        raise not_found("notification", notification_id) from exc
    return out(item)
