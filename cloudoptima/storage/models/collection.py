"""Tables written by collection and analysis: IAM principals (JSONB documents), utilisation history and stored
cost forecasts."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    Double,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cloudoptima.storage.base import Base, TenantScoped, UUIDPrimaryKey, utcnow


class IamPrincipal(UUIDPrimaryKey, TenantScoped, Base):
    """One IAM identity of a connected account as last collected; grants and credentials live in ``document``.

    One row per (organisation, cloud account, principal id): collection upserts, so a retried or replayed
    run never duplicates. Principals missing from a complete read are marked ``deleted``.
    """

    __tablename__ = "iam_principals"
    __table_args__ = (
        UniqueConstraint("organization_id", "cloud_account_id", "principal_id"),
        Index("ix_iam_principals_org_kind", "organization_id", "kind"),
    )

    cloud_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cloud_accounts.id", ondelete="CASCADE"))
    principal_id: Mapped[str] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(20), default="active")
    privileged: Mapped[bool] = mapped_column(default=False)
    active_credentials: Mapped[int] = mapped_column(Integer, default=0)
    last_activity_at: Mapped[datetime | None]
    document: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)


class UtilisationDay(Base):
    """One UTC day of one metric of one resource: 24 hourly values (the hour's mean; ``None`` where no
    sample); monthly partitions on ``day``.

    Read and written only through :mod:`cloudoptima.storage.utilisation_history`, whose every statement
    filters the organisation and the cloud account (migration 0012 has the table's DDL).
    """

    __tablename__ = "utilisation_daily"
    __table_args__ = (
        CheckConstraint("cardinality(hours) = 24", name="24_hours"),
        {"postgresql_partition_by": "RANGE (day)"},
    )

    organization_id: Mapped[uuid.UUID]  # no foreign keys on this fact table (see migration 0012)
    cloud_account_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    resource_id: Mapped[str] = mapped_column(Text, primary_key=True)
    metric: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    hours: Mapped[list[float | None]] = mapped_column(ARRAY(Double))


class UtilisationCursor(Base):
    """The day (exclusive) up to which one resource's utilisation was read, samples or not."""

    __tablename__ = "utilisation_cursors"

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    cloud_account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cloud_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    resource_id: Mapped[str] = mapped_column(Text, primary_key=True)
    read_until: Mapped[date] = mapped_column(Date)


class CostForecast(UUIDPrimaryKey, TenantScoped, Base):
    """The latest daily cost forecast of an organisation for one currency (refreshed daily by analysis).

    ``points`` is ``[{"date", "predicted", "lower", "upper"}]`` with money as decimal strings; the period
    ``[start_date, end_date)`` is end-exclusive.
    """

    __tablename__ = "cost_forecasts"
    __table_args__ = (UniqueConstraint("organization_id", "currency"),)

    currency: Mapped[str] = mapped_column(String(3))
    model: Mapped[str] = mapped_column(String(32))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    total: Mapped[Decimal] = mapped_column(Numeric())
    points: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    history_days: Mapped[int] = mapped_column(Integer)
    generated_at: Mapped[datetime] = mapped_column(default=utcnow)
