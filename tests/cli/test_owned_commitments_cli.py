"""``cloudoptima commitments`` lists the owned commitments beside the billing data and dates the billed one (#22)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cloudoptima.domain.owned_commitments import OwnedCommitment, OwnedKind
from cloudoptima.services.ingestion import ingest_path
from cloudoptima.services.owned_commitments import record_read, store
from cloudoptima_cli import common
from cloudoptima_cli.app import app

SPEC = Path(__file__).parents[1] / "fixtures" / "focus_spec_examples" / "focus_1.3_cost_and_usage.csv"


def test_commitments_cli_shows_owned(
    engine: Engine, org: uuid.UUID, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    state = ["--state-dir", str(tmp_path / "state")]
    ingest_path(engine, SPEC, org)
    period = ["--start", "2023-01-01", "--end", "2023-02-01"]
    first = CliRunner().invoke(app, ["commitments", "--org", str(org), *period, "--json", *state])
    [billed] = json.loads(first.output)["commitments"]["commitments"]
    assert json.loads(first.output)["commitments"]["owned"] == [] and billed["expires_at"] is None
    end = datetime.now(UTC).replace(microsecond=0) + timedelta(days=40, hours=12)
    plan = OwnedCommitment(
        provider="aws",
        account_id="111111111111",
        commitment_id="the-plan",
        arn=billed["commitment_id"],  # the id the spec's bill carries
        kind=OwnedKind.SAVINGS_PLAN,
        plan_type="Compute",
        hourly_commitment=Decimal("1"),
        term_seconds=31536000,
        start=end - timedelta(days=365),
        end=end,
        state="active",
    )
    with Session(engine) as session:
        store(session, org, "aws", "111111111111", [plan], end - timedelta(days=50))
        session.commit()
    answer = CliRunner().invoke(app, ["commitments", "--org", str(org), *period, "--json", *state])
    assert answer.exit_code == 0, answer.output
    body = json.loads(answer.output)["commitments"]
    [owned] = body["owned"]
    assert (owned["commitment_id"], owned["days_to_expiry"], owned["utilisation_percent"]) == (
        "the-plan",
        40,
        "75.00",
    )
    assert (
        body["commitments"][0]["expires_at"] == owned["end"]
        and body["inventory"] == "billing_data+provider_api"
    )
    table = CliRunner().invoke(app, ["commitments", "--org", str(org), *period, *state])
    assert table.exit_code == 0, table.output
    assert "Owned (provider APIs)" in table.output and "the-plan" in table.output


def test_commitments_cli_shows_a_cud_and_an_unavailable_inventory(
    engine: Engine, org: uuid.UUID, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    # One table row per line. The CLI's console took its width when it was built (from COLUMNS, which
    # pytest-xdist sets to 80 in its workers), so the width is set on the console itself.
    monkeypatch.setattr(common.console, "_width", 200)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    cud = OwnedCommitment(
        provider="gcp",
        account_id="finops-demo",
        commitment_id="4242",
        kind=OwnedKind.COMMITTED_USE,
        region="us-central1",
        instance_family="e2",
        vcpus=8,
        memory_mb=32768,
        term_seconds=31536000,
        start=now,
        end=now + timedelta(days=365),
        state="active",
    )
    with Session(engine) as session:
        store(session, org, "gcp", "finops-demo", [cud], now)
        record_read(session, org, "azure", "sub-1", now, permission="Microsoft.Capacity/reservations/read")
        session.commit()
    period = ["--start", "2023-01-01", "--end", "2023-02-01", "--state-dir", str(tmp_path / "state")]
    table = CliRunner().invoke(app, ["commitments", "--org", str(org), *period])
    assert table.exit_code == 0, table.output
    assert "8 vCPU, 32768 MB e2" in table.output
    assert "azure sub-1: inventory unavailable: Microsoft.Capacity/reservations/read" in table.output
