"""The real servers as processes: the official ``mcp`` client over stdio and streamable HTTP, and the MCP
Inspector CLI over both. Tools run with the real clock here, so every call passes explicit dates."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from sqlalchemy import Engine

from cloudoptima.embedded.ports import free_port
from cloudoptima.services.tokens import TokenIssuer
from cloudoptima_tools import catalog
from cloudoptima_tools.spec import run_tool
from tests.tools.conftest import context_for
from tests.tools.seed import END, Estates

ROOT = Path(__file__).resolve().parents[2]
JWT_SECRET = "test-secret-for-mcp-transports-0123456789abcdef"
PERIOD = {"start_date": "2029-12-01", "end_date": END.isoformat(), "group_by": "provider"}
INSPECTOR = ROOT / "node_modules" / ".bin" / "mcp-inspector"


def expected_total(engine: Engine, estates: Estates, org: str) -> str:
    seeded = estates.a if org == "a" else estates.b
    output = run_tool(catalog.by_name()["cost_by_dimension"], context_for(engine, seeded), PERIOD)
    return str(output.model_dump(mode="json")["total_billed_cost"])


@pytest.fixture(scope="module")
def server_env(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    state = tmp_path_factory.mktemp("mcp-state")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDOPTIMA_", "TEMPORAL_"))}
    env.update(
        DATABASE_URL=pg_url,
        CLOUDOPTIMA_STATE_DIR=str(state),
        JWT_SECRET=JWT_SECRET,
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    return env


def _wait_for_port(port: int, process: subprocess.Popen[bytes], deadline_s: float = 60) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"MCP server exited with {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("MCP HTTP server did not start")


@pytest.fixture(scope="module")
def http_url(server_env: dict[str, str], estates: Estates) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "cloudoptima_mcp.platform", "--toolsets", "all"),
            *("--transport", "http", "--port", str(port)),
        ],
        env=server_env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.mark.parametrize(
    ("command", "toolsets_env"),
    [
        ([sys.executable, "-m", "cloudoptima_mcp.platform"], {"CLOUDOPTIMA_MCP_TOOLSETS": "all"}),
        ([str(Path(sys.executable).parent / "cloudoptima"), "mcp", "platform", "--toolsets", "all"], {}),
    ],
    ids=["python-m", "cloudoptima-mcp"],
)
async def test_stdio_with_the_official_client(
    engine: Engine,
    estates: Estates,
    server_env: dict[str, str],
    command: list[str],
    toolsets_env: dict[str, str],
) -> None:
    params = StdioServerParameters(
        command=command[0],
        args=command[1:],
        env={**server_env, **toolsets_env, "CLOUDOPTIMA_API_KEY": estates.a.keys["admin"]},
        cwd=str(ROOT),
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        names = {t.name for t in (await session.list_tools()).tools}
        assert names == {s.name for s in catalog.catalog()}
        result = await session.call_tool("cost_by_dimension", PERIOD)
        assert not result.is_error
        assert result.structured_content is not None
        assert result.structured_content["total_billed_cost"] == expected_total(engine, estates, "a")


def test_stdio_refuses_a_bad_key(server_env: dict[str, str]) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "cloudoptima_mcp.aws"],
        env={**server_env, "CLOUDOPTIMA_API_KEY": "co_abc_not-a-real-secret"},
        cwd=ROOT,
        input=b"",
        capture_output=True,
        timeout=60,
    )
    assert run.returncode == 1
    assert b"not a valid, active API key" in run.stderr


async def _http_call(url: str, token: str | None) -> tuple[set[str], dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        names = {t.name for t in (await session.list_tools()).tools}
        result = await session.call_tool("cost_by_dimension", PERIOD)
        assert not result.is_error and result.structured_content is not None
        summary = await session.read_resource("cloudoptima://organisation/summary")
        organisation = json.loads(summary.contents[0].text)["organisation"]  # type: ignore[union-attr]
        remediation = await session.call_tool(
            "request_remediation", {"recommendation_id": str(uuid.uuid4()), "confirm": True}
        )
        assert remediation.is_error
        remediation_error = remediation.content[0].text  # type: ignore[union-attr]
        return names, {**result.structured_content, "_org": organisation, "_remediation": remediation_error}


async def test_streamable_http_requires_a_bearer_and_scopes_by_it(
    engine: Engine, estates: Estates, http_url: str
) -> None:
    async with httpx.AsyncClient(timeout=30) as plain:
        anonymous = await plain.post(http_url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        assert anonymous.status_code == 401
        wrong = await plain.post(http_url, json={}, headers={"Authorization": "Bearer co_abc_wrong-secret"})
        assert wrong.status_code == 401
    names, from_a = await _http_call(http_url, estates.a.keys["admin"])
    assert "request_remediation" in names
    assert from_a["total_billed_cost"] == expected_total(engine, estates, "a")
    assert from_a["_org"]["id"] == str(estates.a.organization_id)
    assert "not found" in from_a["_remediation"], "an admin passes RBAC and meets an unknown id"
    _, from_b = await _http_call(http_url, estates.b.keys["viewer"])
    assert from_b["total_billed_cost"] == expected_total(engine, estates, "b")
    assert from_b["_org"]["id"] == str(estates.b.organization_id)
    assert "lacks permission" in from_b["_remediation"], "a viewer may not request remediations"
    token, _ = TokenIssuer(JWT_SECRET).issue(estates.a.users["viewer"], estates.a.organization_id, "viewer")
    _, with_jwt = await _http_call(http_url, token)
    assert with_jwt["total_billed_cost"] == from_a["total_billed_cost"]


def _inspector(*args: str, env: dict[str, str]) -> Any:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js/npm is not installed: the MCP Inspector CLI cannot run")
    if not INSPECTOR.exists():
        pytest.fail("MCP Inspector is not installed: run `npm ci` (make test does)")
    run = subprocess.run(
        [str(INSPECTOR), "--cli", *args], env=env, cwd=ROOT, capture_output=True, timeout=120, check=False
    )
    assert run.returncode == 0, run.stderr.decode()[-2000:]
    return json.loads(run.stdout)


def test_inspector_cli_over_stdio(engine: Engine, estates: Estates, server_env: dict[str, str]) -> None:
    server = [
        "-e", f"DATABASE_URL={server_env['DATABASE_URL']}",
        "-e", f"CLOUDOPTIMA_STATE_DIR={server_env['CLOUDOPTIMA_STATE_DIR']}",
        "-e", f"CLOUDOPTIMA_API_KEY={estates.a.keys['admin']}",
        "-e", f"PYTHONPATH={ROOT}",
        "-e", "CLOUDOPTIMA_MCP_TOOLSETS=all",
        sys.executable, "-m", "cloudoptima_mcp.platform",
    ]  # fmt: skip
    listed = _inspector(*server, "--method", "tools/list", env=server_env)
    assert {t["name"] for t in listed["tools"]} == {s.name for s in catalog.catalog()}
    called = _inspector(
        *server,
        "--method", "tools/call", "--tool-name", "cost_by_dimension",
        "--tool-arg", f"start_date={PERIOD['start_date']}", f"end_date={PERIOD['end_date']}", "group_by=provider",
        env=server_env,
    )  # fmt: skip
    assert called.get("isError") is not True
    assert called["structuredContent"]["total_billed_cost"] == expected_total(engine, estates, "a")


def test_inspector_cli_over_http(
    engine: Engine, estates: Estates, http_url: str, server_env: dict[str, str]
) -> None:
    auth = ["--transport", "http", "--header", f"Authorization: Bearer {estates.b.keys['admin']}"]
    listed = _inspector(http_url, *auth, "--method", "tools/list", env=server_env)
    assert "cost_by_dimension" in {t["name"] for t in listed["tools"]}
    called = _inspector(
        http_url, *auth,
        "--method", "tools/call", "--tool-name", "cost_by_dimension",
        "--tool-arg", f"start_date={PERIOD['start_date']}", f"end_date={PERIOD['end_date']}", "group_by=provider",
        env=server_env,
    )  # fmt: skip
    assert called["structuredContent"]["total_billed_cost"] == expected_total(engine, estates, "b")
