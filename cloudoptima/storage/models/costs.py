"""``cost_data``: FOCUS 1.2 columns (snake_case) plus organisation, account and provenance.

The table is partitioned by month on ``charge_period_start`` (native range partitioning, created by the
migrations; :func:`cloudoptima.storage.partitions.ensure_cost_partitions` adds months on demand). Money and
quantities are unconstrained ``NUMERIC`` so the stored digits are exactly the source's.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Integer, Numeric, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cloudoptima.storage.base import Base, TenantScoped

MONEY = Numeric()


class CostRow(TenantScoped, Base):
    """One FOCUS row. No database primary key or foreign keys (see the 0001 migration): ``id`` is unique by
    construction (``gen_random_uuid``) and is the ORM identity only."""

    __tablename__ = "cost_data"

    organization_id: Mapped[uuid.UUID] = mapped_column(nullable=False)  # no FK: see the class docstring

    id: Mapped[uuid.UUID] = mapped_column(
        primary_key=True, default=uuid.uuid4, server_default=func.gen_random_uuid()
    )
    charge_period_start: Mapped[datetime] = mapped_column(primary_key=True)
    cloud_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("cloud_accounts.id", ondelete="SET NULL")
    )
    provider: Mapped[str] = mapped_column(String(20))
    import_id: Mapped[uuid.UUID | None]
    source_file: Mapped[str | None] = mapped_column(Text)
    source_line: Mapped[int | None] = mapped_column(Integer)
    extensions: Mapped[dict[str, Any] | None] = mapped_column(JSONB)

    availability_zone: Mapped[str | None] = mapped_column(Text)
    billed_cost: Mapped[Decimal] = mapped_column(MONEY)
    billing_account_id: Mapped[str] = mapped_column(Text)
    billing_account_name: Mapped[str | None] = mapped_column(Text)
    billing_account_type: Mapped[str | None] = mapped_column(Text)
    billing_currency: Mapped[str] = mapped_column(String(3))
    billing_period_end: Mapped[datetime]
    billing_period_start: Mapped[datetime]
    capacity_reservation_id: Mapped[str | None] = mapped_column(Text)
    capacity_reservation_status: Mapped[str | None] = mapped_column(Text)
    charge_category: Mapped[str] = mapped_column(Text)
    charge_class: Mapped[str | None] = mapped_column(Text)
    charge_description: Mapped[str | None] = mapped_column(Text)
    charge_frequency: Mapped[str | None] = mapped_column(Text)
    charge_period_end: Mapped[datetime]
    commitment_discount_category: Mapped[str | None] = mapped_column(Text)
    commitment_discount_id: Mapped[str | None] = mapped_column(Text)
    commitment_discount_name: Mapped[str | None] = mapped_column(Text)
    commitment_discount_quantity: Mapped[Decimal | None] = mapped_column(MONEY)
    commitment_discount_status: Mapped[str | None] = mapped_column(Text)
    commitment_discount_type: Mapped[str | None] = mapped_column(Text)
    commitment_discount_unit: Mapped[str | None] = mapped_column(Text)
    consumed_quantity: Mapped[Decimal | None] = mapped_column(MONEY)
    consumed_unit: Mapped[str | None] = mapped_column(Text)
    contracted_cost: Mapped[Decimal | None] = mapped_column(MONEY)
    contracted_unit_price: Mapped[Decimal | None] = mapped_column(MONEY)
    effective_cost: Mapped[Decimal | None] = mapped_column(MONEY)
    invoice_id: Mapped[str | None] = mapped_column(Text)
    invoice_issuer_name: Mapped[str | None] = mapped_column(Text)
    list_cost: Mapped[Decimal | None] = mapped_column(MONEY)
    list_unit_price: Mapped[Decimal | None] = mapped_column(MONEY)
    pricing_category: Mapped[str | None] = mapped_column(Text)
    pricing_currency: Mapped[str | None] = mapped_column(Text)
    pricing_currency_contracted_unit_price: Mapped[Decimal | None] = mapped_column(MONEY)
    pricing_currency_effective_cost: Mapped[Decimal | None] = mapped_column(MONEY)
    pricing_currency_list_unit_price: Mapped[Decimal | None] = mapped_column(MONEY)
    pricing_quantity: Mapped[Decimal | None] = mapped_column(MONEY)
    pricing_unit: Mapped[str | None] = mapped_column(Text)
    provider_name: Mapped[str] = mapped_column(Text)
    publisher_name: Mapped[str | None] = mapped_column(Text)
    region_id: Mapped[str | None] = mapped_column(Text)
    region_name: Mapped[str | None] = mapped_column(Text)
    resource_id: Mapped[str | None] = mapped_column(Text)
    resource_name: Mapped[str | None] = mapped_column(Text)
    resource_type: Mapped[str | None] = mapped_column(Text)
    service_category: Mapped[str | None] = mapped_column(Text)
    service_name: Mapped[str | None] = mapped_column(Text)
    service_subcategory: Mapped[str | None] = mapped_column(Text)
    sku_id: Mapped[str | None] = mapped_column(Text)
    sku_meter: Mapped[str | None] = mapped_column(Text)
    sku_price_details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    sku_price_id: Mapped[str | None] = mapped_column(Text)
    sub_account_id: Mapped[str | None] = mapped_column(Text)
    sub_account_name: Mapped[str | None] = mapped_column(Text)
    sub_account_type: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
