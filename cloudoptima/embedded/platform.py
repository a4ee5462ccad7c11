"""``cloudoptima up``: start every piece as a supervised child, bootstrap, print the URLs, stop cleanly.

Pieces, in start order: Postgres (+pgvector), Redis, the Temporal dev server (+ Web UI), the worker (which
starts while the caller's bootstrap loads the demo data) and the gateway (after the bootstrap). A piece whose URL is given (``DATABASE_URL``, ``REDIS_URL``, ``TEMPORAL_ADDRESS``) is not
started. SIGINT / SIGTERM stop the apps, then the services, and leave no process behind.

The worker and the gateway are app layers: the caller (the CLI, the composition root above every layer)
says how to start them (:class:`AppProcesses`); this kernel module names no app layer.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from cloudoptima.embedded import postgres, redis, temporal
from cloudoptima.embedded.ports import require_free
from cloudoptima.embedded.process import spawn, stop_together
from cloudoptima.settings import Settings
from cloudoptima.storage.migrate import upgrade


class PlatformError(RuntimeError):
    """The platform cannot start or keep running; the message is one line a person can act on."""


@dataclass(frozen=True)
class AppProcesses:
    """How to start the app-layer children, given by the caller: ``worker`` is a complete argv; ``gateway``
    is an argv that serves HTTP once the platform appends ``--host H --port P`` (the platform owns the
    address, and waits on its ``/health/detailed``)."""

    worker: Sequence[str]
    gateway: Sequence[str]


APP_CHILDREN = frozenset({"worker", "gateway"})
"""The children that use the services (and so stop before them)."""


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    stop_signal: int = signal.SIGTERM


@dataclass
class Platform:
    """The running pieces and the URLs they serve."""

    settings: Settings
    children: list[Child] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)

    def stop_all(self) -> None:
        """Stop the app processes (gateway, worker) together, then, once they are gone, the services they
        use (Temporal, Redis, Postgres) together: no app outlives a service it talks to, and the stop takes
        as long as the slowest of each group, not the sum of all."""
        apps = [c for c in self.children if c.name in APP_CHILDREN]
        services = [c for c in self.children if c.name not in APP_CHILDREN]
        for group in (apps, services):
            stop_together([(c.process, c.stop_signal) for c in reversed(group)])
        self.children.clear()
        self.settings.runtime_file.unlink(missing_ok=True)

    def write_runtime(self) -> None:
        data: dict[str, Any] = dict(self.urls)
        data["supervisor_pid"] = os.getpid()
        data["pids"] = {child.name: child.process.pid for child in self.children}
        tmp = self.settings.runtime_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2))
        os.replace(tmp, self.settings.runtime_file)


def prepare_state_dir(state_dir: Path) -> None:
    """Create the state directory, or refuse one that is not usable, with a one-line reason."""
    if state_dir.exists() and not state_dir.is_dir():
        raise PlatformError(
            f"state directory {state_dir} is a file, not a directory; choose another --state-dir"
        )
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        (state_dir / "logs").mkdir(exist_ok=True)
    except OSError as exc:
        raise PlatformError(f"cannot create state directory {state_dir}: {exc.strerror}") from exc
    if not os.access(state_dir, os.W_OK):
        raise PlatformError(f"state directory {state_dir} is not writable")


@contextmanager
def state_lock(state_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock so two ``up`` never share one state directory."""
    path = state_dir / "up.lock"
    handle: IO[str] = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise PlatformError(
            f"another `cloudoptima up` (pid {holder}) is using {state_dir}; stop it or pass another --state-dir"
        ) from exc
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def check_ports(settings: Settings) -> None:
    """Refuse to start when a port we would bind is taken, naming the port and its piece."""
    wanted: list[tuple[int, str]] = [(settings.gateway_port, "gateway")]
    if not settings.database_url:
        wanted.append((settings.postgres_port, "postgres"))
    if not settings.redis_url:
        wanted.append((settings.redis_port, "redis"))
    if not settings.temporal_address:
        wanted += [(settings.temporal_port, "temporal"), (settings.temporal_ui_port, "temporal ui")]
    seen: dict[int, str] = {}
    for port, piece in wanted:
        if port in seen:
            raise PlatformError(f"port {port} is configured for both {seen[port]} and {piece}")
        seen[port] = piece
        require_free(port, piece, settings.host)


def _child_env(settings: Settings, urls: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "CLOUDOPTIMA_STATE_DIR": str(settings.state_path),
            "CLOUDOPTIMA_MODE": settings.mode,
            "DATABASE_URL": urls["database_url"],
            "REDIS_URL": urls["redis_url"],
            "TEMPORAL_ADDRESS": urls["temporal_address"],
            "PYTHONUNBUFFERED": "1",
        }
    )
    if "temporal_ui_url" in urls:
        env["TEMPORAL_UI_URL"] = urls["temporal_ui_url"]
    return env


def start_platform(
    settings: Settings,
    say: Callable[[str], None],
    bootstrap: Callable[[Platform], None],
    apps: AppProcesses,
) -> Platform:
    """Start every piece: the services, then the worker, ``bootstrap`` (while the worker starts), then the
    gateway, and wait until it is healthy; on any failure stop what was started and raise
    :class:`PlatformError`."""
    state = settings.state_path
    logs = state / "logs"
    platform = Platform(settings)
    host = settings.host
    try:
        if settings.database_url:
            platform.urls["database_url"] = settings.database_url
        else:
            say(f"starting postgres on {host}:{settings.postgres_port}")
            layout = postgres.PostgresLayout.in_state_dir(state)
            proc = postgres.start(layout, settings.postgres_port, host)
            platform.children.append(Child("postgres", proc, signal.SIGINT))
            postgres.ensure_database(settings.postgres_port, settings.database_name, host)
            platform.urls["database_url"] = postgres.url_for(
                settings.postgres_port, settings.database_name, host
            )
        say("applying database migrations")
        upgrade(platform.urls["database_url"])

        if settings.redis_url:
            platform.urls["redis_url"] = settings.redis_url
        else:
            say(f"starting redis on {host}:{settings.redis_port}")
            proc = redis.start(state / "redis", settings.redis_port, logs / "redis.log", host)
            platform.children.append(Child("redis", proc))
            platform.urls["redis_url"] = redis.url_for(settings.redis_port, host)

        if settings.temporal_address:
            platform.urls["temporal_address"] = settings.temporal_address
            if settings.temporal_ui_url:
                platform.urls["temporal_ui_url"] = settings.temporal_ui_url
        else:
            say(f"starting temporal on {host}:{settings.temporal_port} (ui {settings.temporal_ui_port})")
            proc = temporal.start(
                state / "temporal" / "temporal.db",
                settings.temporal_port,
                settings.temporal_ui_port,
                logs / "temporal.log",
                host,
            )
            platform.children.append(Child("temporal", proc))
            platform.urls["temporal_address"] = f"{host}:{settings.temporal_port}"
            platform.urls["temporal_ui_url"] = f"http://{host}:{settings.temporal_ui_port}"

        gateway_url = f"http://{host}:{settings.gateway_port}"
        platform.urls.update(
            {
                "gateway_url": gateway_url,
                "api_docs_url": f"{gateway_url}/docs",
                "health_url": f"{gateway_url}/health",
            }
        )
        env = _child_env(settings, platform.urls)
        # The worker needs only the services above (not the bootstrap's data: it reads the database per
        # activity), so it imports and connects while ``bootstrap`` loads the demo data: on two cores the
        # first start is healthy sooner and the first analysis is picked up at once. The gateway still starts
        # after ``bootstrap``: its health answering 200 is what callers wait on before using the data.
        say("starting worker")
        worker = spawn(apps.worker, log_file=logs / "worker.log", env=env)
        platform.children.append(Child("worker", worker))
        platform.write_runtime()
        bootstrap(platform)

        say(f"starting gateway on {gateway_url}")
        gateway = spawn(
            [*apps.gateway, "--host", host, "--port", str(settings.gateway_port)],
            log_file=logs / "gateway.log",
            env=env,
        )
        platform.children.append(Child("gateway", gateway))
        platform.write_runtime()
        wait_healthy(platform, timeout=120)
        return platform
    except BaseException:
        platform.stop_all()
        raise


def wait_healthy(platform: Platform, timeout: float) -> dict[str, Any]:
    """Poll ``/health/detailed`` until every dependency is healthy; a dead child fails at once."""
    url = platform.urls["gateway_url"] + "/health/detailed"
    deadline = time.monotonic() + timeout
    last: Any = "no answer"
    while time.monotonic() < deadline:
        dead = next((c for c in platform.children if c.process.poll() is not None), None)
        if dead is not None:
            raise PlatformError(
                f"{dead.name} exited with code {dead.process.returncode} during start; "
                f"see {platform.settings.state_path / 'logs' / (dead.name + '.log')}"
            )
        try:
            response = httpx.get(url, timeout=5)
            last = response.json()
            if response.status_code == 200:
                return dict(last)
        except (httpx.HTTPError, ValueError) as exc:
            last = str(exc)
        time.sleep(0.5)
    raise PlatformError(f"platform did not become healthy within {timeout:.0f} s: {last}")


def supervise(platform: Platform, stop_requested: Callable[[], bool]) -> int:
    """Block until a stop is requested (0) or a child dies (1); the caller stops the rest."""
    while not stop_requested():
        for child in platform.children:
            code = child.process.poll()
            if code is not None:
                log = platform.settings.state_path / "logs" / f"{child.name}.log"
                print(f"error: {child.name} exited with code {code}; see {log}", file=sys.stderr)
                return 1
        time.sleep(0.3)
    return 0
