"""The gateway the live-path evals connect through: one in-process app over the session's Postgres, Redis
and Temporal, whose provider registry can point a connector at a strict fake (``LiveProviderRegistry``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.settings import Settings
from cloudoptima_evals.live_path import LiveProviderRegistry
from cloudoptima_gateway.main import build_app


@dataclass
class LiveGateway:
    api: TestClient
    engine: Engine
    providers: LiveProviderRegistry


@pytest.fixture(scope="session")
def live_gateway(
    tmp_path_factory: pytest.TempPathFactory,
    engine: Engine,
    pg_url: str,
    redis_url: str,
    temporal_env: WorkflowEnvironment,
) -> Iterator[LiveGateway]:
    state: Path = tmp_path_factory.mktemp("live-eval")
    settings = Settings(
        state_dir=state,
        database_url=pg_url,
        redis_url=redis_url,
        temporal_address=temporal_env.client.service_client.config.target_host,
        log_level="WARNING",
    )
    providers = LiveProviderRegistry(CredentialCipher(settings.resolved_encryption_key))
    with TestClient(build_app(settings, providers=providers)) as api:
        yield LiveGateway(api, engine, providers)
