"""Scheduled reports end to end: real gateway, Postgres and Temporal dev server (real Temporal Schedules),
with a worker on the ``reports`` queue. A schedule's Temporal Schedule has its calendar in its own time zone;
triggering it records a report linked to the schedule that completes and is listed among its runs; pause
and resume reach Temporal; delete removes both; bad input is a 422 naming the field and creates nothing."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from temporalio.client import ScheduleActionStartWorkflow
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from cloudoptima.services.report_schedules import ReportSchedules, scheduled_period, validate_recurrence
from cloudoptima.services.reports import reports_config_from_settings
from cloudoptima.settings import Settings
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import ReportScheduleRow
from cloudoptima.storage.tenancy import scope
from cloudoptima_gateway.main import build_app
from cloudoptima_workflows.queues import REPORTS
from cloudoptima_workflows.reports.activities import ReportActivities
from cloudoptima_workflows.reports.scheduled_activities import ScheduledReportActivities
from cloudoptima_workflows.reports.workflows import GenerateReportWorkflow, ScheduledReportWorkflow
from tests.gateway.conftest import Org, add_daily_costs, make_org
from tests.workflows.history_recording import record_history

BERLIN = ZoneInfo("Europe/Berlin")
MONTHLY = {
    "template_id": "monthly_cost_review",
    "parameters": {"top_n": 3},
    "format": "json",
    "schedule": {"frequency": "monthly", "day_of_month": 1, "time": "08:00", "timezone": "Europe/Berlin"},
}


@pytest.fixture(scope="module")
def org(engine: Engine, gateway_settings: Settings) -> Org:
    org = make_org(engine, gateway_settings, name="report-schedules")
    start, end = scheduled_period("monthly", "Europe/Berlin", datetime.now(UTC))
    costs = [(start + timedelta(days=n), "AmazonEC2", Decimal("3.50")) for n in range((end - start).days)]
    add_daily_costs(engine, org.id, costs)
    return org


@asynccontextmanager
async def worker(env: WorkflowEnvironment, engine: Engine, settings: Settings) -> AsyncIterator[None]:
    """A worker on the real ``reports`` queue with both report workflows and their activities."""
    sessions = session_factory(engine)
    config = reports_config_from_settings(settings)
    activities = [
        *ReportActivities(sessions, config, None).all(),
        *ScheduledReportActivities(sessions, config).all(),
    ]
    with ThreadPoolExecutor(2) as executor:
        async with Worker(
            env.client,
            task_queue=REPORTS,
            workflows=[GenerateReportWorkflow, ScheduledReportWorkflow],
            activities=activities,
            activity_executor=executor,
        ):
            yield


def _next_first_of_month_at_8(after: datetime) -> datetime:
    """The next 1st of a month at 08:00 Berlin time strictly after ``after``, in UTC."""
    local = after.astimezone(BERLIN)
    year, month = local.year, local.month
    while True:
        candidate = datetime(year, month, 1, 8, 0, tzinfo=BERLIN)
        if candidate > after:
            return candidate.astimezone(UTC)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


async def _call(
    client: TestClient, method: str, path: str, org: Org, role: str = "analyst", **kw: Any
) -> Any:
    return await asyncio.to_thread(client.request, method, path, headers=org.headers(role), **kw)


async def test_a_monthly_schedule_in_berlin_runs_pauses_resumes_and_is_deleted(
    client: TestClient,
    temporal_env: WorkflowEnvironment,
    engine: Engine,
    gateway_settings: Settings,
    org: Org,
) -> None:
    before = datetime.now(UTC)
    created = await _call(client, "POST", "/v1/reports/schedule", org, json=MONTHLY)
    assert created.status_code == 201, created.text
    body = created.json()
    schedule_id = body["schedule_id"]
    assert body["temporal_schedule_id"] == f"cloudoptima-report-{schedule_id}"
    assert body["schedule"] == {
        "frequency": "monthly",
        "day_of_week": None,
        "day_of_month": 1,
        "time": "08:00",
        "timezone": "Europe/Berlin",
    }
    assert body["enabled"] is True and body["paused"] is False and body["delivery_method"] == "download"

    # The Temporal Schedule: 08:00 on day 1 in Europe/Berlin; its next action is the next such local time.
    handle = temporal_env.client.get_schedule_handle(body["temporal_schedule_id"])
    described = await handle.describe()
    spec = described.schedule.spec
    assert spec.time_zone_name == "Europe/Berlin"
    [calendar] = spec.calendars
    assert [r.start for r in calendar.hour] == [8] and [r.start for r in calendar.minute] == [0]
    assert [(r.start, r.end or r.start) for r in calendar.day_of_month] == [(1, 1)]
    expected = _next_first_of_month_at_8(before)
    assert described.info.next_action_times[0] == expected
    next_runs = [datetime.fromisoformat(t) for t in body["next_run_times"]]
    assert next_runs[0] == expected
    for run_at in next_runs:  # every planned run is 08:00 local: 07:00 UTC in winter, 06:00 in summer
        local = run_at.astimezone(BERLIN)
        assert (local.day, local.hour, local.minute) == (1, 8, 0)
        assert run_at.hour == (7 if local.month in (1, 2, 3, 11, 12) else 6)

    listed = (await _call(client, "GET", "/v1/reports/schedules", org)).json()["items"]
    assert schedule_id in [s["schedule_id"] for s in listed]

    # Trigger it with a worker running: a report linked to the schedule completes and is listed as a run.
    async with worker(temporal_env, engine, gateway_settings):
        await handle.trigger()
        for _ in range(300):
            detail = (await _call(client, "GET", f"/v1/reports/schedules/{schedule_id}", org)).json()
            if detail["runs"] and detail["runs"][0]["status"] != "generating":
                break
            await asyncio.sleep(0.1)
        described = await handle.describe()
        [action] = described.info.recent_actions
        run = temporal_env.client.get_workflow_handle(action.action.workflow_id)
        outcome = await run.result()
        await record_history(run, "scheduled_report")
    [report] = detail["runs"]
    assert report["status"] == "completed", report
    assert report["schedule_id"] == schedule_id and outcome["report_id"] == report["id"]
    assert report["download_url"].startswith(f"/v1/reports/{report['id']}/download?expires=")
    # The run is recorded at its due time (the schedule's TemporalScheduledStartTime), not the worker's clock.
    assert datetime.fromisoformat(report["created_at"]) == action.scheduled_at.replace(microsecond=0)
    start, end = scheduled_period("monthly", "Europe/Berlin", datetime.fromisoformat(report["created_at"]))
    assert (report["parameters"]["start_date"], report["parameters"]["end_date"]) == (
        start.isoformat(),
        end.isoformat(),
    )
    assert report["parameters"]["top_n"] == 3
    same = (await _call(client, "GET", f"/v1/reports/{report['id']}", org)).json()
    assert same["status"] == "completed" and same["download_url"] == report["download_url"]

    # Pause and resume reach Temporal.
    paused = await _call(client, "POST", f"/v1/reports/schedules/{schedule_id}/pause", org)
    assert paused.status_code == 200 and paused.json()["enabled"] is False and paused.json()["paused"] is True
    assert (await handle.describe()).schedule.state.paused is True
    resumed = await _call(client, "POST", f"/v1/reports/schedules/{schedule_id}/resume", org)
    assert (
        resumed.status_code == 200 and resumed.json()["enabled"] is True and resumed.json()["paused"] is False
    )
    assert (await handle.describe()).schedule.state.paused is False

    # A viewer may not change it (nor read reports); another organisation does not see it.
    refused = await _call(client, "POST", f"/v1/reports/schedules/{schedule_id}/pause", org, role="viewer")
    assert refused.status_code == 403
    other = make_org(engine, gateway_settings, name="other")
    assert (await _call(client, "GET", f"/v1/reports/schedules/{schedule_id}", other)).status_code == 404
    assert (
        await _call(client, "DELETE", f"/v1/reports/schedules/{schedule_id}", other, role="admin")
    ).status_code == 404

    # Delete removes both; the run stays, unlinked.
    deleted = await _call(client, "DELETE", f"/v1/reports/schedules/{schedule_id}", org)
    assert deleted.status_code == 204
    with pytest.raises(RPCError) as gone:
        await handle.describe()
    assert gone.value.status == RPCStatusCode.NOT_FOUND
    assert (await _call(client, "GET", f"/v1/reports/schedules/{schedule_id}", org)).status_code == 404
    kept = (await _call(client, "GET", f"/v1/reports/{report['id']}", org)).json()
    assert kept["status"] == "completed" and kept["schedule_id"] is None


def test_recipients_alone_mean_email_and_a_weekly_day_is_temporals(
    client: TestClient, temporal_env: WorkflowEnvironment, org: Org
) -> None:
    body = {
        "template_id": "savings",
        "schedule": {
            "frequency": "weekly",
            "day_of_week": 0,
            "time": "06:30",
            "timezone": "America/New_York",
        },
        "recipients": ["cfo@example.com"],
        "format": "csv",
        "name": "Weekly savings",
    }
    created = client.post("/v1/reports/schedule", json=body, headers=org.headers("analyst"))
    assert created.status_code == 201, created.text
    out = created.json()
    assert out["delivery_method"] == "email" and out["recipients"] == ["cfo@example.com"]
    assert out["name"] == "Weekly savings"
    for run_at in (datetime.fromisoformat(t) for t in out["next_run_times"]):
        local = run_at.astimezone(ZoneInfo("America/New_York"))
        assert (local.weekday(), local.hour, local.minute) == (0, 6, 30)  # Mondays, 06:30 local
    assert (
        client.delete(
            f"/v1/reports/schedules/{out['schedule_id']}", headers=org.headers("analyst")
        ).status_code
        == 204
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"schedule": {**MONTHLY["schedule"], "timezone": "Europe/Atlantis"}}, "schedule.timezone"),  # type: ignore[dict-item]
        ({"schedule": {**MONTHLY["schedule"], "time": "8 am"}}, "schedule.time"),  # type: ignore[dict-item]
        (
            {"schedule": {"frequency": "weekly", "day_of_week": 9, "time": "08:00", "timezone": "UTC"}},
            "schedule.day_of_week",
        ),
        ({"schedule": {**MONTHLY["schedule"], "day_of_month": 30}}, "schedule.day_of_month"),  # type: ignore[dict-item]
        ({"template_id": "no_such_report"}, "template_id"),
        ({"parameters": {"start_date": "2026-01-01", "end_date": "2026-02-01"}}, "parameters.start_date"),
        ({"delivery": {"method": "email"}}, "delivery.recipients"),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_creates_nothing(
    client: TestClient, org: Org, change: dict[str, Any], field: str
) -> None:
    before = client.get("/v1/reports/schedules", headers=org.headers("analyst")).json()["items"]
    response = client.post("/v1/reports/schedule", json={**MONTHLY, **change}, headers=org.headers("analyst"))
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", field], response.text
    after = client.get("/v1/reports/schedules", headers=org.headers("analyst")).json()["items"]
    assert len(after) == len(before)


def test_without_temporal_nothing_is_created_and_the_answer_is_503(
    engine: Engine, gateway_settings: Settings, org: Org
) -> None:
    """Temporal unreachable (a closed port): the row recorded before is deleted again, so neither exists."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{probe.getsockname()[1]}"
    settings = gateway_settings.model_copy(update={"temporal_address": closed})
    with TestClient(build_app(settings)) as offline:
        before = offline.get("/v1/reports/schedules", headers=org.headers("analyst")).json()["items"]
        response = offline.post("/v1/reports/schedule", json=MONTHLY, headers=org.headers("analyst"))
        assert response.status_code == 503, response.text
        after = offline.get("/v1/reports/schedules", headers=org.headers("analyst")).json()["items"]
    assert [s["schedule_id"] for s in after] == [s["schedule_id"] for s in before]
    with Session(engine) as session:
        rows = session.scalars(
            select(ReportScheduleRow).where(ReportScheduleRow.organization_id == org.id)
        ).all()
        assert {str(r.id) for r in rows} == {s["schedule_id"] for s in before}
    # Listing still answers without Temporal: the rows, with no next run times and an unknown paused state.
    assert all(s["next_run_times"] == [] and s["paused"] is None for s in after)


def test_without_temporal_a_change_is_a_503_and_changes_nothing(
    engine: Engine, gateway_settings: Settings, org: Org
) -> None:
    with Session(engine) as session:
        view = ReportSchedules(
            scope(session, org.id), org.id, reports_config_from_settings(gateway_settings)
        ).create(
            template_id="savings",
            parameters={},
            format="csv",
            delivery=None,
            recipients=[],
            recurrence=validate_recurrence("daily", "08:00", "UTC"),
            now=datetime.now(UTC),
        )
        session.commit()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{probe.getsockname()[1]}"
    settings = gateway_settings.model_copy(update={"temporal_address": closed})
    with TestClient(build_app(settings)) as offline:
        path = f"/v1/reports/schedules/{view.id}"
        response = offline.patch(path, json={"schedule": {"time": "09:00"}}, headers=org.headers("analyst"))
        assert response.status_code == 503, response.text
        assert offline.get(path, headers=org.headers("analyst")).json()["schedule"]["time"] == "08:00"
        assert offline.delete(path, headers=org.headers("analyst")).status_code == 503
    with Session(engine) as session:
        session.execute(delete(ReportScheduleRow).where(ReportScheduleRow.id == view.id))
        session.commit()


async def test_patch_moves_the_temporal_calendar_keeps_paused_and_changes_nothing_on_bad_input(
    client: TestClient,
    temporal_env: WorkflowEnvironment,
    engine: Engine,
    gateway_settings: Settings,
    org: Org,
) -> None:
    daily = {**MONTHLY, "schedule": {"frequency": "daily", "time": "08:00", "timezone": "UTC"}}
    created = (await _call(client, "POST", "/v1/reports/schedule", org, json=daily)).json()
    schedule_id, temporal_id = created["schedule_id"], created["temporal_schedule_id"]
    handle = temporal_env.client.get_schedule_handle(temporal_id)

    # Time and zone change the Temporal calendar and the next run times (17:45 in Tokyo, every day).
    patched = await _call(
        client,
        "PATCH",
        f"/v1/reports/schedules/{schedule_id}",
        org,
        json={"schedule": {"time": "17:45", "timezone": "Asia/Tokyo"}, "parameters": {"top_n": 5}},
    )
    assert patched.status_code == 200, patched.text
    out = patched.json()
    assert out["schedule"] == {
        "frequency": "daily",
        "day_of_week": None,
        "day_of_month": None,
        "time": "17:45",
        "timezone": "Asia/Tokyo",
    }
    assert out["parameters"] == {"top_n": 5} and out["paused"] is False
    spec = (await handle.describe()).schedule.spec
    [calendar] = spec.calendars
    assert spec.time_zone_name == "Asia/Tokyo"
    assert [r.start for r in calendar.hour] == [17] and [r.start for r in calendar.minute] == [45]
    runs = [datetime.fromisoformat(t) for t in out["next_run_times"]]
    assert runs and all(
        (t.astimezone(ZoneInfo("Asia/Tokyo")).hour, t.astimezone(ZoneInfo("Asia/Tokyo")).minute) == (17, 45)
        for t in runs
    )

    # Paused stays paused through a change; a bad zone is a 422 naming it and changes neither side.
    assert (await _call(client, "POST", f"/v1/reports/schedules/{schedule_id}/pause", org)).status_code == 200
    bad = await _call(
        client,
        "PATCH",
        f"/v1/reports/schedules/{schedule_id}",
        org,
        json={"schedule": {"timezone": "Europe/Atlantis", "time": "06:00"}, "name": "renamed"},
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "schedule.timezone"]
    described = await handle.describe()
    assert described.schedule.spec.time_zone_name == "Asia/Tokyo"
    assert [r.start for r in described.schedule.spec.calendars[0].hour] == [17]
    same = (await _call(client, "GET", f"/v1/reports/schedules/{schedule_id}", org)).json()
    assert same["schedule"]["timezone"] == "Asia/Tokyo" and same["name"] == created["name"]
    weekly = await _call(
        client,
        "PATCH",
        f"/v1/reports/schedules/{schedule_id}",
        org,
        json={"schedule": {"frequency": "weekly", "day_of_week": 2}, "name": "Wednesdays"},
    )
    assert weekly.status_code == 200, weekly.text
    assert weekly.json()["name"] == "Wednesdays" and weekly.json()["paused"] is True
    described = await handle.describe()
    assert described.schedule.state.paused is True
    assert [r.start for r in described.schedule.spec.calendars[0].day_of_week] == [3]  # Temporal: Wednesday

    # Another organisation's schedule is not found (and unchanged); a viewer may not change one.
    other = make_org(engine, gateway_settings, name="other-patch")
    hidden = await _call(
        client, "PATCH", f"/v1/reports/schedules/{schedule_id}", other, json={"name": "mine now"}
    )
    assert hidden.status_code == 404
    refused = await _call(
        client, "PATCH", f"/v1/reports/schedules/{schedule_id}", org, role="viewer", json={"name": "x"}
    )
    assert refused.status_code == 403
    assert (await _call(client, "GET", f"/v1/reports/schedules/{schedule_id}", org)).json()[
        "name"
    ] == "Wednesdays"
    assert (await _call(client, "DELETE", f"/v1/reports/schedules/{schedule_id}", org)).status_code == 204


async def test_runs_whose_inputs_no_longer_pass_are_recorded_failed_with_the_reason(
    client: TestClient, temporal_env: WorkflowEnvironment, engine: Engine, gateway_settings: Settings
) -> None:
    """The ``team`` rollup tag key is removed after a showback schedule was made; another schedule's stored
    parameters no longer pass the template's checks. Each triggered run leaves a failed report, with its
    reason, listed among the schedule's runs."""
    tags = make_org(engine, gateway_settings, name="schedule-tags")
    with Session(engine) as session:
        session.execute(
            text("UPDATE organizations SET settings = :s WHERE id = :id"),
            {"s": json.dumps({"rollup_tag_keys": ["team", "environment"]}), "id": tags.id},
        )
        session.commit()
    showback = {
        "template_id": "showback",
        "parameters": {"tag_key": "team"},
        "format": "csv",
        "schedule": {"frequency": "weekly", "day_of_week": 0, "time": "07:00", "timezone": "UTC"},
    }
    by_team = (await _call(client, "POST", "/v1/reports/schedule", tags, json=showback)).json()
    review = (await _call(client, "POST", "/v1/reports/schedule", tags, json=MONTHLY)).json()
    with Session(engine) as session:
        session.execute(
            text("UPDATE organizations SET settings = :s WHERE id = :id"),
            {"s": json.dumps({"rollup_tag_keys": ["environment"]}), "id": tags.id},
        )
        row = session.get(ReportScheduleRow, uuid.UUID(review["schedule_id"]))
        assert row is not None
        row.parameters = {"top_n": "many"}  # stored before the template's checks tightened, say
        session.commit()

    async with worker(temporal_env, engine, gateway_settings):
        for created in (by_team, review):
            await temporal_env.client.get_schedule_handle(created["temporal_schedule_id"]).trigger()
        details: dict[str, Any] = {}
        for _ in range(300):
            for created in (by_team, review):
                path = f"/v1/reports/schedules/{created['schedule_id']}"
                details[created["schedule_id"]] = (await _call(client, "GET", path, tags)).json()
            if all(d["runs"] and d["runs"][0]["status"] != "generating" for d in details.values()):
                break
            await asyncio.sleep(0.1)
        for created in (by_team, review):
            [action] = (
                await temporal_env.client.get_schedule_handle(created["temporal_schedule_id"]).describe()
            ).info.recent_actions
            await temporal_env.client.get_workflow_handle(action.action.workflow_id).result()
    [team_run] = details[by_team["schedule_id"]]["runs"]
    assert team_run["status"] == "failed" and team_run["schedule_id"] == by_team["schedule_id"]
    assert "tag_key" in team_run["error"] and "'team'" in team_run["error"], team_run
    [review_run] = details[review["schedule_id"]]["runs"]
    assert review_run["status"] == "failed" and review_run["schedule_id"] == review["schedule_id"]
    assert review_run["error"].startswith("the schedule's report could not be requested: parameters.top_n")
    assert review_run["download_url"] is None
    # Each failed run notifies as a failed report does: its report.ready notice (here to the creator).
    inbox = (await _call(client, "GET", "/v1/notifications", tags)).json()["items"]
    failed = {n["payload"]["report_id"]: n for n in inbox if n["event_type"] == "report.ready"}
    assert set(failed) == {team_run["id"], review_run["id"]}
    notice = failed[review_run["id"]]
    assert notice["severity"] == "warning" and notice["title"] == "Report failed: Monthly cost review"
    assert notice["payload"]["status"] == "failed" and notice["payload"]["error"] == review_run["error"]


async def test_when_the_row_cannot_be_written_the_temporal_schedule_is_put_back(
    client: TestClient, temporal_env: WorkflowEnvironment, engine: Engine, org: Org
) -> None:
    """A real database failure on the row's update (a trigger refusing it) after Temporal took the new
    calendar: Temporal gets the old one back and the row is unchanged."""
    created = (await _call(client, "POST", "/v1/reports/schedule", org, json=MONTHLY)).json()
    schedule_id = created["schedule_id"]
    handle = temporal_env.client.get_schedule_handle(created["temporal_schedule_id"])
    refuse = text(
        "CREATE FUNCTION refuse_schedule_update() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;"
        "CREATE TRIGGER refuse_schedule_update BEFORE UPDATE ON report_schedules FOR EACH ROW "
        f"WHEN (OLD.id = '{schedule_id}') EXECUTE FUNCTION refuse_schedule_update()"
    )
    with engine.begin() as connection:
        connection.execute(refuse)
    try:
        with pytest.raises(DBAPIError, match="refused by the test"):
            await _call(
                client,
                "PATCH",
                f"/v1/reports/schedules/{schedule_id}",
                org,
                json={"schedule": {"time": "17:45", "timezone": "Asia/Tokyo"}},
            )
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP TRIGGER refuse_schedule_update ON report_schedules"))
            connection.execute(text("DROP FUNCTION refuse_schedule_update()"))
    described = await handle.describe()
    assert described.schedule.spec.time_zone_name == "Europe/Berlin"
    assert [r.start for r in described.schedule.spec.calendars[0].hour] == [8]
    assert described.schedule.state.paused is False
    detail = (await _call(client, "GET", f"/v1/reports/schedules/{schedule_id}", org)).json()
    assert detail["schedule"]["time"] == "08:00" and detail["schedule"]["timezone"] == "Europe/Berlin"
    # The action still starts the same workflow for the same schedule: the put-back schedule is whole.
    action = described.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow) and action.workflow == "ScheduledReport"
    assert (await _call(client, "DELETE", f"/v1/reports/schedules/{schedule_id}", org)).status_code == 204
