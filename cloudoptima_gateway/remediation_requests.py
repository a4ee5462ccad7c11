"""Starting remediations from the API: who asks (an ``Approver``), and the request the workflow runs."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from cloudoptima.clouds.protocol import CloudProviderClient, CredentialsError
from cloudoptima.storage.models import CloudAccount
from cloudoptima_gateway.deps import Principal
from cloudoptima_gateway.runtime import Runtime
from cloudoptima_workflows.client import RemediationHandleInfo, start_remediation
from cloudoptima_workflows.remediation.inputs import (
    Approver,
    RemediationRequest,
    ResourceAction,
    SafetyControls,
)


def provider_factory(runtime: Runtime, session: Session) -> Callable[[uuid.UUID], CloudProviderClient]:
    """What ``RemediationService`` needs: the provider client of one of the session's cloud accounts."""

    def build(account_id: uuid.UUID) -> CloudProviderClient:
        row = session.get(CloudAccount, account_id)
        if row is None:
            raise CredentialsError(f"cloud account {account_id} not found")
        return runtime.providers().for_account(row)

    return build


def approver_of(principal: Principal) -> Approver:
    return Approver(user_id=str(principal.user_id), role=principal.role)


async def start_actions(
    runtime: Runtime,
    principal: Principal,
    actions: list[dict[str, Any]],
    *,
    title: str,
    approval_required: bool,
) -> RemediationHandleInfo:
    """Explicit resource actions through the remediation workflow (dry run, approval, verify, rollback)."""
    request = RemediationRequest(
        organization_id=str(principal.organization_id),
        requested_by=approver_of(principal),
        execution_id="",
        actions=[ResourceAction(**action) for action in actions],
        title=title,
        approval_required=approval_required,
        safety=SafetyControls(require_approval=approval_required),
    )
    return await start_remediation(
        await runtime.temporal(), request, temporal_ui_url=runtime.settings.resolved_temporal_ui_url()
    )


async def start_recommendation(
    runtime: Runtime,
    principal: Principal,
    recommendation_id: str,
    *,
    risk_level: str,
    title: str,
    approval_required: bool,
    dry_run: bool,
    schedule: datetime | None,
) -> RemediationHandleInfo:
    """Apply a recommendation through the remediation workflow."""
    request = RemediationRequest(
        organization_id=str(principal.organization_id),
        requested_by=approver_of(principal),
        execution_id="",
        recommendation_id=recommendation_id,
        title=title,
        risk_level=risk_level,
        approval_required=approval_required,
        dry_run=dry_run,
        schedule=schedule,
        safety=SafetyControls(require_approval=approval_required),
    )
    return await start_remediation(
        await runtime.temporal(), request, temporal_ui_url=runtime.settings.resolved_temporal_ui_url()
    )
