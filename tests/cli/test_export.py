"""``cloudoptima export``: a FOCUS Parquet export into a folder whose manifest verifies; bad flags fail with
the flag named."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine, delete
from typer.testing import CliRunner

from cloudoptima.services.ingestion import ingest_path
from cloudoptima.storage.models import CostDaily, CostRow, IngestRun, Organization
from cloudoptima_cli.app import app

FOCUS_SAMPLE = Path(__file__).parents[1] / "fixtures" / "focus_official_sample" / "focus_1.0_sample_1000.csv"


@pytest.fixture
def org(engine: Engine) -> Iterator[uuid.UUID]:
    org_id = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            Organization.__table__.insert().values(
                id=org_id, name=f"cli-export-{org_id}", subscription_tier="free", settings={}
            )
        )
    yield org_id
    with engine.begin() as connection:
        for model in (IngestRun, CostDaily, CostRow):
            connection.execute(delete(model).where(model.organization_id == org_id))
        connection.execute(delete(Organization).where(Organization.id == org_id))


def test_export_writes_parquet_and_a_verifiable_manifest(
    engine: Engine, org: uuid.UUID, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    ingest_path(engine, FOCUS_SAMPLE, org)
    args = ["export", "--org", str(org), "--dataset", "focus_raw", "--format", "parquet"]
    args += ["--start", "2024-09-01", "--end", "2024-10-01", "--out", str(tmp_path / "out")]
    args += ["--state-dir", str(tmp_path / "state")]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    folder = tmp_path / "out" / "focus_raw" / "2024-09-01_2024-10-01"
    assert json.loads((folder / "manifest.json").read_text()) == printed
    [file] = printed["files"]
    assert hashlib.sha256((folder / file["path"]).read_bytes()).hexdigest() == file["sha256"]
    table = pq.read_table(folder / file["path"], columns=["BilledCost"])
    total = sum((Decimal(v) for v in table.column("BilledCost").to_pylist()), Decimal(0))
    assert printed["billed_cost"] == {"USD": format(total, "f")}
    assert round(total, 6) == Decimal("20.520227")  # the sample's golden total


def test_bad_flags_are_named(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    base = ["export", "--org", "x", "--out", str(tmp_path), "--state-dir", str(tmp_path / "state")]
    result = CliRunner().invoke(app, [*base, "--start", "2024-09-01", "--end", "2024-09-01"])
    assert result.exit_code == 1 and "end: must be after start" in result.output
    result = CliRunner().invoke(
        app, [*base, "--start", "2024-09-01", "--end", "2024-10-01", "--format", "xls"]
    )
    assert result.exit_code == 1 and "--format" in result.output
