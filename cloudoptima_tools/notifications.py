"""Inbox tools: ``notifications_inbox`` and ``notifications_mark_read`` (issue #19).

Contract (over :class:`cloudoptima.services.inbox.Inbox`, the service the REST inbox uses):
- Both act for the signed-in user the call comes from (``ToolContext.principal`` ``user:<id>``); a caller that
  is not a user is refused (:class:`ToolPermissionError`). Every role may use them (``read:dashboard``,
  which every role holds), and they only ever read or change the caller's own notices of the caller's
  organisation.
- ``notifications_inbox`` lists the notices newest first (``unread_only``, ``limit`` 1-50, ``cursor`` =
  the previous ``next_cursor``) with the unread count. A page whose JSON is over the tool's budget loses
  rows from its end and its ``next_cursor`` resumes right after the last row shown.
- ``notifications_mark_read`` marks ``ids`` read, or every unread notice with ``all``; exactly one of them.
  An id that is unknown, another user's or another organisation's is :class:`ToolNotFoundError` naming it,
  and nothing is marked. Notices already read keep their ``read_at``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from cloudoptima.domain.inbox import InboxItem
from cloudoptima.services.inbox import Inbox, InboxError, NotificationNotFound, encode_cursor
from cloudoptima_tools.context import ToolContext
from cloudoptima_tools.platform.ids import parse_id
from cloudoptima_tools.spec import (
    ToolInput,
    ToolInputError,
    ToolNotFoundError,
    ToolPermissionError,
    ToolSpec,
    estimate_tokens,
)

INBOX_BUDGET = 8_000
MAX_IDS = 100


class Notice(BaseModel):
    """One notice of the caller's inbox."""

    id: uuid.UUID
    event_type: str
    severity: str
    title: str
    summary: str
    link: str | None
    payload: dict[str, Any]
    created_at: datetime
    read_at: datetime | None


def _notice(item: InboxItem) -> Notice:
    return Notice.model_validate(item.model_dump(exclude={"user_id"}))


class InboxInput(ToolInput):
    unread_only: bool = Field(default=False, description="Only notices not yet read.")
    limit: int = Field(default=20, ge=1, le=50, description="Notices per page.")
    cursor: str | None = Field(default=None, description="next_cursor of the previous page.")


class InboxOutput(BaseModel):
    items: list[Notice]
    returned: int
    unread_count: int
    next_cursor: str | None = None
    truncated_for_size: bool = False


class MarkReadInput(ToolInput):
    ids: list[str] = Field(default_factory=list, max_length=MAX_IDS, description="Notice ids to mark read.")
    all: bool = Field(default=False, description="Mark every unread notice read instead.")


class MarkReadOutput(BaseModel):
    marked: int = Field(description="Notices that were unread and are now read.")
    unread_count: int


def caller_user(ctx: ToolContext) -> uuid.UUID:
    """The signed-in user of the call (see module contract)."""
    if ctx.principal.startswith("user:"):
        try:
            return uuid.UUID(ctx.principal.removeprefix("user:"))
        except ValueError:
            pass
    raise ToolPermissionError("the inbox belongs to a signed-in user; this caller is not one")


def notifications_inbox(ctx: ToolContext, params: InboxInput) -> InboxOutput:
    user = caller_user(ctx)
    with ctx.read_session() as session:
        inbox = Inbox(session, ctx.organization_id)
        try:
            page = inbox.list(user, unread_only=params.unread_only, limit=params.limit, cursor=params.cursor)
        except InboxError as exc:
            raise ToolInputError(str(exc)) from None
        unread = inbox.unread_count(user)
    kept = list(page.items)
    output = InboxOutput(
        items=[_notice(i) for i in kept],
        returned=len(kept),
        unread_count=unread,
        next_cursor=page.next_cursor,
    )
    while len(kept) > 1 and estimate_tokens(output.model_dump_json()) + 64 > INBOX_BUDGET:
        kept.pop()
        output = InboxOutput(
            items=[_notice(i) for i in kept],
            returned=len(kept),
            unread_count=unread,
            next_cursor=encode_cursor(kept[-1]),
            truncated_for_size=True,
        )
    return output


def notifications_mark_read(ctx: ToolContext, params: MarkReadInput) -> MarkReadOutput:
    user = caller_user(ctx)
    if params.all == bool(params.ids):
        raise ToolInputError("ids: give the notice ids to mark read, or all=true (not both)")
    now = ctx.now()
    with ctx.session() as session:
        inbox = Inbox(session, ctx.organization_id)
        if params.all:
            marked = inbox.mark_all_read(user, now=now)
        else:
            wanted = [parse_id(value, "notification") for value in params.ids]
            before = inbox.unread_count(user)
            try:
                inbox.mark_read(user, wanted, now=now)
            except NotificationNotFound as exc:
                raise ToolNotFoundError(f"notification {exc.notification_id} not found") from None
            marked = before - inbox.unread_count(user)
        unread = inbox.unread_count(user)
    return MarkReadOutput(marked=marked, unread_count=unread)


TOOLS: list[ToolSpec[Any, Any]] = [
    ToolSpec(
        name="notifications_inbox",
        domain="platform",
        title="My notifications",
        description=(
            "The caller's in-app notices (approvals waiting, budget alerts, reports ready), newest first, "
            "with the unread count.\n"
            'Example: {"unread_only": true, "limit": 10}'
        ),
        input_model=InboxInput,
        output_model=InboxOutput,
        handler=notifications_inbox,
        permission="read:dashboard",
        max_output_tokens=INBOX_BUDGET,
    ),
    ToolSpec(
        name="notifications_mark_read",
        domain="platform",
        title="Mark my notifications read",
        description=(
            "Mark the caller's notices read: the given ids, or all=true for every unread one.\n"
            'Example: {"ids": ["0b6c8a1e-3f4d-4c2a-9d3e-1a2b3c4d5e6f"]}'
        ),
        input_model=MarkReadInput,
        output_model=MarkReadOutput,
        handler=notifications_mark_read,
        permission="read:dashboard",
        read_only=False,
        idempotent=True,
        max_output_tokens=1_000,
    ),
]
