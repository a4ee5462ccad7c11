"""``cloudoptima secrets``: encryption and signing keys: generate, rotate the stored secrets, retire the JWT
signing key."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from cloudoptima.settings import SettingsError
from cloudoptima_cli.common import StateDir, console, fail, settings_or_fail

secrets_app = typer.Typer(no_args_is_help=True, help="Encryption and signing keys: generate and rotate.")


@secrets_app.command("generate-key")
def secrets_generate_key() -> None:
    """Print a fresh Fernet key (for the front of CLOUDOPTIMA_ENCRYPTION_KEYS)."""
    from cryptography.fernet import Fernet

    print(Fernet.generate_key().decode())


@secrets_app.command("rotate")
def secrets_rotate(
    state_dir: StateDir = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Rows re-encrypted per transaction.")
    ] = 200,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Re-encrypt every stored secret under the newest key of CLOUDOPTIMA_ENCRYPTION_KEYS.

    Readers keep every key of the ring, so the platform keeps running; rows move in batches, each in its own
    transaction; a value no key can read stops the command before anything changes; running it again is a
    no-op.
    """
    from cloudoptima.security.encryption import CredentialCipher
    from cloudoptima.services.key_rotation import KeyRotationError, rotate_stored_secrets
    from cloudoptima.storage.engine import make_engine

    settings = settings_or_fail(state_dir)
    try:
        keys = settings.resolved_encryption_keys
        engine = make_engine(settings.resolved_database_url(), pool_size=2)
    except SettingsError as exc:
        fail(str(exc))
    try:
        report = rotate_stored_secrets(engine, CredentialCipher(keys), batch_size=batch_size)
    except KeyRotationError as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    if as_json:
        print(
            json.dumps(
                {
                    "keys": len(keys),
                    "rotated": report.rotated,
                    "columns": [
                        {
                            "column": c.column,
                            "rows": c.rows,
                            "rotated": c.rotated,
                            "already_current": c.already_current,
                        }
                        for c in report.columns
                    ],
                }
            )
        )
        return
    table = Table("column", "rows", "re-encrypted", "already current", title="secrets rotate")
    for column in report.columns:
        table.add_row(column.column, str(column.rows), str(column.rotated), str(column.already_current))
    console.print(table)
    if len(keys) > 1:
        console.print(
            "every stored secret is under the newest key; the older keys can now be removed from "
            "CLOUDOPTIMA_ENCRYPTION_KEYS"
        )


@secrets_app.command("rotate-jwt")
def secrets_rotate_jwt(
    state_dir: StateDir = None,
    key_id: Annotated[
        str | None, typer.Option("--key-id", help="kid of the new key (default: derived).")
    ] = None,
) -> None:
    """Print the settings that retire the current JWT signing key now and sign with a fresh one.

    Set the printed JWT_SECRET, JWT_KEY_ID and JWT_PREVIOUS_KEYS on every gateway and MCP server and restart
    them: tokens of the retired key keep working for JWT_KEY_GRACE_MINUTES, new tokens use the new key.
    """
    import secrets as random_secrets
    from datetime import UTC, datetime

    from cloudoptima.security.jwt_keys import default_kid

    settings = settings_or_fail(state_dir)
    secret = random_secrets.token_urlsafe(48)
    try:
        previous = settings.jwt_keys_retired_at(datetime.now(UTC).replace(microsecond=0))
    except SettingsError as exc:
        fail(str(exc))
    print(f"JWT_SECRET={secret}")
    print(f"JWT_KEY_ID={key_id or default_kid(secret)}")
    print(f"JWT_PREVIOUS_KEYS='{json.dumps(previous)}'")
