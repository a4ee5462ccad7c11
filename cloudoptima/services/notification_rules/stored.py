"""Stored rules: the organisation-scoped repository of ``notification_rules`` rows (:class:`RuleRows`) and
their domain view (:func:`rule_of`).
"""

from __future__ import annotations

from cloudoptima.domain.notices import NoticeEventType, NoticeSeverity
from cloudoptima.domain.notification_rules import NotificationRule, QuietHours, RuleRecipients, RuleScope
from cloudoptima.storage.models import NotificationRuleRow
from cloudoptima.storage.tenancy import TenantRepository


class RuleRows(TenantRepository[NotificationRuleRow]):
    """One organisation's rule rows (every query scoped to it)."""

    model = NotificationRuleRow


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
