"""Allocation dimensions, their immutable rule-set versions, and the allocated daily rollup (migration 0029).

``cost_allocated_daily`` is written and read in SQL by :mod:`cloudoptima.services.allocation`; the ORM class
exists so the schema test compares it with the migration.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cloudoptima.storage.base import Base, TenantScoped, UUIDPrimaryKey, utcnow


class AllocationDimensionRow(UUIDPrimaryKey, TenantScoped, Base):
    """One dimension (``team``); ``active_version`` is what readers see, ``latest_version`` the newest saved."""

    __tablename__ = "allocation_dimensions"
    __table_args__ = (UniqueConstraint("organization_id", "name", name="uq_allocation_dimensions_org_name"),)

    name: Mapped[str] = mapped_column(String(63))
    description: Mapped[str | None] = mapped_column(Text)
    active_version: Mapped[int | None] = mapped_column(Integer)
    latest_version: Mapped[int] = mapped_column(Integer, default=0)
    allocated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AllocationRuleSetRow(UUIDPrimaryKey, TenantScoped, Base):
    """Version ``version`` of a dimension's rule set (the JSON of :class:`cloudoptima.domain.allocation.RuleSet`)."""

    __tablename__ = "allocation_rule_sets"
    __table_args__ = (
        UniqueConstraint("dimension_id", "version", name="uq_allocation_rule_sets_dimension_version"),
    )

    dimension_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("allocation_dimensions.id", ondelete="CASCADE")
    )
    version: Mapped[int] = mapped_column(Integer)
    rules: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_by: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CostAllocatedDaily(TenantScoped, Base):
    __tablename__ = "cost_allocated_daily"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    dimension_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("allocation_dimensions.id", ondelete="CASCADE")
    )
    version: Mapped[int] = mapped_column(Integer)
    usage_date: Mapped[date] = mapped_column(Date)
    value: Mapped[str] = mapped_column(Text)
    cloud_account_id: Mapped[uuid.UUID | None]
    provider: Mapped[str] = mapped_column(String(20))
    service_name: Mapped[str | None] = mapped_column(Text)
    region_id: Mapped[str | None] = mapped_column(Text)
    billing_currency: Mapped[str] = mapped_column(String(3))
    billed_cost: Mapped[Decimal] = mapped_column(Numeric())
    effective_cost: Mapped[Decimal] = mapped_column(Numeric(), default=Decimal(0), server_default="0")
    shared: Mapped[bool]


class CostAllocatedTotal(Base):
    """Per organisation, dimension, version, day, currency and value: what showback reads."""

    __tablename__ = "cost_allocated_totals"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    dimension_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("allocation_dimensions.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    usage_date: Mapped[date] = mapped_column(Date, primary_key=True)
    billing_currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    value: Mapped[str] = mapped_column(Text, primary_key=True)
    billed_cost: Mapped[Decimal] = mapped_column(Numeric())
    shared_cost: Mapped[Decimal] = mapped_column(Numeric())
    effective_cost: Mapped[Decimal] = mapped_column(Numeric(), default=Decimal(0), server_default="0")
    shared_effective_cost: Mapped[Decimal] = mapped_column(Numeric(), default=Decimal(0), server_default="0")
