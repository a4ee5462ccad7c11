"""Property: whatever the sequence of decisions, signals, duplicate decisions, role mixes and timeouts, a plan
that requires approval acts only after a valid approval that came first and before the TTL. Deciders are real
users of the tenant, one per role, and the requester is the user of its role: that user may reject but never
approve their own request (separation of duties, the default).

Hypothesis drives a real worker on the time-skipping server (run in a background event loop so the examples
can be plain functions); the oracle is an independent table of who may approve which risk.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from cloudoptima.embedded.temporal import executable
from cloudoptima.storage.engine import session_factory
from cloudoptima_workflows.client import (
    DecisionRefusedError,
    decide,
    remediation_status,
    start_remediation,
)
from cloudoptima_workflows.connection import DATA_CONVERTER
from cloudoptima_workflows.remediation.activities import RemediationDeps
from cloudoptima_workflows.remediation.inputs import RemediationRequest, ResourceAction, SignalDecision
from cloudoptima_workflows.remediation.workflows import RemediationWorkflow
from tests.workflows.test_remediation_harness import (
    Tenant,
    remediation_worker,
    sandbox_copy,
    sandbox_factory,
    tenant,
    ui_code,
)

T = TypeVar("T")
ROLES = ("viewer", "analyst", "engineer", "finops_manager", "admin")
MAY_APPROVE = {
    "low": {"engineer", "finops_manager", "admin"},
    "medium": {"finops_manager", "admin"},
    "high": {"admin"},
}
TTL = timedelta(hours=2)
EVENTS = (
    "update_approve",
    "update_approve",
    "update_reject",
    "signal_approve",
    "signal_approve",
    "signal_reject",
    "timeout",
)
"""Approvals are drawn twice as often as the rest, so most examples get past a refusal or two."""


class Background:
    """An event loop in a thread: the examples submit coroutines to it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=120)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture(scope="module")
def world(
    engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Tenant, Background, WorkflowEnvironment]]:
    directory: Path = tmp_path_factory.mktemp("remediation-property")
    with tenant(engine, sandbox_copy(directory / "sandbox")) as org:
        background = Background()
        stack = contextlib.AsyncExitStack()
        deps = RemediationDeps(sessions=session_factory(engine), providers=sandbox_factory(org))

        async def setup() -> WorkflowEnvironment:
            env = await WorkflowEnvironment.start_time_skipping(
                test_server_existing_path=executable("temporal-test-server"), data_converter=DATA_CONVERTER
            )
            stack.push_async_callback(env.shutdown)
            await stack.enter_async_context(remediation_worker(env.client, deps))
            return env

        env = background.run(setup())
        try:
            yield org, background, env
        finally:
            background.run(stack.aclose())
            background.close()


async def _wait(predicate: Any, what: str) -> None:
    for _ in range(800):
        if await predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def _scenario(
    org: Tenant, env: WorkflowEnvironment, risk: str, requester: str, events: list[tuple[str, str]]
) -> tuple[str, bool, bool]:
    """Run one scenario; returns (final state, whether the oracle expects execution, whether it acted)."""
    client = env.client
    vm = org.running_instances(1)[0]
    request = RemediationRequest(
        organization_id=str(org.organization_id),
        requested_by=org.approver(requester),
        execution_id="",
        actions=[
            ResourceAction(
                cloud_account_id=str(org.cloud_account_id),
                resource_id=vm.resource_id,
                action="tag",
                parameters={"tags": {"reviewed": "yes"}},
            )
        ],
        risk_level=risk,
        approval_required=True,
        approval_ttl_seconds=int(TTL.total_seconds()),
    )
    info = await start_remediation(client, request)
    wf = client.get_workflow_handle_for(RemediationWorkflow.run, info.workflow_id)

    async def pending() -> bool:
        with contextlib.suppress(RPCError):
            if (await remediation_status(client, info.workflow_id)).state == "pending_approval":
                events = [e async for e in wf.fetch_history_events()]
                return any(e.HasField("timer_started_event_attributes") for e in events)
        return False

    async def closed() -> bool:
        return (await wf.describe()).status != WorkflowExecutionStatus.RUNNING

    await _wait(pending, "the approval wait")
    decided: bool | None = None  # the oracle: the first valid decision, if it came before the TTL
    expired = False
    for kind, role in events:
        open_for_decisions = decided is None and not expired
        approve = kind.endswith("approve")
        own = approve and role == requester
        valid = open_for_decisions and role in MAY_APPROVE[risk] and not own
        if kind == "timeout":
            if open_for_decisions:
                expired = True
                await env.sleep(TTL + timedelta(minutes=1))
                await _wait(closed, "the expiry")
            continue
        if kind.startswith("update"):
            try:
                await decide(client, info.workflow_id, approve, "property", org.user(role))
                accepted = True
            except DecisionRefusedError:
                accepted = False
            assert accepted == valid, (kind, role, risk, decided, expired)
        else:
            before = len((await remediation_status(client, info.workflow_id)).logs)
            try:
                signal = RemediationWorkflow.approve if approve else RemediationWorkflow.reject
                code = ui_code(org.organization_id, info.execution_id, org.user(role))
                await wf.signal(
                    signal, SignalDecision(user_id=org.user(role), role="admin", approval_code=code)
                )
            except RPCError:
                assert not open_for_decisions, "an open workflow accepts signals"
                continue

            async def applied(before: int = before) -> bool:
                return (
                    len((await remediation_status(client, info.workflow_id)).logs) > before or await closed()
                )

            await _wait(applied, "the signal")
        if valid:
            decided = approve
    for _ in range(200):
        if await closed():
            break
        await env.sleep(TTL)
    final = await wf.result()
    acted = any(e.idempotency_key.startswith(info.workflow_id) for e in org.journal())
    return final.state, decided is True, acted


@pytest.mark.slow
@settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    risk=st.sampled_from(("low", "medium", "high")),
    requester=st.sampled_from(ROLES),
    events=st.lists(st.tuples(st.sampled_from(EVENTS), st.sampled_from(ROLES)), min_size=1, max_size=4),
)
def test_no_action_without_a_valid_approval(
    world: tuple[Tenant, Background, WorkflowEnvironment],
    risk: str,
    requester: str,
    events: list[tuple[str, str]],
) -> None:
    org, background, env = world
    state, expected, acted = background.run(_scenario(org, env, risk, requester, events))
    assert acted == expected, (state, risk, events)
    assert state == "completed" if expected else state in {"rejected", "expired"}
