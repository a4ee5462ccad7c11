"""Old cost export runs: their files under a folder destination are deleted, manifest first, then the runs.

Contract (:func:`prune_old_exports`, run weekly by the maintenance ``Cleanup`` workflow's
``maintenance.purge_expired_tokens`` activity):

- A run is old when it finished (``succeeded`` or ``failed``) before ``now - retention_days`` (the caller's
  clock, timezone-aware; :attr:`~cloudoptima.services.cost_export_schedules.ExportsConfig.retention_days`).
  ``queued`` and ``running`` runs are never touched.
- For an old run with a folder destination, its export folder
  (``<root>/<org>/<path>/<dataset>[_<focus version>]/<start>_<end>``) is deleted **manifest first**, then the
  partition files its manifest listed and any ``part-*`` file, then the folder when empty. A reader therefore
  never sees a manifest whose files are (partly) gone: after a crash in between there is no manifest, which
  says "incomplete", and the next run finishes the job. The folder is kept, with its files and manifest,
  when a newer run that is not being pruned wrote the same folder (a re-run replaced it; the files are the
  newer run's). S3 destinations are left to the bucket's own lifecycle rules; only their run rows go.
- Then the run row is deleted. Organisation by organisation, every query scoped to one, at most
  ``batch_size`` runs per transaction. Returns how many runs were pruned per organisation (only those that
  lost some).
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.domain.cost_exports import MANIFEST_NAME, ExportRequest
from cloudoptima.services.cost_export_schedules import ExportsConfig
from cloudoptima.services.cost_exports.destinations import contained_path
from cloudoptima.services.org_sweep import in_batches, per_organisation
from cloudoptima.storage.models.cost_exports import CostExportRunRow

DEFAULT_BATCH: Final = 200
FINISHED = ("succeeded", "failed")


def export_folder(config: ExportsConfig, organization_id: uuid.UUID, run: CostExportRunRow) -> Path | None:
    """The folder a run with a folder destination wrote (None: not a folder destination, or a stored path
    that no longer stays under the root)."""
    if run.destination.get("kind", "folder") != "folder":
        return None
    try:
        return _folder(config, organization_id, run)
    except ValueError:  # a stored path that escapes the root, or a request that no longer validates
        return None


def _folder(config: ExportsConfig, organization_id: uuid.UUID, run: CostExportRunRow) -> Path:
    request = ExportRequest(
        dataset=run.dataset,
        format=run.format,  # type: ignore[arg-type]  # the CHECK constraint keeps it csv | parquet
        partition=run.partition,  # type: ignore[arg-type]  # the CHECK constraint keeps it month | day
        start=run.period_start,
        end=run.period_end,
        focus_version=run.focus_version,  # type: ignore[arg-type]  # the CHECK constraint keeps it 1.2 | 1.3
    )
    base = contained_path(config.root / str(organization_id), str(run.destination.get("path") or "."))
    return contained_path(base, request.folder)


def remove_export_folder(folder: Path) -> None:
    """Delete an export folder: the manifest first, then its partition files, then the folder if empty."""
    (folder / MANIFEST_NAME).unlink(missing_ok=True)
    if not folder.is_dir():
        return
    for child in folder.iterdir():
        if child.is_file() and (
            child.name.startswith("part-") or child.name.startswith(f".{MANIFEST_NAME}.")
        ):
            child.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # something else lives there too: the folder stays
        folder.rmdir()


def prune_organisation(
    factory: sessionmaker[Session],
    organization_id: uuid.UUID,
    config: ExportsConfig,
    *,
    now: datetime,
    batch_size: int = DEFAULT_BATCH,
) -> int:
    """Prune one organisation's old export runs and their folders (module contract); returns how many."""
    if now.tzinfo is None:
        raise ValueError("now: must carry a time zone")
    cutoff = now - timedelta(days=config.retention_days)

    def step(session: Session) -> int:
        runs = session.scalars(
            select(CostExportRunRow)
            .where(
                CostExportRunRow.organization_id == organization_id,
                CostExportRunRow.status.in_(FINISHED),
                CostExportRunRow.finished_at < cutoff,
            )
            .order_by(CostExportRunRow.finished_at, CostExportRunRow.id)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        ).all()
        kept = _folders_of_kept_runs(session, organization_id, config, cutoff)
        for run in runs:
            folder = export_folder(config, organization_id, run)
            if folder is not None and folder not in kept:
                remove_export_folder(folder)
            session.delete(run)
        return len(runs)

    return in_batches(factory, organization_id, batch_size, step)


def _folders_of_kept_runs(
    session: Session, organization_id: uuid.UUID, config: ExportsConfig, cutoff: datetime
) -> set[Path]:
    """Folders written by runs that stay (newer, or not finished): their files are not to be deleted."""
    kept = session.scalars(
        select(CostExportRunRow).where(
            CostExportRunRow.organization_id == organization_id,
            (CostExportRunRow.finished_at >= cutoff)
            | CostExportRunRow.finished_at.is_(None)
            | CostExportRunRow.status.not_in(FINISHED),
        )
    ).all()
    return {folder for run in kept if (folder := export_folder(config, organization_id, run)) is not None}


def prune_old_exports(
    factory: sessionmaker[Session], config: ExportsConfig, *, now: datetime, batch_size: int = DEFAULT_BATCH
) -> dict[str, int]:
    """Prune every organisation's old export runs (module contract)."""
    if now.tzinfo is None:
        raise ValueError("now: must carry a time zone")
    return per_organisation(
        factory, lambda org: prune_organisation(factory, org, config, now=now, batch_size=batch_size)
    )


__all__ = [
    "DEFAULT_BATCH",
    "export_folder",
    "prune_old_exports",
    "prune_organisation",
    "remove_export_folder",
]
