"""``cloudoptima commitments``: the FOCUS spec example's savings plan, 75 % used, and its coverage (#22)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from cloudoptima.services.ingestion import ingest_path
from cloudoptima_cli.app import app

SPEC = Path(__file__).parents[1] / "fixtures" / "focus_spec_examples" / "focus_1.3_cost_and_usage.csv"


def test_commitments_prints_utilisation_and_coverage(
    engine: Engine, org: uuid.UUID, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    state = ["--state-dir", str(tmp_path / "state")]
    ingest_path(engine, SPEC, org)
    period = ["--start", "2023-01-01", "--end", "2023-02-01"]
    answer = CliRunner().invoke(app, ["commitments", "--org", str(org), *period, "--json", *state])
    assert answer.exit_code == 0, answer.output
    body = json.loads(answer.output)
    [plan] = body["commitments"]["commitments"]
    assert (plan["utilisation_percent"], plan["committed_cost"]) == ("75.00", "1.00")
    assert [t["coverage_percent"] for t in body["coverage"]["totals"]] == ["9.09"]
    table = CliRunner().invoke(app, ["commitments", "--org", str(org), *period, *state])
    assert table.exit_code == 0, table.output
    assert "75.00%" in table.output and "coverage USD: 9.09%" in table.output
    bad = CliRunner().invoke(app, ["commitments", "--org", str(org), "--start", "2023-13-01", *state])
    assert bad.exit_code == 1 and "--start" in bad.output
