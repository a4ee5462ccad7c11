"""A decision sent the moment REST shows ``pending_approval`` is judged against that state.

The workflow writes a state to the database (the ``remediation.record`` activity) before its own status shows
it, so a reader of REST can see ``pending_approval`` and send a decision while the workflow still holds the
state before it. Here the record activity of ``pending_approval`` writes the row and then holds its answer until
the test's decision has been admitted by the workflow: the decision must wait for the record and be accepted,
not refused with "not waiting for approval (state planning)".
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine
from temporalio import activity
from temporalio.client import WorkflowUpdateStage
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from cloudoptima.storage.engine import session_factory
from cloudoptima_workflows.client import start_remediation
from cloudoptima_workflows.queues import REMEDIATION
from cloudoptima_workflows.remediation import inputs as i
from cloudoptima_workflows.remediation import registration
from cloudoptima_workflows.remediation.activities import RemediationDeps
from cloudoptima_workflows.remediation.progress import FollowedRemediationActivities
from cloudoptima_workflows.remediation.workflows import RemediationWorkflow
from tests.workflows.test_remediation_approvals import tag_request
from tests.workflows.test_remediation_harness import (
    APPROVAL_KEYS,
    Tenant,
    sandbox_copy,
    sandbox_factory,
    tenant,
    until_recorded,
)
from tests.workflows.test_remediation_workflow import handle


@pytest.fixture
def org(engine: Engine, tmp_path: Path) -> Iterator[Tenant]:
    with tenant(engine, sandbox_copy(tmp_path / "sandbox"), name="decision-race") as created:
        yield created


async def test_a_decision_sent_on_seeing_pending_approval_waits_for_the_record_and_is_accepted(
    time_skipping_env: WorkflowEnvironment, engine: Engine, org: Tenant
) -> None:
    deps = replace(
        RemediationDeps(sessions=session_factory(engine), providers=sandbox_factory(org)),
        approval_keys=APPROVAL_KEYS,
    )
    real = FollowedRemediationActivities(deps)
    admitted = threading.Event()

    @activity.defn(name="remediation.record")
    def record(params: i.RecordInput) -> None:
        real.record(params)
        if params.state == "pending_approval":
            # the row says pending_approval; the workflow learns it only when this answer arrives
            assert admitted.wait(timeout=60), "the decision never reached the workflow"

    listed = [a for a in registration.activities(deps) if getattr(a, "__name__", "") != "record"]
    assert len(listed) == len(registration.activities(deps)) - 1
    client = time_skipping_env.client
    with ThreadPoolExecutor(max_workers=8) as executor:
        async with Worker(
            client,
            task_queue=REMEDIATION,
            workflows=registration.workflows(),
            activities=[*listed, record],
            activity_executor=executor,
        ):
            (vm,) = (r.resource_id for r in org.running_instances(1))
            info = await start_remediation(client, tag_request(org, vm))
            started = handle(client, info.workflow_id)
            await until_recorded(engine, info.execution_id, "pending_approval")
            update = await started.start_update(
                RemediationWorkflow.decide,
                i.DecisionInput(
                    approve=True, comment="seen in REST", user_id=org.user("admin"), channel="rest"
                ),
                wait_for_stage=WorkflowUpdateStage.ACCEPTED,
            )
            admitted.set()
            decided = await update.result()
            assert decided.decision is not None and decided.decision.approve is True
            final = await started.result()
    assert final.state == "completed"
    assert org.resource(vm).tags.get("reviewed") == "yes"
