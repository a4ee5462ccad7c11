"""Replay every golden history (``tests/workflows/histories/``) against the current workflow code, through
the pydantic data converter every worker uses.

A change that makes a workflow non-deterministic for histories already in flight (reordered or renamed
activities or children, changed timers) fails here; so does a workflow type without a golden history. How
each history is recorded, and re-recorded after an *intended* change, is in ``history_recording.py``.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import AsyncIterator

from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

import cloudoptima_workflows
from cloudoptima_workflows.connection import DATA_CONVERTER
from tests.workflows.history_recording import HISTORIES, RECORDERS

RECORDED = {
    # Recorded before batches (a CollectAccount child per account): replays the unpatched path.
    "collect_all_children.json": "CollectAll",
    "collect_all.json": "CollectAll",
    "collect_account.json": "CollectAccount",
    "analyse_organisation.json": "AnalyseOrganisation",
    "analyse_all.json": "AnalyseAll",
    "evaluate_budgets.json": "EvaluateBudgets",
    "refresh_forecasts.json": "RefreshForecasts",
    "cleanup.json": "Cleanup",
    "refresh_prices.json": "RefreshPrices",
    "policy_execution.json": "PolicyExecution",
    "policy_triggers.json": "PolicyTriggers",
    "remediation.json": "Remediation",
    "deliver_notifications.json": "DeliverNotifications",
    "send_digests.json": "SendDigests",
    "generate_report.json": "GenerateReport",
    "scheduled_report.json": "ScheduledReport",
    "reallocate_costs.json": "ReallocateCosts",
    "scheduled_cost_export.json": "ScheduledCostExport",
    "run_cost_export.json": "RunCostExport",
    "sync_tickets.json": "SyncTickets",
    "retention.json": "Retention",
}
"""Each golden history and the workflow type it records."""


def workflow_classes() -> dict[str, type]:
    """Every workflow defined in a ``cloudoptima_workflows.<area>.workflows`` module, by workflow type."""
    found: dict[str, type] = {}
    for area in pkgutil.iter_modules(cloudoptima_workflows.__path__):
        if not area.ispkg:
            continue
        try:
            module = importlib.import_module(f"cloudoptima_workflows.{area.name}.workflows")
        except ModuleNotFoundError:
            continue
        for _, cls in inspect.getmembers(module, inspect.isclass):
            definition = workflow._Definition.from_class(cls)
            if definition is not None and definition.name is not None and cls.__module__ == module.__name__:
                found[definition.name] = cls
    return found


def test_every_workflow_type_has_a_golden_history() -> None:
    types = workflow_classes()
    assert len(types) >= 11, sorted(types)
    assert set(types) <= set(RECORDED.values()), (
        f"no golden history for {sorted(set(types) - set(RECORDED.values()))}"
    )
    on_disk = {path.name for path in HISTORIES.glob("*.json")}
    assert on_disk == set(RECORDED) == set(RECORDERS)


async def test_every_recorded_history_replays_deterministically() -> None:
    """All histories replay in one replayer run (one sandboxed worker: a replayer per history cost ~10 s each);
    a failure names every history that did not replay and why."""
    histories = []
    for name in sorted(RECORDED):
        history = WorkflowHistory.from_json(f"replay-{name}", (HISTORIES / name).read_text())
        started = history.events[0].workflow_execution_started_event_attributes.workflow_type.name
        assert started == RECORDED[name], f"{name} records {started}, not {RECORDED[name]}"
        histories.append(history)
    replayer = Replayer(workflows=list(workflow_classes().values()), data_converter=DATA_CONVERTER)

    async def each() -> AsyncIterator[WorkflowHistory]:
        for history in histories:
            yield history

    results = await replayer.replay_workflows(each(), raise_on_replay_failure=False)
    names = {
        h.events[0].workflow_execution_started_event_attributes.original_execution_run_id: h.workflow_id
        for h in histories
    }
    failures = {names.get(run_id, run_id): str(error) for run_id, error in results.replay_failures.items()}
    assert failures == {}, failures
