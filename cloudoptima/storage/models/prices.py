"""The price store: providers' list prices (global reference data, not per organisation) and refresh outcomes.

``list_prices`` holds one row per ``(provider, kind, region, sku)`` with the source that published it and
when it was fetched; a refresh replaces one provider's rows inside one transaction (never half-written).
``price_refreshes`` keeps the outcome of the last refresh attempt of each provider, so a failure is visible
(``cloudoptima prices show``) while the last good prices stay in ``list_prices``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cloudoptima.storage.base import Base


class ListPriceRow(Base):
    """One list price (see :class:`cloudoptima.domain.prices.ListPrice`)."""

    __tablename__ = "list_prices"

    provider: Mapped[str] = mapped_column(String(20), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    region: Mapped[str] = mapped_column(Text, primary_key=True)
    sku: Mapped[str] = mapped_column(Text, primary_key=True)
    unit_price: Mapped[Decimal] = mapped_column(Numeric())
    unit: Mapped[str] = mapped_column(String(16))
    service: Mapped[str] = mapped_column(Text)
    provider_sku_id: Mapped[str | None] = mapped_column(Text)
    family: Mapped[str | None] = mapped_column(Text)
    vcpu: Mapped[int | None] = mapped_column(Integer)
    memory_gib: Mapped[Decimal | None] = mapped_column(Numeric())
    source: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime]


class PriceRefreshRow(Base):
    """The last refresh attempt of one provider: ``status`` ``ok`` or ``failed`` (with ``error``)."""

    __tablename__ = "price_refreshes"

    provider: Mapped[str] = mapped_column(String(20), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(Text)
    attempted_at: Mapped[datetime]
    succeeded_at: Mapped[datetime | None]
    price_count: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
