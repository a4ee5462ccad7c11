"""Ingest billing files (FOCUS or native) into an organisation: the service behind ``cloudoptima ingest``.

One invocation is one database transaction: every accepted row of every file, the quarantined rows, the
replacement of older exports and the rollup refresh commit together or not at all. A failed invocation is
still recorded (``ingest_runs.status = 'failed'`` with the error) in its own transaction.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy import Engine, insert, select

from cloudoptima.domain.organisation_settings import OrganisationSettings
from cloudoptima.ingest import BillingFileError, IngestSummary, open_billing_source
from cloudoptima.ingest.period_totals import PeriodKey, PeriodTotal, fold_period_totals
from cloudoptima.observability.metrics import record_ingest
from cloudoptima.services.allocation.engine import reallocate_days
from cloudoptima.services.data_trust.recording import record_file_totals
from cloudoptima.services.prefetch import prefetch
from cloudoptima.storage.base import utcnow
from cloudoptima.storage.cost_loader import CostLoader, LoadResult, LoadTarget
from cloudoptima.storage.models import CloudAccount, IngestRun, Organization, QuarantinedRow

ProgressCallback = Callable[[int, str], None]
"""Called after each batch with (rows in the batch, source file)."""


class IngestError(RuntimeError):
    """The invocation failed and nothing was written; the message names file, line and column when known."""


@dataclass(frozen=True)
class IngestReport:
    """What an invocation did; ``as_dict`` is the ``--json`` output."""

    run_id: uuid.UUID
    summary: IngestSummary
    load: LoadResult
    files: list[str] = field(default_factory=list)

    def totals(self) -> list[dict[str, Any]]:
        return [
            {
                "provider": provider,
                "currency": currency,
                "billed_cost": str(money.billed_cost),
                "effective_cost": str(money.effective_cost),
                "list_cost": str(money.list_cost),
            }
            for (provider, currency), money in sorted(self.summary.totals.items())
        ]

    def as_dict(self) -> dict[str, Any]:
        summary = self.summary
        return {
            "run_id": str(self.run_id),
            "files": [
                {"path": f.path, "format": f.format, "focus_version": f.focus_version} for f in summary.files
            ],
            "rows_read": summary.rows_read,
            "rows_accepted": summary.rows_accepted,
            "rows_normalised": summary.rows_normalised,
            "rows_quarantined": summary.rows_quarantined,
            "rows_replaced": self.load.rows_replaced,
            "normalisations": dict(sorted(summary.normalisations.items())),
            "warnings": dict(sorted(summary.warnings_by_reason.items())),
            "focus_findings": dict(sorted(summary.findings_by_rule.items())),
            "quarantine_sample": [
                {
                    "file": q.file,
                    "line": q.line,
                    "column": q.column,
                    "reason": q.reason,
                    "raw_value": q.raw_value,
                }
                for q in summary.quarantine[:20]
            ],
            "totals": self.totals(),
            "period": {
                "first_day": self.load.first_day.isoformat() if self.load.first_day else None,
                "last_day": self.load.last_day.isoformat() if self.load.last_day else None,
            },
        }


def rollup_tag_keys(settings: Mapping[str, Any]) -> tuple[str, ...]:
    """The organisation's configured rollup tag keys (``settings["rollup_tag_keys"]``) or the defaults."""
    return OrganisationSettings.of(settings).rollup_tag_keys


def ingest_path(
    engine: Engine,
    path: str | Path,
    organization_id: uuid.UUID,
    *,
    cloud_account_id: uuid.UUID | None = None,
    fmt: str = "auto",
    batch_rows: int = 50_000,
    on_batch: ProgressCallback | None = None,
    currency: str = "USD",
) -> IngestReport:
    """Load every billing file under ``path`` into ``organization_id``; see the module docstring.

    ``currency`` (ISO 4217) is the currency of files that carry none: OpenCost allocation exports.
    """
    run_id, batch_id = uuid.uuid4(), uuid.uuid4()
    source_name = str(path)
    with engine.connect() as connection:
        org = connection.execute(
            select(Organization.settings).where(Organization.id == organization_id)
        ).first()
        if org is None:
            raise IngestError(f"organisation {organization_id} does not exist")
        if cloud_account_id is not None:
            owner = connection.execute(
                select(CloudAccount.organization_id).where(CloudAccount.id == cloud_account_id)
            ).scalar()
            if owner != organization_id:
                raise IngestError(f"cloud account {cloud_account_id} does not exist in this organisation")
    target = LoadTarget(
        organization_id=organization_id,
        batch_id=batch_id,
        cloud_account_id=cloud_account_id,
        tag_keys=rollup_tag_keys(org.settings or {}),
    )
    started = utcnow()
    clock_started = time.perf_counter()
    try:
        source = open_billing_source(path, fmt=fmt, batch_rows=batch_rows, currency=currency)
        with engine.begin() as connection:
            loader = CostLoader(connection, target)
            # The prefetch thread reads, validates and serialises (CSV, keys, partial rollup) the next
            # batches while this thread streams the current one into the open COPY.
            period_totals: dict[PeriodKey, PeriodTotal] = {}
            prepared = prefetch(
                loader.prepare(_with_period_totals(period_totals, batch)) for batch in source.batches()
            )
            try:
                for ready in prepared:
                    loader.write(ready)
                    if on_batch is not None:
                        for file, rows in ready.files:
                            on_batch(rows, file)
                load = loader.finish()
                if load.first_day is not None and load.last_day is not None:
                    # allocated views follow the new rows in the same transaction (active versions only)
                    reallocate_days(
                        connection, organization_id, load.first_day, load.last_day + timedelta(days=1)
                    )
            except BaseException as exc:
                loader.abort(exc)
                raise
            summary = source.summary
            connection.execute(
                insert(IngestRun).values(
                    id=run_id,
                    organization_id=organization_id,
                    batch_id=batch_id,
                    cloud_account_id=cloud_account_id,
                    source_file=source_name,
                    format=",".join(sorted({f.format for f in summary.files})),
                    focus_version=",".join(sorted({f.focus_version or "" for f in summary.files})) or None,
                    status="committed",
                    started_at=started,
                    completed_at=utcnow(),
                    rows_read=summary.rows_read,
                    rows_accepted=summary.rows_accepted,
                    rows_normalised=summary.rows_normalised,
                    rows_quarantined=summary.rows_quarantined,
                    rows_replaced=load.rows_replaced,
                    summary={
                        "files": [f.path for f in summary.files],
                        "normalisations": dict(summary.normalisations),
                        "focus_findings": dict(summary.findings_by_rule),
                    },
                )
            )
            record_file_totals(
                connection,
                organization_id=organization_id,
                run_id=run_id,
                batch_id=batch_id,
                cloud_account_id=cloud_account_id,
                totals=period_totals,
                ingested_at=utcnow(),
            )
            if summary.quarantine:
                connection.execute(
                    insert(QuarantinedRow),
                    [
                        {
                            "organization_id": organization_id,
                            "ingest_run_id": run_id,
                            "source_file": q.file,
                            "line": q.line,
                            "column_name": q.column,
                            "reason": q.reason,
                            "raw_value": q.raw_value,
                        }
                        for q in summary.quarantine
                    ],
                )
    except BillingFileError as exc:
        _record_failure(
            engine, run_id, batch_id, organization_id, cloud_account_id, source_name, started, str(exc)
        )
        raise IngestError(str(exc)) from exc
    record_ingest(
        ",".join(sorted({f.format for f in summary.files})) or "none",
        seconds=time.perf_counter() - clock_started,
        accepted=summary.rows_accepted,
        quarantined=summary.rows_quarantined,
    )
    return IngestReport(run_id=run_id, summary=summary, load=load, files=[f.path for f in summary.files])


def _with_period_totals(totals: dict[PeriodKey, PeriodTotal], batch: pa.Table) -> pa.Table:
    """Fold ``batch`` into the per-file, per-billing-period totals (kept for reconciliation) and return it."""
    fold_period_totals(totals, batch)
    return batch


def _record_failure(
    engine: Engine,
    run_id: uuid.UUID,
    batch_id: uuid.UUID,
    organization_id: uuid.UUID,
    cloud_account_id: uuid.UUID | None,
    source: str,
    started: Any,
    error: str,
) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert(IngestRun).values(
                id=run_id,
                organization_id=organization_id,
                batch_id=batch_id,
                cloud_account_id=cloud_account_id,
                source_file=source,
                status="failed",
                started_at=started,
                completed_at=utcnow(),
                error=error,
            )
        )


def total_billed(report: IngestReport, provider: str | None = None, currency: str | None = None) -> Decimal:
    """Exact ΣBilledCost of the accepted rows (optionally one provider and/or currency)."""
    return report.summary.total_billed_cost(provider, currency)
