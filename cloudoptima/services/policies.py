"""Automation policies of one organisation (seed §3.2 Policies API): validate, store, match, dry run, trigger.

Contract:

- :func:`validate_policy` turns a request body into a :class:`PolicyDefinition` or raises
  :class:`PolicyValidationError` listing every problem, each starting with its field path: condition fields
  and trigger events, filters and metrics that do not exist (checked against
  :mod:`cloudoptima.domain.policy_fields`, the message lists the valid names), action parameters a
  provider would refuse (``resize`` needs ``config.size``, ``tag`` a ``config.tags`` mapping, ``untag`` a
  ``config.keys`` list). A policy stored before a check existed still loads (:meth:`definition_of`).
- Conditions are ANDed and evaluated over the organisation's ``resources`` documents that are not deleted
  (:func:`resource_view`): columns, ``tags.<key>``, ``configuration.<path>`` and ``metrics.<metric>.<stat>``.
  Numbers (and numeric strings) compare as ``Decimal``; datetimes and ISO strings as UTC datetimes. A
  missing field fails every operator except ``exists: false``. ``older_than_days`` is true when the field's
  time is more than that many days before ``now``.
- Each matched resource × each policy action becomes one :class:`PlannedAction`; execution goes through the
  remediation workflow, so the approval rules of :mod:`cloudoptima.services.remediation` apply. A
  ``tag_resources`` action becomes a ``tag`` step with the organisation's required tags the resource lacks
  (:mod:`cloudoptima.services.tag_actions`), and no step for a resource that lacks none.
- A dry run (:meth:`PolicyService.dry_run`) lists every resource it would touch: id, name, type, region
  and the action with its provider check, one entry per matched resource × action.
- Event and threshold triggers are evaluated after each collection and analysis by
  :mod:`cloudoptima.services.policy_triggers`; schedule triggers run from Temporal Schedules
  (``cloudoptima_workflows.client``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from cloudoptima.domain.policy_fields import condition_field_problem, trigger_problems
from cloudoptima.domain.remediation import (
    PlannedAction,
    PolicyCondition,
    PolicyDefinition,
    RemediationPlan,
)
from cloudoptima.domain.tag_policy import TagPolicy
from cloudoptima.services.remediation import RemediationError, RemediationService
from cloudoptima.services.tag_actions import missing_tags, tag_resources_problems
from cloudoptima.storage.models import Organization, Policy, ResourceDocument
from cloudoptima.storage.tenancy import TenantRepository

_MISSING = object()


class PolicyValidationError(ValueError):
    """The policy body is invalid; ``problems`` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _action_problems(definition: PolicyDefinition) -> list[str]:
    problems = []
    for i, action in enumerate(definition.actions):
        config = action.config
        if action.type == "resize" and not (isinstance(config.get("size"), str) and config["size"]):
            problems.append(f"actions[{i}]: resize needs config.size")
        tags = config.get("tags")
        if action.type == "tag" and not (
            isinstance(tags, dict) and tags and all(isinstance(v, str) for v in tags.values())
        ):
            problems.append(f"actions[{i}]: tag needs config.tags, a non-empty {{str: str}} mapping")
        keys = config.get("keys")
        if action.type == "untag" and not (
            isinstance(keys, list) and keys and all(isinstance(k, str) for k in keys)
        ):
            problems.append(f"actions[{i}]: untag needs config.keys, a non-empty list of tag keys")
        if action.type == "tag_resources":
            problems += tag_resources_problems(config, f"actions[{i}]")
    return problems


def validate_policy(payload: Mapping[str, Any]) -> PolicyDefinition:
    """The validated policy, or :class:`PolicyValidationError` with every problem."""
    try:
        definition = PolicyDefinition.model_validate(dict(payload))
    except ValidationError as exc:
        raise PolicyValidationError(
            [f"{'.'.join(str(p) for p in err['loc']) or 'policy'}: {err['msg']}" for err in exc.errors()]
        ) from None
    problems = trigger_problems(definition.trigger.type, definition.trigger.config)
    for i, condition in enumerate(definition.conditions):
        problem = condition_field_problem(condition.field)
        if problem is not None:
            problems.append(f"conditions[{i}].field: {problem}")
    problems += _action_problems(definition)
    if problems:
        raise PolicyValidationError(problems)
    return definition


def resource_view(doc: ResourceDocument) -> dict[str, Any]:
    """The fields conditions can address on one stored resource."""
    return {
        "resource_id": doc.resource_id,
        "resource_name": doc.resource_name,
        "provider": doc.provider,
        "resource_type": doc.resource_type,
        "region": doc.region,
        "status": doc.status,
        "cost_monthly": doc.cost_monthly,
        "created_at": doc.created_at,
        "last_seen": doc.last_seen,
        "cloud_account_id": str(doc.cloud_account_id) if doc.cloud_account_id else None,
        "tags": dict(doc.tags or {}),
        "configuration": dict(doc.configuration or {}),
        "metrics": dict(doc.metrics or {}),
    }


def field_value(view: Mapping[str, Any], path: str) -> Any:
    """The value at ``path`` (dots descend into objects), or the module's missing marker."""
    if path in view:
        return view[path]
    current: Any = view
    for part in path.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return _MISSING
        current = current[part]
    return current


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return None
    return None


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _ordered(left: Any, right: Any) -> tuple[Any, Any] | None:
    """Both sides in one comparable type (Decimal, datetime or str), or None."""
    a, b = _number(left), _number(right)
    if a is not None and b is not None:
        return a, b
    if isinstance(left, datetime) or isinstance(right, datetime):
        x, y = _moment(left), _moment(right)
        return (x, y) if x is not None and y is not None else None
    if isinstance(left, str) and isinstance(right, str):
        return left, right
    return None


def _equal(left: Any, right: Any) -> bool:
    pair = _ordered(left, right)
    return pair[0] == pair[1] if pair is not None else bool(left == right)


def evaluate_condition(condition: PolicyCondition, view: Mapping[str, Any], now: datetime) -> bool:
    """Whether one resource satisfies ``condition`` (see the module contract)."""
    value = field_value(view, condition.field)
    op, expected = condition.operator, condition.value
    if op == "exists":
        return (value is not _MISSING and value is not None) is expected
    if value is _MISSING or value is None:
        return False
    if op == "eq":
        return _equal(value, expected)
    if op == "ne":
        return not _equal(value, expected)
    if op == "in":
        return any(_equal(value, item) for item in expected)
    if op == "not_in":
        return not any(_equal(value, item) for item in expected)
    if op == "contains":
        if isinstance(value, str):
            return isinstance(expected, str) and expected in value
        if isinstance(value, Mapping):
            return expected in value
        if isinstance(value, list):
            return any(_equal(item, expected) for item in value)
        return False
    if op == "older_than_days":
        moment = _moment(value)
        return moment is not None and now - moment > timedelta(days=float(expected))
    pair = _ordered(value, expected)
    if pair is None:
        return False
    left, right = pair
    return bool({"gt": left > right, "gte": left >= right, "lt": left < right, "lte": left <= right}[op])


def matches(conditions: Sequence[PolicyCondition], view: Mapping[str, Any], now: datetime) -> bool:
    """All conditions hold (a policy without conditions matches every resource)."""
    return all(evaluate_condition(c, view, now) for c in conditions)


def event_fires(config: Mapping[str, Any], event: str, payload: Mapping[str, Any]) -> bool:
    """An event trigger fires for its event name when every filter equals the payload's field."""
    if config["event"] != event:
        return False
    return all(_equal(field_value(payload, str(k)), v) for k, v in dict(config.get("filters", {})).items())


@dataclass(frozen=True)
class DryRunResource:
    """One resource a policy run would touch and the action it would take there (one per resource × action);
    ``valid``/``problems`` are the provider's dry-run verdict (``valid`` None when it was not checked)."""

    resource_id: str
    resource_name: str | None
    resource_type: str
    provider: str
    region: str | None
    cloud_account_id: str
    action: str
    parameters: dict[str, Any]
    valid: bool | None
    problems: list[str]
    monthly_cost_before: Decimal
    monthly_cost_after: Decimal | None


@dataclass(frozen=True)
class PolicyDryRun:
    """What executing a policy now would do: the matched resources, what it would do to each, the plan."""

    policy_id: str
    matched_resource_ids: list[str]
    plan: RemediationPlan
    resources: list[DryRunResource]


class _Policies(TenantRepository[Policy]):
    model = Policy


class PolicyService:
    """Policies of one organisation over one session (the caller commits)."""

    def __init__(
        self,
        session: Session,
        organization_id: uuid.UUID,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._session = session
        self._org = organization_id
        self._repo = _Policies(session, organization_id)
        self._now = now

    @staticmethod
    def _write(row: Policy, definition: PolicyDefinition) -> None:
        row.name, row.description, row.enabled = definition.name, definition.description, definition.enabled
        row.trigger_config = definition.trigger.model_dump(mode="json")
        row.conditions = [c.model_dump(mode="json") for c in definition.conditions]
        row.actions = [a.model_dump(mode="json") for a in definition.actions]
        safety = definition.safety_controls.model_dump(mode="json")
        if definition.risk_level is not None:
            safety["risk_level"] = definition.risk_level.value
        row.safety_controls = safety

    def create(self, definition: PolicyDefinition) -> Policy:
        """Store a validated policy (seed ``POST /policies``)."""
        row = Policy(organization_id=self._org, execution_count=0, success_count=0)
        self._write(row, definition)
        return self._repo.add(row)

    def update(self, policy_id: uuid.UUID, definition: PolicyDefinition) -> Policy:
        """Replace a policy's definition (its history and counters stay)."""
        row = self.get(policy_id)
        self._write(row, definition)
        row.updated_at = self._now()
        self._session.flush()
        return row

    def get(self, policy_id: uuid.UUID) -> Policy:
        """One policy; :class:`RemediationError` (a ``LookupError``) when absent here."""
        row = self._repo.get(policy_id)
        if row is None:
            raise RemediationError(f"policy {policy_id} not found")
        return row

    @staticmethod
    def definition_of(row: Policy) -> PolicyDefinition:
        """The stored policy as a validated definition."""
        safety = dict(row.safety_controls or {})
        risk = safety.pop("risk_level", None)
        return PolicyDefinition.model_validate(
            {
                "name": row.name,
                "description": row.description,
                "enabled": row.enabled,
                "trigger": row.trigger_config,
                "conditions": row.conditions,
                "actions": row.actions,
                "safety_controls": safety,
                "risk_level": risk,
            }
        )

    def matching_resources(self, definition: PolicyDefinition) -> list[ResourceDocument]:
        """Live resources of this organisation that satisfy every condition, by resource id."""
        docs = self._session.scalars(
            select(ResourceDocument)
            .where(ResourceDocument.organization_id == self._org, ResourceDocument.status != "deleted")
            .order_by(ResourceDocument.resource_id)
        ).all()
        now = self._now()
        return [doc for doc in docs if matches(definition.conditions, resource_view(doc), now)]

    def planned_actions(
        self, definition: PolicyDefinition, *, only: Sequence[str] | None = None
    ) -> tuple[list[str], list[PlannedAction]]:
        """Matched resource ids and one planned action per matched resource × policy action (``only``: of
        these resource ids alone, e.g. the resources a threshold trigger fired for)."""
        matched = self.matching_resources(definition)
        if only is not None:
            chosen = set(only)
            matched = [doc for doc in matched if doc.resource_id in chosen]
        tag_policy = TagPolicy()
        if any(a.type == "tag_resources" for a in definition.actions):
            org = self._session.get(Organization, self._org)
            tag_policy = TagPolicy.of(org.settings if org is not None else None)
        actions = []
        for doc in matched:
            for action in definition.actions:
                parameters = dict(action.config)
                if action.type == "tag_resources":
                    tags = missing_tags(tag_policy, action.config, doc.tags)
                    if not tags:
                        continue  # nothing required is missing (or no value is known for what is)
                    parameters = {"tags": tags}
                actions.append(
                    PlannedAction(
                        cloud_account_id=str(doc.cloud_account_id) if doc.cloud_account_id else "",
                        resource_id=doc.resource_id,
                        action=action.provider_kind,
                        region=doc.region,
                        parameters=parameters,
                        description=f"{definition.name}: {action.type} {doc.resource_name or doc.resource_id}",
                    )
                )
        return [doc.resource_id for doc in matched], actions

    def dry_run(
        self, policy_id: uuid.UUID, remediation: RemediationService, *, requested_by_role: str
    ) -> PolicyDryRun:
        """What executing the policy now would do (seed ``POST /policies/{id}/execute`` with dry_run)."""
        row = self.get(policy_id)
        definition = self.definition_of(row)
        docs = {doc.resource_id: doc for doc in self.matching_resources(definition)}
        matched, actions = self.planned_actions(definition)
        plan = remediation.plan_actions(
            actions,
            source="policy",
            source_id=str(row.id),
            title=definition.name,
            risk_floor=definition.risk,
            safety=definition.safety_controls,
            requested_by_role=requested_by_role,
        )
        resources = [
            DryRunResource(
                resource_id=step.resource_id,
                resource_name=docs[step.resource_id].resource_name,
                resource_type=docs[step.resource_id].resource_type,
                provider=docs[step.resource_id].provider,
                region=step.region,
                cloud_account_id=step.cloud_account_id,
                action=step.action,
                parameters=dict(step.parameters),
                valid=step.valid,
                problems=list(step.problems),
                monthly_cost_before=step.monthly_cost_before,
                monthly_cost_after=step.monthly_cost_after,
            )
            for step in plan.steps
        ]
        return PolicyDryRun(
            policy_id=str(row.id), matched_resource_ids=matched, plan=plan, resources=resources
        )
