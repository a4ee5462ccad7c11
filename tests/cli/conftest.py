"""Shared fixtures of the CLI tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, delete, insert, text

from cloudoptima.storage.models import CostDaily, CostRow, IngestRun, Organization


@pytest.fixture
def org(engine: Engine) -> Iterator[uuid.UUID]:
    """An organisation for cost files loaded by a test; its rows, runs and file totals are deleted afterwards."""
    org_id = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            insert(Organization).values(
                id=org_id, name=f"cli-{org_id}", subscription_tier="free", settings={}
            )
        )
    yield org_id
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM ingest_file_totals WHERE organization_id = :o"), {"o": org_id})
        for model in (IngestRun, CostDaily, CostRow):
            connection.execute(delete(model).where(model.organization_id == org_id))
        connection.execute(delete(Organization).where(Organization.id == org_id))
