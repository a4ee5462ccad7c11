"""The cleanup workflow purges expired auth bookkeeping through its real activity and database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import Engine, delete, select
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from cloudoptima.storage.base import utcnow
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import RevokedToken
from temporal_workflows.maintenance.activities import MaintenanceActivities
from temporal_workflows.maintenance.inputs import CleanupInput, CleanupResult
from temporal_workflows.maintenance.workflows import CleanupWorkflow


@pytest.fixture
def tokens(engine: Engine) -> Iterator[tuple[str, str]]:
    old, fresh = f"old-{uuid.uuid4()}", f"fresh-{uuid.uuid4()}"
    with session_factory(engine)() as session, session.begin():
        session.add(RevokedToken(jti=old, expires_at=utcnow() - timedelta(days=3)))
        session.add(RevokedToken(jti=fresh, expires_at=utcnow() + timedelta(hours=1)))
    yield old, fresh
    with session_factory(engine)() as session, session.begin():
        session.execute(delete(RevokedToken).where(RevokedToken.jti.in_([old, fresh])))


async def test_cleanup_deletes_only_expired(
    time_skipping_env: WorkflowEnvironment, engine: Engine, tokens: tuple[str, str]
) -> None:
    old, fresh = tokens
    activities = MaintenanceActivities(session_factory(engine))
    with ThreadPoolExecutor(4) as executor:
        async with Worker(
            time_skipping_env.client,
            task_queue="processing-test",
            workflows=[CleanupWorkflow],
            activities=[activities.purge_expired_tokens],
            activity_executor=executor,
        ):
            result = await time_skipping_env.client.execute_workflow(
                CleanupWorkflow.run,
                CleanupInput(grace_days=1),
                id=f"cleanup-{uuid.uuid4()}",
                task_queue="processing-test",
            )
    assert isinstance(result, CleanupResult)
    assert result.revoked_tokens_deleted >= 1
    with session_factory(engine)() as session:
        left = set(session.scalars(select(RevokedToken.jti).where(RevokedToken.jti.in_([old, fresh]))))
    assert left == {fresh}
