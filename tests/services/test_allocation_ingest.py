"""Ingestion keeps allocated views current: a file ingested after a version was activated is allocated in the
same transaction (``reallocate_days``), so per day the allocated totals equal the rollup exactly."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine, delete, text
from sqlalchemy.orm import Session

from cloudoptima.services.allocation.dimensions import AllocationDimensions
from cloudoptima.services.allocation.engine import activate_version
from cloudoptima.services.ingestion import ingest_path
from cloudoptima.storage.models import CostDaily, CostRow, IngestRun, Organization, QuarantinedRow
from tests.services.test_ingestion import FOCUS_SAMPLE, FOCUS_TOTAL

NOW = datetime(2031, 1, 1, tzinfo=UTC)


@pytest.fixture
def org(engine: Engine) -> Iterator[uuid.UUID]:
    org_id = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            Organization.__table__.insert().values(
                id=org_id, name="alloc-ingest", subscription_tier="free", settings={}
            )
        )
    yield org_id
    with engine.begin() as connection:
        for model in (QuarantinedRow, IngestRun, CostDaily, CostRow):
            connection.execute(delete(model).where(model.organization_id == org_id))
        connection.execute(delete(Organization).where(Organization.id == org_id))


def test_ingested_rows_are_allocated_with_the_active_version(engine: Engine, org: uuid.UUID) -> None:
    with Session(engine) as session, session.begin():
        service = AllocationDimensions(session, org)
        dimension = service.create("service_owner", None, NOW)
        service.save_rules(
            dimension.id,
            {
                "rules": [
                    {
                        "value": "compute",
                        "match": {"services": ["Virtual Machines", "Amazon Elastic Compute Cloud"]},
                    }
                ],
                "shared": [{"name": "support", "match": {"services": ["Support"]}}],
            },
            None,
            NOW,
        )
        activate_version(session.connection(), org, dimension.id, 1, NOW)  # nothing to allocate yet
    ingest_path(engine, FOCUS_SAMPLE, org)
    with engine.connect() as connection:
        per_day = dict(
            connection.execute(
                text(
                    "SELECT usage_date, sum(billed_cost) FROM cost_daily WHERE organization_id = :org GROUP BY 1"
                ),
                {"org": org},
            ).all()
        )
        allocated = dict(
            connection.execute(
                text(
                    "SELECT usage_date, sum(billed_cost) FROM cost_allocated_totals WHERE organization_id = :org "
                    "AND dimension_id = :dim AND version = 1 GROUP BY 1"
                ),
                {"org": org, "dim": dimension.id},
            ).all()
        )
    assert {d: Decimal(v) for d, v in allocated.items() if v} == {
        d: Decimal(v) for d, v in per_day.items() if v
    }
    assert sum(Decimal(v) for v in allocated.values()) == FOCUS_TOTAL
