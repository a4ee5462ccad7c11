"""``/v1/exports``: a one-off export recorded with its manifest (or its failure, then no manifest), runs
listed, schedules backed by real Temporal Schedules (created, paused, changed, deleted), bad input a 422
naming the field, and the permissions."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from cloudoptima.services.ingestion import ingest_path
from cloudoptima.settings import Settings
from tests.gateway.conftest import make_org

FOCUS_SAMPLE = Path(__file__).parents[1] / "fixtures" / "focus_official_sample" / "focus_1.0_sample_1000.csv"
SEPTEMBER = {"start": "2024-09-01", "end": "2024-10-01"}


def test_one_off_exports_are_recorded_with_their_manifest_or_failure(
    client: TestClient, engine: Engine, gateway_settings: Settings
) -> None:
    org = make_org(engine, gateway_settings, name="exports")
    ingest_path(engine, FOCUS_SAMPLE, org.id)
    body = {
        "dataset": "focus_raw",
        "format": "csv",
        **SEPTEMBER,
        "destination": {"kind": "folder", "path": "fin"},
    }
    response = client.post("/v1/exports/run", json=body, headers=org.headers("analyst"))
    assert response.status_code == 201, response.text
    run = response.json()
    assert run["status"] == "succeeded" and run["error"] is None
    manifest = run["manifest"]
    assert round(Decimal(manifest["billed_cost"]["USD"]), 6) == Decimal("20.520227")
    folder = (
        gateway_settings.state_path / "exports" / str(org.id) / "fin" / "focus_raw" / "2024-09-01_2024-10-01"
    )
    assert json.loads((folder / "manifest.json").read_text()) == manifest
    [file] = manifest["files"]
    assert hashlib.sha256((folder / file["path"]).read_bytes()).hexdigest() == file["sha256"]

    (gateway_settings.state_path / "exports" / str(org.id) / "taken").write_text("a file, not a folder")
    failed = client.post(
        "/v1/exports/run",
        json={**body, "destination": {"kind": "folder", "path": "taken"}},
        headers=org.headers("analyst"),
    ).json()
    assert failed["status"] == "failed" and failed["manifest"] is None and "taken" in failed["error"]

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
