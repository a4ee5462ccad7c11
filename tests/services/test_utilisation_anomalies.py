"""The detector the cost anomalies use also scans the collected utilisation history: a CPU spike and a
lasting step are found at their hour on the resources that had them, nothing on a steady busy one."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy.orm import Session

from cloudoptima.domain.inventory import MetricName, UtilisationSeries
from cloudoptima.services.utilisation_anomalies import UtilisationAnomalies
from cloudoptima.storage import utilisation_history
from cloudoptima.storage.models import CloudAccount, Organization

END = datetime(2031, 6, 15, tzinfo=UTC)
DAYS = 14
SPIKE = END - timedelta(days=3, hours=-10)  # 10:00, three days before the end
STEP = END - timedelta(days=5)


def _cpu(seed: int, *, spike: bool = False, step: bool = False) -> tuple[float | None, ...]:
    rng = np.random.default_rng(seed)
    start = END - timedelta(days=DAYS)
    hours = [start + timedelta(hours=h) for h in range(DAYS * 24)]
    daily = np.array([30 + 20 * np.sin(2 * np.pi * (h.hour - 6) / 24) for h in hours])
    values = daily + rng.normal(0, 1.5, len(hours))
    if spike:
        values[hours.index(SPIKE)] += 45
    if step:
        values[hours.index(STEP) :] += 25
    return tuple(float(v) for v in values)


@pytest.fixture
def account(db_session: Session) -> tuple[uuid.UUID, uuid.UUID]:
    org = Organization(name=f"util-{uuid.uuid4().hex[:6]}", subscription_tier="free", settings={})
    db_session.add(org)
    db_session.flush()
    row = CloudAccount(
        organization_id=org.id, provider="aws", account_identifier="210987654321", credentials_encrypted="x"
    )
    db_session.add(row)
    db_session.flush()
    series = [
        UtilisationSeries(
            resource_id=rid, metric=MetricName.CPU_PERCENT, start=END - timedelta(days=DAYS), values=v
        )
        for rid, v in (
            ("i-steady", _cpu(1)),
            ("i-spike", _cpu(2, spike=True)),
            ("i-step", _cpu(3, step=True)),
        )
    ]
    utilisation_history.store(db_session.connection(), org.id, row.id, series)
    return org.id, row.id


def test_spike_and_step_are_found_where_they_happened(
    db_session: Session, account: tuple[uuid.UUID, uuid.UUID]
) -> None:
    org, account_id = account
    alerts = UtilisationAnomalies(db_session.connection(), org).scan(END, days=DAYS)
    found = {(a.resource_id, a.at, a.kind, a.direction) for a in alerts}
    assert ("i-spike", SPIKE, "anomaly", "up") in found
    assert ("i-step", STEP, "change", "up") in found
    assert not [a for a in alerts if a.resource_id == "i-steady"]
    assert len([a for a in alerts if a.resource_id == "i-step"]) == 1  # a step is one change, not a run
    assert all(a.cloud_account_id == account_id and a.metric == "cpu_percent" for a in alerts)
    assert [a.at for a in alerts] == sorted((a.at for a in alerts), reverse=True)


def test_a_decision_never_depends_on_later_hours(
    db_session: Session, account: tuple[uuid.UUID, uuid.UUID]
) -> None:
    org, _ = account
    service = UtilisationAnomalies(db_session.connection(), org)
    full = {(a.resource_id, a.at) for a in service.scan(END, days=DAYS)}
    # Cut the history right after the spike: the spike is still found at the same hour.
    early = {(a.resource_id, a.at) for a in service.scan(SPIKE + timedelta(hours=1), days=DAYS - 3)}
    assert ("i-spike", SPIKE) in early and ("i-spike", SPIKE) in full


def test_filters_and_bad_input(db_session: Session, account: tuple[uuid.UUID, uuid.UUID]) -> None:
    org, _ = account
    service = UtilisationAnomalies(db_session.connection(), org)
    assert {a.resource_id for a in service.scan(END, days=DAYS, resource_ids=["i-spike"])} == {"i-spike"}
    assert service.scan(END, days=DAYS, metrics=["memory_percent"]) == []
    assert service.scan(END, days=DAYS, provider="gcp") == []
    with pytest.raises(ValueError, match="days must be between 2 and 93"):
        service.scan(END, days=200)
