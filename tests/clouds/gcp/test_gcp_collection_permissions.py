"""Issue #15 on GCP: a service account without ``monitoring.timeSeries.list`` (the strict Monitoring fake
answers ``PERMISSION_DENIED``) is collected anyway: costs from the billing export, the inventory and IAM land,
the account is ``degraded`` with "missing permission monitoring.timeSeries.list for utilisation of …", and
no utilisation is invented; with the permission back, the next collection reads the series and clears it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.collection import AccountRef, CollectionService
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import CloudAccount, Organization
from tests.clouds.gcp.conftest import COST_END, GcpWorld
from tests.workflows.collection_support import KEY, Tenant, drop_tenant

TODAY = COST_END


@pytest.fixture
def account(engine: Engine, world: GcpWorld) -> Iterator[AccountRef]:
    with session_factory(engine)() as session, session.begin():
        org = Organization(name=f"gcp-{uuid.uuid4().hex[:8]}", subscription_tier="free", settings={})
        session.add(org)
        session.flush()
        row = CloudAccount(
            organization_id=org.id,
            provider="gcp",
            account_identifier=world.state.project,
            account_name="fake project",
            credentials_encrypted=CredentialCipher(KEY).encrypt({}),
            settings={"project_id": world.state.project},
            status="active",
            verification_status="verified",
        )
        session.add(row)
        session.flush()
        ref = AccountRef(org.id, row.id)
    yield ref
    drop_tenant(engine, Tenant(ref.organization_id, {world.state.project: ref.cloud_account_id}))


def _collect(engine: Engine, world: GcpWorld, ref: AccountRef) -> None:
    CollectionService(
        engine, lambda _row: world.provider(), now=lambda: datetime(2024, 5, 6, 12, tzinfo=UTC)
    ).collect_account(ref, initial_days=6, restate_days=3, utilisation_days=6, today=TODAY)


def _count(engine: Engine, table: str, ref: AccountRef) -> int:
    with engine.connect() as connection:
        return int(
            connection.exec_driver_sql(
                f"SELECT count(*) FROM {table} WHERE cloud_account_id = %(a)s", {"a": ref.cloud_account_id}
            ).scalar_one()
        )


def test_denied_monitoring_degrades_the_project_and_the_rest_is_collected(
    engine: Engine, world: GcpWorld, account: AccountRef
) -> None:
    world.state.permissions.discard("monitoring.timeSeries.list")
    _collect(engine, world, account)
    with session_factory(engine)() as session:
        row = session.get(CloudAccount, account.cloud_account_id)
        assert row is not None and row.status == "degraded"
        [problem] = row.permission_problems
    assert problem["step"] == "utilisation" and problem["permission"] == "monitoring.timeSeries.list", problem
    assert problem["message"].startswith("missing permission monitoring.timeSeries.list for utilisation of ")
    assert _count(engine, "cost_data", account) > 0 and _count(engine, "resources", account) > 0
    assert _count(engine, "utilisation_daily", account) == 0

    world.state.permissions.add("monitoring.timeSeries.list")
    _collect(engine, world, account)
    with session_factory(engine)() as session:
        row = session.get(CloudAccount, account.cloud_account_id)
        assert row is not None and (row.status, row.permission_problems) == ("active", [])
    assert _count(engine, "utilisation_daily", account) > 0
