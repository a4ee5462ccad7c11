"""Fixtures for agent tests: a sandbox organisation loaded once per module, and tool contexts over it."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, insert, text
from sqlalchemy.orm import Session

from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.anomalies import AnomalyService
from cloudoptima.services.pricing import SandboxPriceCatalog
from cloudoptima.services.recommendations import RecommendationService, as_of_day
from cloudoptima.services.sandbox_loading import generate_to, load_sandbox
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import (
    Anomaly,
    CloudAccount,
    CostDaily,
    CostRow,
    IngestRun,
    Organization,
    QuarantinedRow,
    Recommendation,
    ResourceDocument,
)
from cloudoptima_tools.context import ToolContext


@pytest.fixture(scope="session")
def sandbox_org(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[uuid.UUID, str]]:
    """An organisation with a loaded sandbox estate; yields (org id, the cipher key used for credentials)."""
    org_id = uuid.uuid4()
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    with engine.begin() as connection:
        connection.execute(
            insert(Organization).values(id=org_id, name="agents", subscription_tier="free", settings={})
        )
    out: Path = tmp_path_factory.mktemp("agents-estate")
    generate_to(out, seed=7, accounts=2, days=90, end=date(2031, 3, 1))
    load_sandbox(engine, CredentialCipher(key), org_id, out)
    with Session(engine) as session:
        AnomalyService(session, org_id).run(date(2030, 12, 1), date(2031, 3, 1))
        RecommendationService(session, org_id, SandboxPriceCatalog()).run(as_of=as_of_day(date(2031, 3, 1)))
        session.commit()
    yield org_id, key
    with engine.begin() as connection:
        connection.execute(
            text("DELETE FROM memory_items WHERE organization_id = :o"), {"o": org_id}
        ) if _has_memory(connection) else None
        for model in (
            Recommendation,
            Anomaly,
            QuarantinedRow,
            IngestRun,
            CostDaily,
            CostRow,
            ResourceDocument,
            CloudAccount,
        ):
            connection.execute(delete(model).where(model.organization_id == org_id))
        connection.execute(delete(Organization).where(Organization.id == org_id))


def _has_memory(connection: object) -> bool:
    return bool(connection.execute(text("SELECT to_regclass('memory_items') IS NOT NULL")).scalar())  # type: ignore[attr-defined]


@pytest.fixture
def tool_context(engine: Engine, sandbox_org: tuple[uuid.UUID, str]) -> ToolContext:
    return ToolContext(
        organization_id=sandbox_org[0],
        role="admin",
        session_factory=session_factory(engine),
        principal="test",
    )
