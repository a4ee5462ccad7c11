"""``cloudoptima data reconcile``: a month's reconciliation in the terminal; exit 2 on a mismatch."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, text
from typer.testing import CliRunner

from cloudoptima.services.ingestion import ingest_path
from cloudoptima.storage.models import CostDaily, CostRow, IngestRun, Organization
from cloudoptima_cli.app import app

AWS_CUR = Path(__file__).parents[1] / "fixtures" / "focus_converters" / "aws_cur_v1_anonymized_2023-11.csv"


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
        connection.execute(text("DELETE FROM ingest_file_totals WHERE organization_id = :o"), {"o": org_id})
        for model in (IngestRun, CostDaily, CostRow):
            connection.execute(delete(model).where(model.organization_id == org_id))
        connection.execute(delete(Organization).where(Organization.id == org_id))


def test_reconcile_prints_the_month_and_fails_on_a_mismatch(
    engine: Engine, org: uuid.UUID, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    state = ["--state-dir", str(tmp_path / "state")]
    ingest_path(engine, AWS_CUR, org)
    clean = CliRunner().invoke(
        app, ["data", "reconcile", "--org", str(org), "--month", "2023-11", "--json", *state]
    )
    assert clean.exit_code == 0, clean.output
    [item] = json.loads(clean.output)["accounts"]
    assert item["status"] == "reconciled" and Decimal(item["delta"]) == 0

    folder = tmp_path / "export"
    folder.mkdir()
    shutil.copy(AWS_CUR, folder / "a.csv")
    shutil.copy(AWS_CUR, folder / "b.csv")
    ingest_path(engine, folder, org)
    doubled = CliRunner().invoke(app, ["data", "reconcile", "--org", str(org), "--month", "2023-11", *state])
    assert doubled.exit_code == 2, doubled.output
    assert "mismatch" in doubled.output and "counted twice" in doubled.output
    assert "1.6823" in doubled.output and "3.3646" in doubled.output  # rounded in the table

    bad = CliRunner().invoke(app, ["data", "reconcile", "--org", str(org), "--month", "2023-1", *state])
    assert bad.exit_code == 1 and "--month" in bad.output
