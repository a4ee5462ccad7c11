"""``cost_daily``: the daily rollup every dashboard query reads instead of raw ``cost_data`` rows.

One row per organisation, UTC day (of ``charge_period_start``), account, provider, billing and sub account,
service, category, region, charge category, currency and the values of the organisation's rollup tag keys.
Maintained by :mod:`cloudoptima.storage.cost_loader` for exactly the days an ingest touched.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Date, Index, Numeric, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cloudoptima.storage.base import Base, TenantScoped


class CostDaily(TenantScoped, Base):
    __tablename__ = "cost_daily"
    __table_args__ = (
        Index("ix_cost_daily_org_day", "organization_id", "usage_date"),
        Index("ix_cost_daily_tags", "tag_values", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    usage_date: Mapped[date] = mapped_column(Date)
    cloud_account_id: Mapped[uuid.UUID | None]
    provider: Mapped[str] = mapped_column(String(20))
    billing_account_id: Mapped[str | None] = mapped_column(Text)
    sub_account_id: Mapped[str | None] = mapped_column(Text)
    service_name: Mapped[str | None] = mapped_column(Text)
    service_category: Mapped[str | None] = mapped_column(Text)
    region_id: Mapped[str | None] = mapped_column(Text)
    charge_category: Mapped[str | None] = mapped_column(Text)
    billing_currency: Mapped[str] = mapped_column(String(3))
    tag_values: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    billed_cost: Mapped[Decimal] = mapped_column(Numeric())
    effective_cost: Mapped[Decimal] = mapped_column(Numeric())
    list_cost: Mapped[Decimal] = mapped_column(Numeric())
    row_count: Mapped[int] = mapped_column(BigInteger)
