"""FOCUS 1.3 Contract Commitment files stored per organisation (#21)."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete

from cloudoptima.services.contract_commitments import ingest_contract_commitments, list_contract_commitments
from cloudoptima.services.ingestion import IngestError
from cloudoptima.storage.models import ContractCommitmentRow, Organization

COMMITMENTS = (
    Path(__file__).parents[1] / "fixtures" / "focus_spec_examples" / "focus_1.3_contract_commitment.csv"
)
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def orgs(engine: Engine) -> Iterator[tuple[uuid.UUID, uuid.UUID]]:
    ids = (uuid.uuid4(), uuid.uuid4())
    with engine.begin() as connection:
        for org_id in ids:
            connection.execute(
                Organization.__table__.insert().values(
                    id=org_id, name=f"cc-{org_id}", subscription_tier="free", settings={}
                )
            )
    yield ids
    with engine.begin() as connection:
        for org_id in ids:
            connection.execute(
                delete(ContractCommitmentRow).where(ContractCommitmentRow.organization_id == org_id)
            )
            connection.execute(delete(Organization).where(Organization.id == org_id))


def _write(path: Path, rows: list[dict[str, str]], header: list[str]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_commitments_are_stored_replaced_and_scoped(
    engine: Engine, orgs: tuple[uuid.UUID, uuid.UUID], tmp_path: Path
) -> None:
    mine, other = orgs
    assert ingest_contract_commitments(engine, COMMITMENTS, mine, now=NOW) == 2
    stored = list_contract_commitments(engine, mine)
    assert [(c.contract_commitment_id, c.contract_commitment_category) for c in stored] == [
        ("23456", "Spend"),
        ("34567", "Usage"),
    ]
    assert stored[0].contract_commitment_cost == Decimal("500000.00")
    assert stored[1].contract_commitment_quantity == Decimal("10000.00")
    assert list_contract_commitments(engine, other) == []

    with COMMITMENTS.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header, rows = list(reader.fieldnames or []), list(reader)
    rows[0]["ContractCommitmentCost"] = "450000.00"  # the provider re-issued the dataset
    assert (
        ingest_contract_commitments(engine, _write(tmp_path / "v2.csv", rows[:1], header), mine, now=NOW) == 1
    )
    again = list_contract_commitments(engine, mine)
    assert [c.contract_commitment_cost for c in again] == [Decimal("450000.00"), None]

    duplicate = _write(tmp_path / "dup.csv", [rows[0], rows[1], rows[0]], header)
    with pytest.raises(IngestError, match=r"dup\.csv, line 4, column 'ContractCommitmentId'"):
        ingest_contract_commitments(engine, duplicate, mine, now=NOW)
    rows[1]["ContractCommitmentPeriodEnd"] = "2022-01-01T00:00:00Z"
    with pytest.raises(IngestError, match=r"bad\.csv, line 3, column 'ContractCommitmentPeriodEnd'"):
        ingest_contract_commitments(engine, _write(tmp_path / "bad.csv", rows, header), mine, now=NOW)
    assert list_contract_commitments(engine, mine) == again
