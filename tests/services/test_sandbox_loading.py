"""Loading a generated sandbox estate into an organisation: accounts, exact costs, inventory, idempotency."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, func, select

from cloudoptima.clouds.sandbox import read_cost_rows
from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.sandbox_loading import generate_to, load_sandbox
from cloudoptima.storage.models import (
    CloudAccount,
    CostDaily,
    CostRow,
    IngestRun,
    Organization,
    QuarantinedRow,
    ResourceDocument,
)


@pytest.fixture
def org(engine: Engine) -> Iterator[uuid.UUID]:
    org_id = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            Organization.__table__.insert().values(
                id=org_id, name="sandbox", subscription_tier="free", settings={}
            )
        )
    yield org_id
    with engine.begin() as connection:
        for model in (QuarantinedRow, IngestRun, CostDaily, CostRow, ResourceDocument, CloudAccount):
            connection.execute(delete(model).where(model.organization_id == org_id))
        connection.execute(delete(Organization).where(Organization.id == org_id))


@pytest.fixture(scope="module")
def estate_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("estate")
    generate_to(out, seed=7, accounts=3, days=40, end=date(2031, 3, 1))
    return out


def test_sandbox_loads_exactly_and_idempotently(engine: Engine, org: uuid.UUID, estate_dir: Path) -> None:
    cipher = CredentialCipher(base64.urlsafe_b64encode(os.urandom(32)).decode())
    expected = sum((Decimal(row["BilledCost"]) for row in read_cost_rows(estate_dir)), Decimal(0))
    first = load_sandbox(engine, cipher, org, estate_dir)
    assert len(first.accounts) == 3
    assert first.billed_total == expected
    second = load_sandbox(engine, cipher, org, estate_dir)
    assert second.accounts == first.accounts
    with engine.connect() as connection:
        raw = connection.execute(
            select(func.sum(CostRow.billed_cost)).where(CostRow.organization_id == org)
        ).scalar()
        rolled = connection.execute(
            select(func.sum(CostDaily.billed_cost)).where(CostDaily.organization_id == org)
        ).scalar()
        accounts = connection.execute(
            select(CloudAccount.provider, CloudAccount.verification_status).where(
                CloudAccount.organization_id == org
            )
        ).all()
        resources = connection.execute(
            select(
                ResourceDocument.resource_type, ResourceDocument.metrics, ResourceDocument.cost_monthly
            ).where(ResourceDocument.organization_id == org)
        ).all()
    assert raw == expected, "re-loading replaced the rows instead of duplicating them"
    assert rolled == expected
    assert sorted(p for p, _ in accounts) == ["aws", "azure", "gcp"]
    assert {status for _, status in accounts} == {"verified"}
    assert len(resources) == first.resources
    instances = [m for kind, m, _ in resources if kind == "compute_instance"]
    assert instances
    assert all("cpu_percent" in m and 0 <= m["cpu_percent"]["p95"] <= 100 for m in instances if m)
    assert all(cost is not None and cost >= 0 for _, _, cost in resources)


def test_loaded_accounts_get_their_last_sync_capped_at_the_estate_end(
    engine: Engine, org: uuid.UUID, estate_dir: Path
) -> None:
    """The console's "Last sync" read ``never`` for the demo's accounts although their data was loaded."""
    cipher = CredentialCipher(base64.urlsafe_b64encode(os.urandom(32)).decode())

    def last_syncs() -> set[datetime | None]:
        with engine.connect() as connection:
            rows = connection.execute(
                select(CloudAccount.last_sync_at).where(CloudAccount.organization_id == org)
            ).scalars()
            return set(rows)

    inside = datetime(2031, 2, 27, 12, tzinfo=UTC)  # the estate's days end (exclusive) on 2031-03-01
    load_sandbox(engine, cipher, org, estate_dir, now=lambda: inside)
    assert last_syncs() == {inside}
    load_sandbox(engine, cipher, org, estate_dir, now=lambda: datetime(2031, 3, 9, tzinfo=UTC))
    assert last_syncs() == {datetime(2031, 3, 1, tzinfo=UTC)}, "capped: later days were never loaded"
    load_sandbox(engine, cipher, org, estate_dir, now=lambda: datetime(2031, 2, 1, tzinfo=UTC))
    assert last_syncs() == {datetime(2031, 3, 1, tzinfo=UTC)}, "a re-load never moves it back"
