"""``cloudoptima gateway --workers 2``: two processes share the port, the rate limit and API-key revocations
(Redis), and ``/metrics`` (whichever process answers) counts the requests every process served."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy import Engine

from cloudoptima.embedded.ports import free_port
from cloudoptima.settings import Settings
from tests.gateway.conftest import make_org

CLOUDOPTIMA = str(Path(sys.executable).parent / "cloudoptima")
SECRET = "workers-test-secret-" + "y" * 40
STARTUP_S = 240  # two fresh interpreters import the whole app; generous for a busy 2-core machine


@pytest.fixture
def gateway(tmp_path: Path, pg_url: str, redis_url: str) -> Iterator[tuple[str, psutil.Process, Path]]:
    """A two-process gateway on a free port: its base URL, supervisor process and metrics directory."""
    port, metrics = free_port(), tmp_path / "metrics"
    metrics.mkdir()
    (metrics / "counter_1.db").write_bytes(
        b"stale"
    )  # an earlier run's file: emptied before the workers start
    env = {
        **os.environ,
        "DATABASE_URL": pg_url,
        "REDIS_URL": redis_url,
        "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",  # never dialled by these routes
        "JWT_SECRET": SECRET,
        "CLOUDOPTIMA_STATE_DIR": str(tmp_path / "state"),
        "LOG_LEVEL": "WARNING",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        "GATEWAY_WORKERS": "7",  # the --workers option wins over the setting
    }
    with (tmp_path / "gateway.log").open("wb") as log:
        process = subprocess.Popen(
            [CLOUDOPTIMA, "gateway", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_S
        while len(psutil.Process(process.pid).children()) < 2 or not _healthy(base):
            assert process.poll() is None, (tmp_path / "gateway.log").read_text()
            assert time.monotonic() < deadline, "the gateway did not start in time"
            time.sleep(0.5)
        yield base, psutil.Process(process.pid), metrics
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


def _healthy(base: str) -> bool:
    try:
        return httpx.get(base + "/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _served(metrics_text: str, route: str) -> float:
    pattern = (
        rf'^cloudoptima_http_requests_total{{method="GET",route="{re.escape(route)}",status="(\d+)"}} (\S+)$'
    )
    return sum(float(m.group(2)) for m in re.finditer(pattern, metrics_text, re.MULTILINE))


def test_two_worker_processes_share_the_port_limits_revocations_and_metrics(
    gateway: tuple[str, psutil.Process, Path], engine: Engine, tmp_path: Path, pg_url: str
) -> None:
    base, supervisor, metrics = gateway
    workers = supervisor.children()
    server_pids = {p.pid for p in workers if "resource_tracker" not in " ".join(p.cmdline())}
    assert len(server_pids) == 2
    assert not (metrics / "counter_1.db").exists()
    org = make_org(engine, Settings(state_dir=tmp_path / "issuer", database_url=pg_url, jwt_secret=SECRET))

    remaining = []
    for _ in range(12):  # a new connection each time: the kernel hands each one to either process
        with httpx.Client(base_url=base, headers=org.headers("viewer"), timeout=30) as client:
            answer = client.get("/v1/budgets")
        assert answer.status_code == 200, answer.text
        remaining.append(int(answer.headers["x-ratelimit-remaining"]))
    # one counter in Redis for both processes: every request counted once, in order
    assert remaining == list(range(remaining[0], remaining[0] - 12, -1))

    key = httpx.post(
        base + "/v1/auth/api-keys", headers=org.headers("engineer"), json={"name": "ci"}, timeout=30
    ).json()
    for _ in range(6):
        assert (
            httpx.get(base + "/v1/budgets", headers={"X-API-Key": key["api_key"]}, timeout=30).status_code
            == 200
        )
    revoked = httpx.delete(
        base + f"/v1/auth/api-keys/{key['id']}", headers=org.headers("engineer"), timeout=30
    )
    assert revoked.status_code == 200
    for _ in range(6):  # whichever process cached the key refuses it now
        assert (
            httpx.get(base + "/v1/budgets", headers={"X-API-Key": key["api_key"]}, timeout=30).status_code
            == 401
        )

    files = {path.name for path in metrics.glob("*.db")}
    assert {f"counter_{pid}.db" for pid in server_pids} <= files
    for _ in range(3):  # any process answers with the sum over both
        text = httpx.get(base + "/metrics", timeout=30).text
        assert _served(text, "/v1/budgets") == 12 + 6 + 6
