"""Audit retention: each organisation keeps its audit rows for ``audit_retention_days`` (its settings,
``cloudoptima.domain.organisation_settings``, default 365) and no longer — but never less than 365 days
unless the platform allows short retention (``RETENTION_ALLOW_SHORT``).

Contract:
- ``prune_organisation(factory, organization_id, now=, retention_days=, batch_size=)`` deletes that
  organisation's rows strictly older than ``now - retention_days``, ``batch_size`` rows per transaction (no
  long lock on a large table; a crash keeps what was already deleted), and — when it deleted any — records
  one ``audit_logs.pruned`` row (actor ``system``, channel ``workflow``) saying how many and up to when.
  Rows of other organisations and newer rows are never touched.
- ``prune_all(factory, now=, allow_short=False)`` does it for every organisation with its own setting,
  clamped to the floor (``OrganisationSettings.audit_days_kept``: a stored 30 prunes at 365 unless
  ``allow_short``), and returns ``{organization_id: rows deleted}`` for those that lost rows.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.domain.organisation_settings import OrganisationSettings
from cloudoptima.services.audit import SYSTEM_ACTOR, AuditEntry, record
from cloudoptima.storage.models import AuditLog, Organization

DEFAULT_BATCH = 5_000


def prune_organisation(
    factory: sessionmaker[Session],
    organization_id: uuid.UUID,
    *,
    now: datetime,
    retention_days: int,
    batch_size: int = DEFAULT_BATCH,
) -> int:
    """Delete the organisation's rows older than the retention window (see module contract)."""
    if retention_days < 1:
        raise ValueError("retention_days must be at least 1")
    cutoff = now - timedelta(days=retention_days)
    deleted = 0
    while True:
        with factory() as session, session.begin():
            batch = (
                select(AuditLog.id)
                .where(AuditLog.organization_id == organization_id, AuditLog.timestamp < cutoff)
                .limit(batch_size)
                .scalar_subquery()
            )
            done = session.execute(delete(AuditLog).where(AuditLog.id.in_(batch)))
            count = int(done.rowcount or 0)  # type: ignore[attr-defined]
        deleted += count
        if count < batch_size:
            break
    if deleted:
        record(
            factory,
            AuditEntry(
                organization_id=organization_id,
                user_id=None,
                action="audit_logs.pruned",
                result="success",
                resource_type="audit_logs",
                details={
                    "deleted": deleted,
                    "older_than": cutoff.isoformat(),
                    "retention_days": retention_days,
                },
                channel="workflow",
                actor=SYSTEM_ACTOR,
                timestamp=now,
            ),
        )
    return deleted


def prune_all(
    factory: sessionmaker[Session],
    *,
    now: datetime,
    batch_size: int = DEFAULT_BATCH,
    allow_short: bool = False,
) -> dict[str, int]:
    """Apply every organisation's own retention (see module contract)."""
    with factory() as session:
        organisations = session.execute(select(Organization.id, Organization.settings)).all()
    pruned: dict[str, int] = {}
    for organization_id, raw in organisations:
        days = OrganisationSettings.of(raw).audit_days_kept(allow_short=allow_short)
        count = prune_organisation(
            factory, organization_id, now=now, retention_days=days, batch_size=batch_size
        )
        if count:
            pruned[str(organization_id)] = count
    return pruned
