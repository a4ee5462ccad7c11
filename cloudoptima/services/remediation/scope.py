"""What every part of the remediation service shares: the organisation's session, its repositories, the
provider factory and the clock, and the translation of planned actions into provider requests."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from cloudoptima.clouds.protocol import ActionKind, ActionRequest, CloudProviderClient
from cloudoptima.domain.remediation import PlannedAction, PlanStep
from cloudoptima.storage.models import Policy, PolicyExecution
from cloudoptima.storage.models import Recommendation as RecommendationRow
from cloudoptima.storage.tenancy import TenantRepository

ProviderFactory = Callable[[uuid.UUID], CloudProviderClient]
"""Builds the provider client of one ``cloud_accounts`` row id (the registry in production)."""


class RemediationError(LookupError):
    """A recommendation, policy or execution does not exist in this organisation."""


class Recommendations(TenantRepository[RecommendationRow]):
    model = RecommendationRow


class Executions(TenantRepository[PolicyExecution]):
    model = PolicyExecution


class Policies(TenantRepository[Policy]):
    model = Policy


def provider_request(action: PlannedAction) -> ActionRequest:
    """The provider request of a planned action."""
    return ActionRequest(
        kind=ActionKind(action.action),
        resource_id=action.resource_id,
        region=action.region,
        parameters=action.parameters,
    )


def planned_action(step: PlanStep) -> PlannedAction:
    """The action a plan step was planned from."""
    return PlannedAction(
        cloud_account_id=step.cloud_account_id,
        resource_id=step.resource_id,
        action=step.action,
        region=step.region,
        parameters=step.parameters,
        description=step.description,
    )


class RemediationScope:
    """One organisation over one session (the caller commits): the state the remediation parts share."""

    def __init__(
        self,
        session: Session,
        organization_id: uuid.UUID,
        providers: ProviderFactory,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._session = session
        self._org = organization_id
        self._providers = providers
        self._now = now
        self._recommendations = Recommendations(session, organization_id)
        self._executions = Executions(session, organization_id)
        self._policies = Policies(session, organization_id)
