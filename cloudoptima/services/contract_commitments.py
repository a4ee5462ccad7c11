"""Store FOCUS 1.3 Contract Commitment files in an organisation, and read them back.

Contract:
- ``ingest_contract_commitments(engine, path, organization_id, now=...)`` reads one Contract Commitment file
  (``cloudoptima.ingest.contract_commitment``: all-or-nothing, errors name file, line and column) and upserts
  every row into ``contract_commitments`` in one transaction: a commitment id already stored for the
  organisation is replaced (providers re-issue the dataset). A commitment id repeated within the file, an
  unknown organisation or any file error raises ``IngestError`` and writes nothing. Returns the rows stored.
- ``list_contract_commitments(engine, organization_id)`` returns the organisation's commitments ordered by
  commitment id; no other organisation's rows are ever read.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.dialects.postgresql import insert

from cloudoptima.domain.contract_commitment import ContractCommitment
from cloudoptima.ingest import BillingFileError
from cloudoptima.ingest.contract_commitment import read_contract_commitments
from cloudoptima.services.ingestion import IngestError
from cloudoptima.storage.models import ContractCommitmentRow, Organization


def _row(
    commitment: ContractCommitment, organization_id: uuid.UUID, source: str, now: datetime
) -> dict[str, object]:
    return {
        "organization_id": organization_id,
        "contract_commitment_id": commitment.contract_commitment_id,
        "contract_id": commitment.contract_id,
        "category": commitment.contract_commitment_category,
        "commitment_type": commitment.contract_commitment_type,
        "description": commitment.contract_commitment_description,
        "cost": commitment.contract_commitment_cost,
        "quantity": commitment.contract_commitment_quantity,
        "unit": commitment.contract_commitment_unit,
        "billing_currency": commitment.billing_currency,
        "commitment_period_start": commitment.contract_commitment_period_start,
        "commitment_period_end": commitment.contract_commitment_period_end,
        "contract_period_start": commitment.contract_period_start,
        "contract_period_end": commitment.contract_period_end,
        "source_file": source,
        "source_line": commitment.source_line,
        "ingested_at": now,
    }


def ingest_contract_commitments(
    engine: Engine, path: str | Path, organization_id: uuid.UUID, *, now: datetime
) -> int:
    """Upsert the commitments of one file (see the module docstring)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    source = str(path)
    try:
        commitments = read_contract_commitments(path)
    except BillingFileError as exc:
        raise IngestError(str(exc)) from exc
    seen: dict[str, int] = {}
    for commitment in commitments:
        first = seen.setdefault(commitment.contract_commitment_id, commitment.source_line)
        if first != commitment.source_line:
            raise IngestError(
                f"{source}, line {commitment.source_line}, column 'ContractCommitmentId': "
                f"{commitment.contract_commitment_id!r} already appears on line {first}"
            )
    rows = [_row(commitment, organization_id, source, now) for commitment in commitments]
    with engine.begin() as connection:
        exists = connection.execute(select(Organization.id).where(Organization.id == organization_id)).first()
        if exists is None:
            raise IngestError(f"organisation {organization_id} does not exist")
        statement = insert(ContractCommitmentRow).values(rows)
        replaced = {
            name: statement.excluded[name]
            for name in rows[0]
            if name not in ("organization_id", "contract_commitment_id")
        }
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=["organization_id", "contract_commitment_id"], set_=replaced
            )
        )
    return len(rows)


def list_contract_commitments(engine: Engine, organization_id: uuid.UUID) -> list[ContractCommitment]:
    """The organisation's commitments (see the module docstring)."""
    table = ContractCommitmentRow
    with engine.connect() as connection:
        rows = connection.execute(
            select(table)
            .where(table.organization_id == organization_id)
            .order_by(table.contract_commitment_id)
        ).all()
    return [
        ContractCommitment(
            contract_commitment_id=row.contract_commitment_id,
            contract_id=row.contract_id,
            contract_commitment_category=row.category,
            contract_commitment_type=row.commitment_type,
            contract_commitment_description=row.description,
            contract_commitment_cost=row.cost,
            contract_commitment_quantity=row.quantity,
            contract_commitment_unit=row.unit,
            billing_currency=row.billing_currency,
            contract_commitment_period_start=row.commitment_period_start,
            contract_commitment_period_end=row.commitment_period_end,
            contract_period_start=row.contract_period_start,
            contract_period_end=row.contract_period_end,
            source_line=row.source_line,
        )
        for row in rows
    ]
