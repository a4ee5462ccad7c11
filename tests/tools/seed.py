"""Two throwaway organisations with sandbox estates, analyses, budgets, IAM and API keys (shared by the
tools and MCP tests; seeded once per test session, every row deleted at the end).

Org A (seed 7) and org B (seed 11) get different estates, so any B id seen through A's tools is a leak.
"""

from __future__ import annotations

import base64
import os
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.clouds.registry import ProviderRegistry
from cloudoptima.domain.budgets import AlertThreshold, BudgetScope, BudgetSpec
from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.anomalies import AnomalyService
from cloudoptima.services.api_keys import ApiKeyService
from cloudoptima.services.budgets import BudgetService
from cloudoptima.services.collection import AccountRef, CollectionService
from cloudoptima.services.policies import PolicyService, validate_policy
from cloudoptima.services.pricing import SandboxPriceCatalog
from cloudoptima.services.recommendations import RecommendationService
from cloudoptima.services.sandbox_loading import generate_to, load_sandbox
from cloudoptima.storage.base import Base
from cloudoptima.storage.models import CloudAccount, Organization, User
from cloudoptima.storage.tenancy import tenant_session
from tests.tools.execution_seed import seed_completed_execution

END = date(2030, 1, 1)
"""First day after the estates' history; tools run with ``now`` = this day at 00:00 UTC."""
NOW = datetime(END.year, END.month, END.day, tzinfo=UTC)
DAYS = 90


@dataclass
class SeededOrg:
    organization_id: uuid.UUID
    name: str
    keys: dict[str, str] = field(default_factory=dict)
    """Role → API key plaintext."""
    users: dict[str, uuid.UUID] = field(default_factory=dict)
    account_ids: set[str] = field(default_factory=set)
    resource_ids: set[str] = field(default_factory=set)
    principal_ids: set[str] = field(default_factory=set)
    anomaly_ids: list[str] = field(default_factory=list)
    recommendation_ids: list[str] = field(default_factory=list)
    policy_ids: list[str] = field(default_factory=list)
    execution_ids: list[str] = field(default_factory=list)
    """A completed remediation with one reversible step (``tests.tools.execution_seed``)."""


@dataclass
class Estates:
    a: SeededOrg
    b: SeededOrg
    root: Path


def _org(
    engine: Engine, factory: sessionmaker[Session], cipher: CredentialCipher, name: str, seed: int, root: Path
) -> SeededOrg:
    org_id = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            insert(Organization).values(id=org_id, name=name, subscription_tier="free", settings={})
        )
    seeded = SeededOrg(organization_id=org_id, name=name)
    estate = root / name
    generate_to(estate, seed=seed, accounts=3, days=DAYS, end=END)
    report = load_sandbox(engine, cipher, org_id, estate, now=lambda: NOW)
    seeded.account_ids = set(report.accounts)
    with tenant_session(factory, org_id) as session:
        for role in ("admin", "viewer", "engineer"):
            user = User(
                email=f"{role}-{org_id.hex[:10]}@{name}.example",
                password_hash="!not-a-password",
                role=role,
                is_active=True,
                organization_id=org_id,
            )
            session.add(user)
            session.flush()
            seeded.users[role] = user.id
            seeded.keys[role] = ApiKeyService(session, org_id).create(user.id, f"{role} key").plaintext
        AnomalyService(session, org_id, now=lambda: NOW).run(END - timedelta(days=DAYS), END)
        RecommendationService(session, org_id, SandboxPriceCatalog(), now=lambda: NOW).run(as_of=NOW)
        budgets = BudgetService(session, org_id, now=lambda: NOW, forecast_model="fast")
        budgets.create(
            BudgetSpec(
                name=f"{name} monthly",
                amount=Decimal("50000.00"),
                start_date=date(2029, 1, 1),
                end_date=date(2031, 1, 1),
                scope=BudgetScope(),
                alerts=[AlertThreshold(threshold=Decimal(80))],
            )
        )
        policy = PolicyService(session, org_id).create(
            validate_policy(
                {
                    "name": f"{name} stop idle",
                    "trigger": {"type": "event", "config": {"event": "anomaly.detected"}},
                    "conditions": [{"field": "resource_type", "operator": "eq", "value": "compute_instance"}],
                    "actions": [{"type": "stop", "config": {}}],
                }
            )
        )
        seeded.policy_ids.append(str(policy.id))
        seeded.execution_ids.append(seed_completed_execution(session, org_id))
    registry = ProviderRegistry(cipher)
    collection = CollectionService(engine, registry.for_account, now=lambda: NOW)
    with engine.connect() as connection:
        account_rows = (
            connection.execute(select(CloudAccount.id).where(CloudAccount.organization_id == org_id))
            .scalars()
            .all()
        )
        for account in account_rows:
            collection.collect_iam(AccountRef(org_id, account))
        seeded.resource_ids = set(
            connection.execute(
                text("SELECT resource_id FROM resources WHERE organization_id = :o"), {"o": org_id}
            ).scalars()
        )
        seeded.principal_ids = set(
            connection.execute(
                text("SELECT principal_id FROM iam_principals WHERE organization_id = :o"), {"o": org_id}
            ).scalars()
        )
        seeded.anomaly_ids = [
            str(x)
            for x in connection.execute(
                text("SELECT id FROM anomalies WHERE organization_id = :o ORDER BY impact_amount DESC"),
                {"o": org_id},
            ).scalars()
        ]
        seeded.recommendation_ids = [
            str(x)
            for x in connection.execute(
                text(
                    "SELECT id FROM recommendations WHERE organization_id = :o ORDER BY estimated_savings_monthly DESC"
                ),
                {"o": org_id},
            ).scalars()
        ]
    return seeded


def seed_estates(engine: Engine) -> Estates:
    root = Path(tempfile.mkdtemp(prefix="cloudoptima-mcp-estates-"))
    cipher = CredentialCipher(base64.urlsafe_b64encode(os.urandom(32)).decode())
    factory = sessionmaker(engine, expire_on_commit=False)
    a = _org(engine, factory, cipher, "org-a", 7, root)
    b = _org(engine, factory, cipher, "org-b", 11, root)
    return Estates(a=a, b=b, root=root)


def delete_orgs(engine: Engine, org_ids: list[uuid.UUID]) -> None:
    """Every row of the organisations, children first."""
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            if "organization_id" in table.c and table.name != "organizations":
                connection.execute(delete(table).where(table.c.organization_id.in_(org_ids)))
        connection.execute(delete(Organization).where(Organization.id.in_(org_ids)))


_CACHE: dict[str, Any] = {}


def shared_estates(engine: Engine) -> Estates:
    """Seed once per process (both test folders use the same organisations)."""
    if "estates" not in _CACHE:
        _CACHE["estates"] = seed_estates(engine)
        _CACHE["users"] = 0
    _CACHE["users"] += 1
    estates: Estates = _CACHE["estates"]
    return estates


def release_estates(engine: Engine) -> None:
    _CACHE["users"] -= 1
    if _CACHE["users"] == 0:
        estates: Estates = _CACHE.pop("estates")
        delete_orgs(engine, [estates.a.organization_id, estates.b.organization_id])
        import shutil

        shutil.rmtree(estates.root, ignore_errors=True)
