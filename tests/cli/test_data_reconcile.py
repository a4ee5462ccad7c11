"""``cloudoptima data reconcile``: a month's reconciliation in the terminal; exit 2 on a mismatch."""

from __future__ import annotations

import json
import shutil
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from cloudoptima.services.ingestion import ingest_path
from cloudoptima_cli.app import app

AWS_CUR = Path(__file__).parents[1] / "fixtures" / "focus_converters" / "aws_cur_v1_anonymized_2023-11.csv"


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
