"""Data retention: what each table family keeps, and the prune that enforces it (issue #23).

Families and what they lose (``cutoff = now - days``; ``now`` comes from the caller):

- ``cost_rows`` (``COST_ROWS_RETENTION_DAYS``, default 1095, floor 400): raw ``cost_data`` rows, only as
  whole monthly partitions that end on or before the first day of the cutoff's month (``DROP TABLE``, one
  transaction each, under the loaders' partition lock). Whole months only, because the rollup rebuild
  (``services.rollup_rebuild``) recomputes whole months from raw rows: a half-deleted month would lose the
  deleted days' rollup at the next rebuild. The daily rollup ``cost_daily`` (and ``cost_allocated_daily``,
  the tag coverage rollups) are never touched, so dashboards, cost explorer groupings by account, service,
  region, category and rollup tag keys, budgets, forecasts and reports over dropped months keep their
  totals. What loses detail for dropped months: anything read from raw rows — per-resource costs
  (resource pages, savings measurement, anomaly root-cause drivers by resource), tag keys outside the
  organisation's ``rollup_tag_keys``, the cost export (FOCUS rows), reconciliation against provider
  totals, and a later ``db rebuild-rollup`` (it rebuilds only months that still hold raw rows).
- ``utilisation`` (``UTILISATION_RETENTION_DAYS``): hourly utilisation history partitions wholly before
  the cutoff (collection also drops them as it goes).
- ``audit``: each organisation's own ``audit_retention_days`` (organisation settings, default 365, floor
  365 unless ``RETENTION_ALLOW_SHORT``: a lower stored value prunes at 365) through
  :mod:`cloudoptima.services.audit_retention` (batched, records ``audit_logs.pruned``).
- ``notifications`` (``NOTIFICATIONS_RETENTION_DAYS``, default 180, floor 30): inbox notices created
  before the cutoff, read or not; per organisation in tenant transactions of ``batch_size`` rows.
- ``chat_checkpoints`` (``CHAT_CHECKPOINTS_RETENTION_DAYS``, default 90, floor 7): LangGraph checkpoint
  threads (chat conversations) whose newest checkpoint is older than the cutoff, with their blobs and
  writes, ``batch_size`` threads per transaction; nothing when the checkpointer's tables do not exist.

Every prune is idempotent (a second run removes nothing), commits batch by batch (a crash keeps what was
done) and, with ``dry_run``, only counts what it would remove.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from sqlalchemy import Connection, delete, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.domain.organisation_settings import OrganisationSettings
from cloudoptima.services import org_sweep
from cloudoptima.services.audit_retention import prune_all as prune_audit
from cloudoptima.settings import Settings
from cloudoptima.storage.models import AuditLog, Notification, Organization
from cloudoptima.storage.partitions import month_start, next_month
from cloudoptima.storage.tenancy import tenant_session

Family = Literal["cost_rows", "utilisation", "audit", "notifications", "chat_checkpoints"]
FAMILIES: tuple[Family, ...] = ("cost_rows", "utilisation", "audit", "notifications", "chat_checkpoints")
_PARTITIONED = {
    "cost_rows": ("cost_data", "cloudoptima.cost_partitions"),
    "utilisation": ("utilisation_daily", "cloudoptima.utilisation_prune"),
}


@dataclass(frozen=True)
class RetentionPolicy:
    """Days kept per family (audit: per organisation, see the module docstring), rows per batch, and
    whether the platform allows short retention (``allow_short``: an organisation's audit retention below 365
    days is applied as set; otherwise it is raised to 365)."""

    cost_rows_days: int
    utilisation_days: int
    notifications_days: int
    chat_checkpoints_days: int
    batch_size: int = 5_000
    allow_short: bool = False

    def __post_init__(self) -> None:
        for name in ("cost_rows_days", "utilisation_days", "notifications_days", "chat_checkpoints_days"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: must be at least 1 day")
        if self.batch_size < 1:
            raise ValueError("batch_size: must be at least 1")

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        return cls(
            cost_rows_days=settings.cost_rows_retention_days,
            utilisation_days=settings.utilisation_retention_days,
            notifications_days=settings.notifications_retention_days,
            chat_checkpoints_days=settings.chat_checkpoints_retention_days,
            allow_short=settings.retention_allow_short,
        )


@dataclass(frozen=True)
class FamilyResult:
    """What one family's prune removed (or, ``dry_run``, would remove): ``removed`` rows (threads for
    ``chat_checkpoints``), the partitions dropped, and the cutoff applied (audit: the default one; each
    organisation applies its own)."""

    family: Family
    cutoff: datetime
    removed: int
    dry_run: bool
    partitions: tuple[str, ...] = field(default=())


def run(
    factory: sessionmaker[Session], family: Family, policy: RetentionPolicy, *, now: datetime, dry_run: bool
) -> FamilyResult:
    """Prune (or count) one family at ``now`` (see the module docstring)."""
    if now.tzinfo is None:
        raise ValueError("now: must be timezone-aware (UTC)")
    if family in _PARTITIONED:
        days = policy.cost_rows_days if family == "cost_rows" else policy.utilisation_days
        return _partitions(factory, family, now - timedelta(days=days), dry_run=dry_run)
    if family == "audit":
        return _audit(factory, now, policy, dry_run=dry_run)
    if family == "notifications":
        return _notifications(factory, now - timedelta(days=policy.notifications_days), policy, dry_run)
    if family == "chat_checkpoints":
        return _checkpoints(factory, now - timedelta(days=policy.chat_checkpoints_days), policy, dry_run)
    raise ValueError(f"family: unknown {family!r}; expected one of {', '.join(FAMILIES)}")


def run_all(
    factory: sessionmaker[Session], policy: RetentionPolicy, *, now: datetime, dry_run: bool
) -> list[FamilyResult]:
    """Every family in :data:`FAMILIES` order."""
    return [run(factory, family, policy, now=now, dry_run=dry_run) for family in FAMILIES]


def _month_partitions(connection: Connection, parent: str) -> list[tuple[str, datetime]]:
    """``parent``'s monthly partitions (named ``<parent>_yYYYYmMM``) with the instant each one ends."""
    names = connection.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = CAST(:parent AS regclass) ORDER BY 1"
        ),
        {"parent": parent},
    ).scalars()
    found: list[tuple[str, datetime]] = []
    for name in names:
        suffix = name[len(parent) :]
        if len(suffix) != 9 or not suffix.startswith("_y") or suffix[6] != "m":
            continue
        end = next_month(date(int(suffix[2:6]), int(suffix[7:9]), 1))
        found.append((name, datetime(end.year, end.month, 1, tzinfo=UTC)))
    return found


def _partitions(
    factory: sessionmaker[Session], family: Family, cutoff: datetime, *, dry_run: bool
) -> FamilyResult:
    parent, lock = _PARTITIONED[family]
    if family == "cost_rows":  # whole months only: drop what ends on or before the cutoff's month start
        first = month_start(cutoff.astimezone(UTC).date())
        bound = datetime(first.year, first.month, 1, tzinfo=UTC)
    else:
        bound = cutoff
    with factory() as session:
        old = [name for name, end in _month_partitions(session.connection(), parent) if end <= bound]
    removed = 0
    dropped: list[str] = []
    for name in old:
        with factory() as session, session.begin():
            connection = session.connection()
            if not dry_run:
                connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:lock))"), {"lock": lock})
            if connection.execute(text("SELECT to_regclass(:name)"), {"name": name}).scalar() is None:
                continue  # dropped meanwhile (another run)
            removed += int(connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar() or 0)
            if not dry_run:
                connection.execute(text(f'DROP TABLE "{name}"'))
            dropped.append(name)
    return FamilyResult(family, bound, removed, dry_run, tuple(dropped))


def _audit(
    factory: sessionmaker[Session], now: datetime, policy: RetentionPolicy, *, dry_run: bool
) -> FamilyResult:
    allow_short = policy.allow_short
    default_cutoff = now - timedelta(days=OrganisationSettings().audit_days_kept(allow_short=allow_short))
    if not dry_run:
        pruned = prune_audit(factory, now=now, batch_size=policy.batch_size, allow_short=allow_short)
        return FamilyResult("audit", default_cutoff, sum(pruned.values()), False)
    with factory() as session:
        organisations = session.execute(select(Organization.id, Organization.settings)).all()
    total = 0
    for organization_id, raw in organisations:
        cutoff = now - timedelta(days=OrganisationSettings.of(raw).audit_days_kept(allow_short=allow_short))
        with tenant_session(factory, organization_id) as session:
            total += int(
                session.scalar(
                    select(func.count())
                    .select_from(AuditLog)
                    .where(AuditLog.organization_id == organization_id, AuditLog.timestamp < cutoff)
                )
                or 0
            )
    return FamilyResult("audit", default_cutoff, total, True)


def _notifications(
    factory: sessionmaker[Session], cutoff: datetime, policy: RetentionPolicy, dry_run: bool
) -> FamilyResult:
    def count(organization_id: uuid.UUID) -> int:
        with tenant_session(factory, organization_id) as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(Notification)
                    .where(Notification.organization_id == organization_id, Notification.created_at < cutoff)
                )
                or 0
            )

    def prune(organization_id: uuid.UUID) -> int:
        def step(session: Session) -> int:
            batch = (
                select(Notification.id)
                .where(Notification.organization_id == organization_id, Notification.created_at < cutoff)
                .limit(policy.batch_size)
                .scalar_subquery()
            )
            done = session.execute(delete(Notification).where(Notification.id.in_(batch)))
            return int(done.rowcount or 0)  # type: ignore[attr-defined]

        return org_sweep.in_batches(factory, organization_id, policy.batch_size, step)

    removed = org_sweep.per_organisation(factory, count if dry_run else prune)
    return FamilyResult("notifications", cutoff, sum(removed.values()), dry_run)


_STALE_THREADS = """
SELECT thread_id FROM checkpoints GROUP BY thread_id
HAVING max((checkpoint->>'ts')::timestamptz) < :cutoff ORDER BY thread_id LIMIT :limit
"""


def _checkpoints(
    factory: sessionmaker[Session], cutoff: datetime, policy: RetentionPolicy, dry_run: bool
) -> FamilyResult:
    with factory() as session:
        if session.execute(text("SELECT to_regclass('checkpoints')")).scalar() is None:
            return FamilyResult("chat_checkpoints", cutoff, 0, dry_run)
        if dry_run:
            counted = session.execute(
                text(f"SELECT count(*) FROM ({_STALE_THREADS.replace('LIMIT :limit', '')}) stale"),
                {"cutoff": cutoff},
            ).scalar()
            return FamilyResult("chat_checkpoints", cutoff, int(counted or 0), True)
    removed = 0
    while True:
        with factory() as session, session.begin():
            threads = list(
                session.execute(
                    text(_STALE_THREADS), {"cutoff": cutoff, "limit": policy.batch_size}
                ).scalars()
            )
            for table in ("checkpoint_writes", "checkpoint_blobs", "checkpoints"):
                session.execute(text(f"DELETE FROM {table} WHERE thread_id = ANY(:ids)"), {"ids": threads})
        removed += len(threads)
        if len(threads) < policy.batch_size:
            return FamilyResult("chat_checkpoints", cutoff, removed, False)
