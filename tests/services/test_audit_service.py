"""The audit service's pieces: redacted bounded argument summaries, rows staged as the current actor, and
the batched retention prune of one organisation."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, select

from cloudoptima.services.audit import AuditActor, AuditEntry, acting_as, record, stage
from cloudoptima.services.audit_retention import prune_organisation
from cloudoptima.services.audit_summary import MAX_JSON_CHARS, MAX_STRING, REDACTED, summarise
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import AuditLog, Organization
from cloudoptima.storage.tenancy import tenant_session

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def test_summaries_redact_secrets_at_any_depth_and_stay_bounded() -> None:
    summary = summarise(
        {
            "password": "hunter22",
            "credentials": {"client_secret": "s3cr3t", "tenant_id": "t-1"},
            "nested": [{"api_key": "x"}, {"Authorization": "Bearer abc"}],
            "note": "co_abcdefghijklmnop",  # an API key pasted where it does not belong
            "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig",
            "pem": "-----BEGIN RSA PRIVATE KEY-----\nMIIE...",
            "long": "x" * 1_000,
            "many": list(range(100)),
            "limit": 5,
            "when": NOW,
        }
    )
    text = json.dumps(summary)
    for secret in ("hunter22", "s3cr3t", "co_abcdefghijklmnop", "eyJhbGci", "MIIE", "Bearer abc"):
        assert secret not in text
    assert summary["password"] == REDACTED and summary["credentials"] == REDACTED
    assert summary["nested"] == [{"api_key": REDACTED}, {"Authorization": REDACTED}]
    assert summary["long"].startswith("x" * MAX_STRING) and summary["long"].endswith("(+800 chars)")
    assert len(summary["many"]) == 21 and summary["many"][-1] == "…(+80 more)"
    assert summary["limit"] == 5 and summary["when"] == str(NOW)
    huge = summarise({f"k{i}": "y" * 250 for i in range(19)} | {"deep": {"a": {"b": {"c": {"d": 1}}}}})
    assert huge == {"_truncated": True, "keys": sorted([f"k{i}" for i in range(19)] + ["deep"])}
    assert len(json.dumps(huge)) < MAX_JSON_CHARS


def test_staged_rows_commit_with_the_change_as_the_current_actor(engine: Engine) -> None:
    factory = session_factory(engine)
    with factory() as session, session.begin():
        org = Organization(name="staged", settings={})
        session.add(org)
        session.flush()
        org_id = org.id
    try:
        with tenant_session(factory, org_id) as session:
            stage(session, org_id, "outside.any_workflow")
        try:
            with acting_as(AuditActor(details={"workflow_id": "wf-1"})), tenant_session(factory, org_id) as s:
                stage(s, org_id, "rolled.back", details={"n": 1})
                raise RuntimeError("the change failed")
        except RuntimeError:
            pass
        ui = AuditActor(channel="temporal_ui", actor="user:u", details={"workflow_id": "wf-2"})
        with acting_as(ui), tenant_session(factory, org_id) as session:
            stage(session, org_id, "decided", resource_type="policy_execution", resource_id="e-1")
        with factory() as session:
            rows = {
                r.action: r
                for r in session.scalars(select(AuditLog).where(AuditLog.organization_id == org_id))
            }
        assert set(rows) == {"outside.any_workflow", "decided"}  # the failed change took its row with it
        assert (rows["outside.any_workflow"].actor, rows["outside.any_workflow"].channel) == (
            "system",
            "workflow",
        )
        decided = rows["decided"]
        assert (decided.actor, decided.channel, decided.details) == (
            "user:u",
            "temporal_ui",
            {"workflow_id": "wf-2"},
        )
    finally:
        with factory() as session, session.begin():
            session.execute(delete(Organization).where(Organization.id == org_id))


def test_prune_deletes_in_batches_only_old_rows_of_that_organisation(engine: Engine) -> None:
    factory = session_factory(engine)
    with factory() as session, session.begin():
        mine, theirs = (
            Organization(name="prune-mine", settings={}),
            Organization(name="prune-theirs", settings={}),
        )
        session.add_all([mine, theirs])
        session.flush()
        orgs = (mine.id, theirs.id)
    try:
        for org in orgs:
            for days in (1, 29, 31, 60, 90):
                record(
                    factory,
                    AuditEntry(
                        org, uuid.uuid4(), f"a.{days}", "success", timestamp=NOW - timedelta(days=days)
                    ),
                )
        assert prune_organisation(factory, orgs[0], now=NOW, retention_days=30, batch_size=2) == 3
        assert prune_organisation(factory, orgs[0], now=NOW, retention_days=30, batch_size=2) == 0
        with factory() as session:
            left = {
                org: set(session.scalars(select(AuditLog.action).where(AuditLog.organization_id == org)))
                for org in orgs
            }
            pruned = session.scalars(
                select(AuditLog).where(
                    AuditLog.organization_id == orgs[0], AuditLog.action == "audit_logs.pruned"
                )
            ).one()
        assert left[orgs[0]] == {"a.1", "a.29", "audit_logs.pruned"}
        assert left[orgs[1]] == {"a.1", "a.29", "a.31", "a.60", "a.90"}
        assert pruned.details["deleted"] == 3 and pruned.timestamp == NOW
    finally:
        with factory() as session, session.begin():
            session.execute(delete(Organization).where(Organization.id.in_(orgs)))
