"""The resources API over the stored inventory (seed §3.2 Resources API): compute, storage, bulk tagging.

Contract:
- ``compute`` pages the organisation's compute instances (newest-seen first, then id), filtered by provider,
  region, status and *all* of the given tags; each item carries its utilisation averages from
  ``resources.metrics`` (``network_gb`` = mean in+out bytes per sample × samples / 10^9), the number of
  live recommendations naming it and an optimisation score: the stored score when one was imported (basis
  ``stored``), else ``cloudoptima.analytics.optimization_score``: the lower of the utilisation fit (p99 CPU /
  memory against the rightsizing ceiling) and ``100 × (1 − live recommendation savings / monthly cost)``.
- ``storage`` lists disks (largest monthly cost first, then id) with size, iops, attachment, monthly cost, age
  and how many snapshots were taken from them; :class:`StorageFilters` narrows them (all given filters must
  hold): provider, account (the provider's account id of the connected account), region, disk type,
  attached / unattached, status, size ≥ ``min_size_gb``, age ≥ ``min_age_days`` (from the cloud's creation
  time, at the injected ``now``).
- ``tag_targets`` checks a bulk-tag request per resource: unknown ids and (without ``overwrite``) tags that
  would change an existing value are listed as failures; the rest are returned to be tagged.
- ``apply_tags`` tags each target through its account's provider (``ActionKind.TAG``) and then stores the
  merged tags on the inventory row; a provider refusal is that resource's failure, never an exception.
Every statement is scoped to the organisation.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import Float, func, select
from sqlalchemy.orm import Session

from cloudoptima.analytics.optimization_score import optimization_score
from cloudoptima.clouds.protocol import ActionKind, ActionRequest, CloudProviderClient, ProviderError
from cloudoptima.storage.models import CloudAccount, Recommendation, ResourceDocument
from cloudoptima.storage.tenancy import TenantRepository

LIVE_RECOMMENDATION = ("active", "scheduled")


class _Resources(TenantRepository[ResourceDocument]):
    model = ResourceDocument


@dataclass(frozen=True)
class ComputeItem:
    row: ResourceDocument
    cpu_avg: float | None
    memory_avg: float | None
    network_gb: float | None
    optimization_score: int
    recommendations_count: int
    score_basis: Literal["utilisation", "recommendations", "stored"] = "recommendations"


@dataclass(frozen=True)
class StorageItem:
    row: ResourceDocument
    size_gb: int | None
    iops: int | None
    attached_to: str | None
    age_days: int
    snapshot_count: int


@dataclass(frozen=True)
class StorageFilters:
    """Filters of the storage list (None = any)."""

    provider: str | None = None
    account: str | None = None
    region: str | None = None
    disk_type: str | None = None
    attached: bool | None = None
    status: str | None = None
    min_size_gb: float | None = None
    min_age_days: int | None = None


@dataclass
class TagOutcome:
    updated: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def _avg(metrics: dict[str, Any], name: str) -> float | None:
    value = (metrics.get(name) or {}).get("avg")
    return float(value) if value is not None else None


def _network_gb(metrics: dict[str, Any]) -> float | None:
    total = 0.0
    seen = False
    for name in ("network_in_bytes", "network_out_bytes"):
        summary = metrics.get(name) or {}
        if summary.get("avg") is not None:
            total += float(summary["avg"]) * float(summary.get("samples") or 0)
            seen = True
    return round(total / 1e9, 3) if seen else None


class ResourceQueries:
    """See module contract."""

    def __init__(
        self,
        session: Session,
        organization_id: uuid.UUID,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._session = session
        self._org = organization_id
        self._repo = _Resources(session, organization_id)
        self._now = now

    def _live_recommendations(self) -> dict[str, tuple[int, Decimal]]:
        """Per resource id: how many live recommendations name it and its share of their savings."""
        counts: dict[str, tuple[int, Decimal]] = {}
        rows = self._session.execute(
            select(Recommendation.resource_ids, Recommendation.estimated_savings_monthly).where(
                Recommendation.organization_id == self._org, Recommendation.status.in_(LIVE_RECOMMENDATION)
            )
        ).all()
        for ids, savings in rows:
            share = (savings or Decimal(0)) / max(len(ids or []), 1)
            for rid in ids or []:
                count, total = counts.get(rid, (0, Decimal(0)))
                counts[rid] = (count + 1, total + share)
        return counts

    def compute(
        self,
        *,
        provider: str | None = None,
        region: str | None = None,
        status: str | None = None,
        tags: dict[str, str] | None = None,
        page: int = 1,
        page_size: int = 50,
    ) -> tuple[list[ComputeItem], int]:
        query = self._repo.query().where(ResourceDocument.resource_type == "compute_instance")
        if provider:
            query = query.where(ResourceDocument.provider == provider)
        if region:
            query = query.where(ResourceDocument.region == region)
        if status:
            query = query.where(ResourceDocument.status == status)
        if tags:
            query = query.where(ResourceDocument.tags.contains(tags))
        total = int(self._session.scalar(select(func.count()).select_from(query.subquery())) or 0)
        rows = self._session.scalars(
            query.order_by(ResourceDocument.last_seen.desc(), ResourceDocument.id)
            .limit(page_size)
            .offset((page - 1) * page_size)
        ).all()
        live = self._live_recommendations()
        items = []
        for row in rows:
            count, savings = live.get(row.resource_id, (0, Decimal(0)))
            metrics = row.metrics or {}
            basis: Literal["utilisation", "recommendations", "stored"] = "stored"
            if row.optimization_score is not None:
                score = row.optimization_score
            else:
                found = optimization_score(
                    metrics, status=row.status, monthly_cost=row.cost_monthly, open_savings=savings
                )
                score, basis = found.score, found.basis
            items.append(
                ComputeItem(
                    row=row,
                    cpu_avg=_avg(metrics, "cpu_percent"),
                    memory_avg=_avg(metrics, "memory_percent"),
                    network_gb=_network_gb(metrics),
                    optimization_score=score,
                    recommendations_count=count,
                    score_basis=basis,
                )
            )
        return items, total

    def storage(
        self, *, page: int = 1, page_size: int = 50, filters: StorageFilters | None = None
    ) -> tuple[list[StorageItem], int]:
        query = self._repo.query().where(
            ResourceDocument.resource_type == "disk", ResourceDocument.status != "deleted"
        )
        f = filters or StorageFilters()
        column = ResourceDocument.configuration
        if f.provider:
            query = query.where(ResourceDocument.provider == f.provider)
        if f.account:
            accounts = select(CloudAccount.id).where(
                CloudAccount.organization_id == self._org, CloudAccount.account_identifier == f.account
            )
            query = query.where(ResourceDocument.cloud_account_id.in_(accounts))
        if f.region:
            query = query.where(ResourceDocument.region == f.region)
        if f.disk_type:
            query = query.where(column["disk_type"].astext == f.disk_type)
        if f.attached is not None:
            attached = func.coalesce(column["attached_to"].astext, "") != ""
            query = query.where(attached if f.attached else ~attached)
        if f.status:
            query = query.where(ResourceDocument.status == f.status)
        if f.min_size_gb is not None:
            query = query.where(column["size_gb"].astext.cast(Float) >= f.min_size_gb)
        if f.min_age_days is not None:
            query = query.where(ResourceDocument.created_at <= self._now() - timedelta(days=f.min_age_days))
        total = int(self._session.scalar(select(func.count()).select_from(query.subquery())) or 0)
        rows = self._session.scalars(
            query.order_by(ResourceDocument.cost_monthly.desc().nulls_last(), ResourceDocument.id)
            .limit(page_size)
            .offset((page - 1) * page_size)
        ).all()
        source = ResourceDocument.configuration["source_disk_id"].astext
        snapshots: dict[str, int] = dict(
            self._session.execute(
                select(source, func.count())
                .where(
                    ResourceDocument.organization_id == self._org,
                    ResourceDocument.resource_type == "snapshot",
                    ResourceDocument.status != "deleted",
                    source.in_([r.resource_id for r in rows]),
                )
                .group_by(source)
            ).all()
        )
        now = self._now()
        items = []
        for row in rows:
            config = row.configuration or {}
            iops = config.get("iops")
            items.append(
                StorageItem(
                    row=row,
                    size_gb=int(config["size_gb"]) if config.get("size_gb") is not None else None,
                    iops=int(iops) if iops is not None else None,
                    attached_to=config.get("attached_to"),
                    age_days=max((now - row.created_at).days, 0),
                    snapshot_count=int(snapshots.get(row.resource_id, 0)),
                )
            )
        return items, total

    def tag_targets(
        self, resource_ids: Sequence[str], tags: dict[str, str], *, overwrite: bool
    ) -> tuple[list[ResourceDocument], list[tuple[str, str]]]:
        found = {
            row.resource_id: row
            for row in self._session.scalars(
                self._repo.query().where(
                    ResourceDocument.resource_id.in_(list(resource_ids)), ResourceDocument.status != "deleted"
                )
            )
        }
        targets, failed = [], []
        for rid in dict.fromkeys(resource_ids):
            row = found.get(rid)
            if row is None:
                failed.append((rid, "resource not found"))
                continue
            clashes = sorted(k for k, v in tags.items() if k in (row.tags or {}) and str(row.tags[k]) != v)
            if clashes and not overwrite:
                failed.append(
                    (rid, f"tag(s) {', '.join(clashes)} already set; pass overwrite=true to replace")
                )
                continue
            targets.append(row)
        return targets, failed

    def apply_tags(
        self,
        targets: Sequence[ResourceDocument],
        tags: dict[str, str],
        providers: Callable[[CloudAccount], CloudProviderClient],
        idempotency_prefix: str,
    ) -> TagOutcome:
        outcome = TagOutcome()
        clients: dict[uuid.UUID, CloudProviderClient | str] = {}
        for row in targets:
            account_id = row.cloud_account_id
            if account_id is None:
                outcome.failed.append((row.resource_id, "resource has no connected account"))
                continue
            if account_id not in clients:
                account = self._session.get(CloudAccount, account_id)
                try:
                    clients[account_id] = (
                        providers(account) if account is not None else "cloud account not found"
                    )
                except ProviderError as exc:
                    clients[account_id] = str(exc)
            client = clients[account_id]
            if isinstance(client, str):
                outcome.failed.append((row.resource_id, client))
                continue
            request = ActionRequest(
                kind=ActionKind.TAG, resource_id=row.resource_id, region=row.region, parameters={"tags": tags}
            )
            try:
                client.execute_action(request, f"{idempotency_prefix}/{row.resource_id}")
            except ProviderError as exc:
                outcome.failed.append((row.resource_id, str(exc) or type(exc).__name__))
                continue
            row.tags = {**(row.tags or {}), **tags}
            outcome.updated.append(row.resource_id)
        self._session.flush()
        return outcome
