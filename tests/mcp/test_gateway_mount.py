"""``cloudoptima_mcp.platform.http_app(settings)`` mounted under ``/mcp`` of another ASGI app (as the gateway
will mount it), served by uvicorn and reached with the official client and a bearer API key."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx2
import pytest
import uvicorn
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.routing import Mount

from cloudoptima.embedded.ports import free_port
from cloudoptima.settings import load_settings
from cloudoptima_mcp.platform import http_app
from cloudoptima_mcp.toolsets import TOOLSETS
from tests.mcp.conftest import runtime_for
from tests.tools.seed import Estates


@contextlib.asynccontextmanager
async def serving(app: Starlette, port: int) -> AsyncIterator[None]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(600):  # bounded wait for the socket to be bound
            if server.started:
                break
            await asyncio.sleep(0.05)
        assert server.started, "uvicorn did not start"
        yield
    finally:
        server.should_exit = True
        await task


async def test_platform_app_mounts_under_mcp(
    engine: Engine, estates: Estates, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mount lists the toolsets of CLOUDOPTIMA_MCP_TOOLSETS (the gateway's only way to choose them)."""
    monkeypatch.setenv("CLOUDOPTIMA_MCP_TOOLSETS", "storage")
    settings = load_settings(jwt_secret="mount-test-secret-0123456789abcdef0123", state_dir=str(tmp_path))
    mcp_app = http_app(settings, runtime_for(engine))
    gateway = Starlette(routes=[Mount("/mcp", app=mcp_app)], lifespan=mcp_app.router.lifespan_context)
    port = free_port()
    async with serving(gateway, port):
        headers = {"Authorization": f"Bearer {estates.a.keys['viewer']}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=30) as http,
            streamable_http_client(f"http://127.0.0.1:{port}/mcp/", http_client=http) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            listed = {tool.name for tool in (await session.list_tools()).tools}
            assert listed == set(TOOLSETS["storage"].tools)
            result = await session.call_tool("storage_buckets", {})
            assert result.structured_content is not None
            assert result.structured_content["items"]
            assert {
                row["resource_id"] for row in result.structured_content["items"]
            } <= estates.a.resource_ids
        async with httpx2.AsyncClient(timeout=30) as anonymous:
            refused = await anonymous.post(f"http://127.0.0.1:{port}/mcp/", json={})
            assert refused.status_code == 401
