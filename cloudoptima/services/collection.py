"""Collect one connected account: costs, inventory, utilisation and IAM into the organisation's tables.

Each step is one method, one transaction, and idempotent, so a durable workflow can retry or replay any
of them (after a crash, between commit and acknowledgement) without duplicating or losing data:

- ``plan`` decides the cost days to fetch: ``initial_days`` for a never-synced account, else from
  ``restate_days`` before the last successful sync (clouds restate recent days) up to today, inclusive
  (``[start, end)``, end = tomorrow), capped at ``MAX_CATCH_UP_DAYS``; split into ``window_days`` windows.
- ``collect_costs(window)`` fetches that day window and replaces exactly those days of this account in
  ``cost_data`` (and its ``cost_daily`` rows) — loads of the same account are serialised with an advisory
  lock; different accounts load concurrently. An incomplete read (a region failed) raises
  :class:`IncompleteReadError` (retryable) and writes nothing: replacing with a partial window would
  delete good rows.
- ``collect_inventory`` upserts resources (keeping their utilisation summaries); resources not seen in a
  complete read are marked deleted.
- ``collect_utilisation`` reads hourly series of the account's live instances and databases for the last
  ``days`` and stores their summaries (avg/max/p95/p99) in ``resources.metrics``; ``heartbeat`` is called
  between chunks.
- ``collect_iam`` upserts ``iam_principals``; principals missing from a complete read are marked deleted.
- ``finish`` sets ``status = 'active'``, ``monthly_spend`` (the last 30 days of billed cost in the
  account's main currency) and — when every cost window loaded — ``last_sync_at``; then publishes
  ``cost_updates`` and ``resource_changes`` events.
- ``mark_error`` records a :class:`CredentialsError` (``status = 'error'`` with the reason) and publishes
  ``collection_failed``.

Every statement is scoped to the account's organisation (tenant repository or explicit filter);
``list_accounts`` is the one system-wide query (the scheduler's fan-out).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import Engine, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.analytics.utilisation import summarise
from cloudoptima.clouds.protocol import CloudProviderClient, Failure, ProviderError
from cloudoptima.domain.inventory import Principal, Resource, ResourceKind, UtilisationSeries
from cloudoptima.services.cost_rows import cost_batch
from cloudoptima.services.events import Publish
from cloudoptima.services.ingestion import rollup_tag_keys
from cloudoptima.services.recommendations import resource_from_document
from cloudoptima.storage.cost_loader import CostLoader, LoadTarget
from cloudoptima.storage.inventory_store import upsert_resources
from cloudoptima.storage.models import CloudAccount, IamPrincipal, Organization, ResourceDocument
from cloudoptima.storage.tenancy import TenantRepository, tenant_session

ProviderFactory = Callable[[CloudAccount], CloudProviderClient]
"""Builds the provider of a ``cloud_accounts`` row (``ProviderRegistry.for_account`` in production)."""
Heartbeat = Callable[[str], None]
AccountKind = Literal["sandbox", "live", "all"]

MAX_CATCH_UP_DAYS = 93
SPEND_DAYS = 30
UTILISATION_KINDS = (ResourceKind.COMPUTE_INSTANCE.value, ResourceKind.DATABASE.value)
UTILISATION_CHUNK = 50
COLLECTABLE_STATUSES = ("active", "pending")
_PRINCIPAL_UPDATES = (
    "name",
    "kind",
    "status",
    "privileged",
    "active_credentials",
    "last_activity_at",
    "document",
    "last_seen",
)


class AccountNotFoundError(LookupError):
    """The cloud account does not exist in this organisation."""


class IncompleteReadError(ProviderError):
    """Part of a read failed (listed); nothing was written. Retry later."""

    retryable = True

    def __init__(self, what: str, failures: Sequence[Failure]) -> None:
        scopes = ", ".join(f"{f.scope}: {f.error}" for f in failures[:5])
        super().__init__(f"{what} incomplete ({len(failures)} part(s) failed: {scopes})")
        self.failures = list(failures)


@dataclass(frozen=True)
class AccountRef:
    organization_id: uuid.UUID
    cloud_account_id: uuid.UUID


@dataclass(frozen=True)
class CollectionPlan:
    start: date
    end: date
    windows: list[tuple[date, date]]
    first_sync: bool


@dataclass(frozen=True)
class CostStep:
    start: date
    end: date
    rows: int
    replaced: int
    billed_total: Decimal


@dataclass(frozen=True)
class InventoryStep:
    resources: int
    complete: bool
    failures: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class UtilisationStep:
    resources: int
    series: int
    failures: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class IamStep:
    principals: int
    privileged: int
    complete: bool


@dataclass(frozen=True)
class FinishStep:
    last_sync_at: datetime | None
    monthly_spend: Decimal | None
    events: int


class _Accounts(TenantRepository[CloudAccount]):
    model = CloudAccount


def _utc_now() -> datetime:
    return datetime.now(UTC)


def plan_windows(
    today: date,
    last_sync_at: datetime | None,
    *,
    initial_days: int,
    restate_days: int,
    window_days: int,
) -> CollectionPlan:
    """The cost days to fetch (see the module contract); pure."""
    end = today + timedelta(days=1)
    if last_sync_at is None:
        start = end - timedelta(days=initial_days)
    else:
        synced = min(last_sync_at.astimezone(UTC).date(), today)
        start = max(synced - timedelta(days=restate_days), end - timedelta(days=MAX_CATCH_UP_DAYS))
    windows, cursor = [], start
    while cursor < end:
        stop = min(end, cursor + timedelta(days=window_days))
        windows.append((cursor, stop))
        cursor = stop
    return CollectionPlan(start=start, end=end, windows=windows, first_sync=last_sync_at is None)


def _failures(items: Sequence[Failure]) -> list[str]:
    return [f"{f.scope}: {f.error}" for f in items]


class CollectionService:
    """The collection steps of one connected account (see the module contract)."""

    def __init__(
        self,
        engine: Engine,
        providers: ProviderFactory,
        *,
        publish: Publish | None = None,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._providers = providers
        self._publish = publish
        self._now = now

    # -- accounts ---------------------------------------------------------------------------------------

    def list_accounts(
        self, kind: AccountKind = "all", organization_id: uuid.UUID | None = None
    ) -> list[AccountRef]:
        """Collectable accounts (active or pending), sandbox / live / all, of one or every organisation."""
        query = select(CloudAccount.organization_id, CloudAccount.id, CloudAccount.settings).where(
            CloudAccount.status.in_(COLLECTABLE_STATUSES)
        )
        if organization_id is not None:
            query = query.where(CloudAccount.organization_id == organization_id)
        with self._sessions() as session:
            rows = session.execute(query.order_by(CloudAccount.organization_id, CloudAccount.id)).all()
        refs = []
        for org, account, settings in rows:
            sandbox = isinstance((settings or {}).get("sandbox"), dict)
            if kind == "all" or (kind == "sandbox") == sandbox:
                refs.append(AccountRef(org, account))
        return refs

    def account(self, ref: AccountRef) -> CloudAccount:
        """The account row (detached); :class:`AccountNotFoundError` outside its organisation."""
        with tenant_session(self._sessions, ref.organization_id) as session:
            row = _Accounts(session, ref.organization_id).get(ref.cloud_account_id)
            if row is None:
                raise AccountNotFoundError(f"cloud account {ref.cloud_account_id} does not exist")
            session.expunge(row)
            return row

    def provider(self, ref: AccountRef) -> CloudProviderClient:
        return self._providers(self.account(ref))

    def plan(
        self,
        ref: AccountRef,
        *,
        initial_days: int,
        restate_days: int,
        window_days: int = 7,
        today: date | None = None,
    ) -> CollectionPlan:
        row = self.account(ref)
        return plan_windows(
            today or self._now().date(),
            row.last_sync_at,
            initial_days=initial_days,
            restate_days=restate_days,
            window_days=window_days,
        )

    # -- steps ------------------------------------------------------------------------------------------

    def collect_costs(self, ref: AccountRef, start: date, end: date) -> CostStep:
        """Fetch ``[start, end)`` and replace those days of this account (one transaction)."""
        row = self.account(ref)
        read = self._providers(row).costs(start, end)
        if not read.complete:
            raise IncompleteReadError(f"costs {start}..{end}", read.failures)
        batch = cost_batch(read.items, f"collection:{row.provider}:{row.account_identifier}")
        with self._engine.begin() as connection:
            connection.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                {"key": f"cloudoptima.collect:{ref.cloud_account_id}"},
            )
            org_settings = connection.execute(
                select(Organization.settings).where(Organization.id == ref.organization_id)
            ).scalar_one()
            loader = CostLoader(
                connection,
                LoadTarget(
                    organization_id=ref.organization_id,
                    batch_id=uuid.uuid4(),
                    cloud_account_id=ref.cloud_account_id,
                    tag_keys=rollup_tag_keys(org_settings or {}),
                    replace_days=(start, end),
                ),
            )
            loader.copy_batch(batch)
            result = loader.finish()
        return CostStep(
            start=start,
            end=end,
            rows=result.rows_copied,
            replaced=result.rows_replaced,
            billed_total=sum((item.billed_cost for item in read.items), Decimal(0)),
        )

    def _stored_metrics(self, session: Session, ref: AccountRef) -> dict[str, dict[str, Any]]:
        rows = session.execute(
            select(ResourceDocument.resource_id, ResourceDocument.metrics).where(
                ResourceDocument.organization_id == ref.organization_id,
                ResourceDocument.cloud_account_id == ref.cloud_account_id,
            )
        ).all()
        return {resource_id: dict(metrics or {}) for resource_id, metrics in rows}

    def collect_inventory(self, ref: AccountRef) -> InventoryStep:
        """Upsert the account's resources, keeping their stored utilisation summaries."""
        read = self._providers(self.account(ref)).inventory()
        with tenant_session(self._sessions, ref.organization_id) as session:
            metrics = self._stored_metrics(session, ref)
            count = upsert_resources(
                session.connection(),
                ref.organization_id,
                ref.cloud_account_id,
                read.items,
                metrics,
                self._now(),
                complete=read.complete,
            )
        return InventoryStep(resources=count, complete=read.complete, failures=_failures(read.failures))

    def _utilisation_targets(self, ref: AccountRef) -> list[Resource]:
        with tenant_session(self._sessions, ref.organization_id) as session:
            docs = session.scalars(
                select(ResourceDocument).where(
                    ResourceDocument.organization_id == ref.organization_id,
                    ResourceDocument.cloud_account_id == ref.cloud_account_id,
                    ResourceDocument.resource_type.in_(UTILISATION_KINDS),
                    ResourceDocument.status != "deleted",
                )
            ).all()
            return [resource_from_document(doc) for doc in docs]

    def collect_utilisation(
        self, ref: AccountRef, start: date, end: date, heartbeat: Heartbeat | None = None
    ) -> UtilisationStep:
        """Summaries of ``[start, end)`` for the live instances and databases (chunked, with heartbeats)."""
        provider = self._providers(self.account(ref))
        targets = self._utilisation_targets(ref)
        updates: list[dict[str, Any]] = []
        failures: list[str] = []
        series = 0
        for offset in range(0, len(targets), UTILISATION_CHUNK):
            chunk = targets[offset : offset + UTILISATION_CHUNK]
            read = provider.utilisation(chunk, start, end)
            failures += _failures(read.failures)
            series += len(read.items)
            by_resource: dict[str, list[UtilisationSeries]] = {}
            for item in read.items:
                by_resource.setdefault(item.resource_id, []).append(item)
            updates += [
                {"rid": resource_id, "metrics": summarise(items)}
                for resource_id, items in by_resource.items()
            ]
            if heartbeat is not None:
                heartbeat(f"{offset + len(chunk)}/{len(targets)}")
        if updates:
            with tenant_session(self._sessions, ref.organization_id) as session:
                session.execute(
                    text(
                        "UPDATE resources r SET metrics = v.metrics FROM ("
                        " SELECT unnest(CAST(:ids AS text[])) AS resource_id,"
                        " unnest(CAST(:metrics AS jsonb[])) AS metrics) v "
                        "WHERE r.organization_id = :org AND r.cloud_account_id = :account "
                        "AND r.resource_id = v.resource_id"
                    ),
                    {
                        "ids": [change["rid"] for change in updates],
                        "metrics": [json.dumps(change["metrics"]) for change in updates],
                        "org": ref.organization_id,
                        "account": ref.cloud_account_id,
                    },
                )
        return UtilisationStep(resources=len(updates), series=series, failures=failures)

    def collect_iam(self, ref: AccountRef) -> IamStep:
        """Upsert the account's principals; mark those missing from a complete read deleted."""
        read = self._providers(self.account(ref)).iam()
        seen_at = self._now()
        rows = [_principal_row(ref, principal, seen_at) for principal in read.items]
        with tenant_session(self._sessions, ref.organization_id) as session:
            if rows:
                statement = insert(IamPrincipal)
                excluded = statement.excluded
                session.execute(
                    statement.on_conflict_do_update(
                        index_elements=["organization_id", "cloud_account_id", "principal_id"],
                        set_={name: getattr(excluded, name) for name in _PRINCIPAL_UPDATES},
                    ),
                    rows,
                )
            if read.complete:
                session.execute(
                    update(IamPrincipal)
                    .where(
                        IamPrincipal.organization_id == ref.organization_id,
                        IamPrincipal.cloud_account_id == ref.cloud_account_id,
                        IamPrincipal.principal_id.not_in([r["principal_id"] for r in rows]),
                        IamPrincipal.status != "deleted",
                    )
                    .values(status="deleted"),
                    execution_options={"synchronize_session": False},
                )
        return IamStep(
            principals=len(rows), privileged=sum(1 for r in rows if r["privileged"]), complete=read.complete
        )

    # -- bookkeeping ------------------------------------------------------------------------------------

    def finish(
        self,
        ref: AccountRef,
        *,
        costs_complete: bool,
        cost_steps: Sequence[CostStep] = (),
        inventory: InventoryStep | None = None,
    ) -> FinishStep:
        """Record the sync on the account and publish the change events (see the module contract)."""
        now = self._now()
        with tenant_session(self._sessions, ref.organization_id) as session:
            row = _Accounts(session, ref.organization_id).get(ref.cloud_account_id)
            if row is None:
                raise AccountNotFoundError(f"cloud account {ref.cloud_account_id} does not exist")
            spend = self._monthly_spend(session, ref, now.date())
            row.status = "active"
            row.monthly_spend = spend
            if costs_complete:
                row.last_sync_at = now
            last_sync, provider, identifier = row.last_sync_at, row.provider, row.account_identifier
        events = 0
        if self._publish is not None:
            base = {
                "cloud_account_id": str(ref.cloud_account_id),
                "provider": provider,
                "account": identifier,
            }
            if cost_steps:
                self._publish(
                    ref.organization_id,
                    "cost_updates",
                    {
                        **base,
                        "start": min(s.start for s in cost_steps).isoformat(),
                        "end": max(s.end for s in cost_steps).isoformat(),
                        "rows": sum(s.rows for s in cost_steps),
                        "billed_cost": str(sum((s.billed_total for s in cost_steps), Decimal(0))),
                        "monthly_spend": str(spend) if spend is not None else None,
                    },
                )
                events += 1
            if inventory is not None:
                self._publish(
                    ref.organization_id,
                    "resource_changes",
                    {**base, "resources": inventory.resources, "complete": inventory.complete},
                )
                events += 1
        return FinishStep(last_sync_at=last_sync, monthly_spend=spend, events=events)

    @staticmethod
    def _monthly_spend(session: Session, ref: AccountRef, today: date) -> Decimal | None:
        rows = session.execute(
            text(
                "SELECT billing_currency, sum(billed_cost), sum(row_count) FROM cost_daily "
                "WHERE organization_id = :org AND cloud_account_id = :account "
                "AND usage_date >= :d0 AND usage_date < :d1 GROUP BY 1 ORDER BY 3 DESC, 1 LIMIT 1"
            ),
            {
                "org": ref.organization_id,
                "account": ref.cloud_account_id,
                "d0": today - timedelta(days=SPEND_DAYS - 1),
                "d1": today + timedelta(days=1),
            },
        ).first()
        return Decimal(rows[1]).quantize(Decimal("0.01")) if rows is not None else None

    def mark_error(self, ref: AccountRef, reason: str) -> None:
        """Mark the account ``error`` with ``reason`` (credentials rejected) and publish it."""
        with tenant_session(self._sessions, ref.organization_id) as session:
            row = _Accounts(session, ref.organization_id).get(ref.cloud_account_id)
            if row is None:
                raise AccountNotFoundError(f"cloud account {ref.cloud_account_id} does not exist")
            row.status = "error"
            row.verification_status = "failed"
            row.verification_error = reason
        if self._publish is not None:
            self._publish(
                ref.organization_id,
                "collection_failed",
                {"cloud_account_id": str(ref.cloud_account_id), "reason": reason},
            )


def _principal_row(ref: AccountRef, principal: Principal, seen_at: datetime) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "organization_id": ref.organization_id,
        "cloud_account_id": ref.cloud_account_id,
        "principal_id": principal.principal_id,
        "provider": str(principal.provider),
        "name": principal.name,
        "kind": str(principal.kind),
        "status": "active",
        "privileged": any(grant.privileged for grant in principal.grants),
        "active_credentials": sum(1 for credential in principal.credentials if credential.active),
        "last_activity_at": principal.last_activity_at,
        "document": principal.model_dump(mode="json"),
        "first_seen": seen_at,
        "last_seen": seen_at,
    }
