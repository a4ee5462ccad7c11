"""Gateway CPU per request, route by route: the whole app in this process, one request at a time.

The soak of ``gateway_load`` is bounded by the gateway's CPU per request, but a soak's CPU seconds move with
the machine's load. This drives the deployed app (``cloudoptima_gateway.main.build_app``) directly over ASGI,
sequentially, each route as its own signed-in viewer, against an embedded Postgres and Redis seeded like ``gateway_load``, and
reports the process CPU (every thread: the request threads too) per request of each route of the soak's mix:
the best of five rounds, so another process's burst shows less. No HTTP parsing or socket I/O is included
(uvicorn adds ~0.1-0.2 ms a request).

    .venv/bin/python -m benchmarks.gateway_cpu [--requests 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from starlette.types import ASGIApp, Message

from benchmarks._support import RESULTS
from benchmarks.gateway_load import SECRET, seed, soak_paths
from cloudoptima.embedded import postgres, redis
from cloudoptima.embedded.ports import free_port
from cloudoptima.embedded.process import stop
from cloudoptima.storage.migrate import upgrade


async def request(app: ASGIApp, path: str, token: str) -> int:
    """The status of ``GET path`` with ``token`` as the bearer."""
    route, _, query = path.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": route, "raw_path": route.encode(), "query_string": query.encode(), "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "state": {},
    }  # fmt: skip
    statuses: list[int] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(int(message["status"]))

    await app(scope, receive, send)
    return statuses[0]


async def measure(paths: list[str], tokens: list[str], requests: int) -> dict[str, float]:
    """Best-of-five process CPU-ms per request of each path, each path as its own user (one user's 5,000
    requests a minute would meet the enterprise burst limit); every answer must be 200."""
    from cloudoptima.settings import load_settings
    from cloudoptima_gateway.main import build_app

    app = build_app(load_settings())
    figures: dict[str, float] = {}
    async with app.router.lifespan_context(app):
        for path, token in zip(paths, tokens, strict=True):
            for _ in range(20):
                await request(app, path, token)
        for path, token in zip(paths, tokens, strict=True):
            best = float("inf")
            for _ in range(5):
                statuses: set[int] = set()
                started = time.process_time()
                for _ in range(requests):
                    statuses.add(await request(app, path, token))
                best = min(best, (time.process_time() - started) / requests * 1000)
                if statuses != {200}:
                    raise RuntimeError(f"GET {path} answered {sorted(statuses)}")
            figures[path] = round(best, 3)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200, help="requests per route and round")
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="cloudoptima-bench-"))
    pg_port, redis_port = free_port(), free_port()
    pg = postgres.start(postgres.PostgresLayout.in_state_dir(state / "pg"), pg_port)
    rd = redis.start(state / "redis", redis_port, state / "redis.log")
    try:
        postgres.ensure_database(pg_port, "bench")
        url = postgres.url_for(pg_port, "bench")
        upgrade(url)
        os.environ.update(
            DATABASE_URL=url,
            REDIS_URL=redis.url_for(redis_port),
            TEMPORAL_ADDRESS=f"127.0.0.1:{free_port()}",
            JWT_SECRET=SECRET,
            CLOUDOPTIMA_STATE_DIR=str(state / "gw"),
            LOG_LEVEL="WARNING",
        )
        paths = soak_paths(datetime.now(UTC).date())[:-1]  # each route once
        tokens = seed(url, len(paths))
        load = Path("/proc/loadavg").read_text().split()[0]
        figures = asyncio.run(measure(paths, tokens, args.requests))
        for path, cpu_ms in figures.items():
            print(f"{path.split('?')[0]:<28} {cpu_ms:7.3f} CPU-ms a request")
        data = {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "loadavg_1m": float(load),
            "cpu_ms": figures,
        }
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "gateway_cpu.json").write_text(json.dumps(data, indent=2))
        print(json.dumps(data))
    finally:
        stop(rd)
        stop(pg, sig=signal.SIGINT)
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
