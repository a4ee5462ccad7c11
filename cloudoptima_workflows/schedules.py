"""Temporal Schedules: the spec's Celery beat (seed §7.1), created or updated idempotently at worker start.

``desired_schedules(settings)`` is the whole plan (id → Schedule); ``ensure_schedules(client, settings)``
creates each missing schedule and replaces the spec and action of existing ones (a paused schedule stays
paused: its state is kept). Running it any number of times, from any number of workers, leaves exactly one
schedule per id. Overlapping runs are skipped; every time is UTC.

| id | workflow | queue | when |
|---|---|---|---|
| cloudoptima-collect-sandbox | CollectAll(kind=sandbox) | collection | every ``collection_sandbox_interval_minutes`` (5) |
| cloudoptima-collect-live | CollectAll(kind=live) | collection | every ``collection_live_interval_minutes`` (60) |
| cloudoptima-analyse | AnalyseAll | processing | hourly, minute 0 |
| cloudoptima-budgets | EvaluateBudgets | processing | hourly, minute 0 |
| cloudoptima-forecasts | RefreshForecasts | ml | daily 02:00 |
| cloudoptima-cleanup | Cleanup (expired tokens, audit retention) | processing | weekly, Sunday 03:00 |
| cloudoptima-retention | Retention (raw cost months, utilisation, audit, notifications, chat checkpoints) | processing | daily 03:30 |
| cloudoptima-prices | RefreshPrices | processing | every ``price_refresh_interval_hours`` (24) |
| cloudoptima-notifications | DeliverNotifications (due deliveries, retries) | processing | every minute |
| cloudoptima-digests | SendDigests (per-user daily/weekly digests due at their local time) | processing | every 15 minutes |
| cloudoptima-tickets | SyncTickets (tracker tickets read back: closes, reopens, deletions) | processing | every 30 minutes |
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from cloudoptima.settings import Settings
from cloudoptima_workflows.analysis.inputs import AnalyseAllInput
from cloudoptima_workflows.collection.inputs import CollectAllInput
from cloudoptima_workflows.maintenance.inputs import CleanupInput, RetentionInput
from cloudoptima_workflows.notifications.inputs import DeliverNotificationsInput, SendDigestsInput
from cloudoptima_workflows.prices.inputs import RefreshPricesInput
from cloudoptima_workflows.queues import COLLECTION, ML, PROCESSING
from cloudoptima_workflows.tickets.inputs import SyncTicketsInput

PREFIX = "cloudoptima-"


def _calendar(*, minute: int = 0, hour: int | None = None, day_of_week: int | None = None) -> ScheduleSpec:
    fields: dict[str, Any] = {"minute": [ScheduleRange(minute)]}
    if hour is not None:
        fields["hour"] = [ScheduleRange(hour)]
    else:
        fields["hour"] = [ScheduleRange(0, 23)]
    if day_of_week is not None:
        fields["day_of_week"] = [ScheduleRange(day_of_week)]
    return ScheduleSpec(calendars=[ScheduleCalendarSpec(**fields)], time_zone_name="UTC")


def _every(minutes: int) -> ScheduleSpec:
    return ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(minutes=minutes))])


def _schedule(workflow: str, arg: Any, schedule_id: str, queue: str, spec: ScheduleSpec) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(workflow, arg, id=schedule_id, task_queue=queue),
        spec=spec,
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


def desired_schedules(settings: Settings) -> dict[str, Schedule]:
    """Every schedule CloudOptima runs, by id (see the module table)."""
    plan = {
        "collect-sandbox": (
            "CollectAll",
            CollectAllInput(
                kind="sandbox",
                max_concurrency=settings.collection_concurrency,
                initial_days=settings.collection_initial_days,
                restate_days=settings.collection_restate_days,
                utilisation_days=settings.utilisation_backfill_days,
            ),
            COLLECTION,
            _every(settings.collection_sandbox_interval_minutes),
        ),
        "collect-live": (
            "CollectAll",
            CollectAllInput(
                kind="live",
                max_concurrency=settings.collection_concurrency,
                initial_days=settings.collection_initial_days,
                restate_days=settings.collection_restate_days,
                utilisation_days=settings.utilisation_backfill_days,
            ),
            COLLECTION,
            _every(settings.collection_live_interval_minutes),
        ),
        "analyse": ("AnalyseAll", AnalyseAllInput(), PROCESSING, _calendar(minute=0)),
        "budgets": ("EvaluateBudgets", AnalyseAllInput(), PROCESSING, _calendar(minute=0)),
        "forecasts": ("RefreshForecasts", AnalyseAllInput(), ML, _calendar(minute=0, hour=2)),
        "cleanup": ("Cleanup", CleanupInput(), PROCESSING, _calendar(minute=0, hour=3, day_of_week=0)),
        "retention": (
            "Retention",
            RetentionInput(
                cost_rows_days=settings.cost_rows_retention_days,
                utilisation_days=settings.utilisation_retention_days,
                notifications_days=settings.notifications_retention_days,
                chat_checkpoints_days=settings.chat_checkpoints_retention_days,
            ),
            PROCESSING,
            _calendar(minute=30, hour=3),
        ),
        "prices": (
            "RefreshPrices",
            RefreshPricesInput(),
            PROCESSING,
            _every(settings.price_refresh_interval_hours * 60),
        ),
        "notifications": ("DeliverNotifications", DeliverNotificationsInput(), PROCESSING, _every(1)),
        "digests": ("SendDigests", SendDigestsInput(), PROCESSING, _every(15)),
        "tickets": ("SyncTickets", SyncTicketsInput(), PROCESSING, _every(30)),
    }
    return {
        PREFIX + name: _schedule(workflow, arg, PREFIX + name, queue, spec)
        for name, (workflow, arg, queue, spec) in plan.items()
    }


async def ensure_schedules(client: Client, settings: Settings) -> dict[str, str]:
    """Create or update every schedule; returns ``{id: "created" | "updated"}``."""
    outcome: dict[str, str] = {}
    for schedule_id, schedule in desired_schedules(settings).items():
        try:
            await client.create_schedule(schedule_id, schedule)
            outcome[schedule_id] = "created"
        except ScheduleAlreadyRunningError:

            def replace(current: ScheduleUpdateInput, wanted: Schedule = schedule) -> ScheduleUpdate:
                wanted.state = current.description.schedule.state
                return ScheduleUpdate(schedule=wanted)

            await client.get_schedule_handle(schedule_id).update(replace)
            outcome[schedule_id] = "updated"
    return outcome
