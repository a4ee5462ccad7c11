"""Policies that fire, on a real Temporal dev server and Postgres: an analysis ends by evaluating the
triggers; a new high-severity anomaly fires its event policy once, the firing is recorded with what fired
it and the execution it started, that execution waits for a person's approval, and each stage is published
on ``policy_executions``. A manual collection whose credentials are refused fires ``collection.failed``."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from temporalio.client import Client, WorkflowFailureError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from cloudoptima.services.policies import PolicyService, validate_policy
from cloudoptima.services.policy_triggers import PolicyTriggerService
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import Anomaly
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_workflows.analysis.activities import AnalysisActivities
from cloudoptima_workflows.analysis.inputs import AnalyseOrganisationInput
from cloudoptima_workflows.analysis.workflows import AnalyseOrganisationWorkflow
from cloudoptima_workflows.collection.workflows import CollectAccountWorkflow
from cloudoptima_workflows.policies.inputs import PolicyTriggersResult
from cloudoptima_workflows.policies.workflows import PolicyTriggersWorkflow
from cloudoptima_workflows.queues import COLLECTION
from cloudoptima_workflows.remediation import registration
from cloudoptima_workflows.remediation.activities import RemediationDeps
from cloudoptima_workflows.worker import WorkerDeps, build_workers
from tests.workflows.collection_support import (
    account_input,
    create_store,
    create_tenant,
    drop_tenant,
    registry,
)
from tests.workflows.history_recording import record_history
from tests.workflows.test_policies_workflow import SEARCH_STOP, create_policy, search_instances
from tests.workflows.test_remediation_harness import Tenant, sandbox_copy, sandbox_factory, tenant
from tests.workflows.test_remediation_workflow import until_state


class Recorder:
    """The event publisher of the activities: keeps what was published."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, organization_id: uuid.UUID, event_type: str, data: Mapping[str, Any]) -> int:
        self.events.append((event_type, dict(data)))
        return 1

    def stages(self, execution_id: str) -> list[str]:
        return sorted(
            str(d["stage"])
            for t, d in self.events
            if t == "policy_executions" and d.get("execution_id") == execution_id and "stage" in d
        )


@pytest.fixture
def org(engine: Engine, tmp_path: Path) -> Iterator[Tenant]:
    with tenant(engine, sandbox_copy(tmp_path / "sandbox"), name="triggers") as created:
        yield created


async def _analyse(
    client: Client, queues: dict[str, str], org: Tenant, *, record: str | None = None
) -> PolicyTriggersResult:
    """Run one analysis of the organisation and wait for the trigger evaluation it starts (``record``: save
    that evaluation's history under this name, see ``history_recording``)."""
    handle = await client.start_workflow(
        AnalyseOrganisationWorkflow.run,
        AnalyseOrganisationInput(
            organization_id=str(org.organization_id), policy_task_queue=queues["remediation"]
        ),
        id=f"analyse-{uuid.uuid4()}",
        task_queue=queues["processing"],
    )
    await handle.result()
    triggers = client.get_workflow_handle_for(
        PolicyTriggersWorkflow.run, f"policy-triggers-{org.organization_id}-{handle.result_run_id}"
    )
    result = await triggers.result()
    if record is not None:
        await record_history(triggers, record)
    return result


async def test_analysis_fires_the_event_policy_once_and_it_waits_for_approval(
    temporal_env: WorkflowEnvironment, engine: Engine, org: Tenant
) -> None:
    client = temporal_env.client
    sessions = session_factory(engine)
    queues = {q: f"{q}-{uuid.uuid4().hex[:8]}" for q in ("processing", "remediation")}
    published = Recorder()
    policy_id = create_policy(engine, org, SEARCH_STOP)  # anomaly.detected with severity high
    with tenant_session(sessions, org.organization_id) as session:
        low = Anomaly(organization_id=org.organization_id, severity="low", detected_at=datetime.now(UTC))
        high = Anomaly(organization_id=org.organization_id, severity="high", detected_at=datetime.now(UTC))
        session.add_all([low, high])
        session.flush()
        anomaly_id = str(high.id)
    deps = RemediationDeps(sessions=sessions, providers=sandbox_factory(org), publish=published)
    with ThreadPoolExecutor(max_workers=8) as executor:
        async with (
            Worker(
                client,
                task_queue=queues["remediation"],
                workflows=registration.workflows(),
                activities=registration.activities(deps),
                activity_executor=executor,
            ),
            Worker(
                client,
                task_queue=queues["processing"],
                workflows=[AnalyseOrganisationWorkflow],
                activities=AnalysisActivities(sessions, published).processing(),
                activity_executor=executor,
            ),
        ):
            first = await _analyse(client, queues, org, record="policy_triggers")
            assert len(first.started_workflow_ids) == 1, "one new event, one policy: one firing"
            execution = first.started_workflow_ids[0]
            pending = await until_state(client, f"{execution}/remediation", {"pending_approval"})
            assert pending.plan is not None and pending.plan.approval_required, (
                "a fired policy waits for a person"
            )
            assert [s.resource_id for s in pending.plan.steps] == search_instances(org)
            assert org.journal() == [], "nothing changed in the cloud"

            again = await _analyse(client, queues, org)
            assert again.started_workflow_ids == [], "the same anomaly does not fire the policy twice"

    with tenant_session(sessions, org.organization_id) as session:
        [firing] = PolicyTriggerService(session, org.organization_id).firings(policy_id)
        recorded = (firing.trigger_type, firing.event, firing.event_id, firing.workflow_id)
        execution_id = str(firing.execution_id)
    assert recorded == ("event", "anomaly.detected", anomaly_id, execution)
    assert pending.execution_id == execution_id, "the firing names the execution it started"
    assert published.stages(execution_id) == ["fired", "started"], published.events


def _no_provider(cloud_account_id: uuid.UUID) -> Any:
    raise LookupError(f"no provider for {cloud_account_id}: this test changes nothing in a cloud")


async def test_a_refused_collection_fires_collection_failed(
    temporal_env: WorkflowEnvironment, engine: Engine, tmp_path: Path
) -> None:
    store = create_store(tmp_path / "estate", accounts=1)
    account = store.estate().accounts[0].account_id
    collected = create_tenant(engine, store, extra_settings={account: {"account_id": "999999999999"}})
    client, sessions = temporal_env.client, session_factory(engine)
    queues = {q: f"{q}-{uuid.uuid4().hex[:8]}" for q in (COLLECTION, "remediation")}
    with tenant_session(sessions, collected.organization_id) as session:
        policy_id = (
            PolicyService(session, collected.organization_id)
            .create(
                validate_policy(
                    {
                        "name": "tag on failure",
                        "trigger": {"type": "event", "config": {"event": "collection.failed"}},
                        "actions": [{"type": "tag", "config": {"tags": {"collection": "failed"}}}],
                    }
                )
            )
            .id
        )
    deps = WorkerDeps(engine=engine, sessions=sessions, providers=registry(), publish=None)
    try:
        with ThreadPoolExecutor(max_workers=8) as executor:
            (collector,) = build_workers(
                client, deps, [COLLECTION], executor, queue_names=queues, max_concurrent_activities=8
            )
            async with (
                collector,
                Worker(
                    client,
                    task_queue=queues["remediation"],
                    workflows=registration.workflows(),
                    activities=registration.activities(
                        RemediationDeps(sessions=sessions, providers=_no_provider)
                    ),
                    activity_executor=executor,
                ),
            ):
                handle = await client.start_workflow(
                    CollectAccountWorkflow.run,
                    account_input(collected, account).model_copy(
                        update={"policy_task_queue": queues["remediation"]}
                    ),
                    id=f"collect-refused-{uuid.uuid4()}",
                    task_queue=queues[COLLECTION],
                )
                with pytest.raises(WorkflowFailureError):
                    await handle.result()
                triggers = client.get_workflow_handle_for(
                    PolicyTriggersWorkflow.run,
                    f"policy-triggers-{collected.organization_id}-{handle.result_run_id}",
                )
                [started] = (await triggers.result()).started_workflow_ids
        with tenant_session(sessions, collected.organization_id) as session:
            [firing] = PolicyTriggerService(session, collected.organization_id).firings(policy_id)
            assert (firing.event, firing.event_id.split(":")[0], firing.workflow_id) == (
                "collection.failed",
                str(collected.accounts[account]),
                started,
            )
            assert "999999999999" in firing.details["payload"]["reason"]
    finally:
        drop_tenant(engine, collected)
