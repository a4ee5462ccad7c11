"""``cloudoptima ingest --format contract-commitment`` stores a FOCUS 1.3 Contract Commitment file (#21)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete
from typer.testing import CliRunner

from cloudoptima.services.contract_commitments import list_contract_commitments
from cloudoptima.storage.models import ContractCommitmentRow, Organization
from cloudoptima_cli.app import app

COMMITMENTS = (
    Path(__file__).parents[1] / "fixtures" / "focus_spec_examples" / "focus_1.3_contract_commitment.csv"
)


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
        connection.execute(
            delete(ContractCommitmentRow).where(ContractCommitmentRow.organization_id == org_id)
        )
        connection.execute(delete(Organization).where(Organization.id == org_id))


def test_contract_commitment_file_is_stored_and_a_bad_one_is_refused(
    engine: Engine, org: uuid.UUID, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    state = ["--state-dir", str(tmp_path / "state")]
    command = ["ingest", str(COMMITMENTS), "--org", str(org), "--format", "contract-commitment"]
    result = CliRunner().invoke(app, [*command, "--json", *state])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"file": str(COMMITMENTS), "contract_commitments": 2}
    assert [c.contract_commitment_id for c in list_contract_commitments(engine, org)] == ["23456", "34567"]

    bad = tmp_path / "bad.csv"
    bad.write_text(
        COMMITMENTS.read_text(encoding="utf-8").replace(",Usage,", ",Sometimes,"), encoding="utf-8"
    )
    refused = CliRunner().invoke(
        app, ["ingest", str(bad), "--org", str(org), "--format", "contract_commitment", *state]
    )
    assert refused.exit_code == 1
    assert "line 3" in refused.output and "ContractCommitmentCategory" in refused.output
