"""The weekly Cleanup workflow deletes the files of expired reports and keeps their rows: through its real
activity, database and report store, at a pinned clock. Their download then answers ``ReportGone`` (410)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from typer.testing import CliRunner

from cloudoptima.reports.store import ReportStore, artifact_key
from cloudoptima.services.report_retention import prune_expired_artifacts
from cloudoptima.services.reports import ReportGone, ReportLinks, ReportsConfig, open_download
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import Organization, ReportRow
from cloudoptima_cli.app import app
from cloudoptima_workflows.maintenance.activities import MaintenanceActivities
from cloudoptima_workflows.maintenance.inputs import CleanupInput, CleanupResult
from cloudoptima_workflows.maintenance.workflows import CleanupWorkflow

NOW = datetime(2026, 3, 9, 4, 0, tzinfo=UTC)
KEY = b"k" * 32


def _report(store: ReportStore, org: uuid.UUID, expires_at: datetime | None, status: str) -> ReportRow:
    report_id = uuid.uuid4()
    key = None
    if status == "completed":
        key = artifact_key(org, report_id, ".json")
        store.write(key, lambda stream: stream.write(b'{"total": "1.00"}'))
    return ReportRow(
        id=report_id,
        organization_id=org,
        template_id="monthly_cost_review",
        parameters={"start_date": "2026-02-01", "end_date": "2026-03-01"},
        format="json",
        delivery={"method": "download", "recipients": []},
        status=status,
        artifact_key=key,
        content_type="application/json" if key else None,
        size_bytes=17 if key else None,
        sha256="0" * 64 if key else None,
        created_at=NOW - timedelta(days=10),
        completed_at=NOW - timedelta(days=10),
        expires_at=expires_at,
    )


@pytest.fixture
def reports(engine: Engine, tmp_path: Path) -> Iterator[tuple[ReportStore, dict[str, ReportRow]]]:
    """One organisation with a report expired an hour before ``NOW``, one expiring exactly at ``NOW``, one
    still valid for an hour, and a failed one (no artifact)."""
    store = ReportStore(tmp_path / "reports")
    factory = session_factory(engine)
    with factory() as session, session.begin():
        org = Organization(name="report-cleanup", settings={})
        session.add(org)
        session.flush()
        rows = {
            "expired": _report(store, org.id, NOW - timedelta(hours=1), "completed"),
            "at_now": _report(store, org.id, NOW, "completed"),
            "valid": _report(store, org.id, NOW + timedelta(hours=1), "completed"),
            "failed": _report(store, org.id, None, "failed"),
        }
        session.add_all(rows.values())
        session.flush()
        session.expunge_all()
    yield store, rows
    with factory() as session, session.begin():
        session.execute(delete(Organization).where(Organization.id == org.id))


def _row(engine: Engine, report_id: uuid.UUID) -> ReportRow:
    with session_factory(engine)() as session:
        row = session.get(ReportRow, report_id)
        assert row is not None
        session.expunge(row)
        return row


async def test_cleanup_deletes_expired_report_files_and_keeps_their_rows(
    time_skipping_env: WorkflowEnvironment,
    engine: Engine,
    reports: tuple[ReportStore, dict[str, ReportRow]],
) -> None:
    store, rows = reports
    keys = {name: row.artifact_key for name, row in rows.items()}
    activities = MaintenanceActivities(session_factory(engine), lambda: NOW, report_store=store)
    with ThreadPoolExecutor(2) as executor:
        async with Worker(
            time_skipping_env.client,
            task_queue="processing-report-cleanup",
            workflows=[CleanupWorkflow],
            activities=[activities.purge_expired_tokens, activities.prune_audit_logs],
            activity_executor=executor,
        ):
            result = await time_skipping_env.client.execute_workflow(
                CleanupWorkflow.run,
                CleanupInput(grace_days=1),
                id=f"cleanup-reports-{uuid.uuid4()}",
                task_queue="processing-report-cleanup",
            )
    assert isinstance(result, CleanupResult)
    assert result.report_artifacts_pruned >= 2  # other tests' organisations may hold expired reports too
    for name in ("expired", "at_now"):
        key = keys[name]
        assert key is not None and not store.exists(key)
        after = _row(engine, rows[name].id)
        assert after.artifact_key is None
        assert (after.status, after.size_bytes, after.expires_at) == ("completed", 17, rows[name].expires_at)
    valid = _row(engine, rows["valid"].id)
    assert valid.artifact_key == keys["valid"] and keys["valid"] is not None and store.exists(keys["valid"])
    assert _row(engine, rows["failed"].id).status == "failed"

    # a link signed before expiry still verifies an hour before NOW, but the file is gone: 410
    config = ReportsConfig(store=store, link_key=KEY)
    expires = int((NOW + timedelta(days=1)).timestamp())
    signature = ReportLinks(KEY).signature(rows["expired"].id, expires)
    with session_factory(engine)() as session, pytest.raises(ReportGone):
        open_download(session, config, rows["expired"].id, expires, signature, NOW - timedelta(hours=2))

    # a second run finds nothing more of this organisation; the valid one goes once its time is up
    again = prune_expired_artifacts(session_factory(engine), store, now=NOW)
    assert str(rows["valid"].organization_id) not in again
    later = prune_expired_artifacts(session_factory(engine), store, now=NOW + timedelta(hours=1))
    assert later[str(rows["valid"].organization_id)] == 1
    assert not store.exists(keys["valid"]) and _row(engine, rows["valid"].id).artifact_key is None


def test_prune_refuses_a_naive_clock(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^now: "):
        prune_expired_artifacts(session_factory(engine), ReportStore(tmp_path), now=datetime(2026, 1, 1))  # noqa: DTZ001


def test_the_cli_prunes_as_of_the_given_time(
    engine: Engine,
    pg_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    reports: tuple[ReportStore, dict[str, ReportRow]],
) -> None:
    store, rows = reports
    monkeypatch.setenv("DATABASE_URL", pg_url)
    bad = CliRunner().invoke(app, ["report", "prune", "--at", "next tuesday", "--state-dir", str(tmp_path)])
    assert bad.exit_code != 0 and "--at must be an ISO 8601 time" in bad.output
    assert all(row.artifact_key is None or store.exists(row.artifact_key) for row in rows.values())
    result = CliRunner().invoke(
        app, ["report", "prune", "--at", "2026-03-09T04:00:00Z", "--state-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "pruned" in result.output and "expired report file(s)" in result.output
    assert _row(engine, rows["expired"].id).artifact_key is None
    assert _row(engine, rows["at_now"].id).artifact_key is None
    valid = rows["valid"].artifact_key
    assert valid is not None and store.exists(valid) and _row(engine, rows["valid"].id).artifact_key == valid
