"""Golden histories: a recorded run of every workflow type, in ``tests/workflows/histories/``, which
``test_workflow_replay.py`` replays against the current workflow code on every run.

A history is recorded by the test that runs the real workflow (real Temporal dev or time-skipping server,
real database, the pydantic data converter), through :func:`record_history`, only when
``CLOUDOPTIMA_RECORD_HISTORIES`` is set. To re-record after an *intended* change of what a workflow decides
(first guard the change with ``workflow.patched`` so the histories already recorded keep replaying; add the
new history, keep the old one)::

    CLOUDOPTIMA_RECORD_HISTORIES=1 .venv/bin/pytest -q tests/workflows/<file> -k <test>

with the file and test named for each history in :data:`RECORDERS`, then commit the JSON files.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle

HISTORIES = Path(__file__).parent / "histories"

RECORDERS: dict[str, str] = {
    "collect_all_children.json": "recorded before batches (one CollectAccount child per account); kept as is",
    "collect_all.json": "test_collection_workflow.py -k end_to_end",
    "collect_account.json": "test_collection_workflow.py -k end_to_end",
    "analyse_organisation.json": "test_collection_workflow.py -k end_to_end",
    "analyse_all.json": "test_analysis_workflows.py -k budgets_forecasts_and_analysis",
    "evaluate_budgets.json": "test_analysis_workflows.py -k budgets_forecasts_and_analysis",
    "refresh_forecasts.json": "test_analysis_workflows.py -k budgets_forecasts_and_analysis",
    "cleanup.json": "test_cleanup.py -k cleanup_deletes_only_expired",
    "refresh_prices.json": "test_price_refresh.py -k keeps_azure",
    "policy_execution.json": "test_policies_workflow.py -k dry_run_then_approved",
    "policy_triggers.json": "test_policy_triggers_workflow.py -k fires_the_event_policy_once",
    "remediation.json": "test_remediation_workflow.py -k approved_plan_executes_and_verifies",
    "deliver_notifications.json": "test_notification_delivery_workflow.py -k attempted_each_independently",
    "send_digests.json": "test_digests_workflow.py -k sent_once_at_the_workflow_time",
    "generate_report.json": "test_report_workflow.py -k unreachable_smtp",
    "scheduled_report.json": "../gateway/test_report_schedules_api.py -k monthly_schedule_in_berlin",
    "reallocate_costs.json": "test_reallocate_workflow.py -k reallocate_costs",
    "scheduled_cost_export.json": "test_export_workflow.py -k scheduled_export_runs",
    "run_cost_export.json": "../gateway/test_exports_api.py -k queued_then_recorded",
    "sync_tickets.json": "test_ticket_sync_workflow.py -k failing_tracker",
    "retention.json": "test_retention_workflow.py -k one_activity_per_family",
}
"""Every golden history and how it is (re-)recorded."""


def recording() -> bool:
    """True when this run records golden histories (``CLOUDOPTIMA_RECORD_HISTORIES`` set)."""
    return bool(os.environ.get("CLOUDOPTIMA_RECORD_HISTORIES"))


async def record_history(handle: WorkflowHandle[Any, Any], name: str) -> None:
    """Save the (closed) workflow's history as ``histories/<name>.json`` when :func:`recording`; else
    nothing. ``name`` must be listed in :data:`RECORDERS`."""
    if not recording():
        return
    if f"{name}.json" not in RECORDERS:
        raise ValueError(f"{name}.json is not listed in RECORDERS")
    history = await handle.fetch_history()
    HISTORIES.mkdir(exist_ok=True)
    (HISTORIES / f"{name}.json").write_text(history.to_json())
