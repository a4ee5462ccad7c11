"""Notification rules: what notifies whom (``cloudoptima.services.notification_rules``). Admins only
(``manage:organization``).

- ``GET /v1/notification-rules``: the organisation's rules by event type then name. The first call of an
  organisation that never had them materialises the default rules (budget alerts, failed executions and
  collections to the admins in-app; approvals to the roles that may approve), exactly as the first event
  dispatched would; they are then ordinary rules to edit or delete.
- ``POST /v1/notification-rules``: add a rule (201). ``PATCH /v1/notification-rules/{rule_id}``: change the
  fields sent; ``DELETE /v1/notification-rules/{rule_id}``. Bad input (an unknown event type or scope key, a
  negative ``min_amount``, a channel of another organisation, an in-app rule without recipients, a bad time
  zone …) is a 422 naming the field (``scope.regions``, ``quiet_hours.timezone`` …); an unknown rule is a 404.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, status
from sqlalchemy.orm import Session

from cloudoptima.domain.notification_rules import NotificationRule
from cloudoptima.services.notification_rules import NotificationRules, RuleError, RuleNotFound
from cloudoptima_gateway.audit import AuditedRoute
from cloudoptima_gateway.deps import Permission, Principal, TenantDb
from cloudoptima_gateway.schemas.common import Success, invalid, not_found
from cloudoptima_gateway.schemas.notification_rules import (
    QuietHoursOut,
    RecipientsOut,
    RuleIn,
    RuleList,
    RuleOut,
    RulePatch,
)

router = APIRouter(tags=["notifications"], route_class=AuditedRoute)
RuleAdmin = Annotated[Principal, Permission("manage:organization")]


def _service(session: Session, principal: Principal) -> NotificationRules:
    return NotificationRules(session, principal.organization_id)


def _out(rule: NotificationRule) -> RuleOut:
    scope = rule.scope.model_dump(mode="json")
    return RuleOut(
        id=rule.id,
        name=rule.name,
        event_type=rule.event_type.value,
        min_severity=rule.min_severity.value if rule.min_severity else None,
        min_amount=rule.min_amount,
        scope={key: values for key, values in scope.items() if values},
        channel_id=rule.channel_id,
        recipients=RecipientsOut(
            roles=list(rule.recipients.roles),
            user_ids=list(rule.recipients.user_ids),
            owner=rule.recipients.owner,
        ),
        quiet_hours=QuietHoursOut.model_validate(rule.quiet_hours.model_dump()) if rule.quiet_hours else None,
        enabled=rule.enabled,
        created_by=rule.created_by,
        created_at=rule.created_at,
    )


@router.get("/notification-rules", response_model=RuleList)
def list_rules(principal: RuleAdmin, session: TenantDb) -> RuleList:
    """The organisation's notification rules (the defaults are created on the first call)."""
    service = _service(session, principal)
    service.ensure_defaults(datetime.now(UTC))
    return RuleList(items=[_out(rule) for rule in service.list_rules()])


@router.post("/notification-rules", response_model=RuleOut, status_code=status.HTTP_201_CREATED)
def create_rule(body: RuleIn, principal: RuleAdmin, session: TenantDb) -> RuleOut:
    """Add a rule; 422 naming the field when it is invalid."""
    try:
        rule = _service(session, principal).create(
            name=body.name,
            event_type=body.event_type,
            min_severity=body.min_severity,
            min_amount=body.min_amount,
            scope=body.scope,
            channel_id=body.channel_id,
            recipients=body.recipients,
            quiet_hours=body.quiet_hours,
            enabled=body.enabled,
            created_by=principal.user_id if principal.via == "token" else None,
            now=datetime.now(UTC),
        )
    except RuleError as exc:
        raise invalid(exc.field, exc.message, location="body") from exc
    return _out(rule)


@router.patch("/notification-rules/{rule_id}", response_model=RuleOut)
def update_rule(rule_id: uuid.UUID, body: RulePatch, principal: RuleAdmin, session: TenantDb) -> RuleOut:
    """Change the fields sent; the rule is validated as a whole (422 naming the field, 404 when unknown)."""
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    try:
        rule = _service(session, principal).update(rule_id, changes)
    except RuleNotFound as exc:
        raise not_found("notification rule", rule_id) from exc
    except RuleError as exc:
        raise invalid(exc.field, exc.message, location="body") from exc
    return _out(rule)


@router.delete("/notification-rules/{rule_id}", response_model=Success)
def delete_rule(rule_id: uuid.UUID, principal: RuleAdmin, session: TenantDb) -> Success:
    """Delete a rule (its events then notify only through the other rules)."""
    try:
        _service(session, principal).delete(rule_id)
    except RuleNotFound as exc:
        raise not_found("notification rule", rule_id) from exc
    return Success()
