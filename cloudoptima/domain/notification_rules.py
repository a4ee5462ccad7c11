"""Notification rules: which events of an organisation notify whom, and the facts an event is matched on.

Contract (pure: no I/O; the service ``cloudoptima.services.notification_rules`` stores and dispatches):
- A :class:`NotificationRule` matches a notice when it is enabled, its ``event_type`` is the notice's, the
  event's severity is at least ``min_severity`` (``info`` < ``warning`` < ``critical``; None matches all),
  the event's amount is at least ``min_amount`` (None matches all; an event without an amount never matches
  a rule that sets one) and every :class:`RuleScope` list given holds the event's value (an event without
  that value does not match a scoped rule; an empty scope matches every event).
- A rule goes to ``channel_id`` (a configured channel) or, when that is None, to the in-app inbox of its
  ``recipients`` (the active users holding one of ``roles``, plus ``user_ids``, plus with ``owner`` the user
  the event is assigned to — :attr:`DispatchContext.owner_user_id`, e.g. an accepted recommendation's owner —
  when the event names one and that user is active).
- :class:`QuietHours` (``start``/``end`` ``HH:MM`` in an IANA ``timezone``; ``start`` included, ``end``
  excluded; a window whose end is not after its start crosses midnight): :meth:`QuietHours.holds_until`
  answers when a delivery due ``now`` may go: the window's end (UTC) when ``now`` falls inside, else None.
- :class:`DispatchContext` carries what an event source knows beyond the notice: the account, service,
  region and budget it concerns, its amount and severity (when absent, the notice's), the roles allowed to
  hear of it in-app (``audience_roles``, e.g. an approval's approver roles), the user it is assigned to
  (``owner_user_id``; heard by rules with ``recipients.owner``), and how the inbox should show it
  (``inbox_notice``; when absent, derived from the notice).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Final
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from cloudoptima.domain.inbox import InboxNotice
from cloudoptima.domain.notices import Notice, NoticeEventType, NoticeSeverity

RULE_EVENT_TYPES: Final[tuple[NoticeEventType, ...]] = tuple(
    e for e in NoticeEventType if e is not NoticeEventType.DIGEST
)
"""The events a rule may be about (every notice type but the per-user digest)."""
SCOPE_KEYS: Final[tuple[str, ...]] = ("account_ids", "services", "regions", "budget_ids")
SEVERITY_RANK: Final[dict[NoticeSeverity, int]] = {
    NoticeSeverity.INFO: 0,
    NoticeSeverity.WARNING: 1,
    NoticeSeverity.CRITICAL: 2,
}
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def parse_hhmm(value: str) -> time:
    """``"HH:MM"`` (24-hour) as a time; ValueError otherwise."""
    if not HHMM.fullmatch(value):
        raise ValueError(f"must be HH:MM (24-hour), got {value!r}")
    return time(int(value[:2]), int(value[3:]))


class QuietHours(_Model):
    """A daily window in a time zone during which channel deliveries wait (see module contract)."""

    start: str
    end: str
    timezone: str

    def holds_until(self, now: datetime) -> datetime | None:
        """The UTC end of the window when ``now`` (timezone-aware) falls inside it, else None."""
        zone = ZoneInfo(self.timezone)
        start, end = parse_hhmm(self.start), parse_hhmm(self.end)
        local = now.astimezone(zone)
        clock = local.time().replace(tzinfo=None)
        if start < end:
            if not start <= clock < end:
                return None
            day = local.date()
        else:  # crosses midnight
            if clock >= start:
                day = local.date() + timedelta(days=1)
            elif clock < end:
                day = local.date()
            else:
                return None
        until = datetime.combine(day, end, tzinfo=zone).astimezone(UTC)
        return max(until, now.astimezone(UTC))


class RuleRecipients(_Model):
    """Who hears of an in-app rule's events: every active user holding one of ``roles``, plus ``user_ids``, plus
    (``owner``) the event's owner when it names one."""

    roles: tuple[str, ...] = ()
    user_ids: tuple[uuid.UUID, ...] = ()
    owner: bool = False


class DispatchContext(_Model):
    """What an event source knows beyond the notice (see module contract)."""

    account_id: str | None = None
    service: str | None = None
    region: str | None = None
    budget_id: uuid.UUID | None = None
    amount: Decimal | None = None
    severity: NoticeSeverity | None = None
    audience_roles: tuple[str, ...] | None = None
    owner_user_id: uuid.UUID | None = None
    inbox_notice: InboxNotice | None = None


class RuleScope(_Model):
    """Filters on the event; an empty (or absent) list does not filter."""

    account_ids: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    budget_ids: tuple[uuid.UUID, ...] = ()

    def matches(self, context: DispatchContext) -> bool:
        checks: tuple[tuple[tuple[object, ...], object], ...] = (
            (self.account_ids, context.account_id),
            (self.services, context.service),
            (self.regions, context.region),
            (self.budget_ids, context.budget_id),
        )
        return all(not allowed or (value is not None and value in allowed) for allowed, value in checks)


class NotificationRule(_Model):
    """One stored rule (see module contract and migration 0026)."""

    id: uuid.UUID
    name: str
    event_type: NoticeEventType
    min_severity: NoticeSeverity | None = None
    min_amount: Decimal | None = Field(default=None, ge=0)
    scope: RuleScope = RuleScope()
    channel_id: uuid.UUID | None = None
    recipients: RuleRecipients = RuleRecipients()
    quiet_hours: QuietHours | None = None
    enabled: bool = True
    created_by: uuid.UUID | None = None
    created_at: datetime

    def matches(self, notice: Notice, context: DispatchContext) -> bool:
        """True when this rule applies to ``notice`` as described by ``context`` (module contract)."""
        if not self.enabled or self.event_type is not notice.event_type:
            return False
        severity = context.severity or notice.severity
        if self.min_severity is not None and SEVERITY_RANK[severity] < SEVERITY_RANK[self.min_severity]:
            return False
        amount = context.amount if context.amount is not None else notice.amount
        if self.min_amount is not None and (amount is None or amount < self.min_amount):
            return False
        return self.scope.matches(context)
