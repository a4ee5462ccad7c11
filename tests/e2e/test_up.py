"""End to end: ``cloudoptima up`` as a subprocess on free ports, healthy, Ctrl-C leaves no process behind.

The printed demo login works exactly as the README tells a newcomer: email + password over REST give a
token, the token opens the WebSocket, and one chat question is answered on it.
Also: a restart keeps the data, a busy port and a corrupt state directory give one clear line.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest
from websockets.sync.client import connect

from cloudoptima.embedded.ports import free_port

pytestmark = pytest.mark.e2e
CLI = [sys.executable, "-m", "cloudoptima_cli"]


@dataclass
class Ports:
    gateway: int
    temporal: int
    ui: int
    postgres: int
    redis: int

    def args(self) -> list[str]:
        return [
            "--port",
            str(self.gateway),
            "--temporal-port",
            str(self.temporal),
            "--temporal-ui-port",
            str(self.ui),
            "--postgres-port",
            str(self.postgres),
            "--redis-port",
            str(self.redis),
        ]


@pytest.fixture
def ports() -> Ports:
    chosen: set[int] = set()
    while len(chosen) < 5:
        chosen.add(free_port())
    return Ports(*sorted(chosen))


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "TEMPORAL_ADDRESS"}}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _start(state: Path, ports: Ports) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, "up", "--state-dir", str(state), *ports.args()],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_env(),
    )


def _wait_healthy(process: subprocess.Popen[str], ports: Ports, timeout: float = 150) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"up exited early:\n{process.stdout.read() if process.stdout else ''}"
        try:
            response = httpx.get(f"http://127.0.0.1:{ports.gateway}/health/detailed", timeout=3)
            if response.status_code == 200:
                return dict(response.json())
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError("platform never became healthy")


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    return output


@pytest.fixture
def running(tmp_path: Path, ports: Ports) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    state = tmp_path / "state"
    process = _start(state, ports)
    try:
        yield process, state
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_up_is_healthy_and_ctrl_c_leaves_no_orphan(
    running: tuple[subprocess.Popen[str], Path], ports: Ports
) -> None:
    process, state = running
    health = _wait_healthy(process, ports)
    assert health["status"] == "healthy"

    ui = httpx.get(f"http://127.0.0.1:{ports.ui}/", timeout=10, follow_redirects=True)
    assert ui.status_code == 200
    assert httpx.get(f"http://127.0.0.1:{ports.gateway}/docs", timeout=5).status_code == 200

    credentials_file = state / "demo-credentials.json"
    assert stat.S_IMODE(credentials_file.stat().st_mode) == 0o600
    credentials = json.loads(credentials_file.read_text())
    assert set(credentials) == {"email", "password", "api_key", "organization_id"}
    _newcomer_signs_in_and_chats(ports, credentials)

    status = subprocess.run(
        [*CLI, "status", "--state-dir", str(state), "--json"],
        capture_output=True,
        text=True,
        env=_env(),
        check=False,
    )
    assert status.returncode == 0, status.stdout + status.stderr
    assert json.loads(status.stdout)["health"]["status"] == "healthy"

    family = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    names = {p.name() for p in family}
    assert {"postgres", "redis-server", "temporal"} <= names, names

    output = _stop(process)
    assert process.returncode == 0, output
    assert credentials["password"] in output, "first start prints the demo login once"
    _gone, alive = psutil.wait_procs(family, timeout=10)
    assert not alive, f"orphans left: {[(p.pid, p.name()) for p in alive]}"
    assert not (state / "runtime.json").exists()

    # A second start reuses the data: same organisation, credentials not printed again.
    again = _start(state, ports)
    try:
        _wait_healthy(again, ports)
        assert json.loads(credentials_file.read_text()) == credentials
        output = _stop(again)
        assert again.returncode == 0
        assert credentials["password"] not in output
    finally:
        if again.poll() is None:
            again.kill()


def _newcomer_signs_in_and_chats(ports: Ports, credentials: dict[str, str]) -> None:
    """README "First steps": log in with the printed email and password, open the socket, ask one question."""
    base = f"http://127.0.0.1:{ports.gateway}"
    login = httpx.post(
        f"{base}/v1/auth/login",
        json={"email": credentials["email"], "password": credentials["password"]},
        timeout=30,
    )
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    overview = httpx.get(f"{base}/v1/auth/api-keys", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert overview.status_code == 200, overview.text
    with connect(f"ws://127.0.0.1:{ports.gateway}/v1/stream?token={token}", open_timeout=30) as socket:
        socket.send(json.dumps({"type": "chat", "message": "What are my top spenders this month?"}))
        chat: list[dict[str, object]] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            frame = json.loads(socket.recv(timeout=max(deadline - time.monotonic(), 1)))
            if frame["type"] != "chat":
                continue
            chat.append(frame)
            if frame["event"] in ("done", "error"):
                break
    events = [f["event"] for f in chat]
    assert events[0] == "conversation" and events[-1] == "done", events
    answer = next(f["data"]["text"] for f in chat if f["event"] == "message")  # type: ignore[index]
    assert isinstance(answer, str) and answer.strip()


def test_busy_port_gives_one_clear_line(tmp_path: Path, ports: Ports) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", ports.gateway))
        blocker.listen()
        result = subprocess.run(
            [*CLI, "up", "--state-dir", str(tmp_path / "s"), *ports.args()],
            capture_output=True,
            text=True,
            env=_env(),
            timeout=60,
            check=False,
        )
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip() and "Warning" not in line]
    assert lines == [
        f"error: port {ports.gateway} (gateway) is already in use; free it or choose another port"
    ]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("corruption", ["state-is-a-file", "postgres-dir-without-cluster", "bad-secrets"])
def test_corrupt_state_dir_gives_one_clear_line(tmp_path: Path, ports: Ports, corruption: str) -> None:
    state = tmp_path / "state"
    if corruption == "state-is-a-file":
        state.write_text("oops")
        expected = "is a file, not a directory"
    elif corruption == "postgres-dir-without-cluster":
        (state / "postgres").mkdir(parents=True)
        (state / "postgres" / "garbage").write_text("x")
        expected = "holds no Postgres cluster"
    else:
        state.mkdir()
        (state / "secrets.json").write_text("{")
        expected = "secrets.json is corrupt"
    result = subprocess.run(
        [*CLI, "up", "--state-dir", str(state), *ports.args()],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.startswith("error:")]) == 1
