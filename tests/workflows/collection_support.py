"""Shared helpers for the collection tests: a small sandbox estate, an organisation with sandbox accounts
(committed for real: workflows write through their own connections), and row counts per organisation.

The estate is seed 7, 3 accounts (AWS, Azure, GCP), 30 days ending 2026-11-01. Collection runs "as of"
``TODAY`` (2026-11-05): days after the generated window are billed from the resources' configuration.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from cryptography.fernet import Fernet
from sqlalchemy import Engine, delete, func, select, text
from temporalio.testing import WorkflowEnvironment

from cloudoptima.clouds.registry import ProviderRegistry
from cloudoptima.clouds.sandbox.state import SandboxEstateStore
from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import CloudAccount, CostRow, IamPrincipal, Organization, ResourceDocument
from cloudoptima_workflows.collection.inputs import CollectAccountInput
from cloudoptima_workflows.queues import COLLECTION
from cloudoptima_workflows.worker import WorkerDeps, build_workers

SEED, ACCOUNTS, DAYS, END = 7, 3, 30, date(2026, 11, 1)
TODAY = date(2026, 11, 5)
INITIAL_DAYS = 10
KEY = Fernet.generate_key().decode()
T = TypeVar("T")


def create_store(state_dir: Path, accounts: int = ACCOUNTS) -> SandboxEstateStore:
    return SandboxEstateStore.create(state_dir, seed=SEED, accounts=accounts, days=DAYS, end=END)


def registry() -> ProviderRegistry:
    return ProviderRegistry(CredentialCipher(KEY))


@dataclass(frozen=True)
class Tenant:
    organization_id: uuid.UUID
    accounts: dict[str, uuid.UUID]  # sandbox account id -> cloud_accounts.id


def create_tenant(
    engine: Engine,
    store: SandboxEstateStore,
    *,
    limit: int | None = None,
    extra_settings: dict[str, dict[str, Any]] | None = None,
) -> Tenant:
    """A new organisation with one active sandbox cloud account per estate account (committed)."""
    cipher = CredentialCipher(KEY)
    estate = store.estate()
    with session_factory(engine)() as session, session.begin():
        org = Organization(name=f"collect-{uuid.uuid4().hex[:8]}", subscription_tier="free", settings={})
        session.add(org)
        session.flush()
        accounts = {}
        for account in estate.accounts[:limit]:
            sandbox = {"state_dir": str(store.state_dir), "account_id": account.account_id}
            sandbox.update((extra_settings or {}).get(account.account_id, {}))
            row = CloudAccount(
                organization_id=org.id,
                provider=str(account.provider),
                account_identifier=account.account_id,
                account_name=account.name,
                credentials_encrypted=cipher.encrypt({"kind": "sandbox"}),
                settings={"sandbox": sandbox},
                status="active",
                verification_status="verified",
            )
            session.add(row)
            session.flush()
            accounts[account.account_id] = row.id
        return Tenant(org.id, accounts)


def drop_tenant(engine: Engine, tenant: Tenant) -> None:
    with engine.begin() as connection:
        connection.execute(delete(CostRow).where(CostRow.organization_id == tenant.organization_id))
        connection.execute(delete(Organization).where(Organization.id == tenant.organization_id))


def counts(engine: Engine, organization_id: uuid.UUID) -> dict[str, Any]:
    """Row counts and the exact billed total of one organisation."""
    with session_factory(engine)() as session:

        def count(model: Any) -> int:
            return int(
                session.scalar(
                    select(func.count()).select_from(model).where(model.organization_id == organization_id)
                )
                or 0
            )

        return {
            "cost_data": count(CostRow),
            "cost_daily": int(
                session.scalar(
                    text("SELECT count(*) FROM cost_daily WHERE organization_id = :org"),
                    {"org": organization_id},
                )
                or 0
            ),
            "resources": count(ResourceDocument),
            "iam_principals": count(IamPrincipal),
            "billed": session.scalar(
                select(func.coalesce(func.sum(CostRow.billed_cost), 0)).where(
                    CostRow.organization_id == organization_id
                )
            ),
            "daily_billed": session.scalar(
                text("SELECT COALESCE(sum(billed_cost), 0) FROM cost_daily WHERE organization_id = :org"),
                {"org": organization_id},
            ),
        }


def drain_events(subscriber: Any) -> list[dict[str, Any]]:
    """Every event already delivered to a redis-py pubsub (a subscribe confirmation also reads as None,
    so reading stops after 3 empty polls in a row)."""
    events, quiet = [], 0
    while quiet < 3:
        message = subscriber.get_message(ignore_subscribe_messages=True, timeout=0.2)
        if message is None:
            quiet += 1
            continue
        quiet = 0
        events.append(json.loads(message["data"]))
    return events


def account_input(tenant: Tenant, account: str) -> CollectAccountInput:
    """``CollectAccount``'s input for one sandbox account of ``tenant``, as of ``TODAY``."""
    return CollectAccountInput(
        organization_id=str(tenant.organization_id),
        cloud_account_id=str(tenant.accounts[account]),
        initial_days=INITIAL_DAYS,
        today=TODAY.isoformat(),
    )


async def with_collection_worker(
    env: WorkflowEnvironment,
    engine: Engine,
    providers: ProviderRegistry,
    call: Callable[[str], Awaitable[T]],
    *,
    threads: int = 4,
) -> T:
    """``call(queue)`` while an in-process collection worker (with ``providers``) polls a fresh queue."""
    queue = f"collection-{uuid.uuid4().hex[:8]}"
    deps = WorkerDeps(engine=engine, sessions=session_factory(engine), providers=providers, publish=None)
    with ThreadPoolExecutor(threads) as executor:
        (worker,) = build_workers(
            env.client,
            deps,
            [COLLECTION],
            executor,
            queue_names={COLLECTION: queue},
            max_concurrent_activities=threads,
        )
        async with worker:
            return await call(queue)
