"""``/v1/cloud-accounts``: list, connect AWS/Azure/GCP (verified for real), edit settings, sync now, disconnect."""

from __future__ import annotations

import asyncio
import base64
import logging
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from cloudoptima.domain.account_settings import EDITABLE, check_settings
from cloudoptima.services.cache import abump_cost_version
from cloudoptima.services.cloud_accounts import (
    DISCONNECTED,
    AccountExistsError,
    AccountSettingsError,
    AccountView,
    CloudAccountService,
)
from cloudoptima.storage.models import CloudAccount
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_gateway.audit import AuditedRoute
from cloudoptima_gateway.deps import Permission, Principal, RuntimeDep, TenantDb
from cloudoptima_gateway.runtime import Runtime
from cloudoptima_gateway.schemas.cloud_accounts import (
    AccountStatus,
    AwsConnect,
    AzureConnect,
    CloudAccountList,
    CloudAccountOut,
    ConnectOut,
    GcpConnect,
    PermissionProblemOut,
    SettingsOut,
    SettingsPatch,
    SyncOut,
)
from cloudoptima_gateway.schemas.common import Success, invalid, not_found
from cloudoptima_workflows.collection.inputs import CollectAccountInput
from cloudoptima_workflows.queues import COLLECTION

router = APIRouter(prefix="/cloud-accounts", tags=["cloud-accounts"], route_class=AuditedRoute)
Reader = Annotated[Principal, Permission("read:resources")]
Admin = Annotated[Principal, Permission("manage:cloud_accounts")]
Syncer = Annotated[Principal, Permission("write:resources")]
VERIFY_WAIT_S = 20.0
COLLECT_WORKFLOW = "CollectAccount"
_log = logging.getLogger("cloudoptima.gateway.cloud_accounts")


def collection_workflow_id(account_id: uuid.UUID) -> str:
    return f"collect-account-{account_id}"


@router.get("", response_model=CloudAccountList)
def list_cloud_accounts(
    principal: Reader,
    runtime: RuntimeDep,
    session: TenantDb,
    provider: Literal["aws", "azure", "gcp"] | None = None,
    status: AccountStatus | None = None,
) -> CloudAccountList:
    views = CloudAccountService(session, principal.organization_id, runtime.cipher()).listing(
        provider=provider, status=status
    )
    accounts = [_account_out(v) for v in views]
    return CloudAccountList(accounts=accounts, total=len(accounts))


@router.get("/{account_id}", response_model=CloudAccountOut)
def get_cloud_account(
    account_id: uuid.UUID, principal: Reader, runtime: RuntimeDep, session: TenantDb
) -> CloudAccountOut:
    """One account: status (``degraded`` when reads were denied) and its ``permission_problems``."""
    try:
        view = CloudAccountService(session, principal.organization_id, runtime.cipher()).view(account_id)
    except LookupError as exc:
        raise not_found("cloud account", account_id) from exc
    return _account_out(view)


def _account_out(view: AccountView) -> CloudAccountOut:
    row = view.row
    return CloudAccountOut(
        id=row.id,
        provider=row.provider,
        account_id=row.account_identifier,
        account_name=row.account_name,
        status=row.status,
        verification_status=row.verification_status,
        verification_error=row.verification_error,
        last_sync=row.last_sync_at,
        monthly_spend=view.monthly_spend,
        permission_problems=[PermissionProblemOut.model_validate(p) for p in row.permission_problems or []],
    )


async def _connect(
    request: Request,
    runtime: Runtime,
    principal: Principal,
    provider: str,
    identifier: str,
    name: str | None,
    credentials: dict[str, Any],
    settings: dict[str, Any],
) -> ConnectOut:
    org = principal.organization_id
    sessions = runtime.sessions()

    def create() -> uuid.UUID:
        with tenant_session(sessions, org) as session:
            return (
                CloudAccountService(session, org, runtime.cipher())
                .connect(provider, identifier, name, credentials, settings)
                .id
            )

    try:
        account_id = await run_in_threadpool(create)
    except AccountExistsError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    request.state.audit_resource_id = str(account_id)
    request.state.audit_details = {"provider": provider, "account": identifier}

    def verify() -> CloudAccount:
        with tenant_session(sessions, org) as session:
            return CloudAccountService(session, org, runtime.cipher()).verify(account_id, runtime.providers())

    task = asyncio.ensure_future(run_in_threadpool(verify))
    runtime.background(task)
    done, _ = await asyncio.wait({task}, timeout=VERIFY_WAIT_S)
    if done:
        row = task.result()
        return ConnectOut(
            id=row.id,
            account_id=row.account_identifier,
            status=row.status,
            verification_status=row.verification_status,  # type: ignore[arg-type]
            verification_error=row.verification_error,
        )
    return ConnectOut(
        id=account_id,
        account_id=identifier,
        status="pending",
        verification_status="pending",
        verification_error=None,
    )


@router.post("/aws", status_code=status.HTTP_201_CREATED, response_model=ConnectOut)
async def connect_aws(
    body: AwsConnect, request: Request, runtime: RuntimeDep, principal: Admin
) -> ConnectOut:
    """Connect an AWS account through a cross-account role (AssumeRole with the external id)."""
    account = body.role_arn.split(":")[4]
    credentials = {"role_arn": body.role_arn, "external_id": body.external_id}
    settings = {"account_id": account, **_initial_settings("aws", body)}
    return await _connect(
        request, runtime, principal, "aws", account, body.account_name, credentials, settings
    )


@router.post("/azure", status_code=status.HTTP_201_CREATED, response_model=ConnectOut)
async def connect_azure(
    body: AzureConnect, request: Request, runtime: RuntimeDep, principal: Admin
) -> ConnectOut:
    """Connect an Azure subscription through a service principal."""
    credentials = {
        "tenant_id": str(body.tenant_id),
        "client_id": str(body.client_id),
        "client_secret": body.client_secret,
    }
    subscription = str(body.subscription_id)
    settings = {"subscription_id": subscription, **_initial_settings("azure", body)}
    return await _connect(
        request, runtime, principal, "azure", subscription, body.account_name, credentials, settings
    )


@router.post("/gcp", status_code=status.HTTP_201_CREATED, response_model=ConnectOut)
async def connect_gcp(
    body: GcpConnect, request: Request, runtime: RuntimeDep, principal: Admin
) -> ConnectOut:
    """Connect a GCP project through a service account key (base64 of the JSON key file)."""
    credentials = {
        "service_account_json_b64": base64.b64encode(base64.b64decode(body.service_account_json)).decode()
    }
    settings: dict[str, Any] = {"project_id": body.project_id, **_initial_settings("gcp", body)}
    return await _connect(
        request, runtime, principal, "gcp", body.project_id, body.account_name, credentials, settings
    )


def _initial_settings(provider: str, body: BaseModel) -> dict[str, Any]:
    """The editable settings given at connection, validated as ``PATCH`` validates them (422 naming the
    field)."""
    model = EDITABLE[provider]
    given = body.model_dump(include=set(model.model_fields), exclude_none=True)
    try:
        settings = model.model_validate(given).model_dump(exclude_none=True)
        check_settings(provider, settings)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise invalid(str(first["loc"][0]), first["msg"], "body") from None
    except ValueError as exc:
        field, _, message = str(exc).partition(": ")
        raise invalid(field, message or str(exc), "body") from None
    return settings


@router.patch("/{account_id}", response_model=SettingsOut)
async def update_cloud_account_settings(
    account_id: uuid.UUID, body: SettingsPatch, request: Request, runtime: RuntimeDep, principal: Admin
) -> SettingsOut:
    """Change an account's editable settings (validated; ``null`` removes one); audited with the keys."""
    org = principal.organization_id

    def update() -> SettingsOut:
        with tenant_session(runtime.sessions(), org) as session:
            service = CloudAccountService(session, org, runtime.cipher())
            changed = service.update_settings(account_id, body.settings)
            row = service.get(account_id)
            return SettingsOut(
                id=row.id,
                provider=row.provider,
                account_id=row.account_identifier,
                settings=dict(row.settings or {}),
                changed=changed,
            )

    try:
        result = await run_in_threadpool(update)
    except LookupError as exc:
        raise not_found("cloud account", account_id) from exc
    except AccountSettingsError as exc:
        detail = [
            {
                "type": "value_error",
                "loc": ["body", "settings", *(field.split(".") if field else [])],
                "msg": message,
                "input": None,
            }
            for field, message in exc.problems
        ]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail) from None
    request.state.audit_resource_id = str(account_id)
    request.state.audit_details = {"changed": result.changed}
    return result


@router.post("/{account_id}/sync", status_code=status.HTTP_202_ACCEPTED, response_model=SyncOut)
async def sync_cloud_account(account_id: uuid.UUID, runtime: RuntimeDep, principal: Syncer) -> SyncOut:
    """Collect the account now (costs, inventory, utilisation, IAM); returns the workflow id."""
    org = principal.organization_id

    def load() -> CloudAccount:
        with tenant_session(runtime.sessions(), org) as session:
            return CloudAccountService(session, org, runtime.cipher()).get(account_id)

    try:
        row = await run_in_threadpool(load)
    except LookupError as exc:
        raise not_found("cloud account", account_id) from exc
    if row.status == DISCONNECTED:
        raise HTTPException(status.HTTP_409_CONFLICT, detail="cloud account is disconnected")
    settings = runtime.settings
    client = await runtime.temporal()
    workflow_id = collection_workflow_id(account_id)
    params = CollectAccountInput(
        organization_id=str(org),
        cloud_account_id=str(account_id),
        initial_days=settings.collection_initial_days,
        restate_days=settings.collection_restate_days,
        utilisation_days=settings.utilisation_backfill_days,
    )
    try:
        await client.start_workflow(
            COLLECT_WORKFLOW,
            params,
            id=workflow_id,
            task_queue=COLLECTION,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        )
    except WorkflowAlreadyStartedError:
        return SyncOut(workflow_id=workflow_id, status="running")
    return SyncOut(workflow_id=workflow_id, status="started")


@router.delete("/{account_id}", response_model=Success)
async def disconnect_cloud_account(
    account_id: uuid.UUID,
    runtime: RuntimeDep,
    principal: Admin,
    purge: Annotated[bool, Query(description="also delete its costs and resources")] = False,
) -> Success:
    """Disconnect: scheduled collection stops and credentials are erased; history stays unless ``purge``."""
    org = principal.organization_id

    def remove() -> None:
        with tenant_session(runtime.sessions(), org) as session:
            CloudAccountService(session, org, runtime.cipher()).disconnect(account_id, purge=purge)

    try:
        await run_in_threadpool(remove)
    except LookupError as exc:
        raise not_found("cloud account", account_id) from exc
    try:
        client = await runtime.temporal()
        await client.get_workflow_handle(collection_workflow_id(account_id)).cancel()
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            _log.warning("could not cancel the collection of %s: %s", account_id, exc)
    except Exception as exc:
        _log.warning("could not cancel the collection of %s: %s", account_id, exc)
    if purge:
        await abump_cost_version(runtime.redis(), org)
    return Success()
