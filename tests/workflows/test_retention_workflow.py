"""The Retention workflow through its real activity and database, at a pinned ``at`` (2001; data in 2000):
one ``maintenance.retention_family`` activity per family, each with its own retry policy in the history, all
at the same instant; a notification past the cutoff is removed, one inside it kept."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, delete, select
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from cloudoptima.services.retention import FAMILIES
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import Notification, Organization, User
from cloudoptima_workflows.maintenance.activities import MaintenanceActivities
from cloudoptima_workflows.maintenance.inputs import RetentionInput, RetentionResult
from cloudoptima_workflows.maintenance.workflows import RETENTION_FAMILIES, RetentionWorkflow
from tests.workflows.history_recording import record_history

AT = datetime(2001, 6, 15, 12, tzinfo=UTC)


@pytest.fixture
def org(engine: Engine) -> Iterator[uuid.UUID]:
    org_id = uuid.uuid4()
    with session_factory(engine)() as session, session.begin():
        session.add(Organization(id=org_id, name=f"wf-ret-{org_id}", subscription_tier="free", settings={}))
        session.flush()
        user = User(organization_id=org_id, email=f"wf-{org_id}@example.com", password_hash="-", role="admin")
        session.add(user)
        session.flush()
        for key, days in (("old", 31), ("recent", 29)):
            session.add(
                Notification(
                    organization_id=org_id, user_id=user.id, event_type="test", severity="info", title=key,
                    summary=key, payload={}, idempotency_key=key, created_at=AT - timedelta(days=days),
                )
            )  # fmt: skip
    yield org_id
    with session_factory(engine)() as session, session.begin():
        for model in (Notification, User):
            session.execute(delete(model).where(model.organization_id == org_id))  # type: ignore[attr-defined]
        session.execute(delete(Organization).where(Organization.id == org_id))


def test_the_workflow_knows_every_family() -> None:
    assert RETENTION_FAMILIES == FAMILIES


async def test_one_activity_per_family(
    time_skipping_env: WorkflowEnvironment, engine: Engine, org: uuid.UUID
) -> None:
    activities = MaintenanceActivities(session_factory(engine))
    with ThreadPoolExecutor(2) as executor:
        async with Worker(
            time_skipping_env.client,
            task_queue="retention-test",
            workflows=[RetentionWorkflow],
            activities=[activities.retention_family],
            activity_executor=executor,
        ):
            handle = await time_skipping_env.client.start_workflow(
                RetentionWorkflow.run,
                RetentionInput(notifications_days=30, at=AT),
                id=f"retention-{uuid.uuid4()}",
                task_queue="retention-test",
            )
            result = await handle.result()
            history = await handle.fetch_history()
            await record_history(handle, "retention")
    assert isinstance(result, RetentionResult)
    assert [r.family for r in result.families] == list(FAMILIES)
    notices = next(r for r in result.families if r.family == "notifications")
    assert notices.cutoff == AT - timedelta(days=30) and notices.removed >= 1
    with session_factory(engine)() as session:
        left = list(session.scalars(select(Notification.title).where(Notification.organization_id == org)))
    assert left == ["recent"]
    scheduled = [
        e.activity_task_scheduled_event_attributes
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    assert [a.activity_type.name for a in scheduled] == ["maintenance.retention_family"] * len(FAMILIES)
    assert {a.retry_policy.maximum_attempts for a in scheduled} == {5}
