"""Live-path eval, AWS (``evals/live_aws.py``): an estate written in moto apart from the sandbox generator,
connected through the REST API, collected by the real connector, analysed; floors enforced here."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from cloudoptima.clouds.registry import ProviderRegistry
from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.settings import Settings
from evals import live_aws
from gateway.main import build_app

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def result(
    tmp_path_factory: pytest.TempPathFactory,
    engine: Engine,
    pg_url: str,
    redis_url: str,
    temporal_env: WorkflowEnvironment,
) -> dict[str, object]:
    state: Path = tmp_path_factory.mktemp("live-eval")
    settings = Settings(
        state_dir=state,
        database_url=pg_url,
        redis_url=redis_url,
        temporal_address=temporal_env.client.service_client.config.target_host,
        log_level="WARNING",
    )
    providers = ProviderRegistry(CredentialCipher(settings.resolved_encryption_key))
    with TestClient(build_app(settings, providers=providers)) as api:
        found = live_aws.run(api, engine, providers, NOW)
    print(json.dumps(found, indent=2, default=str))
    return found


def test_live_aws_floors(result: dict[str, object]) -> None:
    assert live_aws.failures(result) == []  # type: ignore[arg-type]
    assert result["collection_failures"] == []
    assert result["critical_false_positives"] == 0, result["critical_details"]
    assert result["recall"] >= 0.9, result["missed"]  # type: ignore[operator]
    assert result["precision"] >= 0.9, result["spurious"]  # type: ignore[operator]
    assert result["first_analysis_found_all"] is True, result["missed"]
