"""``/health`` (liveness) and ``/health/detailed`` (database, redis, temporal, each checked for real)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from cloudoptima_gateway.runtime import Runtime

router = APIRouter(tags=["health"])
CHECK_TIMEOUT_S = 3.0


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "healthy"}


async def _timed(check: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        details = await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT_S)
        result: dict[str, Any] = {"status": "healthy", **details}
    except Exception as exc:
        result = {"status": "unhealthy", "error": f"{type(exc).__name__}: {exc}"[:300]}
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return result


@router.get("/health/detailed")
async def health_detailed(request: Request) -> JSONResponse:
    """Readiness: every dependency checked; HTTP 503 when any is unhealthy."""
    runtime: Runtime = request.app.state.runtime

    async def database() -> dict[str, Any]:
        def ping() -> str:
            with runtime.engine().connect() as connection:
                return str(connection.execute(text("SHOW server_version")).scalar())

        return {"version": await run_in_threadpool(ping)}

    async def redis() -> dict[str, Any]:
        client = runtime.redis()
        await client.ping()  # type: ignore[misc]
        info = await client.info("server")
        return {"version": info.get("redis_version")}

    async def temporal() -> dict[str, Any]:
        client = await runtime.temporal()
        await client.service_client.check_health()
        return {"namespace": client.namespace}

    names = ("database", "redis", "temporal")
    results = await asyncio.gather(*(_timed(check) for check in (database, redis, temporal)))
    checks = dict(zip(names, results, strict=True))
    healthy = all(check["status"] == "healthy" for check in checks.values())
    body = {"status": "healthy" if healthy else "unhealthy", "checks": checks}
    return JSONResponse(body, status_code=200 if healthy else 503)
