"""A FOCUS 1.3 Contract Commitment: the terms of one commitment in a contract with a service provider.

Contract: one row of the FOCUS 1.3 Contract Commitment dataset (``cloudoptima.domain.focus_13``). Money and
quantities are ``Decimal`` (None where the spec allows null); date/times are timezone-aware UTC; periods are
end-exclusive (``*_period_start < *_period_end``). ``source_line`` is the row's 1-based line in its file.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict


class ContractCommitment(BaseModel):
    """One Contract Commitment row (FOCUS 1.3)."""

    model_config = ConfigDict(frozen=True)

    contract_commitment_id: str
    contract_id: str
    contract_commitment_category: Literal["Spend", "Usage"]
    contract_commitment_type: str
    contract_commitment_description: str | None
    contract_commitment_cost: Decimal | None
    contract_commitment_quantity: Decimal | None
    contract_commitment_unit: str | None
    billing_currency: str | None
    contract_commitment_period_start: datetime
    contract_commitment_period_end: datetime
    contract_period_start: datetime
    contract_period_end: datetime
    source_line: int
