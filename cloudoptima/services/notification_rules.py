"""Notification rules (what notifies whom) and :func:`dispatch`, the one entry point every event source calls.

Rules (``notification_rules``, one organisation's, managed by admins through :class:`NotificationRules`):
- ``create`` / ``update`` / ``delete`` / ``list_rules`` / ``get``. Bad input is :class:`RuleError` naming the field:
  ``name`` (1-200 characters, unique in the organisation), ``event_type`` (a ``NoticeEventType`` but
  ``digest``), ``min_severity`` (``info``/``warning``/``critical`` or null), ``min_amount`` (a decimal ≥ 0,
  at most 6 decimal places, or null), ``scope`` (only ``account_ids``, ``services``, ``regions``,
  ``budget_ids``, each a non-empty list; ``budget_ids`` UUIDs; ``scope.<key>`` names a bad one),
  ``channel_id`` (a channel of the organisation, or null for the in-app inbox), ``recipients`` (``roles``:
  RBAC roles, ``user_ids``: users of the organisation; required, non-empty, for an in-app rule and refused
  for a channel rule), ``quiet_hours`` (``start``, ``end`` ``HH:MM``, ``timezone`` an IANA zone; channel rules
  only: in-app notices are never delayed). An unknown id is :class:`RuleNotFound`.
- Defaults: an organisation gets :data:`DEFAULT_RULES` materialised as ordinary rows (visible, editable and
  deletable through the API) the first time :meth:`NotificationRules.ensure_defaults` runs for it, which
  :func:`dispatch` and the API's list do. A marker in ``organizations.settings`` (:data:`DEFAULTS_MARKER`)
  records it, so this is also the migration-free backfill for existing organisations, and an organisation
  whose admin deleted every rule stays silent instead of getting the defaults back. The defaults: budget
  ``budget.actual`` / ``budget.forecasted``, ``execution.failed`` and ``collection.failed`` to the admins
  in-app; ``approval.requested`` in-app to every role that may approve some risk level (engineer,
  finops_manager, admin), narrowed per event by the event's ``audience_roles`` (its plan's approver roles).

Dispatch contract (for event sources: budgets, approvals, anomalies, recommendations, executions,
collections, reports)::

    dispatch(session, organization_id, notice, *, context=None, now, publish=None) -> DispatchResult

- ``notice`` is the :class:`~cloudoptima.domain.notices.Notice` channels render (``notice.organization_id``
  must be ``organization_id``; ``digest`` notices are not dispatched: :class:`RuleError`). Its
  ``idempotency_key`` makes dispatch idempotent: a repeat (a retried activity) posts and queues nothing new.
- ``context`` (:class:`~cloudoptima.domain.notification_rules.DispatchContext`) carries the event's
  ``account_id``, ``service``, ``region``, ``budget_id``, ``amount`` and ``severity`` (the last two default
  to the notice's) that rules' thresholds and scopes are matched on, ``audience_roles`` (only users of those
  roles hear of it in-app) and ``inbox_notice`` (how the inbox shows it; by default derived from the notice:
  its event type, severity, title, summary, link, and a payload of amount, currency, facts and context).
- The enabled rules of the notice's event type that match are applied: every matched in-app rule adds its
  recipients (active users of the organisation), and the union is posted once with
  :meth:`Inbox.post <cloudoptima.services.inbox.Inbox.post>` (announced on ``publish`` after commit), never
  delayed. Every matched channel rule queues one delivery per channel
  (:func:`~cloudoptima.services.notification_delivery.enqueue_deliveries`), due ``now``, or at the end of the
  rule's quiet hours when ``now`` falls inside them (a channel named by several rules is queued once, at the
  earliest). The in-app post and each channel run in their own savepoint: a channel disabled or deleted
  meanwhile (or an inbox post that fails) is reported in ``failures`` (and logged) and never stops the
  others; nothing is raised for it.
- Runs in the caller's transaction (the caller commits); ``now`` is timezone-aware and comes from the caller.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError
from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from cloudoptima.domain.inbox import InboxItem, InboxNotice
from cloudoptima.domain.notices import Notice, NoticeEventType, NoticeSeverity
from cloudoptima.domain.notification_rules import (
    RULE_EVENT_TYPES,
    SCOPE_KEYS,
    DispatchContext,
    NotificationRule,
    QuietHours,
    RuleRecipients,
    RuleScope,
    parse_hhmm,
)
from cloudoptima.domain.rbac import RISK_PERMISSION, ROLE_ORDER, has_permission, is_role
from cloudoptima.services.events import Publish
from cloudoptima.services.inbox import Inbox, InboxError
from cloudoptima.services.notification_delivery import DeliveryConfigError, DeliveryView, enqueue_deliveries
from cloudoptima.storage.models import NotificationChannelRow, NotificationRuleRow, Organization, User
from cloudoptima.storage.tenancy import TenantRepository

log = logging.getLogger(__name__)

MAX_NAME = 200
MAX_SCOPE_VALUES = 200
MAX_SCOPE_VALUE_LENGTH = 200
MAX_RECIPIENT_USERS = 500
DEFAULTS_MARKER: Final = "notification_rules_defaults_created_at"
"""The ``organizations.settings`` key recording when the default rules were materialised."""
APPROVER_ROLES: Final[tuple[str, ...]] = tuple(
    r for r in ROLE_ORDER if any(has_permission(r, p) for p in RISK_PERMISSION.values())
)
"""Every role that may approve some risk level (the default approval rule's recipients)."""
FIELDS: Final = (
    "name",
    "event_type",
    "min_severity",
    "min_amount",
    "scope",
    "channel_id",
    "recipients",
    "quiet_hours",
    "enabled",
)
"""What a rule is made of (``create`` takes them, ``update`` changes any of them)."""


@dataclass(frozen=True)
class DefaultRule:
    name: str
    event_type: NoticeEventType
    roles: tuple[str, ...]


DEFAULT_RULES: Final[tuple[DefaultRule, ...]] = (
    DefaultRule("Budget alerts (actual spend) to admins", NoticeEventType.BUDGET_ACTUAL, ("admin",)),
    DefaultRule("Budget alerts (forecast) to admins", NoticeEventType.BUDGET_FORECASTED, ("admin",)),
    DefaultRule("Approvals waiting to approvers", NoticeEventType.APPROVAL_REQUESTED, APPROVER_ROLES),
    DefaultRule("Failed executions to admins", NoticeEventType.EXECUTION_FAILED, ("admin",)),
    DefaultRule("Failed collections to admins", NoticeEventType.COLLECTION_FAILED, ("admin",)),
)


class RuleError(ValueError):
    """Bad input; ``field`` names it (``scope.regions``, ``quiet_hours.timezone`` …)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class RuleNotFound(LookupError):
    """A rule id that is not one of the organisation's."""

    def __init__(self, rule_id: uuid.UUID) -> None:
        super().__init__(f"notification rule {rule_id} not found")
        self.rule_id = rule_id


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


class _Rules(TenantRepository[NotificationRuleRow]):
    model = NotificationRuleRow


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise RuleError("now", "must be timezone-aware")
    return now


def rule_of(row: NotificationRuleRow) -> NotificationRule:
    """The domain view of a stored rule."""
    return NotificationRule(
        id=row.id,
        name=row.name,
        event_type=NoticeEventType(row.event_type),
        min_severity=NoticeSeverity(row.min_severity) if row.min_severity else None,
        min_amount=row.min_amount,
        scope=RuleScope.model_validate(row.scope or {}),
        channel_id=row.channel_id,
        recipients=RuleRecipients.model_validate(row.recipients or {}),
        quiet_hours=QuietHours.model_validate(row.quiet_hours) if row.quiet_hours else None,
        enabled=row.enabled,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def _uuid(field: str, value: object) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise RuleError(field, f"{value!r} is not a UUID") from exc


def _string_list(field: str, value: object) -> list[str]:
    if not isinstance(value, list | tuple) or not value:
        raise RuleError(field, "must be a non-empty list (drop the key to match every value)")
    if len(value) > MAX_SCOPE_VALUES:
        raise RuleError(field, f"at most {MAX_SCOPE_VALUES} values")
    out: list[str] = []
    for item in value:
        if not isinstance(item, str) or not item.strip() or len(item) > MAX_SCOPE_VALUE_LENGTH:
            raise RuleError(
                field, f"values must be 1-{MAX_SCOPE_VALUE_LENGTH} character strings, got {item!r}"
            )
        out.append(item.strip())
    return list(dict.fromkeys(out))


class NotificationRules:
    """One organisation's notification rules (see module contract)."""

    def __init__(self, session: Session, organization_id: uuid.UUID) -> None:
        self._repo = _Rules(session, organization_id)
        self._session = session
        self._org = organization_id

    # -- reading ----------------------------------------------------------------------------------------

    def list_rules(self) -> list[NotificationRule]:
        """Every rule of the organisation, by event type then name."""
        rows = self._session.scalars(
            self._repo.query().order_by(NotificationRuleRow.event_type, NotificationRuleRow.name)
        )
        return [rule_of(row) for row in rows]

    def get(self, rule_id: uuid.UUID) -> NotificationRule:
        return rule_of(self._row(rule_id))

    def enabled_for(self, event_type: NoticeEventType) -> list[NotificationRule]:
        """The enabled rules about ``event_type``, by name."""
        rows = self._session.scalars(
            self._repo.query()
            .where(NotificationRuleRow.event_type == event_type.value, NotificationRuleRow.enabled)
            .order_by(NotificationRuleRow.name, NotificationRuleRow.id)
        )
        return [rule_of(row) for row in rows]

    def _row(self, rule_id: uuid.UUID) -> NotificationRuleRow:
        row = self._repo.get(rule_id)
        if row is None:
            raise RuleNotFound(rule_id)
        return row

    # -- writing ----------------------------------------------------------------------------------------

    def create(
        self,
        *,
        name: str,
        event_type: str,
        now: datetime,
        min_severity: str | None = None,
        min_amount: Decimal | str | int | None = None,
        scope: Mapping[str, Any] | None = None,
        channel_id: uuid.UUID | str | None = None,
        recipients: Mapping[str, Any] | None = None,
        quiet_hours: Mapping[str, Any] | None = None,
        enabled: bool = True,
        created_by: uuid.UUID | None = None,
    ) -> NotificationRule:
        """Validates and stores a rule (module contract)."""
        now = _aware(now)
        values = self._validated(
            {
                "name": name,
                "event_type": event_type,
                "min_severity": min_severity,
                "min_amount": min_amount,
                "scope": scope or {},
                "channel_id": channel_id,
                "recipients": recipients or {},
                "quiet_hours": quiet_hours,
                "enabled": enabled,
            },
            rule_id=None,
        )
        row = NotificationRuleRow(**values, created_by=created_by, created_at=now)
        return rule_of(self._repo.add(row))

    def update(self, rule_id: uuid.UUID, changes: Mapping[str, Any]) -> NotificationRule:
        """Applies ``changes`` (any of :data:`FIELDS`) to the rule and validates the result as a whole."""
        unknown = sorted(set(changes) - set(FIELDS))
        if unknown:
            raise RuleError(unknown[0], f"is not a rule field (fields: {', '.join(FIELDS)})")
        row = self._row(rule_id)
        current: dict[str, Any] = {
            "name": row.name,
            "event_type": row.event_type,
            "min_severity": row.min_severity,
            "min_amount": row.min_amount,
            "scope": dict(row.scope or {}),
            "channel_id": row.channel_id,
            "recipients": dict(row.recipients or {}),
            "quiet_hours": dict(row.quiet_hours) if row.quiet_hours else None,
            "enabled": row.enabled,
        }
        merged = {**current, **changes}
        merged["scope"] = merged["scope"] or {}
        merged["recipients"] = merged["recipients"] or {}
        for key, value in self._validated(merged, rule_id=row.id).items():
            setattr(row, key, value)
        self._session.flush()
        return rule_of(row)

    def delete(self, rule_id: uuid.UUID) -> None:
        self._repo.delete(self._row(rule_id))

    # -- defaults ---------------------------------------------------------------------------------------

    def ensure_defaults(self, now: datetime) -> list[NotificationRule]:
        """Materialise :data:`DEFAULT_RULES` once per organisation (module contract); returns the rules
        created now (``[]`` when the organisation already had its defaults)."""
        now = _aware(now)
        settings = self._session.scalar(select(Organization.settings).where(Organization.id == self._org))
        if settings is not None and DEFAULTS_MARKER in settings:
            return []
        locked = self._session.execute(
            select(Organization.settings).where(Organization.id == self._org).with_for_update()
        ).first()
        if locked is None:
            raise RuleError("organization_id", f"unknown organisation {self._org}")
        if DEFAULTS_MARKER in (locked[0] or {}):
            return []
        created = list(
            self._session.scalars(
                insert(NotificationRuleRow)
                .values(
                    [
                        {
                            "id": uuid.uuid4(),
                            "organization_id": self._org,
                            "name": default.name,
                            "event_type": default.event_type.value,
                            "scope": {},
                            "recipients": {"roles": list(default.roles), "user_ids": []},
                            "enabled": True,
                            "created_at": now,
                        }
                        for default in DEFAULT_RULES
                    ]
                )
                .on_conflict_do_nothing(constraint="uq_notification_rules_name")
                .returning(NotificationRuleRow.id)
            )
        )
        self._session.execute(
            update(Organization)
            .where(Organization.id == self._org)
            .values(
                settings=func.coalesce(Organization.settings, func.jsonb_build_object()).op("||")(
                    func.jsonb_build_object(DEFAULTS_MARKER, now.isoformat())
                )
            )
        )
        rows = self._session.scalars(self._repo.query().where(NotificationRuleRow.id.in_(created)))
        return sorted((rule_of(row) for row in rows), key=lambda r: r.name)

    # -- validation -------------------------------------------------------------------------------------

    def _validated(self, raw: Mapping[str, Any], *, rule_id: uuid.UUID | None) -> dict[str, Any]:
        name = raw["name"]
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME:
            raise RuleError("name", f"must be 1 to {MAX_NAME} characters")
        name = name.strip()
        taken = self._repo.query().where(NotificationRuleRow.name == name)
        if rule_id is not None:
            taken = taken.where(NotificationRuleRow.id != rule_id)
        if self._session.scalars(taken).first() is not None:
            raise RuleError("name", f"a rule named {name!r} already exists")
        allowed_events = [e.value for e in RULE_EVENT_TYPES]
        if raw["event_type"] not in allowed_events:
            raise RuleError(
                "event_type", f"must be one of {', '.join(allowed_events)} (got {raw['event_type']!r})"
            )
        severity = raw["min_severity"]
        if severity is not None and severity not in [s.value for s in NoticeSeverity]:
            raise RuleError("min_severity", f"must be info, warning, critical or null (got {severity!r})")
        channel_id = None if raw["channel_id"] is None else _uuid("channel_id", raw["channel_id"])
        if channel_id is not None and (
            self._session.scalars(
                select(NotificationChannelRow.id).where(
                    NotificationChannelRow.organization_id == self._org,
                    NotificationChannelRow.id == channel_id,
                )
            ).first()
            is None
        ):
            raise RuleError("channel_id", f"{channel_id} is not a notification channel of this organisation")
        quiet = raw["quiet_hours"]
        if quiet is not None and channel_id is None:
            raise RuleError("quiet_hours", "apply to channel rules only: in-app notices are never delayed")
        return {
            "name": name,
            "event_type": raw["event_type"],
            "min_severity": severity,
            "min_amount": self._amount(raw["min_amount"]),
            "scope": self._scope(raw["scope"]),
            "channel_id": channel_id,
            "recipients": self._recipients(raw["recipients"], in_app=channel_id is None),
            "quiet_hours": None if quiet is None else self._quiet(quiet),
            "enabled": self._enabled(raw["enabled"]),
        }

    @staticmethod
    def _enabled(value: object) -> bool:
        if not isinstance(value, bool):
            raise RuleError("enabled", "must be true or false")
        return value

    @staticmethod
    def _amount(value: object) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, Decimal | int | str | float):
            raise RuleError("min_amount", "must be a decimal number")
        try:
            amount = Decimal(str(value))
        except InvalidOperation as exc:
            raise RuleError("min_amount", f"{value!r} is not a decimal number") from exc
        if not amount.is_finite() or amount < 0:
            raise RuleError("min_amount", "must be a finite amount of at least 0")
        exponent = amount.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -6:
            raise RuleError("min_amount", "at most 6 decimal places")
        if amount >= Decimal(10) ** 14:
            raise RuleError("min_amount", "must be below 10^14")
        return amount

    @staticmethod
    def _scope(value: object) -> dict[str, list[str]]:
        if not isinstance(value, Mapping):
            raise RuleError("scope", "must be an object")
        scope: dict[str, list[str]] = {}
        for key, items in value.items():
            if key not in SCOPE_KEYS:
                raise RuleError(f"scope.{key}", f"unknown scope key (allowed: {', '.join(SCOPE_KEYS)})")
            listed = _string_list(f"scope.{key}", items)
            if key == "budget_ids":
                listed = [str(_uuid(f"scope.{key}", item)) for item in listed]
            scope[key] = listed
        return scope

    def _recipients(self, value: object, *, in_app: bool) -> dict[str, list[str]]:
        if not isinstance(value, Mapping):
            raise RuleError("recipients", "must be an object with roles and user_ids")
        unknown = sorted(set(value) - {"roles", "user_ids"})
        if unknown:
            raise RuleError(f"recipients.{unknown[0]}", "unknown key (allowed: roles, user_ids)")
        roles_in = value.get("roles") or []
        users_in = value.get("user_ids") or []
        if not isinstance(roles_in, list | tuple):
            raise RuleError("recipients.roles", "must be a list of roles")
        if not isinstance(users_in, list | tuple):
            raise RuleError("recipients.user_ids", "must be a list of user ids")
        if not in_app:
            if roles_in or users_in:
                raise RuleError(
                    "recipients",
                    "only in-app rules (channel_id null) have recipients; a channel goes to its target",
                )
            return {}
        if not roles_in and not users_in:
            raise RuleError("recipients", "an in-app rule needs at least one role or user id")
        for role in roles_in:
            if not isinstance(role, str) or not is_role(role):
                raise RuleError("recipients.roles", f"{role!r} is not a role ({', '.join(ROLE_ORDER)})")
        if len(users_in) > MAX_RECIPIENT_USERS:
            raise RuleError("recipients.user_ids", f"at most {MAX_RECIPIENT_USERS} users")
        users = list(dict.fromkeys(_uuid("recipients.user_ids", u) for u in users_in))
        known = set(
            self._session.scalars(
                select(User.id).where(User.organization_id == self._org, User.id.in_(users))
            )
        )
        missing = [str(u) for u in users if u not in known]
        if missing:
            raise RuleError("recipients.user_ids", f"not users of this organisation: {', '.join(missing)}")
        return {"roles": list(dict.fromkeys(roles_in)), "user_ids": [str(u) for u in users]}

    @staticmethod
    def _quiet(value: object) -> dict[str, str]:
        if not isinstance(value, Mapping):
            raise RuleError("quiet_hours", "must be an object with start, end and timezone, or null")
        unknown = sorted(set(value) - {"start", "end", "timezone"})
        if unknown:
            raise RuleError(f"quiet_hours.{unknown[0]}", "unknown key (allowed: start, end, timezone)")
        out: dict[str, str] = {}
        for key in ("start", "end"):
            text = value.get(key)
            if not isinstance(text, str):
                raise RuleError(f"quiet_hours.{key}", "is required, as HH:MM")
            try:
                parse_hhmm(text)
            except ValueError as exc:
                raise RuleError(f"quiet_hours.{key}", str(exc)) from exc
            out[key] = text
        if out["start"] == out["end"]:
            raise RuleError("quiet_hours.end", "must differ from start")
        zone = value.get("timezone")
        if not isinstance(zone, str) or not zone:
            raise RuleError("quiet_hours.timezone", "is required: an IANA time zone such as Europe/Paris")
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise RuleError("quiet_hours.timezone", f"{zone!r} is not an IANA time zone") from exc
        out["timezone"] = zone
        return out


# -- dispatch ---------------------------------------------------------------------------------------------


def inbox_notice_of(notice: Notice, context: DispatchContext) -> InboxNotice:
    """How the inbox shows ``notice`` when the event source gave no ``inbox_notice`` (module contract)."""
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
) -> list[uuid.UUID]:
    roles: set[str] = set()
    user_ids: set[uuid.UUID] = set()
    for rule in rules:
        roles.update(rule.recipients.roles)
        user_ids.update(rule.recipients.user_ids)
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
    """Apply the organisation's matching rules to ``notice`` (module contract: in-app now, channels queued,
    quiet hours respected, one failing channel never stopping the others)."""
    now = _aware(now)
    if notice.organization_id != organization_id:
        raise RuleError("notice.organization_id", "belongs to another organisation")
    if notice.event_type is NoticeEventType.DIGEST:
        raise RuleError("notice.event_type", "digests are sent per user, not through rules")
    context = context or DispatchContext()
    rules = NotificationRules(session, organization_id)
    rules.ensure_defaults(now)
    matched = [rule for rule in rules.enabled_for(notice.event_type) if rule.matches(notice, context)]
    in_app = [rule for rule in matched if rule.channel_id is None]
    users = _in_app_users(session, organization_id, in_app, context.audience_roles)
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
