"""FOCUS 1.3 files into the database; a requirements-model violation on cost refuses the import whole (#21)."""

from __future__ import annotations

import csv
import shutil
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, func, select

from cloudoptima.services.ingestion import IngestError, ingest_path
from cloudoptima.storage.models import CostDaily, CostRow, IngestRun, Organization, QuarantinedRow

FOCUS_13 = Path(__file__).parents[1] / "fixtures" / "focus_spec_examples" / "focus_1.3_cost_and_usage.csv"


@pytest.fixture
def org(engine: Engine) -> Iterator[uuid.UUID]:
    """A committed organisation (ingestion commits), deleted with all its rows afterwards."""
    org_id = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            Organization.__table__.insert().values(
                id=org_id, name="focus13", subscription_tier="free", settings={}
            )
        )
    yield org_id
    with engine.begin() as connection:
        for model in (QuarantinedRow, IngestRun, CostDaily, CostRow):
            connection.execute(delete(model).where(model.organization_id == org_id))
        connection.execute(delete(Organization).where(Organization.id == org_id))


def _rows(engine: Engine, org: uuid.UUID) -> tuple[int, Decimal]:
    with engine.connect() as connection:
        count, total = connection.execute(
            select(func.count(), func.coalesce(func.sum(CostRow.billed_cost), 0)).where(
                CostRow.organization_id == org
            )
        ).one()
    return int(count), Decimal(total)


def test_focus_13_file_is_loaded_and_a_cost_rule_violation_writes_nothing(
    engine: Engine, org: uuid.UUID, tmp_path: Path
) -> None:
    report = ingest_path(engine, FOCUS_13, org)
    data = report.as_dict()
    assert data["files"][0]["focus_version"] == "1.3"
    assert data["focus_findings"] == {}
    assert _rows(engine, org) == (5, Decimal("8770.00"))

    folder = tmp_path / "exports"
    folder.mkdir()
    shutil.copy(FOCUS_13, folder / "a.csv")
    with FOCUS_13.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header, rows = list(reader.fieldnames or []), list(reader)
    for row in rows:
        row["ChargePeriodStart"] = row["ChargePeriodStart"].replace("2023-01-01", "2023-01-02")
        row["ChargePeriodEnd"] = "2023-01-03T00:00:00Z"
    rows[2]["BillingCurrency"] = "ABC"
    with (folder / "b.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(
        IngestError, match=r"b\.csv, line 4, column 'BillingCurrency': BillingCurrency-C-003-M"
    ):
        ingest_path(engine, folder, org)
    assert _rows(engine, org) == (5, Decimal("8770.00"))
