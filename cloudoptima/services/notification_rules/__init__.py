"""Notification rules (what notifies whom) and :func:`dispatch`, the one entry point every event source calls.

Rules (``notification_rules``, one organisation's, managed by admins through :class:`NotificationRules`):
- ``create`` / ``update`` / ``delete`` / ``list_rules`` / ``get``. Bad input is :class:`RuleError` naming the field:
  ``name`` (1-200 characters, unique in the organisation), ``event_type`` (a ``NoticeEventType`` but
  ``digest``), ``min_severity`` (``info``/``warning``/``critical`` or null), ``min_amount`` (a decimal ≥ 0,
  at most 6 decimal places, or null), ``scope`` (only ``account_ids``, ``services``, ``regions``,
  ``budget_ids``, each a non-empty list; ``budget_ids`` UUIDs; ``scope.<key>`` names a bad one),
  ``channel_id`` (a channel of the organisation, or null for the in-app inbox), ``recipients`` (``roles``:
  RBAC roles, ``user_ids``: users of the organisation, ``owner``: true for the user the event is assigned to,
  ``DispatchContext.owner_user_id``; required, non-empty, for an in-app rule and refused
  for a channel rule), ``quiet_hours`` (``start``, ``end`` ``HH:MM``, ``timezone`` an IANA zone; channel rules
  only: in-app notices are never delayed). An unknown id is :class:`RuleNotFound`.
- Defaults: an organisation gets :data:`DEFAULT_RULES` materialised as ordinary rows (visible, editable and
  deletable through the API) the first time :meth:`NotificationRules.ensure_defaults` runs for it, which
  :func:`dispatch` and the API's list do. A marker in ``organizations.settings`` (:data:`DEFAULTS_MARKER`)
  records it, so this is also the migration-free backfill for existing organisations, and an organisation
  whose admin deleted every rule stays silent instead of getting the defaults back. The defaults: budget
  ``budget.actual`` / ``budget.forecasted``, ``execution.failed`` and ``collection.failed`` to the admins
  in-app; ``approval.requested`` in-app to every role that may approve some risk level (engineer,
  finops_manager, admin), narrowed per event by the event's ``audience_roles`` (its plan's approver roles);
  ``commitment.expiring`` in-app to admins and FinOps managers; ``recommendation.overdue`` in-app to the
  recommendation's owner (``recipients.owner``). An organisation whose defaults were materialised before a
  default existed does not get it added.

Dispatch contract (for event sources: budgets, approvals, anomalies, recommendations, executions,
collections, reports)::

    dispatch(session, organization_id, notice, *, context=None, now, publish=None) -> DispatchResult

- ``notice`` is the :class:`~cloudoptima.domain.notices.Notice` channels render (``notice.organization_id``
  must be ``organization_id``; ``digest`` notices are not dispatched: :class:`RuleError`). Its
  ``idempotency_key`` makes dispatch idempotent: a repeat (a retried activity) posts and queues nothing new.
- ``context`` (:class:`~cloudoptima.domain.notification_rules.DispatchContext`) carries the event's
  ``account_id``, ``service``, ``region``, ``budget_id``, ``amount`` and ``severity`` (the last two default
  to the notice's) that rules' thresholds and scopes are matched on, ``audience_roles`` (only users of those
  roles hear of it in-app), ``owner_user_id`` (the user rules with ``recipients.owner`` add) and ``inbox_notice`` (how the inbox shows it; by default derived from the notice:
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

The parts, each with its contract:

- :mod:`.rules`: :class:`NotificationRules`, one organisation's rules (list, get, create, update, delete) and
  the validation of their fields.
- :mod:`.defaults`: :data:`DEFAULT_RULES` and :func:`~.defaults.ensure_defaults`, their one-time
  materialisation behind :data:`DEFAULTS_MARKER`.
- :mod:`.dispatching`: :func:`dispatch`, :class:`DispatchResult`, :class:`RuleFailure`, the in-app recipients.
- :mod:`.errors`: :class:`RuleError`, :class:`RuleNotFound`; :mod:`.stored`: the rows' repository and
  :func:`rule_of`.

The names below are the package's public interface; callers import them from here.
"""

from __future__ import annotations

from collections.abc import Sequence

from cloudoptima.services.notification_rules.defaults import (
    APPROVER_ROLES,
    DEFAULT_RULES,
    DEFAULTS_MARKER,
    DefaultRule,
    ensure_defaults,
)
from cloudoptima.services.notification_rules.dispatching import (
    DispatchResult,
    RuleFailure,
    dispatch,
    inbox_notice_of,
)
from cloudoptima.services.notification_rules.errors import RuleError, RuleNotFound
from cloudoptima.services.notification_rules.rules import (
    FIELDS,
    MAX_NAME,
    MAX_RECIPIENT_USERS,
    MAX_SCOPE_VALUE_LENGTH,
    MAX_SCOPE_VALUES,
    NotificationRules,
)
from cloudoptima.services.notification_rules.stored import rule_of

__all__: Sequence[str] = [
    "APPROVER_ROLES",
    "DEFAULTS_MARKER",
    "DEFAULT_RULES",
    "FIELDS",
    "MAX_NAME",
    "MAX_RECIPIENT_USERS",
    "MAX_SCOPE_VALUES",
    "MAX_SCOPE_VALUE_LENGTH",
    "DefaultRule",
    "DispatchResult",
    "NotificationRules",
    "RuleError",
    "RuleFailure",
    "RuleNotFound",
    "dispatch",
    "ensure_defaults",
    "inbox_notice_of",
    "rule_of",
]
