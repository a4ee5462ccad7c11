"""``cloudoptima db``: database maintenance."""

from __future__ import annotations

import typer

from cloudoptima.settings import SettingsError
from cloudoptima_cli.common import StateDir, console, fail, settings_or_fail

db_app = typer.Typer(no_args_is_help=True, help="Database maintenance.")


@db_app.command("upgrade")
def db_upgrade(state_dir: StateDir = None) -> None:
    """Apply database migrations to DATABASE_URL (or the running embedded database)."""
    from cloudoptima.storage.migrate import upgrade as run_upgrade

    settings = settings_or_fail(state_dir)
    try:
        run_upgrade(settings.resolved_database_url())
    except SettingsError as exc:
        fail(str(exc))
    console.print("database is at the latest revision")
