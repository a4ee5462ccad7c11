"""``cloudoptima backup PATH`` / ``cloudoptima restore PATH``: the database as a ``pg_dump`` plus a manifest
(:mod:`cloudoptima.embedded.backup`).

Both read ``DATABASE_URL`` or the running embedded database of the state directory (``cloudoptima up``
must be running in the embedded mode). Redis is not backed up (caches and counters only).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from cloudoptima.settings import SettingsError
from cloudoptima_cli.common import StateDir, console, fail, settings_or_fail


def backup(
    path: Annotated[Path, typer.Argument(help="Directory to create (database.dump + manifest.json).")],
    state_dir: StateDir = None,
) -> None:
    """Back up the database: pg_dump (custom format) and a manifest with the migration head, the time, the
    dump's SHA-256 and every table's row count (one snapshot)."""
    from cloudoptima.embedded.backup import BackupError
    from cloudoptima.embedded.backup import backup as run_backup

    settings = settings_or_fail(state_dir)
    try:
        url = settings.resolved_database_url()
        manifest = run_backup(url, path, now=datetime.now(UTC), embedded=settings.database_url is None)
    except (SettingsError, BackupError) as exc:
        fail(str(exc))
    rows = sum(manifest.row_counts.values())
    console.print(
        f"backed up {manifest.database} at revision {manifest.migration_head}: {len(manifest.row_counts)} "
        f"tables, {rows:,} rows, {manifest.bytes:,} bytes -> {path}",
        highlight=False,
    )


def restore(
    path: Annotated[Path, typer.Argument(help="A directory written by 'cloudoptima backup'.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace a non-empty database (kept if the restore fails).")
    ] = False,
    state_dir: StateDir = None,
) -> None:
    """Restore a backup: checked against its manifest (checksum, known migration head), restored into a new
    database, row counts verified, then swapped in; on any failure the current database is untouched."""
    from cloudoptima.embedded.backup import BackupError
    from cloudoptima.embedded.backup import restore as run_restore

    settings = settings_or_fail(state_dir)
    try:
        url = settings.resolved_database_url()
        manifest = run_restore(url, path, force=force, embedded=settings.database_url is None)
    except (SettingsError, BackupError) as exc:
        fail(str(exc))
    console.print(
        f"restored {sum(manifest.row_counts.values()):,} rows in {len(manifest.row_counts)} tables from the "
        f"backup of {manifest.created_at} (revision {manifest.migration_head}); run 'cloudoptima db upgrade' "
        "if this code is newer, and restart the platform's workers and gateway",
        highlight=False,
    )
