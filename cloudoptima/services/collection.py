"""Collect one connected account: costs, inventory, utilisation and IAM into the organisation's tables.

Each step is one method, one transaction, and idempotent, so a durable workflow can retry or replay any
of them (after a crash, between commit and acknowledgement) without duplicating or losing data:

- ``plan`` decides the cost days to fetch: ``initial_days`` for a never-synced account, else from
  ``restate_days`` before the last successful sync (clouds restate recent days) up to today, inclusive
  (``[start, end)``, end = tomorrow), capped at ``MAX_CATCH_UP_DAYS``; split into ``window_days`` windows.
- ``collect_costs(window)`` fetches that day window and replaces exactly those days of this account in
  ``cost_data`` (and its ``cost_daily`` rows) — loads of the same account are serialised with an advisory
  lock; different accounts load concurrently. A re-collection never replaces detailed rows with coarser ones,
  day by day: a day whose fetched rows carry no resource id but which already holds resource-level rows of
  the account (from a CUR / FOCUS export or an earlier detailed read, e.g. Cost Explorer's resource-level
  days, which AWS keeps 14 days) is kept and counted in ``kept_days``; the other days are replaced. An incomplete read (a region failed) raises
  :class:`IncompleteReadError` (retryable) and writes nothing: replacing with a partial window would
  delete good rows.
- ``collect_inventory`` upserts resources (keeping their utilisation summaries); resources not seen in a
  complete read are marked deleted.
- ``collect_utilisation`` appends hourly series of the account's live instances and databases to the
  utilisation history (``storage.utilisation_history``): a resource never read is backfilled from
  ``start`` (a first collection reads ``utilisation_days``, default 30, back), one read before is read
  again from the last day it was read up to (which may have been partial), so later collections only
  append. A chunk whose read reported a failure does not advance its resources' cursors (read again next
  time). Then the summaries
  (avg/max/p95/p99/samples over the last ``utilisation_window_days`` of history, default 93) are written
  to ``resources.metrics`` — what the rules read — and history months older than the retention (default
  93 days) are dropped. ``heartbeat`` is called between chunks.
- ``collect_iam`` upserts ``iam_principals``; principals missing from a complete read are marked deleted.
- A read the credentials are not allowed to make never stops the others and never passes silently: a step
  that raises :class:`CredentialsError` naming a permission, and the parts of a read listed as denied
  (``Failure.permission``), become :class:`PermissionProblem` records ("missing permission
  cloudwatch:GetMetricData for utilisation of 12 instances"); the other steps still collect. A denied
  utilisation read writes nothing and moves no cursor, so the stored history and summaries stay as they
  were (the rules need enough samples: no finding is made from absent data). A :class:`CredentialsError`
  without a permission (the credentials themselves were refused) stops the account.
- ``finish`` sets ``status = 'active'`` (``'degraded'`` when permission problems were met; they are stored
  in ``permission_problems`` and replaced — cleared — by the next collection's), ``monthly_spend`` (the last 30 days of billed cost in the
  account's main currency) and — when every cost window loaded — ``last_sync_at``; then publishes
  ``cost_updates`` and ``resource_changes`` events.
- ``mark_error`` records refused credentials (``status = 'error'`` with the reason) and publishes
  ``collection_failed``.
- A status change (``finish``, ``mark_error``) is audited in the same transaction
  (``cloud_account.status_changed``, from/to, as the current actor: ``system`` + the workflow inside one).
- ``collect_account`` runs all of the above for one account in one call (what the workflow's one activity
  per account does): the account row, its provider and the rollup tag keys are loaded once and every step's
  transaction runs on one connection; a step's provider error is recorded (retryable ones are left pending
  for the caller to retry singly, and ``finish`` then waits for them) instead of stopping the others, and a
  denied step is recorded as a permission problem. Only
  one ``collect_account`` of an account runs at a time (a session advisory lock; a second one raises
  :class:`CollectionInProgressError`).

Every statement is scoped to the account's organisation (tenant repository or explicit filter);
``list_accounts`` is the one system-wide query (the scheduler's fan-out).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import Connection, Engine, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.clouds.protocol import CloudProviderClient, CredentialsError, Failure, ProviderError
from cloudoptima.domain.inventory import (
    Principal,
    Resource,
    ResourceKind,
    ResourceState,
)
from cloudoptima.domain.permission_problems import PermissionProblem, Step, distinct
from cloudoptima.services import audit, collection_problems
from cloudoptima.services.cost_rows import cost_batch
from cloudoptima.services.events import Publish
from cloudoptima.services.ingestion import rollup_tag_keys
from cloudoptima.services.recommendations import resource_from_document
from cloudoptima.storage import provider_forecasts, utilisation_history
from cloudoptima.storage.cost_loader import CostLoader, LoadTarget
from cloudoptima.storage.inventory_store import upsert_resources
from cloudoptima.storage.models import CloudAccount, IamPrincipal, Organization, ResourceDocument
from cloudoptima.storage.tenancy import TenantRepository, scope, tenant_session

ProviderFactory = Callable[[CloudAccount], CloudProviderClient]
"""Builds the provider of a ``cloud_accounts`` row (``ProviderRegistry.for_account`` in production)."""
Heartbeat = Callable[[str], None]
AccountKind = Literal["sandbox", "live", "all"]

MAX_CATCH_UP_DAYS = 93
SPEND_DAYS = 30
UTILISATION_KINDS = (ResourceKind.COMPUTE_INSTANCE.value, ResourceKind.DATABASE.value)
UTILISATION_CHUNK = 50
UTILISATION_BACKFILL_DAYS = (
    30  # a first collection reads this far back (CloudWatch keeps hourly data 63 days)
)
UTILISATION_WINDOW_DAYS = 93  # summaries (what the rules read) cover this much of the stored history
FORECAST_DAYS = 30  # the cloud's own forecast is fetched for the 30 days from the collection's day on
UTILISATION_RETENTION_DAYS = 93  # whole months of history older than this are dropped
COLLECTABLE_STATUSES = ("active", "pending", "degraded")
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


def collection_lock_key(cloud_account_id: uuid.UUID) -> int:
    """The session advisory lock key ``collect_account`` holds for an account (64 bits of its id)."""
    return int.from_bytes(cloud_account_id.bytes[:8], "big", signed=True)


class CollectionInProgressError(RuntimeError):
    """Another ``collect_account`` of this account is running (in this or another worker process)."""


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
    kept_days: int = 0  # days whose resource-level rows were kept because the fetched rows were coarser


@dataclass(frozen=True)
class InventoryStep:
    resources: int
    complete: bool
    failures: list[str] = field(default_factory=list)
    problems: list[PermissionProblem] = field(default_factory=list)  # denied parts (also in failures)


@dataclass(frozen=True)
class UtilisationStep:
    resources: int  # resources whose summaries were refreshed from the history
    series: int
    failures: list[str] = field(default_factory=list)
    samples: int = 0  # hourly samples written to the history
    problems: list[PermissionProblem] = field(default_factory=list)  # resources whose read was denied


@dataclass(frozen=True)
class IamStep:
    principals: int
    privileged: int
    complete: bool
    problems: list[PermissionProblem] = field(default_factory=list)  # denied parts of the read


@dataclass(frozen=True)
class ForecastStep:
    """The cloud's own forecast of the account's next ``FORECAST_DAYS`` days, as stored (``source`` None:
    the cloud offers none, and any stored one was removed)."""

    source: str | None
    total: Decimal | None
    currency: str | None
    days: int


@dataclass(frozen=True)
class FinishStep:
    last_sync_at: datetime | None
    monthly_spend: Decimal | None
    events: int


@dataclass(frozen=True)
class StepFailure:
    """A step of :meth:`CollectionService.collect_account` that failed with a provider error.

    ``retryable`` failures are left for the caller to retry as single steps (``window`` names the cost
    window; for ``utilisation`` after a retryable inventory failure, the reason says so)."""

    step: Literal["costs", "inventory", "utilisation", "iam", "forecast"]
    reason: str
    retryable: bool
    window: tuple[date, date] | None = None

    def label(self) -> str:
        if self.window is not None:
            return f"{self.step} {self.window[0].isoformat()}..{self.window[1].isoformat()}: {self.reason}"
        return f"{self.step}: {self.reason}"


@dataclass
class AccountCollection:
    """Progress and outcome of :meth:`CollectionService.collect_account`; also what a retry resumes from
    (steps already present are not collected again)."""

    plan: CollectionPlan
    costs: list[CostStep] = field(default_factory=list)
    inventory: InventoryStep | None = None
    utilisation: UtilisationStep | None = None
    iam: IamStep | None = None
    forecast: ForecastStep | None = None
    """Best effort: a failure is recorded (never retried) and the next collection fetches it again."""
    failures: list[StepFailure] = field(default_factory=list)
    finish: FinishStep | None = None
    """Set when the sync was recorded (no retryable failure was left)."""
    denied: list[PermissionProblem] = field(default_factory=list)
    """Steps (or cost windows) that raised a permission denial; carried by a resume."""

    @property
    def pending(self) -> list[StepFailure]:
        return [f for f in self.failures if f.retryable]

    @property
    def permission_problems(self) -> list[PermissionProblem]:
        """Every permission problem met so far: denied steps plus the denied parts of the reads."""
        parts = [step.problems for step in (self.inventory, self.utilisation, self.iam) if step is not None]
        return distinct([*self.denied, *(p for problems in parts for p in problems)])

    @property
    def costs_complete(self) -> bool:
        loaded = {(c.start, c.end) for c in self.costs}
        return all(window in loaded for window in self.plan.windows)


Progress = Callable[[AccountCollection], None]
"""Called after each step (and between utilisation chunks) with the progress so far: heartbeat it."""


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


def _runs_without(start: date, end: date, skipped: set[date]) -> list[tuple[date, date]]:
    """The maximal day ranges ``[a, b)`` inside ``[start, end)`` that contain no day of ``skipped``.

    With nothing skipped this is ``[(start, end)]`` — also for an empty window, so a window that fetched no
    rows still replaces (clears) its days.
    """
    if not skipped:
        return [(start, end)]
    runs: list[tuple[date, date]] = []
    cursor = start
    while cursor < end:
        if cursor in skipped:
            cursor += timedelta(days=1)
            continue
        stop = cursor
        while stop < end and stop not in skipped:
            stop += timedelta(days=1)
        runs.append((cursor, stop))
        cursor = stop
    return runs


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
        utilisation_window_days: int = UTILISATION_WINDOW_DAYS,
        utilisation_retention_days: int = UTILISATION_RETENTION_DAYS,
    ) -> None:
        if not 1 <= utilisation_window_days <= utilisation_retention_days:
            raise ValueError(
                f"utilisation_window_days ({utilisation_window_days}) must be between 1 and the retention "
                f"({utilisation_retention_days})"
            )
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._providers = providers
        self._publish = publish
        self._now = now
        self._window_days = utilisation_window_days
        self._retention_days = utilisation_retention_days

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

    @contextmanager
    def _transaction(self, connection: Connection | None) -> Iterator[Connection]:
        """One transaction: on ``connection`` (held by :meth:`collect_account`) or a pooled one."""
        if connection is None:
            with self._engine.begin() as pooled:
                yield pooled
        else:
            with connection.begin():
                yield connection

    @contextmanager
    def _tenant(self, ref: AccountRef, connection: Connection | None) -> Iterator[Session]:
        """A tenant-scoped session committing one transaction, on ``connection`` when given."""
        if connection is None:
            with tenant_session(self._sessions, ref.organization_id) as session:
                yield session
            return
        with Session(bind=connection, expire_on_commit=False) as session:
            scope(session, ref.organization_id)
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def account(self, ref: AccountRef, connection: Connection | None = None) -> CloudAccount:
        """The account row (detached); :class:`AccountNotFoundError` outside its organisation."""
        with self._tenant(ref, connection) as session:
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
        return self._load_costs(ref, row, self._providers(row), start, end, None)

    def _load_costs(
        self,
        ref: AccountRef,
        row: CloudAccount,
        provider: CloudProviderClient,
        start: date,
        end: date,
        tag_keys: tuple[str, ...] | None,
        connection: Connection | None = None,
    ) -> CostStep:
        read = provider.costs(start, end)
        if not read.complete:
            raise IncompleteReadError(f"costs {start}..{end}", read.failures)
        source = f"collection:{row.provider}:{row.account_identifier}"
        detailed = {item.day for item in read.items if item.resource_id}
        # Days that may keep stored detail: all of a coarse read; the coarse days of a mixed one; none of a
        # detailed one (which then reads nothing before loading: the cost table is not locked ahead of the
        # loader's partition DDL).
        coarse = None if not detailed else {item.day for item in read.items} - detailed
        with self._transaction(connection) as bound:
            bound.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                {"key": f"cloudoptima.collect:{ref.cloud_account_id}"},
            )
            if tag_keys is None:
                tag_keys = self._tag_keys(bound, ref)
            kept: set[date] = set()
            if coarse is None or coarse:
                kept = self._detailed_days(bound, ref, start, end)
                kept = kept if coarse is None else kept & coarse
            copied = replaced = 0
            for run_start, run_end in _runs_without(start, end, kept):
                loader = CostLoader(
                    bound,
                    LoadTarget(
                        organization_id=ref.organization_id,
                        batch_id=uuid.uuid4(),
                        cloud_account_id=ref.cloud_account_id,
                        tag_keys=tag_keys,
                        replace_days=(run_start, run_end),
                    ),
                )
                items = [i for i in read.items if run_start <= i.day < run_end]
                loader.copy_batch(cost_batch(items, source))
                result = loader.finish()
                copied += result.rows_copied
                replaced += result.rows_replaced
        return CostStep(
            start=start,
            end=end,
            rows=copied,
            replaced=replaced,
            billed_total=sum((item.billed_cost for item in read.items if item.day not in kept), Decimal(0)),
            kept_days=len(kept),
        )

    @staticmethod
    def _detailed_days(connection: Connection, ref: AccountRef, start: date, end: date) -> set[date]:
        """Days of ``[start, end)`` on which this account already has resource-level cost rows."""
        rows = connection.execute(
            text(
                "SELECT DISTINCT CAST(charge_period_start AT TIME ZONE 'UTC' AS date) FROM cost_data "
                # Written so only the account index fits (see storage.cost_loader._account_scope).
                "WHERE (organization_id = :org) IS TRUE AND cloud_account_id = :account "
                "AND charge_period_start >= :t0 AND charge_period_start < :t1 AND resource_id IS NOT NULL"
            ),
            {
                "org": ref.organization_id,
                "account": ref.cloud_account_id,
                "t0": datetime(start.year, start.month, start.day, tzinfo=UTC),
                "t1": datetime(end.year, end.month, end.day, tzinfo=UTC),
            },
        )
        return {r[0] for r in rows}

    @staticmethod
    def _tag_keys(connection: Connection, ref: AccountRef) -> tuple[str, ...]:
        org_settings = connection.execute(
            select(Organization.settings).where(Organization.id == ref.organization_id)
        ).scalar_one()
        return rollup_tag_keys(org_settings or {})

    def collect_inventory(self, ref: AccountRef) -> InventoryStep:
        """Upsert the account's resources, keeping their stored utilisation summaries."""
        step, _ = self._inventory(ref, self._providers(self.account(ref)))
        return step

    def _inventory(
        self, ref: AccountRef, provider: CloudProviderClient, connection: Connection | None = None
    ) -> tuple[InventoryStep, Sequence[Resource]]:
        read = provider.inventory()
        with self._transaction(connection) as bound:
            count = upsert_resources(
                bound,
                ref.organization_id,
                ref.cloud_account_id,
                read.items,
                None,
                self._now(),
                complete=read.complete,
            )
        step = InventoryStep(
            resources=count,
            complete=read.complete,
            failures=_failures(read.failures),
            problems=collection_problems.from_failures("inventory", read.failures),
        )
        return step, read.items

    def _utilisation_targets(self, ref: AccountRef, connection: Connection | None = None) -> list[Resource]:
        with self._tenant(ref, connection) as session:
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
        return self._utilisation(ref, self._providers(self.account(ref)), start, end, heartbeat, None)

    def _utilisation(
        self,
        ref: AccountRef,
        provider: CloudProviderClient,
        start: date,
        end: date,
        heartbeat: Heartbeat | None,
        inventory: Sequence[Resource] | None,
        connection: Connection | None = None,
    ) -> UtilisationStep:
        """Append the hourly history of the live instances and databases, then refresh their summaries.

        ``start`` bounds the backfill of a resource with no history; one with history is read again from
        the day of its newest stored hour (completing a partial day) up to ``end``. Summaries cover the last
        ``utilisation_window_days`` of the stored history before ``end``. ``inventory``: the complete read
        just upserted (its live instances and databases are exactly the stored ones), so the targets need not
        be read back; None reads them from ``resources``. Resources whose read was denied (the call raised
        a permission denial — then the remaining chunks are not read — or listed a denied part) are
        reported in ``problems``; nothing of theirs is written.
        """
        if inventory is None:
            targets = self._utilisation_targets(ref, connection)
        else:
            targets = [
                r
                for r in inventory
                if str(r.kind) in UTILISATION_KINDS and r.state is not ResourceState.DELETED
            ]
        with self._transaction(connection) as bound:
            known = utilisation_history.read_until(bound, ref.organization_id, ref.cloud_account_id)
        groups: dict[date, list[Resource]] = {}
        for resource in targets:
            cursor = known.get(resource.resource_id)
            # The last day read may have been partial (read before its end): read it again.
            since = max(start, cursor - timedelta(days=1)) if cursor is not None else start
            groups.setdefault(min(since, end), []).append(resource)
        failures: list[str] = []
        denied: dict[str, list[Resource]] = {}
        refused: str | None = None  # a permission the whole read was denied: the other chunks are not read
        series = samples = done = 0
        for since, members in sorted(groups.items(), key=lambda kv: kv[0]):
            for offset in range(0, len(members), UTILISATION_CHUNK):
                chunk = members[offset : offset + UTILISATION_CHUNK]
                read = None
                if refused is not None:
                    denied[refused].extend(chunk)
                elif since < end:
                    try:
                        read = provider.utilisation(chunk, since, end)
                    except CredentialsError as exc:
                        refused = collection_problems.denied(exc, "utilisation", "utilisation").permission
                        denied.setdefault(refused, []).extend(chunk)
                if read is not None:
                    for permission, resources in collection_problems.denied_in(chunk, read.failures).items():
                        denied.setdefault(permission, []).extend(resources)
                    failures += _failures(read.failures)
                    series += len(read.items)
                    with self._transaction(connection) as bound:
                        samples += utilisation_history.store(
                            bound, ref.organization_id, ref.cloud_account_id, read.items
                        )
                        if not read.failures:
                            utilisation_history.advance(
                                bound,
                                ref.organization_id,
                                ref.cloud_account_id,
                                [r.resource_id for r in chunk],
                                end,
                            )
                done += len(chunk)
                if heartbeat is not None:
                    heartbeat(f"{done}/{len(targets)}")
        window_end = datetime(end.year, end.month, end.day, tzinfo=UTC)
        with self._transaction(connection) as bound:
            summaries = utilisation_history.summaries(
                bound,
                ref.organization_id,
                ref.cloud_account_id,
                window_end - timedelta(days=self._window_days),
                window_end,
                [r.resource_id for r in targets],
            )
            if summaries:
                bound.execute(
                    text(
                        "UPDATE resources r SET metrics = v.metrics FROM ("
                        " SELECT unnest(CAST(:ids AS text[])) AS resource_id,"
                        " unnest(CAST(:metrics AS jsonb[])) AS metrics) v "
                        "WHERE r.organization_id = :org AND r.cloud_account_id = :account "
                        "AND r.resource_id = v.resource_id"
                    ),
                    {
                        "ids": list(summaries),
                        "metrics": [json.dumps(summary) for summary in summaries.values()],
                        "org": ref.organization_id,
                        "account": ref.cloud_account_id,
                    },
                )
            self._prune(bound, window_end)
        return UtilisationStep(
            resources=len(summaries),
            series=series,
            failures=failures,
            samples=samples,
            problems=collection_problems.utilisation_problems(denied),
        )

    def _prune(self, connection: Connection, now: datetime) -> None:
        """Drop history months older than the retention: checked without a lock; the drop (about once a
        month) is serialised, and a collection that finds another one dropping leaves it to that one."""
        before = now - timedelta(days=self._retention_days)
        if not utilisation_history.prunable(connection, before):
            return
        locked = connection.execute(
            text("SELECT pg_try_advisory_xact_lock(hashtext('cloudoptima.utilisation_prune'))")
        ).scalar()
        if locked:
            utilisation_history.prune(connection, before)

    def collect_iam(self, ref: AccountRef) -> IamStep:
        """Upsert the account's principals; mark those missing from a complete read deleted."""
        return self._iam(ref, self._providers(self.account(ref)))

    def _iam(
        self, ref: AccountRef, provider: CloudProviderClient, connection: Connection | None = None
    ) -> IamStep:
        read = provider.iam()
        seen_at = self._now()
        rows = list(
            {
                principal.principal_id: _principal_row(ref, principal, seen_at) for principal in read.items
            }.values()
        )
        with self._tenant(ref, connection) as session:
            if rows:
                statement = insert(IamPrincipal)
                excluded = statement.excluded
                # RETURNING makes SQLAlchemy batch the rows into multi-row VALUES (see inventory_store);
                # one statement cannot touch a principal twice: a repeated one kept its last row above.
                session.execute(
                    statement.on_conflict_do_update(
                        index_elements=["organization_id", "cloud_account_id", "principal_id"],
                        set_={name: getattr(excluded, name) for name in _PRINCIPAL_UPDATES},
                    ).returning(IamPrincipal.id),
                    rows,
                ).close()
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
            principals=len(rows),
            privileged=sum(1 for r in rows if r["privileged"]),
            complete=read.complete,
            problems=collection_problems.from_failures("iam", read.failures),
        )

    def _provider_forecast(
        self, ref: AccountRef, provider: CloudProviderClient, today: date, connection: Connection | None
    ) -> ForecastStep:
        """Fetch the cloud's forecast of ``[today, today + FORECAST_DAYS)`` and store it in place of the
        account's previous one (none offered: the previous one is removed)."""
        forecast = provider.forecast(today, today + timedelta(days=FORECAST_DAYS))
        stored = None
        if forecast is not None and forecast.points:
            days = [provider_forecasts.ForecastDay(p.day, p.mean, p.lower, p.upper) for p in forecast.points]
            stored = (forecast.source, forecast.currency, forecast.total, days)
        with self._tenant(ref, connection) as session:
            provider_forecasts.save(
                session.connection(), ref.organization_id, ref.cloud_account_id, stored, self._now()
            )
        if stored is None:
            return ForecastStep(source=None, total=None, currency=None, days=0)
        return ForecastStep(source=stored[0], total=stored[2], currency=stored[1], days=len(stored[3]))

    # -- the whole account in one call -----------------------------------------------------------------

    def collect_account(
        self,
        ref: AccountRef,
        *,
        initial_days: int,
        restate_days: int,
        window_days: int = 7,
        utilisation_days: int = UTILISATION_BACKFILL_DAYS,
        today: date | None = None,
        progress: Progress | None = None,
        resume: AccountCollection | None = None,
    ) -> AccountCollection:
        """Every step of one account: plan, cost windows, inventory, utilisation, IAM, then ``finish``.

        The account row and its provider are loaded once; each step keeps its own transaction and its
        idempotency, so a retry (``resume`` = the last reported progress) repeats no committed step and a
        repeated step replaces rather than duplicates. A provider error in one step is recorded in
        ``failures`` and the other steps still run; utilisation waits for a retryable inventory failure
        (it reads what inventory stores). A step denied a permission is recorded in ``denied`` (the cost
        windows after a denied one are not asked for) and the others still run. ``finish`` runs only when
        no retryable failure is left, with the permission problems; the caller retries those steps singly
        and then calls :meth:`finish`. A :class:`CredentialsError` naming no permission (refused
        credentials) and :class:`AccountNotFoundError` propagate (the caller marks the account).

        One run per account at a time, whatever started it: a session advisory lock keyed by the account is
        held for the call (and released by the server if the process dies); when another run holds it,
        :class:`CollectionInProgressError` is raised before anything is read or written.
        """
        key = {"key": collection_lock_key(ref.cloud_account_id)}
        with self._engine.connect() as connection:
            locked = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), key).scalar()
            connection.commit()
            if not locked:
                raise CollectionInProgressError(
                    f"another collection of cloud account {ref.cloud_account_id} is running"
                )
            try:
                return self._collect_account(
                    ref,
                    connection,
                    initial_days=initial_days,
                    restate_days=restate_days,
                    window_days=window_days,
                    utilisation_days=utilisation_days,
                    today=today,
                    progress=progress,
                    resume=resume,
                )
            finally:
                self._unlock(connection, key)

    @staticmethod
    def _unlock(connection: Connection, key: dict[str, int]) -> None:
        """Release the account's session lock; a connection that cannot is discarded (which releases it)."""
        try:
            if connection.in_transaction():
                connection.rollback()
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), key)
            connection.commit()
        except Exception:
            connection.invalidate()

    def _collect_account(
        self,
        ref: AccountRef,
        connection: Connection,
        *,
        initial_days: int,
        restate_days: int,
        window_days: int,
        utilisation_days: int,
        today: date | None,
        progress: Progress | None,
        resume: AccountCollection | None,
    ) -> AccountCollection:
        with self._tenant(ref, connection) as session:
            row = _Accounts(session, ref.organization_id).get(ref.cloud_account_id)
            if row is None:
                raise AccountNotFoundError(f"cloud account {ref.cloud_account_id} does not exist")
            session.expunge(row)
            tag_keys = self._tag_keys(session.connection(), ref)
        provider = self._providers(row)
        as_of = today or self._now().date()
        if resume is not None:
            state = AccountCollection(
                plan=resume.plan,
                costs=list(resume.costs),
                inventory=resume.inventory,
                utilisation=resume.utilisation,
                iam=resume.iam,
                finish=resume.finish,
                denied=list(resume.denied),
            )
        else:
            state = AccountCollection(
                plan=plan_windows(
                    as_of,
                    row.last_sync_at,
                    initial_days=initial_days,
                    restate_days=restate_days,
                    window_days=window_days,
                )
            )
        if state.finish is not None:
            return state

        def report() -> None:
            if progress is not None:
                progress(state)

        def deny(error: CredentialsError, step: Step, purpose: str) -> None:
            state.denied = distinct([*state.denied, collection_problems.denied(error, step, purpose)])

        loaded = {(c.start, c.end) for c in state.costs}
        for start, end in state.plan.windows:
            if (start, end) in loaded:
                continue
            if any(problem.step == "costs" for problem in state.denied):
                break
            try:
                state.costs.append(self._load_costs(ref, row, provider, start, end, tag_keys, connection))
            except CredentialsError as exc:
                deny(exc, "costs", "costs")
            except ProviderError as exc:
                state.failures.append(StepFailure("costs", str(exc), exc.retryable, (start, end)))
            report()
        inventory: Sequence[Resource] | None = None
        inventory_pending = False
        if state.inventory is None:
            try:
                state.inventory, items = self._inventory(ref, provider, connection)
                inventory = items if state.inventory.complete else None
            except CredentialsError as exc:
                deny(exc, "inventory", "inventory")
            except ProviderError as exc:
                state.failures.append(StepFailure("inventory", str(exc), exc.retryable))
                inventory_pending = exc.retryable
            report()
        if state.utilisation is None:
            if inventory_pending:
                state.failures.append(
                    StepFailure("utilisation", "waits for the inventory retry", retryable=True)
                )
            else:
                end = state.plan.end
                try:
                    state.utilisation = self._utilisation(
                        ref,
                        provider,
                        end - timedelta(days=utilisation_days),
                        end,
                        lambda _detail: report(),
                        inventory,
                        connection,
                    )
                except ProviderError as exc:
                    state.failures.append(StepFailure("utilisation", str(exc), exc.retryable))
                report()
        if state.iam is None:
            try:
                state.iam = self._iam(ref, provider, connection)
            except CredentialsError as exc:
                deny(exc, "iam", "IAM principals")
            except ProviderError as exc:
                state.failures.append(StepFailure("iam", str(exc), exc.retryable))
            report()
        if state.forecast is None and not any(f.step == "forecast" for f in state.failures):
            try:
                state.forecast = self._provider_forecast(ref, provider, as_of, connection)
            except CredentialsError as exc:
                deny(exc, "forecast", "the cloud's own cost forecast")
            except ProviderError as exc:
                state.failures.append(StepFailure("forecast", str(exc), retryable=False))
            report()
        if not state.pending:
            state.finish = self.finish(
                ref,
                costs_complete=state.costs_complete,
                cost_steps=state.costs,
                inventory=state.inventory,
                connection=connection,
                today=as_of,
                permission_problems=state.permission_problems,
            )
        return state

    # -- bookkeeping ------------------------------------------------------------------------------------

    def finish(
        self,
        ref: AccountRef,
        *,
        costs_complete: bool,
        cost_steps: Sequence[CostStep] = (),
        inventory: InventoryStep | None = None,
        connection: Connection | None = None,
        today: date | None = None,
        permission_problems: Sequence[PermissionProblem] = (),
    ) -> FinishStep:
        """Record the sync on the account and publish the change events (see the module contract).

        ``permission_problems`` (what this collection was denied) replace the account's: status
        ``degraded`` with them, ``active`` (and none stored) without.

        ``monthly_spend`` covers the 30 days up to ``today`` inclusive: the day the collection runs "as of"
        (the same ``today`` its plan used), else the service clock's date. ``last_sync_at`` is the service
        clock's instant.
        """
        now = self._now()
        with self._tenant(ref, connection) as session:
            row = _Accounts(session, ref.organization_id).get(ref.cloud_account_id)
            if row is None:
                raise AccountNotFoundError(f"cloud account {ref.cloud_account_id} does not exist")
            spend = self._monthly_spend(session, ref, today or now.date())
            problems = distinct(permission_problems)
            previous = row.status
            row.status = "degraded" if problems else "active"
            if row.status != previous:
                audit.stage(
                    session,
                    ref.organization_id,
                    "cloud_account.status_changed",
                    resource_type="cloud_account",
                    resource_id=str(ref.cloud_account_id),
                    details={"from": previous, "to": row.status, "permission_problems": len(problems)},
                )
            row.permission_problems = [problem.as_json() for problem in problems]
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
                # Written so only the account index fits (see storage.cost_loader._account_scope).
                "WHERE (organization_id = :org) IS TRUE AND cloud_account_id = :account "
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
            previous = row.status
            row.status = "error"
            row.verification_status = "failed"
            row.verification_error = reason
            row.permission_problems = []
            audit.stage(
                session,
                ref.organization_id,
                "cloud_account.status_changed",
                result="failure",
                resource_type="cloud_account",
                resource_id=str(ref.cloud_account_id),
                details={"from": previous, "to": "error", "reason": reason[:500]},
            )
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
