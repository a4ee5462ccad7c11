"""Schedules are created once and updated in place, on a real Temporal dev server."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio.client import ScheduleActionStartWorkflow
from temporalio.testing import WorkflowEnvironment

from cloudoptima.settings import load_settings
from cloudoptima_workflows.schedules import PREFIX, desired_schedules, ensure_schedules

EXPECTED = {
    "cloudoptima-collect-sandbox": "CollectAll",
    "cloudoptima-collect-live": "CollectAll",
    "cloudoptima-analyse": "AnalyseAll",
    "cloudoptima-budgets": "EvaluateBudgets",
    "cloudoptima-forecasts": "RefreshForecasts",
    "cloudoptima-cleanup": "Cleanup",
    "cloudoptima-retention": "Retention",
    "cloudoptima-prices": "RefreshPrices",
    "cloudoptima-notifications": "DeliverNotifications",
    "cloudoptima-digests": "SendDigests",
    "cloudoptima-tickets": "SyncTickets",
}


async def _ours(env: WorkflowEnvironment) -> list[str]:
    """The system schedules (report schedules, ``cloudoptima-report-<id>``, belong to organisations)."""
    return sorted(
        [
            s.id
            async for s in await env.client.list_schedules()
            if s.id.startswith(PREFIX) and not s.id.startswith(f"{PREFIX}report-")
        ]
    )


async def test_schedule_setup_is_idempotent_and_updates_the_spec(temporal_env: WorkflowEnvironment) -> None:
    client = temporal_env.client
    first = await ensure_schedules(client, load_settings(collection_sandbox_interval_minutes=5))
    try:
        assert first == dict.fromkeys(EXPECTED, "created")
        await client.get_schedule_handle("cloudoptima-analyse").pause(note="paused by an operator")

        second = await ensure_schedules(
            client, load_settings(collection_sandbox_interval_minutes=7, collection_live_interval_minutes=90)
        )
        assert second == dict.fromkeys(EXPECTED, "updated")
        for schedule_id, workflow in EXPECTED.items():
            described = await client.get_schedule_handle(schedule_id).describe()
            action = described.schedule.action
            assert isinstance(action, ScheduleActionStartWorkflow) and action.workflow == workflow
        sandbox = await client.get_schedule_handle("cloudoptima-collect-sandbox").describe()
        live = await client.get_schedule_handle("cloudoptima-collect-live").describe()
        assert [i.every for i in sandbox.schedule.spec.intervals] == [timedelta(minutes=7)]
        assert [i.every for i in live.schedule.spec.intervals] == [timedelta(minutes=90)]
        analyse = await client.get_schedule_handle("cloudoptima-analyse").describe()
        assert analyse.schedule.state.paused, "an operator's pause survives the update"
        listed = await _ours(temporal_env)
        for _ in range(50):  # the list comes from the visibility store, which catches up asynchronously
            if len(listed) >= len(EXPECTED):
                break
            await asyncio.sleep(0.2)
            listed = await _ours(temporal_env)
        assert listed == sorted(EXPECTED)
        forecasts = await client.get_schedule_handle("cloudoptima-forecasts").describe()
        calendar = forecasts.schedule.spec.calendars[0]
        assert (calendar.hour[0].start, calendar.minute[0].start) == (2, 0)
    finally:
        for schedule_id in EXPECTED:
            await client.get_schedule_handle(schedule_id).delete()


def test_the_plan_has_one_schedule_per_beat_task() -> None:
    plan = desired_schedules(load_settings())
    assert {k: v.action.workflow for k, v in plan.items()} == EXPECTED  # type: ignore[attr-defined]
    prices = plan["cloudoptima-prices"].spec.intervals
    assert [i.every for i in prices] == [timedelta(hours=24)], "prices are refreshed daily by default"
    cleanup = plan["cloudoptima-cleanup"].spec.calendars[0]
    assert (cleanup.day_of_week[0].start, cleanup.hour[0].start) == (0, 3)


def test_retention_runs_daily_with_the_settings_days() -> None:
    plan = desired_schedules(load_settings(cost_rows_retention_days=730, notifications_retention_days=60))
    schedule = plan["cloudoptima-retention"]
    calendar = schedule.spec.calendars[0]
    every_day = [(r.start, r.end) for r in calendar.day_of_week]
    assert (calendar.hour[0].start, calendar.minute[0].start, every_day) == (3, 30, [(0, 6)])
    [arg] = schedule.action.args  # type: ignore[attr-defined]
    assert (arg.cost_rows_days, arg.notifications_days, arg.utilisation_days, arg.dry_run) == (
        730,
        60,
        93,
        False,
    )
