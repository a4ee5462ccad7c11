"""``cloudoptima tickets-sync``: read the organisation's open tracker tickets and act on the closed ones (#22).

The same service as ``POST /v1/ticket-trackers/sync`` (:meth:`cloudoptima.services.tickets.Tickets.sync`), straight
from the database (no API or worker), as the ``system`` actor, so a cron entry can run it periodically: closed as
completed records the applied-by-hand hint, closed as not planned dismisses the recommendation. Tracker failures
are printed and make the exit code 1 (the other tickets are still synced and committed).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from cloudoptima.settings import SettingsError
from cloudoptima_cli.common import StateDir, console, fail, settings_or_fail


def tickets_sync(
    org: Annotated[str, typer.Option("--org", help="Organisation id or name.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
    state_dir: StateDir = None,
) -> None:
    """Sync the state of every open ticket of the organisation's trackers back to its recommendation."""
    import json

    import httpx
    from sqlalchemy.orm import sessionmaker

    from cloudoptima.security.encryption import CredentialCipher
    from cloudoptima.services.audit import AuditActor
    from cloudoptima.services.organisations import OrganisationNotFoundError, resolve_organisation
    from cloudoptima.services.tickets import TIMEOUT, Tickets
    from cloudoptima.storage.engine import engine_from_settings
    from cloudoptima.storage.tenancy import tenant_session

    settings = settings_or_fail(state_dir)
    try:
        engine = engine_from_settings(settings)
        org_id = resolve_organisation(engine, org)
    except (SettingsError, OrganisationNotFoundError) as exc:
        fail(str(exc))
    try:
        cipher = CredentialCipher(settings.resolved_encryption_keys)
        factory = sessionmaker(engine)
        with httpx.Client(timeout=TIMEOUT) as http, tenant_session(factory, org_id) as session:
            result = Tickets(session, org_id, cipher=cipher, now=lambda: datetime.now(UTC), http=http).sync(
                actor=AuditActor()
            )
    finally:
        engine.dispose()
    answer = {
        "checked": result.checked,
        "completed": [str(r) for r in result.completed],
        "not_planned": [str(r) for r in result.not_planned],
        "reopened": [str(r) for r in result.reopened],
        "gone": [str(r) for r in result.gone],
        "errors": result.errors,
    }
    if as_json:
        console.print_json(json.dumps(answer))
    else:
        console.print(
            f"{result.checked} tickets read: {len(result.completed)} closed as completed, "
            f"{len(result.not_planned)} closed as not planned, {len(result.reopened)} reopened, "
            f"{len(result.gone)} deleted or transferred",
            highlight=False,
        )
        for error in result.errors:
            console.print(error, highlight=False, markup=False)
    if result.errors:
        raise typer.Exit(1)
