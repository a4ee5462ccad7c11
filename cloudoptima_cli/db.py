"""``cloudoptima db``: database maintenance."""

from __future__ import annotations

from typing import Annotated

import typer

from cloudoptima.settings import SettingsError
from cloudoptima_cli.common import StateDir, announce_costs, console, fail, settings_or_fail

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


@db_app.command("rebuild-rollup")
def db_rebuild_rollup(
    org: Annotated[str, typer.Option("--org", help="Organisation id or name.")],
    state_dir: StateDir = None,
) -> None:
    """Rebuild an organisation's daily cost rollup from its cost rows on its current rollup_tag_keys (the
    admin API does it itself when the keys change; this is for keys changed any other way)."""
    from sqlalchemy import select

    from cloudoptima.services.ingestion import rollup_tag_keys
    from cloudoptima.services.organisations import OrganisationNotFoundError, resolve_organisation
    from cloudoptima.services.rollup_rebuild import rebuild_cost_rollup
    from cloudoptima.storage.engine import engine_from_settings
    from cloudoptima.storage.models import Organization

    settings = settings_or_fail(state_dir)
    try:
        engine = engine_from_settings(settings)
        org_id = resolve_organisation(engine, org)
    except (SettingsError, OrganisationNotFoundError) as exc:
        fail(str(exc))
    with engine.begin() as connection:
        stored = connection.execute(select(Organization.settings).where(Organization.id == org_id)).scalar()
        rebuilt = rebuild_cost_rollup(connection, org_id, rollup_tag_keys(stored or {}))
    announce_costs(settings, org_id, {"reason": "rollup_rebuilt"})
    console.print(
        f"rebuilt {rebuilt.months} month(s), {rebuilt.rows:,} rollup rows, on tag keys "
        f"{', '.join(rebuilt.tag_keys) or '(none)'}",
        highlight=False,
    )
