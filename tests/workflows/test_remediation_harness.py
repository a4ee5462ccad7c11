"""Shared helpers (no tests) for the remediation and policy tests: a sandbox estate per test, an organisation
with its connected sandbox account, stored inventory and one active user per role in the real Postgres (the
workflow verifies every decider against ``users``), and a worker on the ``remediation`` queue with the real
activities.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path

from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session
from temporalio.client import Client
from temporalio.worker import Worker

from cloudoptima.clouds.protocol import (
    ActionRequest,
    ActionResult,
    CloudProviderClient,
    ProviderUnavailableError,
)
from cloudoptima.clouds.sandbox.provider import SandboxProvider
from cloudoptima.clouds.sandbox.state import JournalEntry, SandboxEstateStore
from cloudoptima.domain.inventory import InstanceAttributes, Resource, ResourceKind, ResourceState
from cloudoptima.domain.rbac import ROLE_ORDER
from cloudoptima.security.approval_codes import approval_code
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.inventory_store import upsert_resources
from cloudoptima.storage.models import CloudAccount, Organization, PolicyExecution, User
from cloudoptima_workflows.queues import REMEDIATION
from cloudoptima_workflows.remediation import registration
from cloudoptima_workflows.remediation.activities import RemediationDeps
from cloudoptima_workflows.remediation.inputs import Approver

SEED, ACCOUNTS, DAYS, END = 11, 1, 14, date(2026, 1, 1)


@cache
def _template() -> Path:
    state = Path(tempfile.mkdtemp(prefix="cloudoptima-remediation-sandbox-"))
    SandboxEstateStore.create(state, seed=SEED, accounts=ACCOUNTS, days=DAYS, end=END)
    return state


def sandbox_copy(target: Path) -> Path:
    """A fresh copy of the (once generated) sandbox estate in ``target``."""
    shutil.copytree(_template(), target)
    return target


@dataclass
class Tenant:
    """One organisation with one connected sandbox account, its inventory stored and a user per role."""

    organization_id: uuid.UUID
    cloud_account_id: uuid.UUID
    account_identifier: str
    state_dir: Path
    users: dict[str, uuid.UUID] = field(default_factory=dict)
    """Role → the id of an active user with that role."""

    def approver(self, role: str) -> Approver:
        """The real user of ``role`` as a requester (``Approver``)."""
        return Approver(
            user_id=str(self.users[role]), role=role, email=f"{role}@{self.organization_id}.example.com"
        )

    def user(self, role: str) -> str:
        """The id (string) of the real user of ``role``: what a decision names."""
        return str(self.users[role])

    def provider(self) -> SandboxProvider:
        return SandboxProvider(self.state_dir, self.account_identifier)

    def resources(self) -> list[Resource]:
        return list(self.provider().store.estate().account_resources(self.account_identifier))

    def resource(self, resource_id: str) -> Resource:
        return self.provider().store.estate().resource(resource_id)

    def journal(self) -> list[JournalEntry]:
        return SandboxEstateStore.open(self.state_dir).journal()

    def running_instances(self, count: int) -> list[Resource]:
        found = [
            r
            for r in self.resources()
            if r.kind is ResourceKind.COMPUTE_INSTANCE
            and r.state is ResourceState.RUNNING
            and isinstance(r.attributes, InstanceAttributes)
            and r.attributes.schedule == "always"
        ]
        assert len(found) >= count, f"the sandbox account has only {len(found)} running instances"
        return found[:count]


@contextmanager
def tenant(engine: Engine, state_dir: Path, name: str = "remediation") -> Iterator[Tenant]:
    """Create the organisation, its account row and inventory (committed); delete them afterwards."""
    store = SandboxEstateStore.open(state_dir)
    account = store.estate().accounts[0]
    sessions = session_factory(engine)
    with sessions() as session, session.begin():
        org = Organization(name=f"{name}-{uuid.uuid4().hex[:8]}", subscription_tier="free", settings={})
        session.add(org)
        session.flush()
        row = CloudAccount(
            organization_id=org.id,
            provider=account.provider.value,
            account_identifier=account.account_id,
            account_name=account.name,
            credentials_encrypted="",
            settings={"sandbox": True},
        )
        session.add(row)
        session.flush()
        live = [r for r in store.estate().account_resources(account.account_id) if r.deleted_at is None]
        upsert_resources(session.connection(), org.id, row.id, live, {}, datetime.now(UTC), complete=True)
        users: dict[str, uuid.UUID] = {role: add_user(session, org.id, role).id for role in ROLE_ORDER}
        org_id, account_row = org.id, row.id
    try:
        yield Tenant(org_id, account_row, account.account_id, state_dir, users)
    finally:
        with sessions() as session, session.begin():
            session.execute(delete(Organization).where(Organization.id == org_id))


def add_user(session: Session, organization_id: uuid.UUID, role: str, *, active: bool = True) -> User:
    """An extra user of ``role`` in the organisation (flushed; the caller commits)."""
    user = User(
        organization_id=organization_id,
        email=f"{role}-{uuid.uuid4().hex[:10]}@example.com",
        password_hash="not-a-password",
        role=role,
        is_active=active,
    )
    session.add(user)
    session.flush()
    return user


async def until_recorded(engine: Engine, execution_id: str, state: str) -> None:
    """Poll the ``policy_executions`` row until it records ``state`` (bounded): what the REST API and the MCP
    tools read, a moment after the workflow's own status query shows it."""
    sessions = session_factory(engine)
    for _ in range(600):
        with sessions() as session:
            row = session.get(PolicyExecution, uuid.UUID(execution_id))
            if row is not None and row.status == state:
                return
        await asyncio.sleep(0.05)
    raise AssertionError(f"execution {execution_id} never recorded {state}")


def set_settings(engine: Engine, organization_id: uuid.UUID, **settings: object) -> None:
    """Merge ``settings`` into the organisation's stored settings (committed)."""
    with session_factory(engine)() as session, session.begin():
        org = session.get(Organization, organization_id)
        assert org is not None
        org.settings = {**(org.settings or {}), **settings}


def sandbox_factory(tenant_: Tenant) -> Callable[[uuid.UUID], CloudProviderClient]:
    """The provider factory of the activities: the tenant's sandbox account, nothing else."""

    def build(cloud_account_id: uuid.UUID) -> CloudProviderClient:
        if cloud_account_id != tenant_.cloud_account_id:
            raise LookupError(f"cloud account {cloud_account_id} is not connected")
        return tenant_.provider()

    return build


class LostResponseProvider:
    """Wraps a provider: the first ``execute_action`` acts, then fails as if the response was lost."""

    def __init__(self, inner: SandboxProvider) -> None:
        self._inner = inner
        self.provider, self.account_id = inner.provider, inner.account_id
        self.calls = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def execute_action(self, request: ActionRequest, idempotency_key: str) -> ActionResult:
        self.calls += 1
        result = self._inner.execute_action(request, idempotency_key)
        if self.calls == 1:
            raise ProviderUnavailableError("connection reset after the request was sent")
        return result


APPROVAL_KEYS = ("x9eZ3lYQvM6m2nE1WbN0oF4jR8tK7sQpA5cHdLuVgIk=",)
"""The key ring the test workers check Temporal-UI approval codes with (a test-only Fernet key)."""


def ui_code(organization_id: object, execution_id: str, user_id: str) -> str:
    """The approval code CloudOptima would show ``user_id`` for ``execution_id`` (test workers' keys)."""
    return approval_code(APPROVAL_KEYS, str(organization_id), execution_id, user_id)


@asynccontextmanager
async def remediation_worker(client: Client, deps: RemediationDeps) -> AsyncIterator[Worker]:
    """A worker polling the ``remediation`` queue with every remediation and policy workflow/activity
    (checking Temporal-UI approval codes with ``APPROVAL_KEYS`` unless ``deps`` names keys)."""
    deps = deps if deps.approval_keys else replace(deps, approval_keys=APPROVAL_KEYS)
    with ThreadPoolExecutor(max_workers=8) as executor:
        async with Worker(
            client,
            task_queue=REMEDIATION,
            workflows=registration.workflows(),
            activities=registration.activities(deps),
            activity_executor=executor,
        ) as worker:
            yield worker
