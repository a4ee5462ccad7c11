"""``cloudoptima users``: accounts: platform administrators."""

from __future__ import annotations

from typing import Annotated

import typer

from cloudoptima.settings import SettingsError
from cloudoptima_cli.common import StateDir, console, fail, settings_or_fail

users_app = typer.Typer(no_args_is_help=True, help="Accounts: platform administrators.")


@users_app.command("platform-admin")
def users_platform_admin(
    email: Annotated[str, typer.Argument(help="The account's email address.")],
    revoke: Annotated[
        bool, typer.Option("--revoke", help="Take the right away instead of granting it.")
    ] = False,
    state_dir: StateDir = None,
) -> None:
    """Make an account a platform administrator, the only kind of user who may change an organisation's
    subscription tier (PATCH /v1/organization); --revoke takes it away. Only this command grants it."""
    from cloudoptima.services.organisation_admin import set_platform_admin
    from cloudoptima.storage.engine import make_engine, session_factory

    settings = settings_or_fail(state_dir)
    try:
        engine = make_engine(settings.resolved_database_url(), pool_size=2)
    except SettingsError as exc:
        fail(str(exc))
    try:
        with session_factory(engine)() as session:
            user = set_platform_admin(session, email, grant=not revoke)
            session.commit()
    except LookupError as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    state = "is now" if user.is_platform_admin else "is no longer"
    console.print(f"{user.email} {state} a platform administrator")
