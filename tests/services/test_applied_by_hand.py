"""Recommendations applied by hand: a stop, a resize and a deletion seen in the stored inventory mark the open
recommendations asking for them ``completed`` at the change time (transition + audit rows), so the savings ledger
measures them; a running resource, a missing one, a decided recommendation and another organisation are left."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from cloudoptima.services.applied_by_hand import REASON, detect_applied_by_hand
from cloudoptima.services.realised_savings import savings_ledger
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import AuditLog, Organization, Recommendation, ResourceDocument
from cloudoptima.storage.models.recommendation_transitions import RecommendationTransitionRow
from cloudoptima_workflows.analysis.activities import AnalysisActivities
from cloudoptima_workflows.analysis.inputs import AnalyseOrganisationInput

NOW = datetime(2026, 3, 10, 6, tzinfo=UTC)
SEEN = datetime(2026, 3, 9, 2, tzinfo=UTC)


def _org(session: Session) -> uuid.UUID:
    org = Organization(name=f"hand-{uuid.uuid4().hex[:8]}", subscription_tier="enterprise", settings={})
    session.add(org)
    session.flush()
    return org.id


def _doc(org: uuid.UUID, rid: str, status: str, **config: Any) -> ResourceDocument:
    return ResourceDocument(
        organization_id=org, resource_id=rid, provider="aws", resource_type="compute_instance",
        status=status, configuration=config, metrics={}, tags={}, recommendations=[], last_updated=SEEN,
    )  # fmt: skip


def _rec(org: uuid.UUID, status: str, *actions: tuple[str, str, dict[str, str]]) -> Recommendation:
    return Recommendation(
        organization_id=org, fingerprint=uuid.uuid4().hex, provider="aws", title="t", rule_id="idle_vm",
        category="compute", risk_level="low", resource_ids=[a[1] for a in actions], affected_resources=[],
        actions=[{"type": t, "resource_id": r, "description": t, "parameters": p} for t, r, p in actions],
        status=status, estimated_savings_monthly=Decimal("10.00"),
    )  # fmt: skip


def test_changes_seen_in_the_inventory_mark_open_recommendations_applied(db_session: Session) -> None:
    org, other = _org(db_session), _org(db_session)
    db_session.add_all(
        [
            _doc(org, "i-1", "stopped", stopped_at="2026-03-08T14:30:00+00:00"),
            _doc(org, "i-2", "running", instance_type="m5.large"),
            _doc(org, "i-3", "running", instance_type="m5.xlarge"),
            _doc(org, "vol-4", "deleted", deleted_at=None),
            _doc(other, "i-9", "stopped"),
        ]
    )
    stop = _rec(org, "active", ("stop", "i-1", {}))
    resize = _rec(org, "accepted", ("resize", "i-2", {"size": "m5.large"}))
    deleted = _rec(org, "snoozed", ("snapshot_and_delete_disk", "vol-4", {}))
    left = [
        _rec(org, "active", ("stop", "i-3", {})),  # still running
        _rec(org, "active", ("resize", "i-3", {"size": "m5.large"})),  # not the target size
        _rec(org, "active", ("release_ip", "ip-5", {})),  # not in the inventory
        _rec(org, "dismissed", ("stop", "i-1", {})),  # decided: not a candidate
        _rec(org, "active", ("stop", "i-1", {}), ("stop", "i-3", {})),  # one of two actions done
        _rec(org, "active", ("tag", "i-1", {})),  # never detected
        _rec(other, "active", ("stop", "i-1", {})),  # i-1 is not in this organisation's inventory
    ]
    db_session.add_all([stop, resize, deleted, *left])
    db_session.flush()

    found = detect_applied_by_hand(db_session, org, NOW)

    assert [(c.recommendation_id, c.from_status, c.changed_at) for c in found] == [
        (stop.id, "active", datetime(2026, 3, 8, 14, 30, tzinfo=UTC)),  # the cloud's stop time
        *sorted([(resize.id, "accepted", SEEN), (deleted.id, "snoozed", SEEN)], key=lambda c: str(c[0])),
    ]  # the collection's time when the cloud gives none
    assert (stop.status, stop.applied_at) == ("completed", datetime(2026, 3, 8, 14, 30, tzinfo=UTC))
    assert [r.status for r in left] == [
        "active",
        "active",
        "active",
        "dismissed",
        "active",
        "active",
        "active",
    ]
    transition = db_session.scalars(
        select(RecommendationTransitionRow).where(RecommendationTransitionRow.recommendation_id == stop.id)
    ).one()
    assert (transition.from_status, transition.to_status, transition.actor, transition.reason) == (
        "active", "completed", "system", REASON,
    )  # fmt: skip
    assert transition.details["detected_at"] == NOW.isoformat()
    assert transition.details["evidence"] == [{"action": "stop", "resource_id": "i-1", "status": "stopped"}]
    audits = db_session.scalars(
        select(AuditLog).where(
            AuditLog.organization_id == org, AuditLog.action == "recommendation.applied_by_hand"
        )
    ).all()
    assert sorted(a.resource_id or "" for a in audits) == sorted(str(r.id) for r in (stop, resize, deleted))
    ledger = savings_ledger(db_session, org, NOW)  # the ledger measures them like product-applied ones
    assert {item.recommendation_id for item in ledger.items} == {stop.id, resize.id, deleted.id}
    assert detect_applied_by_hand(db_session, org, NOW) == []  # done once
    with Session(bind=db_session.connection()) as session:  # a session is scoped to one organisation
        assert detect_applied_by_hand(session, other, NOW) == []


def test_the_analysis_run_marks_a_hand_change_applied_before_it_could_expire(engine: Engine) -> None:
    """Without the detection, the run (which no longer finds the idle VM) would expire the recommendation."""
    factory = session_factory(engine)
    with factory() as session, session.begin():
        org = _org(session)
        session.add(_doc(org, "i-1", "stopped", stopped_at="2026-03-08T14:30:00+00:00"))
        rec = _rec(org, "active", ("stop", "i-1", {}))
        session.add(rec)
        session.flush()
        rec_id = rec.id
    try:
        activities = AnalysisActivities(factory, now=lambda: NOW)
        activities.recommendations(AnalyseOrganisationInput(organization_id=str(org), today="2026-03-10"))
        with factory() as session:
            row = session.get(Recommendation, rec_id)
            assert row is not None
            assert (row.status, row.applied_at) == ("completed", datetime(2026, 3, 8, 14, 30, tzinfo=UTC))
    finally:
        with engine.begin() as connection:
            connection.execute(delete(Organization).where(Organization.id == org))
