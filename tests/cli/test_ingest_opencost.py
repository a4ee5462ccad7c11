"""``cloudoptima ingest`` of an OpenCost allocation API answer with ``--currency`` (#21 K)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, text
from typer.testing import CliRunner

from cloudoptima.storage.models import CostDaily, CostRow, IngestRun, Organization, QuarantinedRow
from cloudoptima_cli.app import app

OPENCOST_JSON = Path(__file__).parents[1] / "fixtures" / "opencost" / "allocation_api.json"


@pytest.fixture
def org(engine: Engine) -> Iterator[uuid.UUID]:
    org_id = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            Organization.__table__.insert().values(
                id=org_id, name=f"cli-{org_id}", subscription_tier="free", settings={}
            )
        )
    yield org_id
    with engine.begin() as connection:
        for model in (QuarantinedRow, IngestRun, CostDaily, CostRow):
            connection.execute(delete(model).where(model.organization_id == org_id))
        connection.execute(delete(Organization).where(Organization.id == org_id))


def test_opencost_json_with_a_currency_and_an_unknown_one_refused(
    engine: Engine, org: uuid.UUID, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    state = ["--state-dir", str(tmp_path / "state")]
    refused = CliRunner().invoke(
        app, ["ingest", str(OPENCOST_JSON), "--org", str(org), "--currency", "ABC", *state]
    )
    assert refused.exit_code == 1
    assert "currency 'ABC' is not an ISO 4217 currency code" in refused.output
    result = CliRunner().invoke(
        app, ["ingest", str(OPENCOST_JSON), "--org", str(org), "--currency", "GBP", "--json", *state]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["files"][0]["format"] == "opencost"
    assert summary["totals"] == [
        {
            "provider": "other",
            "currency": "GBP",
            "billed_cost": "5.54236043",
            "effective_cost": "5.54236043",
            "list_cost": "0",
        }
    ]
    with engine.connect() as connection:
        idle = connection.execute(
            text(
                "SELECT sum(billed_cost) FROM cost_daily WHERE organization_id = :org "
                "AND service_name = 'Kubernetes idle capacity' AND billing_currency = 'GBP'"
            ),
            {"org": org},
        ).scalar_one()
    assert Decimal(idle) == Decimal("3.3229")
