"""DeliverNotifications on a real Temporal test server against Postgres and a real local receiver: every due
delivery is attempted at the workflow's time; a failing channel neither stops nor repeats another."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, delete, select
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.notification_delivery import NotificationDelivery
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import NotificationDeliveryRow, Organization
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_workflows.notifications.activities import NotificationActivities
from cloudoptima_workflows.notifications.inputs import DeliverDueResult, DeliverNotificationsInput
from cloudoptima_workflows.notifications.workflows import DeliverNotificationsWorkflow
from tests.notifications.notices import approval_notice
from tests.notifications.receiver import Receiver, running_receiver
from tests.workflows.history_recording import record_history

KEY = Fernet.generate_key().decode()


@pytest.fixture
def org(engine: Engine) -> Iterator[uuid.UUID]:
    factory = session_factory(engine)
    with factory() as session, session.begin():
        row = Organization(name=f"deliver-{uuid.uuid4().hex[:6]}", settings={})
        session.add(row)
        session.flush()
        org_id = row.id
    yield org_id
    with factory() as session, session.begin():
        session.execute(delete(Organization).where(Organization.id == org_id))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver(datetime.now(UTC)) as r:
        yield r


async def test_due_deliveries_are_attempted_each_independently(
    time_skipping_env: WorkflowEnvironment, engine: Engine, org: uuid.UUID, receiver: Receiver
) -> None:
    factory = session_factory(engine)
    queued = datetime.now(UTC) - timedelta(minutes=1)
    with tenant_session(factory, org) as session:
        service = NotificationDelivery(
            session, org, cipher=CredentialCipher(KEY), smtp=None, allow_insecure_localhost=True
        )
        channels = [
            service.create_channel(name=n, kind=k, target=t, secret=None, now=queued).id
            for n, k, t in (
                ("ok", "slack", receiver.url("/ok")),
                ("boom", "teams", receiver.url("/boom")),
                ("mail", "email", "ops@example.com"),
            )
        ]
        ids = [d.id for d in service.enqueue(approval_notice(organization_id=org), channels, queued)]
    activities = NotificationActivities(factory, (KEY,), None, allow_insecure_localhost=True)
    with ThreadPoolExecutor(2) as executor:
        async with Worker(
            time_skipping_env.client,
            task_queue="processing-test",
            workflows=[DeliverNotificationsWorkflow],
            activities=[activities.deliver_due],
            activity_executor=executor,
        ):
            handle = await time_skipping_env.client.start_workflow(
                DeliverNotificationsWorkflow.run,
                DeliverNotificationsInput(),
                id=f"deliver-notifications-{uuid.uuid4()}",
                task_queue="processing-test",
            )
            result = await handle.result()
            await record_history(handle, "deliver_notifications")
    assert isinstance(result, DeliverDueResult)
    assert result.delivered >= 1 and result.retrying >= 1 and result.dead >= 1
    assert result.failed_organisations == []
    with factory() as session:
        rows = {
            r.id: r
            for r in session.scalars(
                select(NotificationDeliveryRow).where(NotificationDeliveryRow.id.in_(ids))
            )
        }
    assert [(rows[i].status, rows[i].attempts) for i in ids] == [
        ("delivered", 1),
        ("pending", 1),
        ("dead", 1),
    ]
    assert rows[ids[1]].next_attempt_at > queued + timedelta(minutes=1)
    assert sorted(r.path for r in receiver.requests) == ["/boom", "/ok"]  # each once
