"""``cloudoptima ingest`` of a CUR with RI and Savings Plan rows, then ``cloudoptima commitments`` prints their
utilisation and the coverage the hand figures give (#22; arithmetic in ``tests/gateway/test_commitments_cur.py``
and the fixture's README)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from cloudoptima_cli.app import app
from tests.ingest.gcp_export import write_gcp_commitment_export

CUR = Path(__file__).parents[1] / "fixtures" / "aws_commitments" / "cur_ri_sp_2024-03.csv"
RI = "arn:aws:ec2:us-east-1:111122223333:reserved-instances/4b2a9f1e-0c3d-4e5f-8a7b-1c2d3e4f5a6b"
SP = "arn:aws:savingsplans::111122223333:savingsplan/7e8d9c0b-1a2b-4c3d-9e8f-0a1b2c3d4e5f"


def test_ingest_then_commitments(
    engine: Engine, org: uuid.UUID, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    state = ["--state-dir", str(tmp_path / "state")]
    loaded = CliRunner().invoke(app, ["ingest", str(CUR), "--org", str(org), *state])
    assert loaded.exit_code == 0, loaded.output
    march = ["--org", str(org), "--start", "2024-03-01", "--end", "2024-04-01", *state]
    answer = CliRunner().invoke(app, ["commitments", *march, "--json"])
    assert answer.exit_code == 0, answer.output
    body = json.loads(answer.output)
    got = {c["commitment_id"]: c for c in body["commitments"]["commitments"]}
    # RI: 684 h x 0.06 = 41.04 used of 44.64; Savings Plan: 2.40 + 1.20 used of 2 x 2.40
    assert (got[RI]["used_cost"], got[RI]["unused_cost"], got[RI]["utilisation_percent"]) == (
        "41.04",
        "3.60",
        "91.94",
    )
    assert got[SP]["utilisation_percent"] == "75.00"
    assert [t["coverage_percent"] for t in body["coverage"]["totals"]] == ["98.70"]
    table = CliRunner().invoke(app, ["commitments", *march])
    assert table.exit_code == 0, table.output
    assert "91.94%" in table.output and "coverage USD: 98.70%" in table.output

    # A GCP export with a committed use discount: the table says why no utilisation is given for it.
    loaded = CliRunner().invoke(
        app, ["ingest", str(write_gcp_commitment_export(tmp_path / "gcp.csv")), "--org", str(org), *state]
    )
    assert loaded.exit_code == 0, loaded.output
    table = CliRunner().invoke(app, ["commitments", *march])
    assert "Google Cloud USD: utilisation not derivable from this export" in " ".join(table.output.split())
