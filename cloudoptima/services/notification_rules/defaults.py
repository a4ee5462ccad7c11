"""The default rules every organisation starts with, materialised once.

:func:`ensure_defaults` inserts :data:`DEFAULT_RULES` as ordinary rows (visible, editable and deletable through
the API) the first time it runs for an organisation, and records it under :data:`DEFAULTS_MARKER` in
``organizations.settings`` (written in the caller's transaction, the organisation row locked meanwhile), so it
is also the migration-free backfill for existing organisations, and an organisation whose admin deleted every
rule stays silent instead of getting the defaults back. A default whose name an existing rule already has is
skipped. The defaults: ``budget.actual`` / ``budget.forecasted``, ``execution.failed`` and
``collection.failed`` to the admins in-app; ``approval.requested`` in-app to :data:`APPROVER_ROLES`;
``commitment.expiring`` in-app to the admins and FinOps managers; ``recommendation.overdue`` in-app to the
recommendation's owner (``recipients.owner``) (an organisation whose defaults were materialised before a
default existed does not get it added).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from cloudoptima.domain.notices import NoticeEventType
from cloudoptima.domain.notification_rules import NotificationRule
from cloudoptima.domain.rbac import RISK_PERMISSION, ROLE_ORDER, has_permission
from cloudoptima.services.notification_rules.errors import RuleError, require_aware
from cloudoptima.services.notification_rules.stored import RuleRows, rule_of
from cloudoptima.storage.models import NotificationRuleRow, Organization

DEFAULTS_MARKER: Final = "notification_rules_defaults_created_at"
"""The ``organizations.settings`` key recording when the default rules were materialised."""
APPROVER_ROLES: Final[tuple[str, ...]] = tuple(
    r for r in ROLE_ORDER if any(has_permission(r, p) for p in RISK_PERMISSION.values())
)
"""Every role that may approve some risk level (the default approval rule's recipients)."""


@dataclass(frozen=True)
class DefaultRule:
    """One default rule: its name, its event type, the roles it notifies in-app and whether the event's owner
    hears of it."""

    name: str
    event_type: NoticeEventType
    roles: tuple[str, ...]
    owner: bool = False


DEFAULT_RULES: Final[tuple[DefaultRule, ...]] = (
    DefaultRule("Budget alerts (actual spend) to admins", NoticeEventType.BUDGET_ACTUAL, ("admin",)),
    DefaultRule("Budget alerts (forecast) to admins", NoticeEventType.BUDGET_FORECASTED, ("admin",)),
    DefaultRule("Approvals waiting to approvers", NoticeEventType.APPROVAL_REQUESTED, APPROVER_ROLES),
    DefaultRule("Failed executions to admins", NoticeEventType.EXECUTION_FAILED, ("admin",)),
    DefaultRule("Failed collections to admins", NoticeEventType.COLLECTION_FAILED, ("admin",)),
    DefaultRule(
        "Expiring commitments to admins and FinOps managers",
        NoticeEventType.COMMITMENT_EXPIRING,
        ("admin", "finops_manager"),
    ),
    DefaultRule(
        "Overdue recommendations to their owner", NoticeEventType.RECOMMENDATION_OVERDUE, (), owner=True
    ),
)


def ensure_defaults(session: Session, organization_id: uuid.UUID, now: datetime) -> list[NotificationRule]:
    """Materialise :data:`DEFAULT_RULES` once for ``organization_id`` (module contract); returns the rules
    created now (``[]`` when the organisation already had its defaults)."""
    now = require_aware(now)
    settings = session.scalar(select(Organization.settings).where(Organization.id == organization_id))
    if settings is not None and DEFAULTS_MARKER in settings:
        return []
    locked = session.execute(
        select(Organization.settings).where(Organization.id == organization_id).with_for_update()
    ).first()
    if locked is None:
        raise RuleError("organization_id", f"unknown organisation {organization_id}")
    if DEFAULTS_MARKER in (locked[0] or {}):
        return []
    created = list(
        session.scalars(
            insert(NotificationRuleRow)
            .values(
                [
                    {
                        "id": uuid.uuid4(),
                        "organization_id": organization_id,
                        "name": default.name,
                        "event_type": default.event_type.value,
                        "scope": {},
                        "recipients": {"roles": list(default.roles), "user_ids": []}
                        | ({"owner": True} if default.owner else {}),
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
    session.execute(
        update(Organization)
        .where(Organization.id == organization_id)
        .values(
            settings=func.coalesce(Organization.settings, func.jsonb_build_object()).op("||")(
                func.jsonb_build_object(DEFAULTS_MARKER, now.isoformat())
            )
        )
    )
    rows = session.scalars(
        RuleRows(session, organization_id).query().where(NotificationRuleRow.id.in_(created))
    )
    return sorted((rule_of(row) for row in rows), key=lambda r: r.name)
