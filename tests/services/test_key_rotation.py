"""``cloudoptima secrets rotate``: every stored secret moves to the newest key, readable before, during (mixed
keys) and after; a second run is a no-op; a key the ring lacks stops it before anything changes."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cloudoptima.embedded import postgres
from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.key_rotation import ColumnReport, KeyRotationError, rotate_stored_secrets
from cloudoptima.storage.engine import normalise_url
from cloudoptima.storage.migrate import upgrade
from cloudoptima.storage.models import CloudAccount, NotificationChannelRow, Organization, SsoProvider
from cloudoptima_cli.app import app

OLD, NEW, STRANGER = (Fernet.generate_key().decode() for _ in range(3))


@pytest.fixture(scope="module")
def own_db(pg_url: str) -> Iterator[tuple[str, Engine]]:
    """A database of its own: rotation is global, and other tests leave rows under their own keys."""
    port = make_url(pg_url).port
    assert port is not None
    name = f"rotation_{uuid.uuid4().hex[:8]}"
    postgres.ensure_database(port, name)
    url = postgres.url_for(port, name)
    upgrade(url)
    engine = create_engine(normalise_url(url))
    yield url, engine
    engine.dispose()


def _accounts(engine: Engine, cipher: CredentialCipher, count: int, tag: str) -> None:
    with Session(engine) as session:
        org = Organization(name=f"org-{tag}", subscription_tier="free", settings={})
        session.add(org)
        session.flush()
        for i in range(count):
            session.add(
                CloudAccount(
                    organization_id=org.id,
                    provider="aws",
                    account_identifier=f"{tag}-{i}",
                    credentials_encrypted=cipher.encrypt({"role_arn": f"arn:{tag}:{i}"}),
                )
            )
        if tag == "a":  # an organisation's single sign-on client secret is encrypted the same way
            session.add(
                SsoProvider(
                    organization_id=org.id,
                    slug=f"sso-{tag}",
                    issuer="https://idp.example.com",
                    client_id="c",
                    client_secret_encrypted=cipher.encrypt({"client_secret": "s3cret"}),
                    scopes="openid",
                    groups_claim="groups",
                    group_roles={},
                )
            )
        session.commit()


def _channels(engine: Engine, cipher: CredentialCipher) -> None:
    """A signed webhook channel (target and secret encrypted) and a Slack channel (no secret: NULL)."""
    with Session(engine) as session:
        org = Organization(name="org-channels", subscription_tier="free", settings={})
        session.add(org)
        session.flush()
        for name, kind, secret in (("hook", "webhook", "a-signing-secret-0123"), ("slack", "slack", None)):
            session.add(
                NotificationChannelRow(
                    organization_id=org.id,
                    name=name,
                    kind=kind,
                    target_encrypted=cipher.encrypt({"target": f"https://example.com/{name}/SECRET"}),
                    target_hint="https://example.com/…",
                    secret_encrypted=None if secret is None else cipher.encrypt({"secret": secret}),
                    created_at=datetime.now(UTC),
                )
            )
        session.commit()


def _channel_values(engine: Engine) -> dict[str, tuple[str, str | None]]:
    with Session(engine) as session:
        rows = session.execute(
            select(
                NotificationChannelRow.name,
                NotificationChannelRow.target_encrypted,
                NotificationChannelRow.secret_encrypted,
            )
        )
        return {name: (target, secret) for name, target, secret in rows}


def _stored(engine: Engine) -> dict[str, tuple[str, object]]:
    with Session(engine) as session:
        rows = session.execute(
            select(
                CloudAccount.account_identifier, CloudAccount.credentials_encrypted, CloudAccount.updated_at
            )
        )
        found: dict[str, tuple[str, object]] = {ident: (value, updated) for ident, value, updated in rows}
        for slug, value, updated in session.execute(
            select(SsoProvider.slug, SsoProvider.client_secret_encrypted, SsoProvider.updated_at)
        ):
            found[slug] = (value, updated)
        return found


def _readable(engine: Engine, cipher: CredentialCipher) -> dict[str, bool]:
    return {ident: cipher.readable(value) for ident, (value, _) in _stored(engine).items()}


def test_rotation_keeps_every_secret_readable_and_runs_once(
    own_db: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, engine = own_db
    old_only, ring, new_only = CredentialCipher(OLD), CredentialCipher([NEW, OLD]), CredentialCipher(NEW)
    _accounts(engine, old_only, 5, "a")
    _accounts(engine, ring, 2, "b")  # written after the processes got the ring: mixed keys at rest
    _channels(engine, old_only)
    assert all(_readable(engine, ring).values())
    assert sum(_readable(engine, old_only).values()) == 6
    assert sum(_readable(engine, new_only).values()) == 2
    before = _stored(engine)

    # A ring that lacks the key some rows were written with: refused before anything changes.
    with pytest.raises(KeyRotationError, match=r"cloud_accounts.credentials_encrypted: 7 value\(s\)"):
        rotate_stored_secrets(engine, CredentialCipher(STRANGER))
    with pytest.raises(KeyRotationError, match=r"5 value\(s\).*sso_providers.client_secret_encrypted: 1"):
        rotate_stored_secrets(engine, CredentialCipher([NEW]))
    assert _stored(engine) == before

    during: list[tuple[int, int]] = []

    def check(progress: ColumnReport) -> None:
        # Between batches readers holding the ring read every row; rows not yet reached are still old.
        assert all(_readable(engine, ring).values())
        during.append((progress.rows, sum(_readable(engine, new_only).values())))

    report = rotate_stored_secrets(engine, ring, batch_size=3, after_batch=check)
    column, sso, target, secret = report.columns
    assert (target.column, target.rows, target.rotated) == ("notification_channels.target_encrypted", 2, 2)
    assert (secret.column, secret.rows, secret.rotated) == ("notification_channels.secret_encrypted", 1, 1)
    channels = _channel_values(engine)
    assert new_only.decrypt(channels["hook"][0]) == {"target": "https://example.com/hook/SECRET"}
    assert new_only.decrypt(channels["hook"][1] or "") == {"secret": "a-signing-secret-0123"}
    assert channels["slack"][1] is None  # no secret stays no secret
    assert (column.rows, column.rotated, column.already_current, column.batches) == (7, 5, 2, 3)
    assert (sso.column, sso.rows, sso.rotated) == ("sso_providers.client_secret_encrypted", 1, 1)
    assert during[0][0] == 3 and 2 < during[0][1] < 7  # a mixed state was observed and read
    after = _stored(engine)
    assert all(_readable(engine, new_only).values())
    assert not any(_readable(engine, old_only).values())
    assert {k: v[1] for k, v in after.items()} == {k: v[1] for k, v in before.items()}  # updated_at kept
    assert new_only.decrypt(after["a-3"][0]) == {"role_arn": "arn:a:3"}
    assert new_only.decrypt(after["sso-a"][0]) == {"client_secret": "s3cret"}

    # The CLI: a second run changes nothing; a wrong key fails with one clear line and changes nothing.
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("CLOUDOPTIMA_ENCRYPTION_KEYS", f"{NEW},{OLD}")
    runner = CliRunner()
    result = runner.invoke(app, ["secrets", "rotate", "--json", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["rotated"] == 0 and summary["keys"] == 2
    assert [c["already_current"] for c in summary["columns"]] == [7, 1, 2, 1]
    assert _stored(engine) == after

    monkeypatch.setenv("CLOUDOPTIMA_ENCRYPTION_KEYS", STRANGER)
    refused = runner.invoke(app, ["secrets", "rotate"])
    assert refused.exit_code == 1
    assert "cannot be decrypted with any configured key" in refused.output
    monkeypatch.setenv("CLOUDOPTIMA_ENCRYPTION_KEYS", "not-a-key")
    malformed = runner.invoke(app, ["secrets", "rotate"])
    assert malformed.exit_code == 1 and "CLOUDOPTIMA_ENCRYPTION_KEYS" in malformed.output
    assert _stored(engine) == after
