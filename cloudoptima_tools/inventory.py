"""Shared reading of the stored inventory (``resources`` JSONB documents) for compute and storage tools.

Contract: every query goes through :class:`ResourceRepository` on a tenant-scoped session, so only the
caller's organisation's rows are read; deleted resources are never returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from cloudoptima.storage.models import ResourceDocument
from cloudoptima.storage.tenancy import TenantRepository
from cloudoptima_tools.context import ToolContext
from cloudoptima_tools.spec import CloudScope


class ResourceRepository(TenantRepository[ResourceDocument]):
    model = ResourceDocument

    def live(self, resource_type: str, scope: CloudScope, region: str | None = None) -> Select[Any]:
        query = self.query().where(
            ResourceDocument.resource_type == resource_type, ResourceDocument.status != "deleted"
        )
        clauses: list[ColumnElement[bool]] = []
        if scope.provider:
            clauses.append(ResourceDocument.provider == scope.provider)
        if scope.account:
            clauses.append(ResourceDocument.configuration["account_id"].astext == scope.account)
        if region:
            clauses.append(ResourceDocument.region == region)
        return query.where(*clauses)

    def count(self, query: Select[Any]) -> int:
        return int(self.session.scalar(select(func.count()).select_from(query.subquery())) or 0)

    def fetch(self, query: Select[Any], offset: int, limit: int) -> Sequence[ResourceDocument]:
        ordered = query.order_by(
            ResourceDocument.cost_monthly.desc().nulls_last(), ResourceDocument.resource_id
        )
        return self.session.scalars(ordered.offset(offset).limit(limit)).all()


def repository(ctx: ToolContext, session: Session) -> ResourceRepository:
    return ResourceRepository(session, ctx.organization_id)


def metric(doc: ResourceDocument, name: str, stat: str) -> float | None:
    value = (doc.metrics or {}).get(name, {}).get(stat)
    return float(value) if value is not None else None


def config(doc: ResourceDocument, key: str) -> Any:
    return (doc.configuration or {}).get(key)


def money(value: Decimal | None) -> Decimal:
    return (value or Decimal(0)).quantize(Decimal("0.01"))


def age_days(moment: Any, now: datetime) -> int | None:
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    days: int = (now - moment).days
    return max(0, days)
