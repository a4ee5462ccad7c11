"""``cloudoptima up`` as a child process: free ports, a fresh state directory, returned once healthy.

What the browser tests (``tests/browser/conftest.py``) and the console benchmark (``benchmarks/
console_overview.py``) start: the whole platform exactly as a newcomer's ``cloudoptima up`` (embedded Postgres,
Redis and Temporal, worker, gateway, the demo organisation with the sandbox estate), on five free ports, with the
environment's ``DATABASE_URL``/``REDIS_URL``/``TEMPORAL_ADDRESS`` removed so that nothing outside is reused.

Contract:
- ``start_up_child(state_dir, ...)`` returns an ``UpChild`` once ``GET /health/detailed`` answers 200; raises
  ``UpChildError`` (with the child's output when it was captured) if the child exits first or the timeout
  passes, after stopping the child.
- ``UpChild.stop()`` sends Ctrl-C (SIGINT) and waits (SIGKILL after ``timeout`` seconds); returns the captured
  output ("" when not captured). Calling it twice is harmless.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from cloudoptima.embedded.ports import free_port

FOREIGN_SERVICES = frozenset({"DATABASE_URL", "REDIS_URL", "TEMPORAL_ADDRESS"})
"""Settings from the environment the child must not inherit (it starts its own)."""


class UpChildError(RuntimeError):
    """The child exited early or never became healthy."""


@dataclass(frozen=True)
class UpChild:
    """A running ``cloudoptima up``: the process, its gateway's base URL and its state directory."""

    process: subprocess.Popen[str]
    base_url: str
    state_dir: Path

    def credentials(self) -> dict[str, str]:
        """The demo login ``cloudoptima up`` wrote (email, password, api_key, organization_id)."""
        found: dict[str, str] = json.loads((self.state_dir / "demo-credentials.json").read_text())
        return found

    def stop(self, timeout: float = 60) -> str:
        """Ctrl-C, then wait (SIGKILL after ``timeout`` s); the captured output, or "" if none was captured."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            output, _ = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            output, _ = self.process.communicate()
        return output or ""


def start_up_child(
    state_dir: Path,
    *,
    console_dir: Path | None = None,
    capture_output: bool = True,
    cwd: Path | None = None,
    timeout: float = 240,
    poll_seconds: float = 0.2,
    extra_env: Mapping[str, str] | None = None,
) -> UpChild:
    """Start ``python -m cloudoptima_cli up --state-dir state_dir`` on free ports and wait until it is healthy.

    ``console_dir`` serves a built console (``CLOUDOPTIMA_CONSOLE_DIR``); ``capture_output`` keeps the child's
    output for errors and ``stop()`` (otherwise discarded); ``extra_env`` adds settings of the child's own."""
    ports: set[int] = set()
    while len(ports) < 5:
        ports.add(free_port())
    gateway, temporal, ui, postgres, redis = sorted(ports)
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN_SERVICES}
    env["PYTHONUNBUFFERED"] = "1"
    if console_dir is not None:
        env["CLOUDOPTIMA_CONSOLE_DIR"] = str(console_dir)
    env.update(extra_env or {})
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "cloudoptima_cli", "up", "--state-dir", str(state_dir)),
            *("--port", str(gateway), "--temporal-port", str(temporal), "--temporal-ui-port", str(ui)),
            *("--postgres-port", str(postgres), "--redis-port", str(redis)),
        ],
        stdout=subprocess.PIPE if capture_output else subprocess.DEVNULL,
        stderr=subprocess.STDOUT if capture_output else subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=cwd,
    )
    child = UpChild(process=process, base_url=f"http://127.0.0.1:{gateway}", state_dir=state_dir)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise UpChildError(f"cloudoptima up exited early ({process.returncode}):\n{child.stop()}")
        try:
            if httpx.get(f"{child.base_url}/health/detailed", timeout=3).status_code == 200:
                return child
        except httpx.HTTPError:
            pass
        time.sleep(poll_seconds)
    output = child.stop()
    raise UpChildError(f"cloudoptima up never became healthy within {timeout:.0f} s:\n{output}")
