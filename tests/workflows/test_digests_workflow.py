"""SendDigests on a real Temporal dev server (real clock) against Postgres: the pass takes its time from the workflow,
sends the in-app digest that is due (once: a second pass sends nothing more) and records it sent."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, delete, select
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from cloudoptima.services.digests import Digests, digest_schedule
from cloudoptima.services.inbox import Inbox
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import NotificationDigestRow, Organization, User
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_workflows.notifications.activities import NotificationActivities
from cloudoptima_workflows.notifications.inputs import SendDigestsInput, SendDigestsResult
from cloudoptima_workflows.notifications.workflows import SendDigestsWorkflow
from tests.workflows.history_recording import record_history


@pytest.fixture
def user(engine: Engine) -> Iterator[tuple[uuid.UUID, uuid.UUID]]:
    factory = session_factory(engine)
    with factory() as session, session.begin():
        org = Organization(name=f"digest-wf-{uuid.uuid4().hex[:6]}", settings={})
        session.add(org)
        session.flush()
        row = User(
            organization_id=org.id,
            email=f"d-{uuid.uuid4().hex[:8]}@example.com",
            password_hash="x",
            role="admin",
        )
        session.add(row)
        session.flush()
        ids = (org.id, row.id)
    yield ids
    with factory() as session, session.begin():
        session.execute(delete(Organization).where(Organization.id == ids[0]))


async def test_a_due_in_app_digest_is_sent_once_at_the_workflow_time(
    temporal_env: WorkflowEnvironment, engine: Engine, user: tuple[uuid.UUID, uuid.UUID]
) -> None:
    org, user_id = user
    factory = session_factory(engine)
    with tenant_session(factory, org) as session:
        Digests(session, org).put(
            user_id,
            digest_schedule(frequency="daily", time_of_day="00:00", timezone="UTC", channel="in_app"),
            now=datetime.now(UTC) - timedelta(days=2),
        )
    queue = f"digests-test-{uuid.uuid4().hex[:8]}"
    activities = NotificationActivities(factory, (), None, public_url="https://finops.example.com")
    results: list[SendDigestsResult] = []
    with ThreadPoolExecutor(2) as executor:
        async with Worker(
            temporal_env.client,
            task_queue=queue,
            workflows=[SendDigestsWorkflow],
            activities=[activities.send_digests],
            activity_executor=executor,
        ):
            handles = []
            for _ in range(2):  # the second pass right after the first: nothing more is due
                handle = await temporal_env.client.start_workflow(
                    SendDigestsWorkflow.run,
                    SendDigestsInput(),
                    id=f"send-digests-{uuid.uuid4()}",
                    task_queue=queue,
                )
                results.append(await handle.result())
                handles.append(handle)
            await record_history(handles[0], "send_digests")
    assert results[0].sent >= 1 and str(user_id) not in results[0].failed_users
    assert str(user_id) not in results[1].failed_users
    with tenant_session(factory, org) as session:
        items = Inbox(session, org).list(user_id).items
        row = session.scalars(
            select(NotificationDigestRow).where(NotificationDigestRow.user_id == user_id)
        ).one()
    digests = [i for i in items if i.event_type == "digest"]
    [digest] = digests
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date()
    assert digest.title in {
        f"Daily digest for {yesterday}",
        f"Daily digest for {yesterday - timedelta(days=1)}",
    }
    assert digest.link is not None and digest.link.startswith("https://finops.example.com/v1/costs/overview")
    assert row.last_sent_at is not None and row.last_error is None
