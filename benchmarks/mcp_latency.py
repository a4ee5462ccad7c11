"""Latency of a cached cost tool over streamable HTTP, and the response size of every tool.

Starts an embedded Postgres, loads a sandbox estate (ending today) into a fresh organisation with an API
key, starts the real platform server with every tool (``python -m cloudoptima_mcp.platform --toolsets all
--transport http``) and drives it with the official ``mcp`` client:

- ``cost_by_dimension`` with the same arguments ``--calls`` times (served from the tool cache after the
  first call): p50/p95 in ms, target p95 ≤ 50 ms;
- baseline in the same run: the same tool with a different period each call (cache misses, real queries);
- the response size (characters and ≈ tokens = chars / 4, content + structured content) of every tool at
  its largest page (``limit=500``), against the 25k-token ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from sqlalchemy import insert
from sqlalchemy.orm import sessionmaker

from benchmarks._support import embedded_database, p50, percentile, report
from cloudoptima.embedded.ports import free_port
from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.api_keys import ApiKeyService
from cloudoptima.services.sandbox_loading import generate_to, load_sandbox
from cloudoptima.storage.engine import make_engine
from cloudoptima.storage.models import Organization, User
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_tools.spec import HARD_TOKEN_LIMIT, estimate_tokens

ROOT = Path(__file__).resolve().parents[1]


def _seed(url: str, accounts: int, days: int) -> str:
    engine = make_engine(url)
    org = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            insert(Organization).values(id=org, name="bench", subscription_tier="free", settings={})
        )
    estate = Path(tempfile.mkdtemp(prefix="cloudoptima-bench-estate-"))
    generate_to(estate, seed=42, accounts=accounts, days=days, end=datetime.now(UTC).date())
    cipher = CredentialCipher(base64.urlsafe_b64encode(os.urandom(32)).decode())
    load_sandbox(engine, cipher, org, estate)
    with tenant_session(sessionmaker(engine, expire_on_commit=False), org) as session:
        user = User(email=f"bench-{org.hex[:8]}@example.com", password_hash="!", role="admin", is_active=True)  # noqa: S106
        session.add(user)
        session.flush()
        key = ApiKeyService(session, org).create(user.id, "bench").plaintext
    engine.dispose()
    return key


def _start(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": url, "JWT_SECRET": "bench-secret-0123456789abcdef0123456789"}
    env["CLOUDOPTIMA_STATE_DIR"] = tempfile.mkdtemp(prefix="cloudoptima-bench-state-")
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "cloudoptima_mcp.platform", "--toolsets", "all"),
            *("--transport", "http", "--port", str(port)),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("MCP server did not start")


async def _measure(endpoint: str, key: str, calls: int) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        streamable_http_client(endpoint, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        tools = (await session.list_tools()).tools
        arguments = {"group_by": "service", "limit": 20}
        await session.call_tool("cost_by_dimension", arguments)  # fills the cache
        cached, uncached = [], []
        for _ in range(calls):
            started = time.perf_counter()
            result = await session.call_tool("cost_by_dimension", arguments)
            cached.append((time.perf_counter() - started) * 1000)
        assert result.structured_content and result.structured_content["data"]["cached"] is True
        today = datetime.now(UTC).date()
        for n in range(calls):
            period = {
                "start_date": (today - timedelta(days=30 + n % 330)).isoformat(),
                "end_date": today.isoformat(),
            }
            started = time.perf_counter()
            miss = await session.call_tool("cost_by_dimension", {**arguments, **period, "currency": "USD"})
            uncached.append((time.perf_counter() - started) * 1000)
            if n < 330:
                assert miss.structured_content and miss.structured_content["data"]["cached"] is False
        sizes: dict[str, int] = {}
        for tool in tools:
            if tool.name == "request_remediation":
                continue
            args: dict[str, Any] = {"limit": 500} if "limit" in tool.input_schema["properties"] else {}
            if tool.name in ("anomaly_root_cause", "recommendation_impact_preview"):
                continue
            if tool.name == "cost_forecast":
                args = {"days_ahead": 365}
            reply = await session.call_tool(tool.name, args)
            payload = json.dumps(
                {
                    "content": [c.model_dump(mode="json") for c in reply.content],
                    "structuredContent": reply.structured_content,
                }
            )
            sizes[tool.name] = len(payload)
    return {"cached_ms": cached, "uncached_ms": uncached, "sizes": sizes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--accounts", type=int, default=6)
    parser.add_argument("--days", type=int, default=120)
    args = parser.parse_args()
    with embedded_database("mcp_bench") as url:
        key = _seed(url, args.accounts, args.days)
        port = free_port()
        process = _start(url, port)
        try:
            data = asyncio.run(_measure(f"http://127.0.0.1:{port}/mcp", key, args.calls))
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=15)
    cached, uncached, sizes = data["cached_ms"], data["uncached_ms"], data["sizes"]
    result = {
        "calls": args.calls,
        "cached_p50_ms": round(p50(cached), 2),
        "cached_p95_ms": round(percentile(cached, 95), 2),
        "uncached_p50_ms": round(p50(uncached), 2),
        "uncached_p95_ms": round(percentile(uncached, 95), 2),
        "target_p95_ms": 50,
        "response_chars": sizes,
        "response_tokens": {name: estimate_tokens("x" * chars) for name, chars in sizes.items()},
        "token_ceiling": HARD_TOKEN_LIMIT,
    }
    result["speedup_p50"] = round(result["uncached_p50_ms"] / max(result["cached_p50_ms"], 1e-6), 2)
    rows = [
        ("cached cost_by_dimension p50 (ms)", f"{result['cached_p50_ms']:.2f}"),
        ("cached cost_by_dimension p95 (ms)", f"{result['cached_p95_ms']:.2f} (target ≤ 50)"),
        ("uncached baseline p50 (ms)", f"{result['uncached_p50_ms']:.2f}"),
        ("uncached baseline p95 (ms)", f"{result['uncached_p95_ms']:.2f}"),
        ("cache speed-up at p50", f"{result['speedup_p50']}×"),
    ]
    rows += [
        (f"{name} response (≈ tokens)", f"{tokens:,}") for name, tokens in result["response_tokens"].items()
    ]
    report("mcp_latency", rows, result)


if __name__ == "__main__":
    main()
