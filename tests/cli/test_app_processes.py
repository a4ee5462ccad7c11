"""Commands that become an app-layer process (``worker``, ``mcp``, ``eval``) reach it through
``python -m cloudoptima_cli.entry_points``: run as a user runs them, their arguments arrive at the app's own
parser, and the entry refuses a process it does not know."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CLOUDOPTIMA = str(Path(sys.executable).parent / "cloudoptima")


def _env() -> dict[str, str]:
    """Service URLs that need not answer: the commands below stop at argument checks."""
    return {
        **os.environ,
        "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none",
        "TEMPORAL_ADDRESS": "127.0.0.1:9",
    }


def test_worker_options_and_unknown_arguments_reach_the_worker_parser(tmp_path: Path) -> None:
    bad_queue = subprocess.run(
        [CLOUDOPTIMA, "worker", "--state-dir", str(tmp_path), "--queues", "collection,bogus"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
    )
    assert bad_queue.returncode == 2, bad_queue.stderr
    assert "cloudoptima worker: error: unknown queue(s): bogus" in bad_queue.stderr

    passed_through = subprocess.run(
        [CLOUDOPTIMA, "worker", "--state-dir", str(tmp_path), "--threads", "3", "--no-such-flag"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
    )
    assert passed_through.returncode == 2, passed_through.stderr
    assert "unrecognized arguments: --no-such-flag" in passed_through.stderr


def test_the_entry_refuses_an_unknown_process_naming_the_known_ones() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cloudoptima_cli.entry_points", "webserver"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "{worker,gateway,mcp,eval}" in done.stderr
