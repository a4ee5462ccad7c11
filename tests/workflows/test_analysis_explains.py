"""The analysis step stores the root-cause agent's explanation on every incident it touched."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.sandbox_loading import generate_to, load_sandbox
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import (
    Anomaly,
    CloudAccount,
    CostDaily,
    CostRow,
    IngestRun,
    Organization,
    QuarantinedRow,
    Recommendation,
    ResourceDocument,
)
from cloudoptima_agents.root_cause import explain_and_store
from cloudoptima_workflows.analysis.activities import NARRATED_PER_RUN, AnalysisActivities
from cloudoptima_workflows.analysis.inputs import MAX_DIGESTS, AnalyseOrganisationInput, PublishInput

END = date(2031, 6, 1)


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sandbox estate, generated once for the module (each test loads it into an organisation of its own;
    nothing here writes to the estate)."""
    directory: Path = tmp_path_factory.mktemp("explain-estate") / "estate"
    generate_to(directory, seed=11, accounts=3, days=120, end=END)
    return directory


@pytest.fixture
def org(engine: Engine, estate: Path) -> Iterator[uuid.UUID]:
    org_id = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            Organization.__table__.insert().values(
                id=org_id, name="explain", subscription_tier="free", settings={}
            )
        )
    load_sandbox(engine, CredentialCipher(Fernet.generate_key().decode()), org_id, estate)
    yield org_id
    with engine.begin() as connection:
        for model in (
            Anomaly,
            Recommendation,
            QuarantinedRow,
            IngestRun,
            CostDaily,
            CostRow,
            ResourceDocument,
            CloudAccount,
        ):
            connection.execute(delete(model).where(model.organization_id == org_id))
        connection.execute(delete(Organization).where(Organization.id == org_id))


def test_touched_incidents_get_the_agents_explanation(engine: Engine, org: uuid.UUID) -> None:
    calls: list[list[uuid.UUID]] = []

    def explain(session: Session, organization_id: uuid.UUID, ids: list[uuid.UUID]) -> int:
        calls.append(ids)
        for anomaly_id in ids:
            explain_and_store(session, organization_id, anomaly_id)
        return len(ids)

    activities = AnalysisActivities(
        session_factory(engine), now=lambda: datetime(2031, 6, 1, 6, tzinfo=UTC), explain=explain
    )
    result = activities.anomalies(
        AnalyseOrganisationInput(organization_id=str(org), lookback_days=120, today="2031-05-31")
    )
    with session_factory(engine)() as session:
        rows = session.scalars(select(Anomaly).where(Anomaly.organization_id == org)).all()
    assert result.incidents > 0
    assert rows, "the sandbox plants anomalies"
    assert calls
    assert set(calls[0]) == {row.id for row in rows}
    assert all(row.root_cause and row.root_cause.startswith("[offline narrator]") for row in rows)
    assert {row.root_cause_source for row in rows} == {"agent:offline"}

    # What the WebSocket ``anomalies`` channel carries: the touched incidents with the stored explanation.
    by_id = {str(row.id): row for row in rows}
    assert result.touched and len(result.touched) == min(len(rows), MAX_DIGESTS)
    impacts = [Decimal(d.impact_amount or "0") for d in result.touched]
    assert impacts == sorted(impacts, reverse=True)
    for digest in result.touched:
        assert digest.root_cause == by_id[digest.id].root_cause
        assert digest.root_cause_source == "agent:offline"
    sent: list[tuple[uuid.UUID, str, dict[str, Any]]] = []
    publisher = AnalysisActivities(
        session_factory(engine), lambda o, kind, data: sent.append((o, kind, dict(data))) or 1
    )
    assert publisher.publish(PublishInput(organization_id=str(org), anomalies=result)) == 1
    ((_, kind, data),) = sent
    assert kind == "anomalies" and data["created"] == result.created
    assert data["touched"][0]["root_cause"] == result.touched[0].root_cause
    assert json.loads(json.dumps(data))["touched"][0]["id"] == result.touched[0].id

    # A second run with unchanged numbers keeps the explanations and explains nothing again.
    activities.anomalies(
        AnalyseOrganisationInput(organization_id=str(org), lookback_days=120, today="2031-05-31")
    )
    assert len(calls) == 1
    with session_factory(engine)() as session:
        again = session.scalars(select(Anomaly).where(Anomaly.organization_id == org)).all()
    assert {row.id: row.root_cause for row in again} == {row.id: row.root_cause for row in rows}


def test_recommendations_step_keeps_narratives_of_the_top_recommendations(
    engine: Engine, org: uuid.UUID
) -> None:
    from cloudoptima_agents.narrator import narrate_recommendation

    looked: list[int] = []

    def narrate(session: Session, organization_id: uuid.UUID, ids: list[uuid.UUID]) -> int:
        looked.append(len(ids))
        for rec_id in ids:
            narrate_recommendation(session, organization_id, rec_id)
        return len(ids)

    activities = AnalysisActivities(
        session_factory(engine), now=lambda: datetime(2031, 6, 1, 6, tzinfo=UTC), narrate=narrate
    )
    params = AnalyseOrganisationInput(organization_id=str(org), lookback_days=120, today="2031-05-31")
    result = activities.recommendations(params)
    assert result.found > 0 and looked and looked[0] == min(result.found, NARRATED_PER_RUN)
    with session_factory(engine)() as session:
        rows = session.scalars(
            select(Recommendation).where(
                Recommendation.organization_id == org, Recommendation.narratives.isnot(None)
            )
        ).all()
        first = {row.id: row.narratives for row in rows}
    assert len(first) == looked[0]
    assert all(n["engineer"].startswith("[offline narrator]") and n["finance"] for n in first.values())

    # Same evidence on the next run: nothing is rewritten.
    activities.recommendations(params)
    with session_factory(engine)() as session:
        again = {
            row.id: row.narratives
            for row in session.scalars(select(Recommendation).where(Recommendation.id.in_(list(first))))
        }
    assert again == first
