"""What tracing costs a request: the gateway's latency with tracing off and on, in the same process and run.

Two apps over one embedded Postgres and Redis and one seeded organisation (90 days of daily rollups): one built
with tracing off (the default: no SDK provider, nothing instrumented), one built after ``configure_tracing``
with ``OTEL_EXPORTER_OTLP_ENDPOINT`` pointing at a local OTLP/HTTP sink (a thread answering 200 to every POST),
so every span really goes through the batch processor, protobuf encoding and an HTTP POST — sampling
always on, the worst case. Each route is requested sequentially through the in-process ASGI client, the two
apps alternating in rounds so drift hits both; p50 / mean in milliseconds, the on/off ratio, and the process's
CPU time per request (every thread: the batch exporter's encoding and POSTs count against "on"), which other
load on the machine disturbs less than wall-clock latency.

Routes: ``GET /v1/costs/overview`` (the hot read, answered by the edge cache once warm: one server span) and
``GET /v1/budgets`` (routed, reads the database: a server span plus SQL spans).

    .venv/bin/python -m benchmarks.tracing_overhead [--requests 300] [--rounds 3]
"""

from __future__ import annotations

import argparse
import functools
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from benchmarks._support import embedded_database, p50, report, timed
from benchmarks.gateway_load import SECRET, seed
from cloudoptima.embedded import redis
from cloudoptima.embedded.ports import free_port
from cloudoptima.embedded.process import stop
from cloudoptima.observability.tracing import GATEWAY, configure_tracing, shutdown_tracing
from cloudoptima.settings import Settings
from cloudoptima_gateway.app import create_app

ROUTES = ("/v1/costs/overview", "/v1/budgets")


class _Sink(BaseHTTPRequestHandler):
    """An OTLP/HTTP collector that accepts every export (counts requests and bytes)."""

    posts = 0
    received = 0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).posts += 1
        type(self).received += len(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def otlp_sink() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Sink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def embedded_redis() -> Iterator[str]:
    state = Path(tempfile.mkdtemp(prefix="cloudoptima-bench-redis-"))
    port = free_port()
    process = redis.start(state, port, state / "redis.log")
    try:
        yield redis.url_for(port)
    finally:
        stop(process)
        shutil.rmtree(state, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300, help="requests per route, mode and round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with embedded_database() as url, embedded_redis() as redis_url, otlp_sink() as sink:
        token = seed(url, 1)[0]  # the soak benchmark's estate: 90 days x 8 services x 2 regions, a viewer
        base: dict[str, Any] = {
            "database_url": url,
            "redis_url": redis_url,
            "temporal_address": "127.0.0.1:1",  # never dialled by these routes
            "jwt_secret": SECRET,
            "log_level": "WARNING",
            "console_url": "",
        }
        off = Settings(state_dir=Path(tempfile.mkdtemp(prefix="cloudoptima-bench-off-")), **base)
        on = Settings(
            state_dir=Path(tempfile.mkdtemp(prefix="cloudoptima-bench-on-")),
            otel_exporter_otlp_endpoint=sink,
            **base,
        )
        headers = {"Authorization": f"Bearer {token}"}
        samples: dict[tuple[str, str], list[float]] = {(m, r): [] for m in ("off", "on") for r in ROUTES}
        cpu: dict[tuple[str, str], float] = dict.fromkeys(samples, 0.0)  # process CPU s, every thread
        with TestClient(create_app(off)) as plain:
            provider = configure_tracing(on, GATEWAY, install_global=False)
            assert provider is not None
            try:
                with TestClient(create_app(on)) as traced:
                    clients = {"off": plain, "on": traced}
                    for client in clients.values():  # warm: connections, the edge cache, imports
                        for route in ROUTES:
                            for _ in range(20):
                                assert client.get(route, headers=headers).status_code == 200
                    for _ in range(args.rounds):
                        for mode, client in clients.items():
                            for route in ROUTES:
                                cpu_started = time.process_time()
                                samples[(mode, route)] += timed(
                                    functools.partial(client.get, route, headers=headers), args.requests
                                )
                                cpu[(mode, route)] += time.process_time() - cpu_started
                flush_started = time.process_time()
                provider.force_flush()  # the spans still queued: their export is part of the cost
                cpu[("on", ROUTES[-1])] += time.process_time() - flush_started
            finally:
                shutdown_tracing()
    rows: list[tuple[str, str]] = []
    data: dict[str, Any] = {"requests_per_mode": args.requests * args.rounds, "otlp_posts": _Sink.posts}
    for route in ROUTES:
        off_p50, on_p50 = p50(samples[("off", route)]), p50(samples[("on", route)])
        off_mean = statistics.fmean(samples[("off", route)])
        on_mean = statistics.fmean(samples[("on", route)])
        count = args.requests * args.rounds
        off_cpu, on_cpu = cpu[("off", route)] / count * 1000, cpu[("on", route)] / count * 1000
        rows += [
            (f"{route} CPU per request off / on (ms)", f"{off_cpu:.2f} / {on_cpu:.2f}"),
            (f"{route} p50 off / on (ms)", f"{off_p50:.2f} / {on_p50:.2f}"),
            (f"{route} mean off / on (ms)", f"{off_mean:.2f} / {on_mean:.2f}"),
            (f"{route} p50 on/off", f"{on_p50 / off_p50:.2f}x"),
        ]
        data[route] = {
            "p50_off_ms": off_p50,
            "p50_on_ms": on_p50,
            "mean_off_ms": off_mean,
            "mean_on_ms": on_mean,
            "p50_ratio": on_p50 / off_p50,
            "cpu_ms_per_request_off": off_cpu,
            "cpu_ms_per_request_on": on_cpu,
        }
    rows.append(("OTLP export requests / bytes", f"{_Sink.posts} / {_Sink.received}"))
    data["otlp_bytes"] = _Sink.received
    report("tracing_overhead", rows, data)


if __name__ == "__main__":
    main()
