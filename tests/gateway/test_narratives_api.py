"""``GET /v1/recommendations/{id}/narrative``: grounded narratives per audience, tenant-scoped."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.pricing import SandboxPriceCatalog
from cloudoptima.services.recommendations import RecommendationService
from cloudoptima.services.sandbox_loading import generate_to, load_sandbox
from cloudoptima.settings import Settings
from cloudoptima.storage.models import Recommendation
from cloudoptima.storage.tenancy import scope
from cloudoptima_gateway.app import create_app
from cloudoptima_gateway.routes import narratives
from tests.gateway.conftest import make_org


@pytest.fixture(scope="module")
def narrative_client(gateway_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(gateway_settings, routers=[narratives.router])) as test_client:
        yield test_client


def _recommendation(engine: Engine, org: uuid.UUID, tmp: Path) -> Recommendation:
    """A real recommendation: a small sandbox estate through the product's recommendation run."""
    generate_to(tmp, seed=5, accounts=2, days=60, end=date(2031, 3, 1))
    load_sandbox(engine, CredentialCipher(Fernet.generate_key().decode()), org, tmp)
    with Session(engine) as session:
        scope(session, org)
        RecommendationService(session, org, SandboxPriceCatalog()).run(datetime(2031, 3, 1, tzinfo=UTC))
        session.commit()
        rec = session.scalars(
            select(Recommendation).where(Recommendation.resource_ids.isnot(None)).order_by(Recommendation.id)
        ).first()
        assert rec is not None
        session.expunge(rec)
        return rec


def test_narratives_are_offline_labelled_grounded_and_scoped(
    narrative_client: TestClient, engine: Engine, gateway_settings: Settings, tmp_path: Path
) -> None:
    org_a = make_org(engine, gateway_settings, name="narr-a")
    org_b = make_org(engine, gateway_settings, name="narr-b")
    row = _recommendation(engine, org_a.id, tmp_path / "estate")
    rec = row.id

    engineer = narrative_client.get(f"/v1/recommendations/{rec}/narrative", headers=org_a.headers("viewer"))
    assert engineer.status_code == 200, engineer.text
    body = engineer.json()
    assert body["audience"] == "engineer"
    assert body["narrative"].startswith("[offline narrator]")
    assert any(resource in body["narrative"] for resource in row.resource_ids), (
        "names the resources to change"
    )
    finance = narrative_client.get(
        f"/v1/recommendations/{rec}/narrative",
        params={"audience": "finance"},
        headers=org_a.headers("viewer"),
    )
    assert finance.status_code == 200
    assert (
        f"{row.estimated_savings_monthly:,.2f}" in finance.json()["narrative"]
        or str(row.estimated_savings_monthly) in finance.json()["narrative"]
    )
    assert finance.json()["narrative"] != body["narrative"]

    # Written once, stored on the recommendation, reused; rewritten when its evidence changes.
    assert body["written_at"] is not None and finance.json()["written_at"] == body["written_at"]
    with Session(engine) as session:
        stored = session.get(Recommendation, rec)
        assert stored is not None and stored.narratives is not None
        assert stored.narratives["engineer"] == body["narrative"]
        assert stored.estimated_savings_monthly is not None
        stored.estimated_savings_monthly = stored.estimated_savings_monthly + 1
        session.commit()
    again = narrative_client.get(
        f"/v1/recommendations/{rec}/narrative",
        params={"audience": "finance"},
        headers=org_a.headers("viewer"),
    )
    assert again.status_code == 200
    assert again.json()["written_at"] > body["written_at"]

    foreign = narrative_client.get(f"/v1/recommendations/{rec}/narrative", headers=org_b.headers("admin"))
    assert foreign.status_code == 404
    assert narrative_client.get(f"/v1/recommendations/{rec}/narrative").status_code == 401
    bad = narrative_client.get(
        f"/v1/recommendations/{rec}/narrative", params={"audience": "cfo"}, headers=org_a.headers("viewer")
    )
    assert bad.status_code == 422
