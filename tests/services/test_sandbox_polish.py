"""On a generated sandbox estate: VM optimisation scores differ (they were 100 on every VM) and cost by account
names each sandbox account beside its id."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete

from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.cost_analytics import CostAnalytics
from cloudoptima.services.resources import ResourceQueries
from cloudoptima.services.sandbox_loading import generate_to, load_sandbox
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import (
    CloudAccount,
    CostDaily,
    CostRow,
    IngestRun,
    Organization,
    QuarantinedRow,
    ResourceDocument,
)
from cloudoptima.storage.tenancy import tenant_session


@pytest.fixture
def org(engine: Engine) -> Iterator[uuid.UUID]:
    org_id = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            Organization.__table__.insert().values(
                id=org_id, name="polish", subscription_tier="free", settings={}
            )
        )
    yield org_id
    with engine.begin() as connection:
        for model in (QuarantinedRow, IngestRun, CostDaily, CostRow, ResourceDocument, CloudAccount):
            connection.execute(delete(model).where(model.organization_id == org_id))
        connection.execute(delete(Organization).where(Organization.id == org_id))


def test_sandbox_scores_vary_and_accounts_are_named(engine: Engine, org: uuid.UUID, tmp_path: Path) -> None:
    generate_to(tmp_path, seed=7, accounts=2, days=15, end=date(2031, 3, 1))
    cipher = CredentialCipher(base64.urlsafe_b64encode(os.urandom(32)).decode())
    load_sandbox(engine, cipher, org, tmp_path)
    with tenant_session(session_factory(engine), org) as session:
        items, total = ResourceQueries(session, org).compute(page_size=100)
        names = {
            a.account_identifier: a.account_name
            for a in session.query(CloudAccount).filter_by(organization_id=org)
        }
    assert total == len(items)  # one page holds them all
    running = [i for i in items if i.row.status == "running"]
    assert running and all(i.score_basis == "utilisation" for i in running)
    scores = sorted(i.optimization_score for i in running)
    assert len(set(scores)) > 3 and scores[0] < 50, scores
    with engine.connect() as connection:
        overview = CostAnalytics(connection, org).overview(
            date(2031, 2, 14), date(2031, 3, 1), group_by="account"
        )
    assert len(overview.breakdown) == 2
    assert all(b.name == names[b.dimension] and b.name for b in overview.breakdown)
