"""Export retention: runs finished before the retention go with their folder files, the manifest deleted
first; a folder a newer run rewrote stays whole; queued runs and S3 files are never touched; the weekly
maintenance activity runs it at its clock."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from cloudoptima.services.cost_export_schedules import (
    ExportSchedules,
    ExportsConfig,
    check_request,
    perform_export,
)
from cloudoptima.services.export_retention import prune_organisation
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import CostRow, Organization
from cloudoptima.storage.models.cost_exports import CostExportRunRow
from cloudoptima.storage.partitions import ensure_cost_partitions
from cloudoptima.storage.tenancy import scope
from cloudoptima_workflows.maintenance.activities import MaintenanceActivities
from cloudoptima_workflows.maintenance.inputs import CleanupInput

NOW = datetime(2031, 1, 10, 3, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=40)
RECENT = NOW - timedelta(days=2)


@pytest.fixture
def org(engine: Engine) -> Iterator[uuid.UUID]:
    """An organisation with one raw cost row on 2020-01-05 (so exports of January 2020 write a file)."""
    org_id = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            Organization.__table__.insert().values(
                id=org_id, name="export-retention", subscription_tier="free", settings={}
            )
        )
        ensure_cost_partitions(connection, [date(2020, 1, 1)])
        connection.execute(
            CostRow.__table__.insert().values(
                organization_id=org_id,
                charge_period_start=datetime(2020, 1, 5, tzinfo=UTC),
                charge_period_end=datetime(2020, 1, 6, tzinfo=UTC),
                billing_period_start=datetime(2020, 1, 1, tzinfo=UTC),
                billing_period_end=datetime(2020, 2, 1, tzinfo=UTC),
                provider="other",
                provider_name="EuroCloud",
                billed_cost=Decimal("1.25"),
                billing_account_id="eu-1",
                billing_currency="EUR",
                charge_category="Usage",
                tags={},
            )
        )
    yield org_id
    with engine.begin() as connection:
        for model in (CostExportRunRow, CostRow):
            connection.execute(delete(model).where(model.organization_id == org_id))
        connection.execute(delete(Organization).where(Organization.id == org_id))


def _export(engine: Engine, org: uuid.UUID, config: ExportsConfig, path: str, at: datetime) -> uuid.UUID:
    request = check_request("focus_raw", "csv", "month", date(2020, 1, 1), date(2020, 2, 1))
    run = perform_export(
        engine, org, request, {"kind": "folder", "path": path}, config, now=at, clock=lambda: at
    )
    assert run.status == "succeeded", run.error
    return run.id


def _statuses(engine: Engine, org: uuid.UUID) -> dict[uuid.UUID, str]:
    with Session(engine) as session:
        rows = scope(session, org).scalars(
            select(CostExportRunRow).where(CostExportRunRow.organization_id == org)
        )
        return {row.id: row.status for row in rows}


def test_old_runs_go_with_their_folder_manifest_first_and_shared_folders_stay(
    engine: Engine, org: uuid.UUID, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = ExportsConfig(root=tmp_path, retention_days=30)
    old = _export(engine, org, config, "old", OLD)
    replaced = _export(engine, org, config, "shared", OLD)
    rewritten = _export(engine, org, config, "shared", RECENT)  # a re-run wrote the same folder since
    with Session(engine) as session:
        schedules = ExportSchedules(scope(session, org), org, config)
        request = check_request("daily", "csv", "month", date(2020, 1, 1), date(2020, 2, 1))
        queued = schedules.queue_run(request, {"kind": "folder", "path": "old"}, now=OLD).id
        s3 = schedules.queue_run(request, {"kind": "s3", "bucket": "far-away"}, now=OLD).id
        schedules.fail_queued(s3, "the workflow service is unavailable; try again", OLD)
        session.commit()
    old_folder = tmp_path / str(org) / "old" / "focus_raw" / "2020-01-01_2020-02-01"
    shared_folder = tmp_path / str(org) / "shared" / "focus_raw" / "2020-01-01_2020-02-01"
    assert sorted(p.name for p in old_folder.iterdir()) == ["manifest.json", "part-2020-01.csv"]
    (old_folder.parent / "notes.txt").write_text("not an export file")

    unlinked: list[str] = []
    real_unlink = Path.unlink

    def spy(self: Path, missing_ok: bool = False) -> None:
        unlinked.append(self.name)
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", spy)
    factory = session_factory(engine)
    assert prune_organisation(factory, org, config, now=NOW, batch_size=1) == 3
    monkeypatch.undo()

    assert unlinked == ["manifest.json", "part-2020-01.csv"]  # the old folder only, its manifest first
    assert not old_folder.exists() and (old_folder.parent / "notes.txt").is_file()
    assert sorted(p.name for p in shared_folder.iterdir()) == ["manifest.json", "part-2020-01.csv"]
    assert _statuses(engine, org) == {rewritten: "succeeded", queued: "queued"}
    assert old not in _statuses(engine, org) and replaced not in _statuses(engine, org)
    assert prune_organisation(factory, org, config, now=NOW) == 0


def test_the_weekly_maintenance_prunes_old_export_runs(
    engine: Engine, org: uuid.UUID, tmp_path: Path
) -> None:
    # Retention and clock chosen so that only this test's run (finished in 2020) is old enough.
    config = ExportsConfig(root=tmp_path, retention_days=3650)
    old = _export(engine, org, config, "weekly", datetime(2020, 2, 1, tzinfo=UTC))
    activities = MaintenanceActivities(session_factory(engine), lambda: NOW, exports=config)
    result = activities.purge_expired_tokens(CleanupInput())
    assert result.export_runs_pruned == 1 and old not in _statuses(engine, org)
    assert not (tmp_path / str(org) / "weekly" / "focus_raw" / "2020-01-01_2020-02-01").exists()
