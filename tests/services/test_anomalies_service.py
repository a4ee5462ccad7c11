"""Anomaly incidents over cost_daily: persisted once, root-cause text, user status and feedback kept."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cloudoptima.observability.metrics import REGISTRY
from cloudoptima.services.anomalies import AnomalyFeedback, AnomalyService, AnomalyStatus, root_cause_text
from cloudoptima.storage.models import Anomaly, CostDaily, Organization

START = date(2025, 9, 1)
SPIKE = date(2025, 11, 20)
NOW = datetime(2025, 12, 10, tzinfo=UTC)


@pytest.fixture
def org(db_session: Session) -> uuid.UUID:
    organisation = Organization(name="anomalies", subscription_tier="free", settings={})
    db_session.add(organisation)
    db_session.flush()
    for n in range(100):
        day = START + timedelta(days=n)
        weekday = Decimal("1.0") if day.weekday() < 5 else Decimal("0.7")
        rows = [
            ("acct-a", "Amazon EC2", "us-east-1", Decimal(100) * weekday + Decimal(n % 3)),
            ("acct-a", "Amazon S3", "us-east-1", Decimal(30) + Decimal(n % 2)),
            ("acct-b", "Amazon RDS", "eu-west-1", Decimal(60) * weekday),
        ]
        if SPIKE <= day < SPIKE + timedelta(days=2):
            rows.append(("acct-b", "Amazon SageMaker", "eu-west-1", Decimal(400)))
        for account, service, region, cost in rows:
            db_session.add(
                CostDaily(
                    organization_id=organisation.id, usage_date=day, provider="aws", sub_account_id=account,
                    service_name=service, region_id=region, billing_currency="USD", tag_values={},
                    billed_cost=cost, effective_cost=cost, list_cost=cost, row_count=1,
                )
            )  # fmt: skip
    db_session.flush()
    return organisation.id


def _count(session: Session, org: uuid.UUID) -> int:
    return int(
        session.scalar(select(func.count()).select_from(Anomaly).where(Anomaly.organization_id == org)) or 0
    )


def test_run_persists_the_incident_with_ranked_root_cause(db_session: Session, org: uuid.UUID) -> None:
    service = AnomalyService(db_session, org, now=lambda: NOW)
    counted = {
        o: (REGISTRY.get_sample_value("cloudoptima_anomalies_total", {"outcome": o}) or 0.0)
        for o in ("created", "resolved")
    }
    report = service.run(START, START + timedelta(days=100))
    # one metric call per run with its totals (#23)
    assert (
        (REGISTRY.get_sample_value("cloudoptima_anomalies_total", {"outcome": "created"}) or 0.0)
        - counted["created"]
        == report.created
        > 0
    )
    assert (
        REGISTRY.get_sample_value("cloudoptima_anomalies_total", {"outcome": "resolved"}) or 0.0
    ) - counted["resolved"] == report.resolved
    spike = [i for i in report.incidents if i.start_date == SPIKE]
    assert len(spike) == 1
    incident = spike[0]
    assert incident.root_causes[0].dimensions["service"] == "Amazon SageMaker"
    assert incident.root_causes[0].dimensions["account"] == "acct-b"
    row = next(r for r in service.list() if r.start_date == SPIKE)
    assert row.fingerprint == incident.anomaly_id
    assert row.impact_amount == incident.impact and row.impact_amount > Decimal(700)
    assert (
        row.contributions is not None and row.contributions[0]["dimensions"]["service"] == "Amazon SageMaker"
    )
    assert row.root_cause == root_cause_text(incident)
    assert (
        "The largest contributor was service Amazon SageMaker, account acct-b, region eu-west-1"
        in row.root_cause
    )
    assert row.status == AnomalyStatus.RESOLVED  # the spike ended before the last day of data


def test_rerun_dedupes_and_keeps_what_the_user_set(db_session: Session, org: uuid.UUID) -> None:
    service = AnomalyService(db_session, org, now=lambda: NOW)
    service.run(START, START + timedelta(days=95))
    before = _count(db_session, org)
    row = next(r for r in service.list() if r.start_date == SPIKE)
    service.set_status(row.id, AnomalyStatus.IGNORED, note="load test")
    service.set_feedback(row.id, AnomalyFeedback.PLANNED_ACTIVITY)
    report = service.run(START, START + timedelta(days=100))
    assert report.created == 0 and _count(db_session, org) == before
    again = service.get(row.id)
    assert (again.status, again.status_set_by, again.feedback) == ("ignored", "user", "planned_activity")
    assert again.resolution_note == "load test"


def test_unknown_or_foreign_incident_is_not_found(db_session: Session, org: uuid.UUID) -> None:
    service = AnomalyService(db_session, org, now=lambda: NOW)
    with pytest.raises(LookupError):
        service.get(uuid.uuid4())
    with pytest.raises(ValueError, match="planned"):
        service.set_feedback(uuid.uuid4(), AnomalyFeedback("planned"))
