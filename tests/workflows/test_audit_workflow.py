"""Writes made by workflows reach the audit log as ``system`` with their workflow id: the worker's audit
interceptor records each write activity (a remediation's plan and state records), and a kernel service
running inside an activity (a cloud account's status change) names the workflow it ran in."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Engine
from temporalio.client import WorkflowFailureError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from cloudoptima.services.audit_queries import AuditFilter, search
from cloudoptima.storage.engine import session_factory
from cloudoptima_workflows.audit import NOT_AUDITED, AuditInterceptor
from cloudoptima_workflows.client import start_remediation
from cloudoptima_workflows.collection.workflows import CollectAccountWorkflow
from cloudoptima_workflows.queues import COLLECTION, REMEDIATION
from cloudoptima_workflows.remediation import registration
from cloudoptima_workflows.remediation.activities import RemediationDeps
from cloudoptima_workflows.remediation.workflows import RemediationWorkflow
from cloudoptima_workflows.worker import WorkerDeps, build_workers
from tests.workflows.collection_support import (
    account_input,
    create_store,
    create_tenant,
    drop_tenant,
    registry,
)
from tests.workflows.test_remediation_harness import sandbox_copy, sandbox_factory, tenant
from tests.workflows.test_remediation_workflow import stop_request


def _workflow_rows(engine: Engine, org: uuid.UUID) -> list[dict[str, object]]:
    with session_factory(engine)() as session:
        page = search(session, org, AuditFilter.build(channel="workflow"), limit=500)
        return [
            {
                "action": r.action,
                "actor": r.actor,
                "user_id": r.user_id,
                "result": r.result,
                "resource_type": r.resource_type,
                "resource_id": r.resource_id,
                "details": r.details,
            }
            for r in page.rows
        ]


async def test_remediation_activities_are_recorded_as_system_with_their_workflow(
    time_skipping_env: WorkflowEnvironment, engine: Engine, tmp_path: Path
) -> None:
    with tenant(engine, sandbox_copy(tmp_path / "sandbox")) as org:
        sessions = session_factory(engine)
        deps = RemediationDeps(sessions=sessions, providers=sandbox_factory(org))
        vm = org.running_instances(1)[0]
        with ThreadPoolExecutor(max_workers=4) as executor:
            async with Worker(
                time_skipping_env.client,
                task_queue=REMEDIATION,
                workflows=registration.workflows(),
                activities=registration.activities(deps),
                activity_executor=executor,
                interceptors=[AuditInterceptor(sessions)],
            ):
                info = await start_remediation(
                    time_skipping_env.client, stop_request(org, [vm.resource_id], dry_run=True)
                )
                done = await time_skipping_env.client.get_workflow_handle_for(
                    RemediationWorkflow.run, info.workflow_id
                ).result()
        assert done.state == "dry_run"
        rows = _workflow_rows(engine, org.organization_id)
        assert rows and all(r["actor"] == "system" and r["user_id"] is None for r in rows)
        assert all(r["details"]["workflow_id"] == info.workflow_id for r in rows)  # type: ignore[index]
        plan = next(r for r in rows if r["action"] == "remediation.plan")
        assert plan["result"] == "success"
        assert (plan["resource_type"], plan["resource_id"]) == ("policy_execution", info.execution_id)
        assert plan["details"]["input"]["request"]["organization_id"] == str(org.organization_id)  # type: ignore[index]
        records = [r for r in rows if r["action"] == "remediation.record"]
        assert records and {r["resource_id"] for r in records} == {info.execution_id}
        assert "dry_run" in {r["details"]["input"]["state"] for r in records}  # type: ignore[index]
        assert not {r["action"] for r in rows} & set(NOT_AUDITED)


async def test_a_status_change_inside_an_activity_names_its_workflow(
    temporal_env: WorkflowEnvironment, engine: Engine, tmp_path: Path
) -> None:
    store = create_store(tmp_path / "estate", accounts=1)
    denied = store.estate().accounts[0].account_id
    org = create_tenant(engine, store, extra_settings={denied: {"account_id": "999999999999"}})
    queue = f"collection-{uuid.uuid4().hex[:8]}"
    deps = WorkerDeps(engine=engine, sessions=session_factory(engine), providers=registry(), publish=None)
    workflow_id = f"collect-audit-{uuid.uuid4()}"
    try:
        with ThreadPoolExecutor(4) as executor:
            (worker,) = build_workers(
                temporal_env.client,
                deps,
                [COLLECTION],
                executor,
                queue_names={COLLECTION: queue},
                max_concurrent_activities=4,
            )
            async with worker:
                with pytest.raises(WorkflowFailureError):
                    await temporal_env.client.execute_workflow(
                        CollectAccountWorkflow.run,
                        account_input(org, denied),
                        id=workflow_id,
                        task_queue=queue,
                    )
        (change,) = _workflow_rows(engine, org.organization_id)
        assert change["action"] == "cloud_account.status_changed" and change["result"] == "failure"
        assert change["actor"] == "system"
        assert (change["resource_type"], change["resource_id"]) == (
            "cloud_account",
            str(org.accounts[denied]),
        )
        details = change["details"]
        assert isinstance(details, dict)
        assert (
            details["from"] == "active" and details["to"] == "error" and "999999999999" in details["reason"]
        )
        assert details["workflow_id"] == workflow_id and details["activity"] == "collection.account"
    finally:
        drop_tenant(engine, org)
