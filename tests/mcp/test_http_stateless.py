"""Stateless streamable HTTP (the default) in two worker processes, reached with the official client; the
group-committed audit rows; the verified-bearer cache's lifetime; the worker-count option."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.embedded.ports import free_port
from cloudoptima.services.api_keys import ApiKeyService
from cloudoptima.services.audit import AuditEntry, record_many
from cloudoptima.storage.models import AuditLog
from cloudoptima.storage.tenancy import scope
from cloudoptima_mcp.audit_writer import AuditWriter
from cloudoptima_mcp.identity import REFRESH_AFTER_SECONDS, VERIFIED_TTL_SECONDS, BearerVerifier
from cloudoptima_mcp.server import WORKERS_ENV_VAR, http_workers_from, parse_arguments
from cloudoptima_mcp.toolsets import DEFAULTS, tools_in
from cloudoptima_tools import catalog
from tests.tools.seed import END, Estates

ROOT = Path(__file__).resolve().parents[2]
DATES = {"start_date": "2029-12-01", "end_date": END.isoformat()}


@pytest.fixture(scope="module")
def two_workers(pg_url: str, estates: Estates, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m cloudoptima_mcp.platform --transport http --workers 2`` with the default toolsets."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDOPTIMA_", "TEMPORAL_"))}
    env.update(
        DATABASE_URL=pg_url,
        CLOUDOPTIMA_STATE_DIR=str(tmp_path_factory.mktemp("mcp-stateless")),
        JWT_SECRET="test-secret-for-mcp-stateless-0123456789abcdef",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    port = free_port()
    log = tmp_path_factory.mktemp("mcp-stateless-log") / "server.log"
    command = [sys.executable, "-m", "cloudoptima_mcp.platform", "--transport", "http", "--port", str(port)]
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [*command, "--workers", "2"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr
        )
    try:
        deadline = time.monotonic() + 300  # a bound for a loaded machine, not a timing check
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"MCP server exited with {process.returncode}: {log.read_text()[-2000:]}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("MCP HTTP server did not start")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _arguments(name: str, listed: dict[str, Any]) -> dict[str, Any]:
    if name in ("cost_by_dimension", "cost_top_spenders", "cost_compare_periods"):
        return dict(DATES)
    if name == "anomaly_root_cause":
        return {"anomaly_id": listed["anomalies_list"]["items"][0]["id"]}
    if name == "recommendation_impact_preview":
        return {"recommendation_id": listed["recommendations_list"]["items"][0]["id"]}
    if name == "recommendation_decide":  # an unknown id: served and refused, the shared estate unchanged
        return {"recommendation_id": str(uuid.uuid4()), "decision": "dismiss", "reason": "not ours"}
    return {}


async def test_every_default_tool_is_served_statelessly_by_two_processes(
    two_workers: str, estates: Estates
) -> None:
    """Each call is a POST of its own (JSON answer, no session id), so either process may answer it; a
    long-running tool (budgets) answers without a progress stream."""
    defaults = [spec.name for spec in tools_in(catalog.catalog(), DEFAULTS["platform"])]
    headers = {"Authorization": f"Bearer {estates.a.keys['admin']}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        streamable_http_client(two_workers, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        assert [tool.name for tool in (await session.list_tools()).tools] == defaults
        answered: dict[str, Any] = {}
        for name in defaults:
            for _ in range(2):  # twice: the cacheable ones answer from the cache on the event loop
                result = await session.call_tool(name, _arguments(name, answered))
            refusal = {
                "recommendation_decide": "not found",
                # the server's clock is the real one and the seeded estate ends in 2030: no history yet,
                # said after the long-running tool's start notification was handled
                "cost_forecast": "no cost history",
            }
            if name in refusal:
                assert result.is_error and refusal[name] in result.content[0].text  # type: ignore[union-attr]
                continue
            assert not result.is_error, (name, result.content)
            assert result.structured_content is not None
            answered[name] = result.structured_content
    cost = answered["cost_by_dimension"]
    assert cost["items"] and cost["data"]["source"] == "local store"
    assert answered["anomaly_root_cause"] and answered["budgets_status"]["items"]

    # Stateless: a tools/call needs no initialize and no session id, and no session id is handed out.
    call = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "tools/call",
        "params": {"name": "cost_by_dimension", "arguments": DATES},
    }
    async with httpx.AsyncClient(timeout=60) as plain:
        answer = await plain.post(
            two_workers,
            json=call,
            headers={
                **headers,
                "Accept": "application/json, text/event-stream",
                "MCP-Protocol-Version": "2025-11-25",
            },
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("application/json")
        assert "mcp-session-id" not in answer.headers
        # either process may answer (each has its own result cache): the same numbers either way
        assert answer.json()["result"]["structuredContent"]["total_billed_cost"] == cost["total_billed_cost"]
        refused = await plain.post(two_workers, json=call, headers={"Authorization": "Bearer co_x_wrong"})
        assert refused.status_code == 401


def _entry(org: uuid.UUID, action: str, channel: str = "mcp") -> AuditEntry:
    return AuditEntry(
        organization_id=org,
        user_id=None,
        action=action,
        result="success",
        resource_type="mcp_tool",
        details={"n": action},
        channel=channel,  # type: ignore[arg-type]
        actor="system",
    )


def _count(engine: Engine, org: uuid.UUID, prefix: str) -> int:
    with Session(engine) as session:
        scope(session, org)
        return (
            session.scalar(
                select(func.count())
                .select_from(AuditLog)
                .where(AuditLog.organization_id == org, AuditLog.action.startswith(prefix))
            )
            or 0
        )


async def test_concurrent_audit_rows_share_transactions_and_a_failed_batch_writes_nothing(
    engine: Engine, estates: Estates
) -> None:
    org = estates.a.organization_id
    writer = AuditWriter(sessionmaker(engine, expire_on_commit=False))
    prefix = f"grouped-{uuid.uuid4().hex[:8]}-"
    async with anyio.create_task_group() as group:
        for n in range(20):
            group.start_soon(writer.write, _entry(org, f"{prefix}{n}"))
    assert _count(engine, org, prefix) == 20, "every call's row is committed when its write returns"
    assert writer.batches < 20, "calls that queued while a batch was written were committed together"

    bad = f"refused-{uuid.uuid4().hex[:8]}-"
    with pytest.raises(ValueError, match="unknown audit channel 'carrier-pigeon'"):
        await writer.write(_entry(org, f"{bad}0", channel="carrier-pigeon"))
    assert _count(engine, org, bad) == 0


def test_record_many_commits_each_organisation_in_order(engine: Engine, estates: Estates) -> None:
    a, b = estates.a.organization_id, estates.b.organization_id
    prefix = f"many-{uuid.uuid4().hex[:8]}-"
    ids = record_many(
        sessionmaker(engine, expire_on_commit=False),
        [_entry(a, f"{prefix}a1"), _entry(b, f"{prefix}b1"), _entry(a, f"{prefix}a2")],
    )
    assert len(set(ids)) == 3
    assert (_count(engine, a, prefix), _count(engine, b, prefix)) == (2, 1)
    with Session(engine) as session:
        scope(session, b)
        assert session.scalar(select(AuditLog.organization_id).where(AuditLog.id == ids[1])) == b


async def test_a_revoked_key_is_refused_once_its_verification_expires(
    engine: Engine, estates: Estates
) -> None:
    """The verifier remembers a key for VERIFIED_TTL_SECONDS on its clock (the revocation happens in
    another process, the gateway), then verifies it again and refuses it."""
    factory = sessionmaker(engine, expire_on_commit=False)
    org = estates.a.organization_id
    with factory() as session:
        scope(session, org)
        created = ApiKeyService(session, org).create(estates.a.users["viewer"], "ttl-test")
        session.commit()
    now = [1000.0]
    verifier = BearerVerifier(factory, None, clock=lambda: now[0])
    first = await verifier.verify_token(created.plaintext)
    assert first is not None and first.claims["org_id"] == str(org)
    with factory() as session:
        scope(session, org)
        ApiKeyService(session, org).revoke(created.row.id)
        session.commit()
    now[0] += VERIFIED_TTL_SECONDS - 1
    assert await verifier.verify_token(created.plaintext) is not None, "still remembered"
    now[0] += 2
    assert await verifier.verify_token(created.plaintext) is None
    assert await verifier.verify_token("co_x_not-a-key") is None


def _viewer_key(engine: Engine, estates: Estates, name: str) -> tuple[sessionmaker[Session], str, uuid.UUID]:
    factory = sessionmaker(engine, expire_on_commit=False)
    org = estates.a.organization_id
    with factory() as session:
        scope(session, org)
        created = ApiKeyService(session, org).create(estates.a.users["viewer"], name)
        session.commit()
    return factory, created.plaintext, created.row.id


def _counting(verifier: BearerVerifier, before: Any = None) -> list[str]:
    """Count the verifier's real verifications (argon2 + database); ``before`` runs first in each."""
    calls: list[str] = []
    real = verifier._verify

    def counted(token: str) -> Any:
        if before is not None:
            before()
        calls.append(token)
        return real(token)

    verifier._verify = counted  # type: ignore[method-assign]
    return calls


async def test_concurrent_requests_with_a_new_bearer_share_one_verification(
    engine: Engine, estates: Estates
) -> None:
    """Ten requests arrive with a key the process has not verified yet: one argon2 run, ten answers."""
    factory, key, _ = _viewer_key(engine, estates, "single-flight")
    verifier = BearerVerifier(factory, None, clock=lambda: 1000.0)
    entered = threading.Semaphore(0)
    real_identity = verifier._identity

    def identity(token: str, digest: str) -> Any:
        entered.release()
        return real_identity(token, digest)

    def all_arrived() -> None:  # hold the first verification until every request is in a thread
        for _ in range(10):
            assert entered.acquire(timeout=120), "a request never reached the verifier"

    verifier._identity = identity  # type: ignore[method-assign]
    calls = _counting(verifier, before=all_arrived)
    answers: list[Any] = []

    async def one() -> None:
        answers.append(await verifier.verify_token(key))

    async with anyio.create_task_group() as group:
        for _ in range(10):
            group.start_soon(one)
    assert len(answers) == 10 and all(a is not None for a in answers)
    assert len(calls) == 1


def _join_refreshes(verifier: BearerVerifier) -> int:
    running = list(verifier.refreshes.values())
    for thread in running:
        thread.join(timeout=120)
    return len(running)


async def test_a_remembered_bearer_is_verified_again_in_the_background_before_it_expires(
    engine: Engine, estates: Estates
) -> None:
    factory, key, key_id = _viewer_key(engine, estates, "refresh-ahead")
    now = [1000.0]
    verifier = BearerVerifier(factory, None, clock=lambda: now[0])
    calls = _counting(verifier)
    assert await verifier.verify_token(key) is not None and len(calls) == 1
    now[0] += REFRESH_AFTER_SECONDS - 1
    assert await verifier.verify_token(key) is not None and _join_refreshes(verifier) == 0
    now[0] += 1
    assert await verifier.verify_token(key) is not None, "answered from memory while it is verified again"
    assert _join_refreshes(verifier) == 1 and len(calls) == 2
    now[0] += VERIFIED_TTL_SECONDS - REFRESH_AFTER_SECONDS + 0.5  # past the first verification's TTL
    assert await verifier.verify_token(key) is not None, "remembered from the background verification"
    assert _join_refreshes(verifier) == 0 and len(calls) == 2
    with factory() as session:
        scope(session, estates.a.organization_id)
        ApiKeyService(session, estates.a.organization_id).revoke(key_id)
        session.commit()
    now[0] += REFRESH_AFTER_SECONDS - (VERIFIED_TTL_SECONDS - REFRESH_AFTER_SECONDS + 0.5)
    assert await verifier.verify_token(key) is not None, "still within the TTL of the last verification"
    assert _join_refreshes(verifier) == 1  # ... which found the key revoked and forgot it
    assert await verifier.verify_token(key) is None and len(calls) == 4


def test_worker_count_comes_from_the_option_or_the_environment_and_is_checked() -> None:
    assert http_workers_from(None, None) == 1
    assert http_workers_from(None, "3") == 3
    assert http_workers_from(2, "3") == 2
    with pytest.raises(ValueError, match=f"{WORKERS_ENV_VAR} must be a whole number of processes, got 'two'"):
        http_workers_from(None, "two")
    with pytest.raises(ValueError, match="--workers must be between 1 and 32, got 0"):
        http_workers_from(0, None)


def test_several_workers_refuse_stateful_sessions(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        parse_arguments("platform", ["--transport", "http", "--workers", "2", "--stateful"])
    assert stopped.value.code == 2
    assert "--workers above 1 needs stateless HTTP" in capsys.readouterr().err
