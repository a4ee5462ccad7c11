"""Expired report artifacts: their files are deleted from the store, their rows kept.

Contract (:func:`prune_expired_artifacts`, run weekly by the maintenance ``Cleanup`` workflow's
``maintenance.purge_expired_tokens`` activity and by ``cloudoptima report prune [--at TIME]``):

- A report is expired when it has an ``artifact_key`` and its ``expires_at`` is at or before ``now`` (the
  caller's clock, timezone-aware). Its file is deleted from the :class:`~cloudoptima.reports.store.ReportStore`
  (an already missing file is fine) and then its ``artifact_key`` is cleared; everything else on the row
  (status ``completed``, size, SHA-256, ``expires_at``, delivery) stays, so ``GET /v1/reports/{id}`` still
  shows what it was, without a download link, and its old download link answers 410.
- Organisation by organisation (every query scoped to one), at most ``batch_size`` rows per transaction,
  the file deleted before the row is committed: a crash in between leaves a row whose file is gone, which
  the download already answers 410 for and the next run clears. Unexpired artifacts are never touched.
- Returns how many artifacts were pruned per organisation (only those that lost some).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.reports.store import ReportStore
from cloudoptima.services.org_sweep import in_batches, per_organisation
from cloudoptima.storage.models import ReportRow

DEFAULT_BATCH: Final = 500


def prune_organisation(
    factory: sessionmaker[Session],
    organization_id: uuid.UUID,
    store: ReportStore,
    *,
    now: datetime,
    batch_size: int = DEFAULT_BATCH,
) -> int:
    """Prune one organisation's expired artifacts (module contract); returns how many."""
    if now.tzinfo is None:
        raise ValueError("now: must carry a time zone")

    def step(session: Session) -> int:
        rows = session.scalars(
            select(ReportRow)
            .where(
                ReportRow.organization_id == organization_id,
                ReportRow.artifact_key.is_not(None),
                ReportRow.expires_at <= now,
            )
            .order_by(ReportRow.expires_at, ReportRow.id)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        ).all()
        for row in rows:
            assert row.artifact_key is not None
            store.delete(row.artifact_key)
            row.artifact_key = None
        return len(rows)

    return in_batches(factory, organization_id, batch_size, step)


def prune_expired_artifacts(
    factory: sessionmaker[Session], store: ReportStore, *, now: datetime, batch_size: int = DEFAULT_BATCH
) -> dict[str, int]:
    """Prune every organisation's expired artifacts (module contract)."""
    if now.tzinfo is None:
        raise ValueError("now: must carry a time zone")
    return per_organisation(
        factory, lambda org: prune_organisation(factory, org, store, now=now, batch_size=batch_size)
    )


__all__ = ["DEFAULT_BATCH", "prune_expired_artifacts", "prune_organisation"]
