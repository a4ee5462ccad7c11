"""The worker's liveness endpoint: ``GET /healthz`` on ``--health-port`` (containers and Kubernetes probe it).

Contract:

* **200** ``{"status": "healthy", ...}`` while every Temporal worker of this process is polling (started,
  not shut down, its run task not finished) *and* the Temporal frontend answered a health check no longer
  than ``stale_after`` seconds ago (checked every ``check_every`` seconds by :meth:`WorkerHealth.watch`).
* **503** ``{"status": "unhealthy", "reasons": [...]}`` otherwise, each reason naming the queue or the
  failed check. Before the first successful Temporal check the answer is 503 ("temporal not checked yet").
* ``GET /metrics`` answers the business metrics this worker recorded (:mod:`cloudoptima.observability.metrics`,
  Prometheus text format). The Temporal SDK's own worker metrics are served by its exporter on
  ``--temporal-metrics-port`` (:func:`cloudoptima_workflows.telemetry.runtime_with_metrics`).
* Any other path is 404, any other method 405. The server answers from the worker's own event loop, so a
  loop blocked by a misbehaving activity makes the probe time out, which is what a liveness probe is for.

Time comes from the caller's ``clock`` (monotonic seconds); tests pass a pinned one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from cloudoptima.observability.metrics import REGISTRY

log = logging.getLogger("cloudoptima.worker.health")

HEALTH_PATH: Final = "/healthz"
METRICS_PATH: Final = "/metrics"
"""The path the probes of ``docker-compose.yml`` and ``deploy/k8s`` call."""
DEFAULT_HEALTH_PORT: Final = 8081
"""The port those files give ``--health-port``."""
MAX_REQUEST_HEAD: Final = 8192


class PollingWorker(Protocol):
    """What :class:`WorkerHealth` reads of a ``temporalio.worker.Worker``."""

    @property
    def task_queue(self) -> str: ...

    @property
    def is_running(self) -> bool: ...


@dataclass
class WorkerHealth:
    """The health of one worker process: its Temporal workers, their run tasks and the frontend's answers."""

    workers: Sequence[PollingWorker]
    check_temporal: Callable[[], Awaitable[bool]]
    """``client.service_client.check_health`` of the worker's Temporal client."""
    clock: Callable[[], float]
    stale_after: float = 30.0
    check_every: float = 10.0
    tasks: Sequence[asyncio.Task[Any]] = ()
    last_temporal_ok: float | None = field(default=None, init=False)
    last_temporal_error: str | None = field(default=None, init=False)

    def report(self) -> tuple[bool, dict[str, Any]]:
        """``(healthy, body)`` as the endpoint answers it now."""
        reasons: list[str] = []
        if not self.workers:
            reasons.append("no task queue is polled")
        for worker in self.workers:
            if not worker.is_running:
                reasons.append(f"worker on queue {worker.task_queue} is not running")
        for task in self.tasks:
            if task.done():
                reasons.append(f"worker task {task.get_name()} has ended")
        if self.last_temporal_ok is None:
            reasons.append(f"temporal not checked yet{self._error_suffix()}")
        else:
            age = self.clock() - self.last_temporal_ok
            if age > self.stale_after:
                reasons.append(
                    f"temporal last answered {age:.0f}s ago (limit {self.stale_after:.0f}s)"
                    f"{self._error_suffix()}"
                )
        body: dict[str, Any] = {
            "status": "unhealthy" if reasons else "healthy",
            "queues": sorted(worker.task_queue for worker in self.workers),
        }
        if reasons:
            body["reasons"] = reasons
        return not reasons, body

    def _error_suffix(self) -> str:
        return f": {self.last_temporal_error}" if self.last_temporal_error else ""

    async def check_once(self) -> bool:
        """One Temporal health check; records when it last succeeded and the last error."""
        try:
            async with asyncio.timeout(max(1.0, self.check_every / 2)):
                ok = await self.check_temporal()
        except Exception as exc:  # the probe reports it; the worker itself keeps running
            self.last_temporal_error = f"{type(exc).__name__}: {exc}"[:200]
            return False
        if ok:
            self.last_temporal_ok = self.clock()
            self.last_temporal_error = None
        else:
            self.last_temporal_error = "the frontend reports the workflow service not serving"
        return ok

    async def watch(self, stop: asyncio.Event) -> None:
        """Check Temporal every ``check_every`` seconds until ``stop`` is set."""
        while not stop.is_set():
            await self.check_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.check_every)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answer one HTTP/1.x request and close the connection."""
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
            writer.close()
            return
        parts = head.split(b"\r\n", 1)[0].decode("latin-1").split()
        path = parts[1].split("?", 1)[0] if len(parts) == 3 else ""
        content_type = "application/json"
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            status, body = 400, {"error": "malformed request line"}
        elif path not in (HEALTH_PATH, METRICS_PATH):
            status, body = 404, {"error": f"not found; the health endpoint is {HEALTH_PATH}"}
        elif parts[0] not in ("GET", "HEAD"):
            status, body = 405, {"error": f"method {parts[0]} not allowed; use GET"}
        elif path == METRICS_PATH:
            status, body, content_type = 200, None, CONTENT_TYPE_LATEST
        else:
            healthy, body = self.report()
            status = 200 if healthy else 503
        payload = generate_latest(REGISTRY) if body is None else json.dumps(body).encode()
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}
        writer.write(
            f"HTTP/1.1 {status} {reason.get(status, 'Service Unavailable')}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(payload)}\r\n"
            "Connection: close\r\n\r\n".encode("latin-1")
        )
        if parts[:1] != ["HEAD"]:
            writer.write(payload)
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()

    async def serve(self, host: str, port: int) -> asyncio.Server:
        """Start answering on ``host:port`` (port 0 picks a free one: read ``server.sockets``)."""
        server = await asyncio.start_server(self.handle, host, port, limit=MAX_REQUEST_HEAD)
        log.info("worker health on http://%s:%d%s", host, server.sockets[0].getsockname()[1], HEALTH_PATH)
        return server
