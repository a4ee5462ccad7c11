"""``GATEWAY_WORKERS`` and ``API_KEY_CACHE_SECONDS``: their defaults, and bad values refused naming the
variable (also by ``cloudoptima gateway`` before it starts anything)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from cloudoptima.settings import Settings


def test_gateway_workers_default_to_the_cpus_in_production_and_one_embedded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GATEWAY_WORKERS", raising=False)
    assert Settings(state_dir=tmp_path).resolved_gateway_workers == 1
    usable = len(os.sched_getaffinity(0))
    assert Settings(state_dir=tmp_path, mode="production").resolved_gateway_workers == min(usable, 4)
    monkeypatch.setenv("GATEWAY_WORKERS", " ")  # blank (compose passes an unset variable so): the default
    assert Settings(state_dir=tmp_path, mode="production").resolved_gateway_workers == min(usable, 4)
    monkeypatch.setenv("GATEWAY_WORKERS", "3")
    assert Settings(state_dir=tmp_path, mode="production").resolved_gateway_workers == 3
    assert Settings(state_dir=tmp_path).resolved_gateway_workers == 3
    assert Settings(state_dir=tmp_path).api_key_cache_seconds == 30


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("GATEWAY_WORKERS", "0", "greater than or equal to 1"),
        ("GATEWAY_WORKERS", "65", "less than or equal to 64"),
        ("GATEWAY_WORKERS", "two", "valid integer"),
        ("API_KEY_CACHE_SECONDS", "-1", "greater than or equal to 0"),
        ("API_KEY_CACHE_SECONDS", "301", "less than or equal to 300"),
    ],
)
def test_bad_values_are_refused_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as raised:
        Settings(state_dir=tmp_path)
    (error,) = raised.value.errors()
    assert error["loc"] == (variable,) and message in error["msg"]


def test_the_gateway_command_refuses_bad_worker_counts_before_starting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from cloudoptima_cli.app import app

    monkeypatch.setenv("CLOUDOPTIMA_STATE_DIR", str(tmp_path))
    from_env = CliRunner().invoke(app, ["gateway"], env={"GATEWAY_WORKERS": "0"})
    assert from_env.exit_code == 1
    assert "GATEWAY_WORKERS: Input should be greater than or equal to 1" in from_env.output
    from_option = CliRunner().invoke(app, ["gateway", "--workers", "65"])
    assert from_option.exit_code == 2 and "--workers" in from_option.output
