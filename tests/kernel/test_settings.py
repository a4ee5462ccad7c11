"""Settings: embedded mode generates and keeps secrets; production refuses unsafe values."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from cloudoptima.settings import Settings, SettingsError


def test_embedded_mode_generates_secrets_once_with_mode_600(tmp_path: Path) -> None:
    first = Settings(state_dir=tmp_path)
    secret, key = first.resolved_jwt_secret, first.resolved_encryption_key
    assert len(secret) >= 32
    assert stat.S_IMODE((tmp_path / "secrets.json").stat().st_mode) == 0o600
    second = Settings(state_dir=tmp_path)
    assert (second.resolved_jwt_secret, second.resolved_encryption_key) == (secret, key)


@pytest.mark.parametrize("value", ["change-me", "secret", ""])
def test_production_refuses_default_jwt_secret(tmp_path: Path, value: str) -> None:
    settings = Settings(state_dir=tmp_path, mode="production", jwt_secret=value)
    with pytest.raises(SettingsError, match="JWT_SECRET"):
        _ = settings.resolved_jwt_secret
    assert not (tmp_path / "secrets.json").exists(), "production must never generate secrets"


def test_production_refuses_short_secret_and_missing_key(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="at least 32"):
        _ = Settings(state_dir=tmp_path, mode="production", jwt_secret="x" * 10).resolved_jwt_secret
    strong = Settings(state_dir=tmp_path, mode="production", jwt_secret="x" * 40)
    with pytest.raises(SettingsError, match="CLOUDOPTIMA_ENCRYPTION_KEY"):
        strong.check_production_safety()


def test_production_requires_service_urls(tmp_path: Path) -> None:
    settings = Settings(
        state_dir=tmp_path,
        mode="production",
        jwt_secret="y" * 40,
        encryption_key="k" * 43 + "=",  # a Fernet key: production refuses a malformed one at start
        redis_url="redis://r",
    )
    with pytest.raises(SettingsError, match="DATABASE_URL"):
        settings.check_production_safety()


def test_environment_variables_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDOPTIMA_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/x")
    monkeypatch.setenv("CLOUDOPTIMA_PORT", "9123")
    settings = Settings()
    assert settings.state_path == tmp_path.resolve()
    assert settings.resolved_database_url() == "postgresql://db/x"
    assert settings.gateway_port == 9123


def test_service_urls_come_from_the_running_platform(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path)
    with pytest.raises(SettingsError, match="DATABASE_URL is not set"):
        settings.resolved_database_url()
    (tmp_path / "runtime.json").write_text(json.dumps({"database_url": "postgresql+psycopg://h/db"}))
    assert settings.resolved_database_url() == "postgresql+psycopg://h/db"


def test_corrupt_secrets_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "secrets.json").write_text("{not json")
    with pytest.raises(SettingsError, match=r"secrets\.json is corrupt"):
        _ = Settings(state_dir=tmp_path).resolved_jwt_secret


def test_port_out_of_range_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="70000"):
        Settings(state_dir=tmp_path, gateway_port=70000)
