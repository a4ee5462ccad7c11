"""Dispatch: applying an organisation's notification rules to one notice (:func:`dispatch`), what it did
(:class:`DispatchResult`, with a :class:`RuleFailure` per rule that could not be applied) and the in-app
recipients it resolves. The contract is in :mod:`cloudoptima.services.notification_rules`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from cloudoptima.domain.inbox import InboxItem, InboxNotice
from cloudoptima.domain.notices import Notice, NoticeEventType
from cloudoptima.domain.notification_rules import DispatchContext, NotificationRule
from cloudoptima.services.events import Publish
from cloudoptima.services.inbox import Inbox, InboxError
from cloudoptima.services.notification_delivery import DeliveryConfigError, DeliveryView, enqueue_deliveries
from cloudoptima.services.notification_rules.errors import RuleError, require_aware
from cloudoptima.services.notification_rules.rules import NotificationRules
from cloudoptima.storage.models import User

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RuleFailure:
    """A matched rule that could not be applied (its channel disabled or deleted meanwhile …)."""

    rule_id: uuid.UUID
    channel_id: uuid.UUID | None
    reason: str


@dataclass(frozen=True)
class DispatchResult:
    """What :func:`dispatch` did."""

    rules_matched: tuple[uuid.UUID, ...]
    inbox_items: tuple[InboxItem, ...]
    deliveries: tuple[DeliveryView, ...]
    failures: tuple[RuleFailure, ...]

    @property
    def in_app_users(self) -> int:
        """How many users the notice is in the inbox of (new or already there from a previous dispatch)."""
        return len({item.user_id for item in self.inbox_items})

    @property
    def deliveries_enqueued(self) -> int:
        return len(self.deliveries)


def inbox_notice_of(notice: Notice, context: DispatchContext) -> InboxNotice:
    """How the inbox shows ``notice`` when the event source gave no ``inbox_notice`` (package contract)."""
    payload: dict[str, Any] = {}
    if notice.amount is not None:
        payload["amount"] = str(notice.amount)
        payload["currency"] = notice.currency
    if notice.facts:
        payload["facts"] = [{"label": f.label, "value": f.value} for f in notice.facts]
    for key in ("account_id", "service", "region", "budget_id"):
        value = getattr(context, key)
        if value is not None:
            payload[key] = str(value)
    return InboxNotice(
        event_type=notice.event_type.value,
        severity=notice.severity.value,
        title=notice.title,
        summary=notice.summary[:2000],
        link=notice.link,
        payload=payload,
    )


def _in_app_users(
    session: Session,
    organization_id: uuid.UUID,
    rules: Iterable[NotificationRule],
    audience: Sequence[str] | None,
    owner: uuid.UUID | None,
) -> list[uuid.UUID]:
    roles: set[str] = set()
    user_ids: set[uuid.UUID] = set()
    for rule in rules:
        roles.update(rule.recipients.roles)
        user_ids.update(rule.recipients.user_ids)
        if rule.recipients.owner and owner is not None:
            user_ids.add(owner)
    if not roles and not user_ids:
        return []
    query = select(User.id).where(
        User.organization_id == organization_id,
        User.is_active,
        or_(User.role.in_(sorted(roles)), User.id.in_(sorted(user_ids, key=str))),
    )
    if audience is not None:
        query = query.where(User.role.in_(list(audience)))
    return list(session.scalars(query.order_by(User.created_at, User.id)))


def _reason(exc: Exception) -> str:
    """One line saying why a part of a dispatch failed (the field at fault for a validation error)."""
    if isinstance(exc, ValidationError) and exc.errors():
        first = exc.errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def dispatch(
    session: Session,
    organization_id: uuid.UUID,
    notice: Notice,
    *,
    context: DispatchContext | None = None,
    now: datetime,
    publish: Publish | None = None,
) -> DispatchResult:
    """Apply the organisation's matching rules to ``notice`` (package contract: in-app now, channels queued,
    quiet hours respected, one failing channel never stopping the others)."""
    now = require_aware(now)
    if notice.organization_id != organization_id:
        raise RuleError("notice.organization_id", "belongs to another organisation")
    if notice.event_type is NoticeEventType.DIGEST:
        raise RuleError("notice.event_type", "digests are sent per user, not through rules")
    context = context or DispatchContext()
    rules = NotificationRules(session, organization_id)
    rules.ensure_defaults(now)
    matched = [rule for rule in rules.enabled_for(notice.event_type) if rule.matches(notice, context)]
    in_app = [rule for rule in matched if rule.channel_id is None]
    users = _in_app_users(session, organization_id, in_app, context.audience_roles, context.owner_user_id)
    items: list[InboxItem] = []
    failures: list[RuleFailure] = []
    if users:
        try:
            shown = context.inbox_notice or inbox_notice_of(notice, context)
            with session.begin_nested():
                items = Inbox(session, organization_id, publish=publish).post(
                    users, shown, idempotency_key=notice.idempotency_key, now=now
                )
        except (InboxError, ValidationError, SQLAlchemyError) as exc:
            reason = _reason(exc)
            log.warning("notification %s: inbox not posted: %s", notice.idempotency_key, reason)
            failures += [RuleFailure(rule.id, None, reason) for rule in in_app]
    due: dict[uuid.UUID, datetime] = {}
    by_channel: dict[uuid.UUID, list[uuid.UUID]] = {}
    for rule in matched:
        if rule.channel_id is None:
            continue
        held = rule.quiet_hours.holds_until(now) if rule.quiet_hours else None
        at = held or now
        due[rule.channel_id] = min(due.get(rule.channel_id, at), at)
        by_channel.setdefault(rule.channel_id, []).append(rule.id)
    deliveries: list[DeliveryView] = []
    for channel_id, at in due.items():
        try:
            with session.begin_nested():
                deliveries += enqueue_deliveries(
                    session, organization_id, notice, [channel_id], now, due_at=at
                )
        except (DeliveryConfigError, SQLAlchemyError) as exc:
            reason = _reason(exc)
            log.warning(
                "notification %s: channel %s not queued: %s", notice.idempotency_key, channel_id, reason
            )
            failures += [RuleFailure(rule_id, channel_id, reason) for rule_id in by_channel[channel_id]]
    return DispatchResult(
        rules_matched=tuple(rule.id for rule in matched),
        inbox_items=tuple(items),
        deliveries=tuple(deliveries),
        failures=tuple(failures),
    )
