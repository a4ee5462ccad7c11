"""FOCUS 1.3 contract commitments (migration 0027, table ``contract_commitments``), written by
:mod:`cloudoptima.services.contract_commitments`. One row per (organisation, contract commitment id)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cloudoptima.storage.base import Base, TenantScoped, UUIDPrimaryKey


class ContractCommitmentRow(UUIDPrimaryKey, TenantScoped, Base):
    """One contract commitment (see ``cloudoptima.domain.contract_commitment``)."""

    __tablename__ = "contract_commitments"
    __table_args__ = (
        UniqueConstraint("organization_id", "contract_commitment_id", name="uq_contract_commitments_id"),
        CheckConstraint("category IN ('Spend', 'Usage')", name="category"),
        CheckConstraint(
            "commitment_period_start < commitment_period_end AND contract_period_start < contract_period_end",
            name="periods",
        ),
    )

    contract_commitment_id: Mapped[str] = mapped_column(Text)
    contract_id: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(8))
    commitment_type: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    cost: Mapped[Decimal | None] = mapped_column(Numeric(38, 12))
    quantity: Mapped[Decimal | None] = mapped_column(Numeric(38, 12))
    unit: Mapped[str | None] = mapped_column(Text)
    billing_currency: Mapped[str | None] = mapped_column(String(3))
    commitment_period_start: Mapped[datetime]
    commitment_period_end: Mapped[datetime]
    contract_period_start: Mapped[datetime]
    contract_period_end: Mapped[datetime]
    source_file: Mapped[str] = mapped_column(Text)
    source_line: Mapped[int] = mapped_column(Integer)
    ingested_at: Mapped[datetime]
