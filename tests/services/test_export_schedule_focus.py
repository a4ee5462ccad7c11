"""Export schedules keep a FOCUS version: a ``focus_raw`` schedule at 1.3 runs 1.3 exports (the run and the
manifest say so, in ``focus_raw_1.3/``), and the version is refused for other datasets, naming the field."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from cloudoptima.services.cost_export_schedules import (
    ExportInputError,
    ExportSchedules,
    ExportsConfig,
    perform_scheduled_export,
)
from cloudoptima.storage.models import Organization
from cloudoptima.storage.models.cost_exports import CostExportRunRow, CostExportScheduleRow
from cloudoptima.storage.tenancy import scope

CREATED = datetime(2031, 3, 1, tzinfo=UTC)
FIRED = datetime(2031, 3, 2, 6, 0, tzinfo=UTC)
MONTHLY = {"frequency": "monthly", "day_of_month": 2, "time": "06:00"}


@pytest.fixture
def org(engine: Engine) -> Iterator[uuid.UUID]:
    org_id = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            Organization.__table__.insert().values(
                id=org_id, name="export-focus-13", subscription_tier="free", settings={}
            )
        )
    yield org_id
    with engine.begin() as connection:
        for model in (CostExportRunRow, CostExportScheduleRow):
            connection.execute(delete(model).where(model.organization_id == org_id))
        connection.execute(delete(Organization).where(Organization.id == org_id))


def test_a_focus_13_schedule_runs_focus_13_exports(engine: Engine, org: uuid.UUID, tmp_path: Path) -> None:
    config = ExportsConfig(root=tmp_path)
    with Session(engine) as session:
        schedules = ExportSchedules(scope(session, org), org, config)
        common = {
            "format": "csv",
            "partition": "month",
            "destination": {"kind": "folder", "path": "f"},
            "recurrence": ExportSchedules.recurrence(MONTHLY),
            "now": CREATED,
        }
        with pytest.raises(ExportInputError, match=r"^focus_version: only the focus_raw dataset"):
            schedules.create(dataset="daily", focus_version="1.3", **common)  # type: ignore[arg-type]
        with pytest.raises(ExportInputError, match=r"^focus_version: expected one of 1\.2, 1\.3"):
            schedules.create(dataset="focus_raw", focus_version="2.0", **common)  # type: ignore[arg-type]
        view = schedules.create(dataset="focus_raw", focus_version="1.3", **common)  # type: ignore[arg-type]
        assert view.focus_version == "1.3"
        with pytest.raises(ExportInputError, match=r"^focus_version: only the focus_raw dataset"):
            schedules.update(view.id, {"dataset": "daily"})
        assert schedules.update(view.id, {"dataset": "daily", "focus_version": None}).focus_version is None
        assert (
            schedules.update(view.id, {"dataset": "focus_raw", "focus_version": "1.3"}).focus_version == "1.3"
        )
        session.commit()
    run = perform_scheduled_export(engine, org, view.id, config, now=FIRED)
    assert run.status == "succeeded" and run.focus_version == "1.3"
    assert run.manifest is not None and run.manifest["focus_version"] == "1.3"
    manifest = tmp_path / str(org) / "f" / "focus_raw_1.3" / "2031-02-01_2031-03-01" / "manifest.json"
    assert json.loads(manifest.read_text())["columns"][-1] == "ServiceProviderName"
