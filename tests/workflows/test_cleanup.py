"""The cleanup workflow purges expired auth bookkeeping and prunes the audit log under each organisation's
retention, through its real activities and database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import Engine, delete, select
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from cloudoptima.services.audit import AuditEntry, record
from cloudoptima.storage.base import utcnow
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import AuditLog, Organization, RevokedToken
from cloudoptima_workflows.maintenance.activities import MaintenanceActivities
from cloudoptima_workflows.maintenance.inputs import CleanupInput, CleanupResult
from cloudoptima_workflows.maintenance.workflows import CleanupWorkflow
from tests.workflows.history_recording import record_history


@pytest.fixture
def tokens(engine: Engine) -> Iterator[tuple[str, str]]:
    old, fresh = f"old-{uuid.uuid4()}", f"fresh-{uuid.uuid4()}"
    with session_factory(engine)() as session, session.begin():
        session.add(RevokedToken(jti=old, expires_at=utcnow() - timedelta(days=3)))
        session.add(RevokedToken(jti=fresh, expires_at=utcnow() + timedelta(hours=1)))
    yield old, fresh
    with session_factory(engine)() as session, session.begin():
        session.execute(delete(RevokedToken).where(RevokedToken.jti.in_([old, fresh])))


@pytest.fixture
def audited_orgs(engine: Engine) -> Iterator[dict[str, uuid.UUID]]:
    """Two organisations (retention 30 days, and the default 365), each with audit rows 10, 40 and 400
    days old, written through the audit service."""
    factory = session_factory(engine)
    with factory() as session, session.begin():
        short = Organization(name="short-retention", settings={"audit_retention_days": 30})
        default = Organization(name="default-retention", settings={})
        session.add_all([short, default])
        session.flush()
        orgs = {"short": short.id, "default": default.id}
    for org in orgs.values():
        for days in (10, 40, 400):
            record(
                factory,
                AuditEntry(
                    organization_id=org,
                    user_id=None,
                    action=f"probe.{days}d",
                    result="success",
                    channel="workflow",
                    timestamp=utcnow() - timedelta(days=days),
                ),
            )
    yield orgs
    with factory() as session, session.begin():
        session.execute(delete(Organization).where(Organization.id.in_(orgs.values())))


def _actions(engine: Engine, org: uuid.UUID) -> set[str]:
    with session_factory(engine)() as session:
        return set(session.scalars(select(AuditLog.action).where(AuditLog.organization_id == org)))


async def test_cleanup_deletes_only_expired(
    time_skipping_env: WorkflowEnvironment,
    engine: Engine,
    tokens: tuple[str, str],
    audited_orgs: dict[str, uuid.UUID],
) -> None:
    old, fresh = tokens
    # RETENTION_ALLOW_SHORT: the 30-day organisation prunes at 30 days (without it, at the 365-day floor:
    # tests/services/test_audit_retention_floor.py).
    activities = MaintenanceActivities(session_factory(engine), retention_allow_short=True)
    with ThreadPoolExecutor(4) as executor:
        async with Worker(
            time_skipping_env.client,
            task_queue="processing-test",
            workflows=[CleanupWorkflow],
            activities=[activities.purge_expired_tokens, activities.prune_audit_logs],
            activity_executor=executor,
        ):
            handle = await time_skipping_env.client.start_workflow(
                CleanupWorkflow.run,
                CleanupInput(grace_days=1),
                id=f"cleanup-{uuid.uuid4()}",
                task_queue="processing-test",
            )
            result = await handle.result()
            await record_history(handle, "cleanup")
    assert isinstance(result, CleanupResult)
    assert result.revoked_tokens_deleted >= 1
    with session_factory(engine)() as session:
        left = set(session.scalars(select(RevokedToken.jti).where(RevokedToken.jti.in_([old, fresh]))))
    assert left == {fresh}
    # Each organisation keeps its own retention: 30 days drops the 40- and 400-day rows, 365 only the
    # 400-day one; the prune is itself recorded with its count.
    assert result.audit_logs_pruned >= 3
    assert _actions(engine, audited_orgs["short"]) == {"probe.10d", "audit_logs.pruned"}
    assert _actions(engine, audited_orgs["default"]) == {"probe.10d", "probe.40d", "audit_logs.pruned"}
    with session_factory(engine)() as session:
        pruned = session.scalars(
            select(AuditLog).where(
                AuditLog.organization_id == audited_orgs["short"], AuditLog.action == "audit_logs.pruned"
            )
        ).one()
    assert pruned.details["deleted"] == 2 and pruned.actor == "system" and pruned.channel == "workflow"
