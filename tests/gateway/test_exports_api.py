"""``/v1/exports``: a one-off export answered 202 queued, run by the RunCostExport workflow on a real worker
and recorded with its manifest (or its failure, then no manifest), runs listed and read one by one, schedules backed by real Temporal Schedules (created, paused, changed, deleted), bad input a 422
naming the field, and the permissions."""

from __future__ import annotations

import hashlib
import json
import socket
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from cloudoptima.services.cost_export_schedules import exports_config_from_settings
from cloudoptima.services.ingestion import ingest_path
from cloudoptima.settings import Settings
from cloudoptima_gateway.main import build_app
from cloudoptima_workflows.exports.activities import ExportActivities
from cloudoptima_workflows.exports.inputs import ExportRunOutcome, run_export_workflow_id
from cloudoptima_workflows.exports.workflows import RunCostExportWorkflow
from cloudoptima_workflows.queues import REPORTS
from tests.gateway.conftest import make_org
from tests.workflows.history_recording import record_history

FOCUS_SAMPLE = Path(__file__).parents[1] / "fixtures" / "focus_official_sample" / "focus_1.0_sample_1000.csv"
SEPTEMBER = {"start": "2024-09-01", "end": "2024-10-01"}


@asynccontextmanager
async def _export_worker(
    temporal_env: WorkflowEnvironment, engine: Engine, settings: Settings
) -> AsyncIterator[None]:
    """A worker on the queue the API hands runs to, with the RunCostExport workflow and its activity."""
    activities = ExportActivities(engine, exports_config_from_settings(settings))
    with ThreadPoolExecutor(2) as executor:
        async with Worker(
            temporal_env.client,
            task_queue=REPORTS,
            workflows=[RunCostExportWorkflow],
            activities=activities.all(),
            activity_executor=executor,
        ):
            yield


async def _finished(
    temporal_env: WorkflowEnvironment, run_id: str, record: str | None = None
) -> ExportRunOutcome:
    """The outcome of the run's workflow (its golden history recorded as ``record`` when recording)."""
    handle = temporal_env.client.get_workflow_handle(
        run_export_workflow_id(run_id), result_type=ExportRunOutcome
    )
    outcome = await handle.result()
    if record is not None:
        await record_history(handle, record)
    return outcome


async def test_one_off_exports_are_queued_then_recorded_with_their_manifest_or_failure(
    client: TestClient, engine: Engine, gateway_settings: Settings, temporal_env: WorkflowEnvironment
) -> None:
    org = make_org(engine, gateway_settings, name="exports")
    ingest_path(engine, FOCUS_SAMPLE, org.id)
    body = {
        "dataset": "focus_raw",
        "format": "csv",
        **SEPTEMBER,
        "destination": {"kind": "folder", "path": "fin"},
    }
    # Queued with no worker polling yet: the answer does not wait for the export.
    response = client.post("/v1/exports/run", json=body, headers=org.headers("analyst"))
    assert response.status_code == 202, response.text
    queued = response.json()
    assert queued["status"] == "queued" and queued["manifest"] is None and queued["finished_at"] is None
    path = f"/v1/exports/runs/{queued['run_id']}"
    assert client.get(path, headers=org.headers("viewer")).json()["status"] == "queued"
    root = gateway_settings.state_path / "exports" / str(org.id)
    root.mkdir(parents=True, exist_ok=True)
    (root / "taken").write_text("a file, not a folder")
    failing = client.post(
        "/v1/exports/run",
        json={**body, "destination": {"kind": "folder", "path": "taken"}},
        headers=org.headers("analyst"),
    ).json()
    async with _export_worker(temporal_env, engine, gateway_settings):
        outcome = await _finished(temporal_env, queued["run_id"], record="run_cost_export")
        assert outcome.status == "succeeded", outcome.error
        assert (await _finished(temporal_env, failing["run_id"])).status == "failed"
    run = client.get(path, headers=org.headers("viewer")).json()
    assert run["run_id"] == queued["run_id"] and run["status"] == "succeeded" and run["error"] is None
    manifest = run["manifest"]
    assert round(Decimal(manifest["billed_cost"]["USD"]), 6) == Decimal("20.520227")
    folder = (
        gateway_settings.state_path / "exports" / str(org.id) / "fin" / "focus_raw" / "2024-09-01_2024-10-01"
    )
    assert json.loads((folder / "manifest.json").read_text()) == manifest
    [file] = manifest["files"]
    assert hashlib.sha256((folder / file["path"]).read_bytes()).hexdigest() == file["sha256"]

    failed = client.get(f"/v1/exports/runs/{failing['run_id']}", headers=org.headers("viewer")).json()
    assert failed["status"] == "failed" and failed["manifest"] is None and "taken" in failed["error"]
    other = make_org(engine, gateway_settings, name="exports-other")
    assert (
        client.get(f"/v1/exports/runs/{failing['run_id']}", headers=other.headers("viewer")).status_code
        == 404
    )
    assert client.get(f"/v1/exports/runs/{uuid.uuid4()}", headers=org.headers("viewer")).status_code == 404

    runs = client.get("/v1/exports/runs", headers=org.headers("viewer")).json()["items"]
    assert [r["run_id"] for r in runs] == [failed["run_id"], run["run_id"]]
    assert client.post("/v1/exports/run", json=body, headers=org.headers("viewer")).status_code == 403


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"format": "xls"}, "format"),
        ({"dataset": "everything"}, "dataset"),
        ({"end": "2024-08-01"}, "end"),
        ({"destination": {"kind": "folder", "path": "../../etc"}}, "destination.path"),
        ({"destination": {"kind": "s3", "bucket": "x"}}, "destination.bucket"),
        ({"focus_version": "1.3"}, "focus_version"),
        ({"dataset": "focus_raw", "focus_version": "1.4"}, "focus_version"),
    ],
)
def test_bad_run_input_is_a_422_naming_the_field(
    client: TestClient, engine: Engine, gateway_settings: Settings, change: dict[str, object], field: str
) -> None:
    org = make_org(engine, gateway_settings, name="exports-422")
    body = {"dataset": "daily", "format": "csv", **SEPTEMBER, **change}
    response = client.post("/v1/exports/run", json=body, headers=org.headers("analyst"))
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", field]


async def test_schedules_are_backed_by_temporal_schedules(
    client: TestClient, engine: Engine, gateway_settings: Settings, temporal_env: WorkflowEnvironment
) -> None:
    org = make_org(engine, gateway_settings, name="export-schedules")
    headers = org.headers("analyst")
    body = {
        "dataset": "daily",
        "format": "parquet",
        "destination": {"kind": "folder", "path": "nightly"},
        "schedule": {"frequency": "weekly", "day_of_week": 0, "time": "07:00", "timezone": "Europe/Berlin"},
    }
    bad = client.post(
        "/v1/exports/schedules",
        json={**body, "schedule": {**body["schedule"], "timezone": "Nowhere"}},
        headers=headers,
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "schedule.timezone"]
    created = client.post("/v1/exports/schedules", json=body, headers=headers)
    assert created.status_code == 201, created.text
    out = created.json()
    assert (
        out["paused"] is False
        and out["next_run_times"]
        and out["temporal_schedule_id"].startswith("cloudoptima-export-")
    )
    handle = temporal_env.client.get_schedule_handle(out["temporal_schedule_id"])
    description = await handle.describe()
    assert description.schedule.spec.time_zone_name == "Europe/Berlin"

    path = f"/v1/exports/schedules/{out['schedule_id']}"
    paused = client.post(f"{path}/pause", headers=headers).json()
    assert paused["paused"] is True and paused["enabled"] is False
    changed = client.patch(path, json={"schedule": {"time": "09:30"}, "format": "csv"}, headers=headers)
    assert changed.status_code == 200, changed.text
    assert changed.json()["schedule"]["time"] == "09:30" and changed.json()["paused"] is True
    calendar = (await handle.describe()).schedule.spec.calendars[0]
    assert [r.start for r in calendar.hour] == [9] and [r.start for r in calendar.minute] == [30]
    assert client.post(f"{path}/resume", headers=headers).json()["paused"] is False
    listed = client.get("/v1/exports/schedules", headers=org.headers("viewer")).json()["items"]
    assert [s["schedule_id"] for s in listed] == [out["schedule_id"]]

    assert client.delete(path, headers=headers).status_code == 204
    assert client.get(path, headers=headers).status_code == 404
    with pytest.raises(RPCError):
        await handle.describe()


def test_without_temporal_a_run_is_a_503_and_recorded_failed(
    engine: Engine, gateway_settings: Settings
) -> None:
    """Temporal unreachable (a closed port): the queued run cannot be handed over, so it is recorded failed."""
    org = make_org(engine, gateway_settings, name="exports-offline")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{probe.getsockname()[1]}"
    settings = gateway_settings.model_copy(update={"temporal_address": closed})
    with TestClient(build_app(settings)) as offline:
        body = {"dataset": "daily", "format": "csv", **SEPTEMBER}
        response = offline.post("/v1/exports/run", json=body, headers=org.headers("analyst"))
        assert response.status_code == 503, response.text
        [run] = offline.get("/v1/exports/runs", headers=org.headers("viewer")).json()["items"]
    assert run["status"] == "failed" and "workflow service is unavailable" in run["error"]
    assert run["manifest"] is None and run["finished_at"] is not None
