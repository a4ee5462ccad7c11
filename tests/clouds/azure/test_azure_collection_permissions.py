"""Issue #15 on Azure: a service principal with the Reader role may not run Cost Management queries (the
strict fake answers ``403 AuthorizationFailed`` naming the action) nor read Microsoft Graph. Collection records that as a permission
problem on the account and still collects the inventory and utilisation; once the principal may query costs,
the next collection loads them (with the resources' tags) and clears the problem."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine

from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.collection import AccountRef, CollectionService
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import CloudAccount, Organization
from tests.clouds.azure.conftest import (
    OWNER_ID,
    OWNER_SECRET,
    READER_ID,
    READER_SECRET,
    SUBSCRIPTION,
    Estate,
    ProviderFactory,
)
from tests.workflows.collection_support import KEY, Tenant, drop_tenant

TODAY = date(2024, 3, 5)


@pytest.fixture
def account(engine: Engine) -> Iterator[AccountRef]:
    with session_factory(engine)() as session, session.begin():
        org = Organization(name=f"azure-{uuid.uuid4().hex[:8]}", subscription_tier="free", settings={})
        session.add(org)
        session.flush()
        row = CloudAccount(
            organization_id=org.id,
            provider="azure",
            account_identifier=SUBSCRIPTION,
            account_name="fake subscription",
            credentials_encrypted=CredentialCipher(KEY).encrypt({}),
            settings={"subscription_id": SUBSCRIPTION},
            status="active",
            verification_status="verified",
        )
        session.add(row)
        session.flush()
        ref = AccountRef(org.id, row.id)
    yield ref
    drop_tenant(engine, Tenant(ref.organization_id, {SUBSCRIPTION: ref.cloud_account_id}))


def _collect(engine: Engine, ref: AccountRef, make: ProviderFactory, client: str, secret: str) -> None:
    CollectionService(
        engine, lambda _row: make(client, secret), now=lambda: datetime(2024, 3, 5, 12, tzinfo=UTC)
    ).collect_account(ref, initial_days=5, restate_days=3, today=TODAY)


def _row(engine: Engine, ref: AccountRef) -> CloudAccount:
    with session_factory(engine)() as session:
        row = session.get(CloudAccount, ref.cloud_account_id)
        assert row is not None
        return row


def test_a_reader_without_cost_queries_is_degraded_and_a_later_owner_clears_it(
    engine: Engine, estate: Estate, make_provider: ProviderFactory, account: AccountRef
) -> None:
    _collect(engine, account, make_provider, READER_ID, READER_SECRET)
    row = _row(engine, account)
    assert row.status == "degraded"
    messages = [p["message"] for p in row.permission_problems]
    assert messages == [
        "missing permission Microsoft.CostManagement/query/action for costs",
        # nor may it read Cost Management's forecast, shown beside ours
        "missing permission Microsoft.CostManagement/forecast/action for the cloud's own cost forecast",
        "missing permission Application.Read.All for iam (graph)",  # Graph is closed to the reader too
    ]
    with engine.connect() as connection:
        resources = connection.exec_driver_sql(
            "SELECT count(*) FROM resources WHERE cloud_account_id = %(a)s", {"a": account.cloud_account_id}
        ).scalar_one()
        costs = connection.exec_driver_sql(
            "SELECT count(*) FROM cost_data WHERE cloud_account_id = %(a)s", {"a": account.cloud_account_id}
        ).scalar_one()
    assert resources > 0 and costs == 0  # the inventory was still collected; no cost row was invented

    _collect(engine, account, make_provider, OWNER_ID, OWNER_SECRET)
    row = _row(engine, account)
    assert (row.status, row.permission_problems) == ("active", [])
    with engine.connect() as connection:
        tagged = connection.exec_driver_sql(
            "SELECT count(*) FROM cost_data WHERE cloud_account_id = %(a)s AND resource_id = %(r)s",
            {"a": account.cloud_account_id, "r": estate.west_vm},
        ).scalar_one()
    assert tagged == 5
