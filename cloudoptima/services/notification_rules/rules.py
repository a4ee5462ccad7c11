"""One organisation's notification rules: :class:`NotificationRules` (list, get, create, update, delete) and
the validation of a rule's fields.

Bad input is :class:`~cloudoptima.services.notification_rules.errors.RuleError` naming the field: ``name``
(1-200 characters, unique in the organisation), ``event_type`` (a ``NoticeEventType`` but ``digest``),
``min_severity`` (``info``/``warning``/``critical`` or null), ``min_amount`` (a decimal ≥ 0, at most 6 decimal
places, or null), ``scope`` (only ``account_ids``, ``services``, ``regions``, ``budget_ids``, each a non-empty
list; ``budget_ids`` UUIDs; ``scope.<key>`` names a bad one), ``channel_id`` (a channel of the organisation,
or null for the in-app inbox), ``recipients`` (``roles``: RBAC roles, ``user_ids``: users of the organisation, ``owner``: the user the event is assigned to;
required, non-empty, for an in-app rule and refused for a channel rule), ``quiet_hours`` (``start``, ``end``
``HH:MM``, ``timezone`` an IANA zone; channel rules only: in-app notices are never delayed), ``enabled`` (a
boolean). An unknown id is :class:`~cloudoptima.services.notification_rules.errors.RuleNotFound`. Writes run
in the caller's transaction (the caller commits).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloudoptima.domain.notices import NoticeEventType, NoticeSeverity
from cloudoptima.domain.notification_rules import RULE_EVENT_TYPES, SCOPE_KEYS, NotificationRule, parse_hhmm
from cloudoptima.domain.rbac import ROLE_ORDER, is_role
from cloudoptima.services.notification_rules.defaults import ensure_defaults
from cloudoptima.services.notification_rules.errors import RuleError, RuleNotFound, require_aware
from cloudoptima.services.notification_rules.stored import RuleRows, rule_of
from cloudoptima.storage.models import NotificationChannelRow, NotificationRuleRow, User

MAX_NAME = 200
MAX_SCOPE_VALUES = 200
MAX_SCOPE_VALUE_LENGTH = 200
MAX_RECIPIENT_USERS = 500
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
        self._repo = RuleRows(session, organization_id)
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
        now = require_aware(now)
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
        """:func:`~cloudoptima.services.notification_rules.defaults.ensure_defaults` for this organisation."""
        return ensure_defaults(self._session, self._org, now)

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

    def _recipients(self, value: object, *, in_app: bool) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise RuleError("recipients", "must be an object with roles and user_ids")
        unknown = sorted(set(value) - {"roles", "user_ids", "owner"})
        if unknown:
            raise RuleError(f"recipients.{unknown[0]}", "unknown key (allowed: roles, user_ids, owner)")
        roles_in = value.get("roles") or []
        users_in = value.get("user_ids") or []
        owner = value.get("owner", False)
        if not isinstance(owner, bool):
            raise RuleError("recipients.owner", "must be true or false")
        if not isinstance(roles_in, list | tuple):
            raise RuleError("recipients.roles", "must be a list of roles")
        if not isinstance(users_in, list | tuple):
            raise RuleError("recipients.user_ids", "must be a list of user ids")
        if not in_app:
            if roles_in or users_in or owner:
                raise RuleError(
                    "recipients",
                    "only in-app rules (channel_id null) have recipients; a channel goes to its target",
                )
            return {}
        if not roles_in and not users_in and not owner:
            raise RuleError("recipients", "an in-app rule needs at least one role, user id or the owner")
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
        chosen: dict[str, Any] = {"roles": list(dict.fromkeys(roles_in)), "user_ids": [str(u) for u in users]}
        return (chosen | {"owner": True}) if owner else chosen

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
