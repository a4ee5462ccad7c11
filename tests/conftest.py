"""Shared fixtures: the real embedded Postgres, Redis and Temporal, started once per test session.

* ``pg_url`` — a migrated database on an embedded Postgres (pgvector available).
* ``db_session`` — a Session inside a transaction that is rolled back after each test.
* ``redis_url`` — an embedded Redis.
* ``temporal_env`` / ``time_skipping_env`` — Temporal dev server and time-skipping test server from wheels.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from temporalio.testing import WorkflowEnvironment

from cloudoptima.embedded import postgres, redis
from cloudoptima.embedded.ports import free_port
from cloudoptima.embedded.process import stop
from cloudoptima.embedded.temporal import executable
from cloudoptima.storage.engine import make_engine
from cloudoptima.storage.migrate import upgrade
from cloudoptima_workflows.connection import DATA_CONVERTER

# Temporal's 2-second deadlock detector fails a workflow task whenever the test process pauses that long
# (a full garbage collection of this large process under CI load), which made unrelated remediation tests
# flaky; debug mode turns off only that timer (workflows still run in the sandbox, with its determinism
# checks). A workflow that truly blocks still fails its test by timing out.
os.environ.setdefault("TEMPORAL_DEBUG", "1")


TEST_DB = "cloudoptima_test"
pytest_plugins = ["tests.moved_clock"]

BROWSER = "tests/browser"


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """How ``make test`` shares the suite between its ``pytest-xdist`` workers (``--dist loadscope``): a
    module's tests go to one worker, so its module fixtures start once, and the whole ``tests/browser``
    folder goes to one worker, so its one console stack (a package fixture) starts once. Each worker has its
    own Postgres, Redis and Temporal (the session fixtures below). (``xdist_group`` marks cannot do it here:
    pytest 9's ``Item.nodeid`` no longer shows the ``@group`` suffix xdist 3.8 adds, so every test kept its
    module's scope and both workers started a console stack.)"""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]

    class ModulesAndTheBrowserFolder(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return BROWSER if nodeid.startswith(BROWSER + "/") else str(super()._split_scope(nodeid))

    return ModulesAndTheBrowserFolder(config, log)


@pytest.fixture(scope="session", autouse=True)
def moto_without_reserved_instances() -> Iterator[None]:
    """moto leaves ``ec2:DescribeReservedInstances`` unimplemented (an HTTP 500 that boto3 retries five
    times, ~9 s per region), and every collection reads owned commitments: answered as AWS answers an
    account that bought none. Owned Reserved Instances are tested on ``tests/clouds/aws/fake_commitments.py``."""
    from unittest import mock

    from moto.core.responses import ActionResult
    from moto.ec2.responses.reserved_instances import ReservedInstances

    def none_bought(self: ReservedInstances) -> ActionResult:
        return ActionResult({"ReservedInstances": []})

    with mock.patch.object(ReservedInstances, "describe_reserved_instances", none_bought):
        yield


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    # Not under pytest's basetemp: pytest re-chmods it to 0700 at each session start, and Postgres runs as a
    # separate system user when the tests run as root.
    state = Path(tempfile.mkdtemp(prefix="cloudoptima-test-pg-"))
    port = free_port()
    # Throwaway: no fsync (a commit does not wait for the disk; the directory is deleted at the end).
    process = postgres.start(postgres.PostgresLayout.in_state_dir(state), port, durable=False)
    try:
        postgres.ensure_database(port, TEST_DB)
        url = postgres.url_for(port, TEST_DB)
        upgrade(url)
        yield url
    finally:
        stop(process, sig=signal.SIGINT)
        shutil.rmtree(state, ignore_errors=True)


@pytest.fixture(scope="session")
def engine(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db_session(engine: Engine) -> Iterator[Session]:
    """A session whose every change (commits included) is rolled back when the test ends."""
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    state: Path = tmp_path_factory.mktemp("redis")
    port = free_port()
    process = redis.start(state, port, state / "redis.log")
    try:
        yield redis.url_for(port)
    finally:
        stop(process)


@pytest_asyncio.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=executable("temporal"),
        ui=False,
        dev_server_extra_args=["--log-level", "error"],
        data_converter=DATA_CONVERTER,
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest_asyncio.fixture
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=executable("temporal-test-server"), data_converter=DATA_CONVERTER
    )
    try:
        yield env
    finally:
        await env.shutdown()
