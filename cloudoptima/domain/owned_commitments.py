"""Commitments an organisation owns, as the providers' APIs list them (#22): the SDK inventory.

Contract: one :class:`OwnedCommitment` per AWS Reserved Instance or Azure VM reservation
(``kind = reserved_instance``), AWS or Azure Savings Plan (``kind = savings_plan``; ``plan_type`` ``Compute``
for one bound to no family or region) or GCP committed-use discount (``kind = committed_use``: ``vcpus`` and
``memory_mb`` of machine ``instance_family`` in ``region``) of one account. Periods are ``[start, end)`` in UTC. Money is Decimal in
``currency``: ``hourly_commitment`` is the Savings Plan's $/h commitment or the RI's recurring hourly charge,
``upfront`` the amount paid up front. An RI's ``instance_count`` instances of ``instance_type``
(``instance_family`` = the part before the dot) are covered in ``region`` (an AZ-scoped RI counts in the
AZ's region; an Azure reservation's ``instance_count`` VMs of size ``instance_type``, ``applied_scope``
``Shared`` or the subscription / resource group it applies to). ``billing_ids`` are the ``CommitmentDiscountId`` values its billing-data rows carry (the
ARN, and the bare id), used to join the utilisation read from the bill.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel

_SIZE_UNITS = {"nano": "0.25", "micro": "0.5", "small": "1", "medium": "2", "large": "4", "xlarge": "8"}


def size_units(instance_type: str) -> Decimal:
    """AWS size normalisation factor of ``instance_type`` (EC2 RI size flexibility: nano 0.25 … large 4,
    xlarge 8, ``Nxlarge`` 8 x N, so ``m5.2xlarge`` → 16); 1 for a size it does not know."""
    size = instance_type.split(".", 1)[1] if "." in instance_type else ""
    if size in _SIZE_UNITS:
        return Decimal(_SIZE_UNITS[size])
    if size.endswith("xlarge") and size[:-6].isdigit():
        return Decimal(8) * int(size[:-6])
    return Decimal(1)


class OwnedKind(StrEnum):
    RESERVED_INSTANCE = "reserved_instance"
    SAVINGS_PLAN = "savings_plan"
    COMMITTED_USE = "committed_use"


ACTIVE_STATES = frozenset({"active"})
"""Provider states in which a commitment is in force (every reader maps its provider's word for it to this)."""


class OwnedCommitment(BaseModel):
    """One commitment read from a provider API (module contract)."""

    provider: str
    account_id: str
    commitment_id: str
    arn: str | None = None
    kind: OwnedKind
    plan_type: str | None = None  # RI offering class (standard/convertible) or Savings Plan type
    region: str | None = None
    instance_type: str | None = None
    instance_family: str | None = None
    instance_count: int | None = None
    applied_scope: str | None = None
    vcpus: int | None = None
    memory_mb: int | None = None
    hourly_commitment: Decimal | None = None
    upfront: Decimal | None = None
    currency: str = "USD"
    payment_option: str | None = None
    term_seconds: int
    start: datetime
    end: datetime
    state: str

    @property
    def billing_ids(self) -> list[str]:
        """The ids the bill may carry for it (ARN first)."""
        return [i for i in (self.arn, self.commitment_id) if i]

    def active_at(self, now: datetime) -> bool:
        """In force at ``now``: an active state and ``start <= now < end``."""
        return self.state in ACTIVE_STATES and self.start <= now < self.end


class OwnedCommitmentView(OwnedCommitment):
    """``GET /v1/commitments``' owned entry: the inventory row joined with the billing-data figures of the
    period asked (None when the bill shows no row of it), and the whole days left until ``end``."""

    days_to_expiry: int
    collected_at: datetime
    used_cost: Decimal | None = None
    unused_cost: Decimal | None = None
    utilisation_percent: Decimal | None = None


class InventoryRead(BaseModel):
    """The last inventory read of one account: ``status`` is ``read``, ``unavailable: <permission>`` (the
    credentials lack the permission: nothing could be listed, what an earlier read stored is kept) or
    ``failed: <reason>``."""

    provider: str
    account_id: str
    read_at: datetime
    status: str
