"""Replay recorded histories of real collection and analysis runs against the current workflow code.

A change that makes the workflows non-deterministic for histories already in flight (reordered or renamed
activities or children, changed timers) fails here. How to regenerate the histories after an *intended*
change is in the docstring of ``test_collection_workflow.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from cloudoptima_workflows.analysis.workflows import AnalyseOrganisationWorkflow
from cloudoptima_workflows.collection.workflows import CollectAccountWorkflow, CollectAllWorkflow
from cloudoptima_workflows.connection import DATA_CONVERTER

HISTORIES = Path(__file__).parent / "histories"
RECORDED = {
    # Recorded before batches (a CollectAccount child per account): replays the unpatched path.
    "collect_all_children.json": "CollectAll",
    "collect_all.json": "CollectAll",
    "collect_account.json": "CollectAccount",
    "analyse_organisation.json": "AnalyseOrganisation",
}


@pytest.mark.parametrize("name", sorted(RECORDED))
async def test_recorded_history_replays_deterministically(name: str) -> None:
    history = WorkflowHistory.from_json(f"replay-{name}", (HISTORIES / name).read_text())
    assert history.events[0].workflow_execution_started_event_attributes.workflow_type.name == RECORDED[name]
    replayer = Replayer(
        workflows=[CollectAllWorkflow, CollectAccountWorkflow, AnalyseOrganisationWorkflow],
        data_converter=DATA_CONVERTER,
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{name}: {result.replay_failure}"
