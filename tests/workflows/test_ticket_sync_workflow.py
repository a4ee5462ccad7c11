"""SyncTickets on the Temporal time-skipping server against Postgres and the strict tracker fakes: every chosen
organisation is synced; a tracker refusing its token fails its organisation's activity, retried (the attempts are
in the history), without stopping the other tracker of that organisation nor the other organisation; the error
stays on the tracker (``last_sync_error``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, delete, select
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.audit import AuditActor
from cloudoptima.services.tickets import Tickets
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import Organization, Recommendation
from cloudoptima.storage.models.tickets import RecommendationTicketRow, TicketTrackerRow
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_workflows.tickets.activities import TicketActivities
from cloudoptima_workflows.tickets.inputs import SyncTicketsInput, SyncTicketsResult
from cloudoptima_workflows.tickets.workflows import SyncTicketsWorkflow
from tests.gateway.fake_trackers import GITHUB_TOKEN, REPO, FakeTrackers
from tests.workflows.history_recording import record_history

KEY = Fernet.generate_key().decode()
NOW = datetime(2031, 5, 4, 9, 30, tzinfo=UTC)


@pytest.fixture
def fake() -> Iterator[FakeTrackers]:
    with FakeTrackers() as server:
        yield server


def _org(
    engine: Engine, fake: FakeTrackers, trackers: dict[str, str]
) -> tuple[uuid.UUID, dict[str, uuid.UUID]]:
    """An organisation with one tracker per ``name -> token`` and one recommendation + issue on each."""
    factory = session_factory(engine)
    with factory() as session, session.begin():
        org = Organization(name=f"sync-{uuid.uuid4().hex[:6]}", settings={})
        session.add(org)
        session.flush()
        org_id = org.id
    recs: dict[str, uuid.UUID] = {}
    with tenant_session(factory, org_id) as session:
        service = Tickets(
            session, org_id, cipher=CredentialCipher(KEY), now=lambda: NOW, allow_insecure_localhost=True
        )
        for name, token in trackers.items():
            tracker = service.add_tracker(
                name=name, kind="github", base_url=fake.url, project=REPO, token=token, login=None,
                actor=AuditActor(),
            )  # fmt: skip
            rec = Recommendation(
                organization_id=org_id, fingerprint=uuid.uuid4().hex, provider="aws", title=f"Stop {name}",
                rule_id="idle_vm", category="compute", risk_level="low", resource_ids=[name], affected_resources=[],
                actions=[], status="active", estimated_savings_monthly=Decimal("3"),
            )  # fmt: skip
            session.add(rec)
            session.flush()
            number = len(fake.state.github) + 1
            fake.state.github[number] = {
                "number": number, "state": "open", "state_reason": None,
                "html_url": f"https://github.com/{REPO}/issues/{number}",
            }  # fmt: skip
            session.add(
                RecommendationTicketRow(
                    organization_id=org_id, recommendation_id=rec.id, tracker_id=tracker.id,
                    external_key=str(number), url=f"https://github.com/{REPO}/issues/{number}", created_at=NOW,
                )
            )  # fmt: skip
            recs[name] = rec.id
    return org_id, recs


async def test_sync_tickets_goes_on_past_a_failing_tracker(
    time_skipping_env: WorkflowEnvironment, engine: Engine, fake: FakeTrackers
) -> None:
    good, good_recs = _org(engine, fake, {"gh": GITHUB_TOKEN})
    mixed, mixed_recs = _org(engine, fake, {"gh": GITHUB_TOKEN, "gh-revoked": "revoked"})
    for issue in fake.state.github.values():
        issue |= {"state": "closed", "state_reason": "completed"}
    fake.state.github[2]["state_reason"] = "not_planned"  # mixed org's good tracker
    factory = session_factory(engine)
    activities = TicketActivities(factory, (KEY,), allow_insecure_localhost=True)
    try:
        with ThreadPoolExecutor(2) as executor:
            async with Worker(
                time_skipping_env.client,
                task_queue="tickets-test",
                workflows=[SyncTicketsWorkflow],
                activities=[activities.organisations, activities.sync_organisation],
                activity_executor=executor,
            ):
                handle = await time_skipping_env.client.start_workflow(
                    SyncTicketsWorkflow.run,
                    SyncTicketsInput(attempts=2, organisation_ids=[str(good), str(mixed)]),
                    id=f"sync-tickets-{uuid.uuid4()}",
                    task_queue="tickets-test",
                )
                result = await handle.result()
                history = await handle.fetch_history()
                await record_history(handle, "sync_tickets")
        assert isinstance(result, SyncTicketsResult)
        assert [(r.organization_id, r.completed) for r in result.organisations] == [
            (str(good), [str(good_recs["gh"])])
        ]
        assert list(result.failed_organisations) == [str(mixed)]
        assert (
            "tracker 'gh-revoked' (github): the token was refused (401)"
            in result.failed_organisations[str(mixed)]
        )
        started = [
            e.activity_task_started_event_attributes.attempt
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
        ]
        assert max(started) == 2  # the failing organisation's activity was retried, in the history
        with factory() as session:
            trackers = {
                (t.organization_id, t.name): t
                for t in session.scalars(
                    select(TicketTrackerRow).where(TicketTrackerRow.organization_id.in_([good, mixed]))
                )
            }
            assert trackers[(mixed, "gh-revoked")].last_sync_error is not None
            assert "token was refused" in str(trackers[(mixed, "gh-revoked")].last_sync_error)
            assert trackers[(mixed, "gh")].last_sync_error is None
            assert trackers[(mixed, "gh")].last_synced_at is not None
            declined = session.get(Recommendation, mixed_recs["gh"])
            assert declined is not None and declined.status == "dismissed"  # the other tracker went on
            stuck = session.get(Recommendation, mixed_recs["gh-revoked"])
            assert stuck is not None and stuck.status == "active"
    finally:
        with factory() as session, session.begin():
            session.execute(delete(Organization).where(Organization.id.in_([good, mixed])))
