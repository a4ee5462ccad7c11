"""Key rings from settings: the encryption key ring and the JWT signing keys (kid, grace), unsafe values refused;
signing-key rotation with a pinned clock."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
import time_machine
from cryptography.fernet import Fernet

from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.tokens import TokenError, TokenIssuer
from cloudoptima.settings import Settings, SettingsError

OLD_SECRET, NEW_SECRET = "o" * 40, "n" * 40
RETIRED = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)


def test_encryption_key_ring_from_settings(tmp_path: Path) -> None:
    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    ring = Settings(state_dir=tmp_path, encryption_keys=f" {new} , {old}")
    assert ring.resolved_encryption_keys == (new, old) and ring.resolved_encryption_key == new
    as_json = Settings(state_dir=tmp_path, encryption_keys=f'["{new}", "{old}"]')
    assert as_json.resolved_encryption_keys == (new, old)
    written_before = CredentialCipher(old).encrypt({"k": "v"})
    assert CredentialCipher(ring.resolved_encryption_keys).decrypt(written_before) == {"k": "v"}
    refusals = {
        f"{new},{new}": "same key twice",
        f"{new},not-a-key": "#2 is not a Fernet key",
        f"{new},change-me": "known default",
    }
    for value, message in refusals.items():
        with pytest.raises(SettingsError, match=message) as caught:
            _ = Settings(state_dir=tmp_path, encryption_keys=value).resolved_encryption_keys
        assert "CLOUDOPTIMA_ENCRYPTION_KEYS" in str(caught.value)
    with pytest.raises(SettingsError, match="first \\(newest\\)"):
        _ = Settings(
            state_dir=tmp_path, encryption_keys=f"{new},{old}", encryption_key=old
        ).resolved_encryption_keys
    with pytest.raises(SettingsError, match="CLOUDOPTIMA_ENCRYPTION_KEY: encryption key #1"):
        _ = Settings(state_dir=tmp_path, encryption_key="short").resolved_encryption_keys


def _settings(tmp_path: Path, **extra: object) -> Settings:
    base: dict[str, object] = {
        "state_dir": tmp_path,
        "mode": "production",
        "jwt_secret": NEW_SECRET,
        "jwt_key_id": "2030-03",
        "jwt_previous_keys": [{"kid": "2030-02", "secret": OLD_SECRET, "retired_at": RETIRED.isoformat()}],
        "jwt_key_grace_minutes": 10,
    }
    return Settings(**{**base, **extra})  # type: ignore[arg-type]


def test_jwt_settings_refuse_unsafe_rings(tmp_path: Path) -> None:
    ring = _settings(tmp_path).resolved_jwt_keys
    assert ring.current.kid == "2030-03" and ring.previous[0].kid == "2030-02"
    assert ring.grace == timedelta(minutes=10)
    old = {"kid": "2030-02", "secret": OLD_SECRET, "retired_at": RETIRED.isoformat()}
    refusals: dict[str, dict[str, object]] = {
        "known default": {"jwt_previous_keys": [{**old, "secret": "change-me"}]},
        "at least 32": {"jwt_previous_keys": [{**old, "secret": "short-secret"}]},
        "used twice": {"jwt_previous_keys": [{**old, "kid": "2030-03"}]},
        "reuses a secret": {"jwt_previous_keys": [{**old, "secret": NEW_SECRET}]},
        "JWT_KEY_GRACE_MINUTES": {"jwt_key_grace_minutes": 0},
        "at most": {"jwt_key_grace_minutes": 60 * 24 * 30},
        "A-Z a-z": {"jwt_key_id": "bad kid!"},
    }
    for message, extra in refusals.items():
        with pytest.raises(SettingsError, match=message):
            _ = _settings(tmp_path, **extra).resolved_jwt_keys
    with pytest.raises(ValueError, match="retired_at"):
        _settings(tmp_path, jwt_previous_keys=[{**old, "retired_at": "2030-03-01T12:00:00"}])
    with pytest.raises(SettingsError, match="JWT_SECRET"):
        _settings(tmp_path, jwt_secret="change-me").check_production_safety()


def test_old_tokens_verify_within_the_grace_period_only(tmp_path: Path) -> None:
    user, org = uuid.uuid4(), uuid.uuid4()
    before = TokenIssuer(
        OLD_SECRET,
        keys=_settings(
            tmp_path, jwt_secret=OLD_SECRET, jwt_key_id="2030-02", jwt_previous_keys=[]
        ).resolved_jwt_keys,
    )
    old_token, _ = before.issue(user, org, "analyst", now=RETIRED - timedelta(minutes=1))
    assert jwt.get_unverified_header(old_token)["kid"] == "2030-02"
    ring = _settings(tmp_path).resolved_jwt_keys
    after = TokenIssuer(ring.current.secret, keys=ring)
    with time_machine.travel(RETIRED + timedelta(minutes=5), tick=False):
        assert after.verify(old_token).user_id == user  # retired 5 minutes ago: inside the 10-minute grace
        new_token, claims = after.issue(user, org, "analyst")
        assert jwt.get_unverified_header(new_token)["kid"] == "2030-03" and claims.key_id == "2030-03"
        assert after.verify(new_token) == claims
    with time_machine.travel(RETIRED + timedelta(minutes=10), tick=False):
        # The token itself is valid until RETIRED + 29 minutes; its key is not (the remembered copy neither).
        with pytest.raises(TokenError, match="retired key whose grace period is over"):
            after.verify(old_token)
        assert after.verify(new_token) == claims
        forged_kid = jwt.encode({"sub": "x"}, NEW_SECRET, algorithm="HS256", headers={"kid": "nope"})
        with pytest.raises(TokenError, match="unknown key"):
            after.verify(forged_kid)
        # Claiming the new key's kid on a token signed by the old secret does not help.
        payload = jwt.decode(old_token, OLD_SECRET, algorithms=["HS256"], options={"verify_exp": False})
        relabelled = jwt.encode(payload, OLD_SECRET, algorithm="HS256", headers={"kid": "2030-03"})
        with pytest.raises(TokenError, match="invalid"):
            after.verify(relabelled)


def test_rotate_jwt_prints_settings_that_keep_old_tokens_valid(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cloudoptima_cli.app import app

    before = Settings(state_dir=tmp_path)
    old = TokenIssuer(before.resolved_jwt_secret, keys=before.resolved_jwt_keys)
    token, claims = old.issue(uuid.uuid4(), uuid.uuid4(), "viewer")
    result = CliRunner().invoke(
        app, ["secrets", "rotate-jwt", "--state-dir", str(tmp_path), "--key-id", "next"]
    )
    assert result.exit_code == 0, result.output
    lines = dict(line.split("=", 1) for line in result.stdout.splitlines())
    after = Settings(
        state_dir=tmp_path,
        jwt_secret=lines["JWT_SECRET"],
        jwt_key_id=lines["JWT_KEY_ID"],
        jwt_previous_keys=json.loads(lines["JWT_PREVIOUS_KEYS"].strip("'")),
    )
    ring = after.resolved_jwt_keys
    assert ring.current.kid == "next" and ring.previous[0].kid == claims.key_id
    assert TokenIssuer(ring.current.secret, keys=ring).verify(token).jti == claims.jti
