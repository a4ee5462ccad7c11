"""A remediation waiting for approval survives a Temporal restart and, approved afterwards, acts exactly once."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from cloudoptima.domain.inventory import ResourceState
from cloudoptima.embedded import temporal
from cloudoptima.embedded.ports import free_port
from cloudoptima.embedded.process import stop
from cloudoptima.storage.engine import session_factory
from cloudoptima_workflows.client import (
    DecisionRefusedError,
    decide,
    remediation_status,
    start_remediation,
)
from cloudoptima_workflows.connection import connect
from cloudoptima_workflows.remediation.activities import RemediationDeps
from cloudoptima_workflows.remediation.workflows import RemediationWorkflow
from tests.workflows.test_remediation_harness import (
    Tenant,
    remediation_worker,
    sandbox_copy,
    sandbox_factory,
    tenant,
)
from tests.workflows.test_remediation_workflow import stop_request, until_state


class DevServer:
    """A Temporal dev server on free ports persisting to ``db_file``; restartable on the same file."""

    def __init__(self, directory: Path) -> None:
        self.db_file = directory / "temporal.db"
        self.log_file = directory / "temporal.log"
        self.port, self.ui_port = free_port(), free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = temporal.start(self.db_file, self.port, self.ui_port, self.log_file)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[DevServer]:
    dev = DevServer(tmp_path / "temporal")
    dev.start()
    try:
        yield dev
    finally:
        dev.stop()


@pytest.fixture
def org(engine: Engine, tmp_path: Path) -> Iterator[Tenant]:
    with tenant(engine, sandbox_copy(tmp_path / "sandbox")) as created:
        yield created


@pytest.mark.slow
async def test_approval_after_a_server_restart_acts_exactly_once(
    server: DevServer, org: Tenant, engine: Engine
) -> None:
    deps = RemediationDeps(sessions=session_factory(engine), providers=sandbox_factory(org))
    vm = org.running_instances(1)[0]

    client = await connect(server.address)
    async with remediation_worker(client, deps):
        info = await start_remediation(client, stop_request(org, [vm.resource_id]))
        await until_state(client, info.workflow_id, {"pending_approval"})
    server.stop()
    assert org.journal() == []

    server.start()
    client = await connect(server.address)
    async with remediation_worker(client, deps):
        assert (await remediation_status(client, info.workflow_id)).state == "pending_approval"
        await decide(client, info.workflow_id, True, "after the restart", org.user("finops_manager"))
        final = await client.get_workflow_handle_for(RemediationWorkflow.run, info.workflow_id).result()
        with pytest.raises(DecisionRefusedError):
            await decide(client, info.workflow_id, True, "again", org.user("admin"))
    assert final.state == "completed"
    assert org.resource(vm.resource_id).state is ResourceState.STOPPED
    executed = [e for e in org.journal() if e.idempotency_key.startswith(info.workflow_id)]
    assert [e.idempotency_key for e in executed] == [f"{info.workflow_id}/step-0"], (
        "the action ran exactly once"
    )
