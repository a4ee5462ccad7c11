"""``cloudoptima eval --live [--cloud aws|azure|gcp]``: the live-path evals of the chosen clouds on their own
embedded Postgres and Redis in a temporary directory (the user's data is never touched), through one
in-process gateway.

Contract:

- :data:`CLOUDS` names the eval module of each cloud; each offers ``run(api, engine, providers, now)``,
  ``needs()`` (raises ``RuntimeError`` when its dev dependencies are missing) and
  ``MAX_SAVINGS_ERROR_PERCENT`` (its CI bound on the worst saving error).
- :func:`run_standalone` runs the chosen clouds one after the other against one gateway whose provider
  registry is a :class:`~cloudoptima_evals.live_path.LiveProviderRegistry`; returns ``{cloud: result}``, each result
  carrying its ``failures`` (``cloudoptima_evals.live_scoring.failures`` with the cloud's bound) and ``elapsed_s``.
- :func:`standalone_gateway` is that gateway, database and cache, for other live evals
  (``cloudoptima_evals/live_savings.py``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import import_module
from typing import Any

from cloudoptima_evals.live_scoring import failures

CLOUDS = {
    "aws": "cloudoptima_evals.live_aws",
    "azure": "cloudoptima_evals.live_azure",
    "gcp": "cloudoptima_evals.live_gcp",
}


def module(cloud: str) -> Any:
    """The eval module of ``cloud`` (imported now: each pulls in its fakes and SDKs)."""
    return import_module(CLOUDS[cloud])


def run_cloud(cloud: str, api: Any, engine: Any, providers: Any, now: datetime) -> dict[str, Any]:
    """One cloud's eval through ``api``, with its floors checked and its runtime."""
    eval_module = module(cloud)
    started = time.monotonic()
    result: dict[str, Any] = eval_module.run(api, engine, providers, now)
    result["elapsed_s"] = round(time.monotonic() - started, 1)
    result["failures"] = failures(result, eval_module.MAX_SAVINGS_ERROR_PERCENT)
    return result


def run_standalone(clouds: Sequence[str] = tuple(CLOUDS), now: datetime | None = None) -> dict[str, Any]:
    """Every chosen cloud's eval on a temporary Postgres and Redis (see module contract)."""
    for cloud in clouds:
        module(cloud).needs()
    when = now or datetime.now(UTC).replace(minute=30, second=0, microsecond=0)
    with standalone_gateway() as (api, engine, providers):
        return {cloud: run_cloud(cloud, api, engine, providers, when) for cloud in clouds}


@contextmanager
def standalone_gateway() -> Iterator[tuple[Any, Any, Any]]:
    """``(api, engine, providers)``: an in-process gateway over a temporary embedded Postgres and Redis, its
    provider registry a :class:`~cloudoptima_evals.live_path.LiveProviderRegistry`; removed afterwards."""
    import shutil
    import signal
    import tempfile
    from pathlib import Path

    from fastapi.testclient import TestClient

    from cloudoptima.embedded import postgres, redis
    from cloudoptima.embedded.ports import free_port
    from cloudoptima.embedded.process import stop
    from cloudoptima.security.encryption import CredentialCipher
    from cloudoptima.settings import Settings
    from cloudoptima.storage.engine import make_engine
    from cloudoptima.storage.migrate import upgrade
    from cloudoptima_evals.live_path import LiveProviderRegistry
    from cloudoptima_gateway.main import build_app

    state = Path(tempfile.mkdtemp(prefix="cloudoptima-live-eval-"))
    pg_port, redis_port = free_port(), free_port()
    pg = postgres.start(postgres.PostgresLayout.in_state_dir(state), pg_port)
    cache = redis.start(state / "redis", redis_port, state / "redis.log")
    engine = None
    try:
        postgres.ensure_database(pg_port, "cloudoptima_eval")
        url = postgres.url_for(pg_port, "cloudoptima_eval")
        upgrade(url)
        engine = make_engine(url)
        settings = Settings(
            state_dir=state / "gateway",
            database_url=url,
            redis_url=redis.url_for(redis_port),
            log_level="WARNING",
        )
        providers = LiveProviderRegistry(CredentialCipher(settings.resolved_encryption_key))
        with TestClient(build_app(settings, providers=providers)) as api:
            yield api, engine, providers
    finally:
        if engine is not None:
            engine.dispose()
        stop(cache)
        stop(pg, sig=signal.SIGINT)
        shutil.rmtree(state, ignore_errors=True)
