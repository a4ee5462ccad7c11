"""Record a billing file's own per-period totals at ingest (table ``ingest_file_totals``, migration 0028).

Contract: :func:`record_file_totals` inserts one row per (source file, provider, billing account, billing
period, currency) of ``totals`` (from :func:`cloudoptima.ingest.period_totals.fold_period_totals`), inside
the caller's ingest transaction, with the file's SHA-256 (of its bytes on disk; null when the path cannot be
read, e.g. a file inside an archive). Nothing else is read or written.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, text

from cloudoptima.ingest.period_totals import PeriodKey, PeriodTotal

_INSERT = text(
    """
    INSERT INTO ingest_file_totals (
        organization_id, ingest_run_id, batch_id, cloud_account_id, source_file, file_sha256, provider,
        billing_account_id, billing_period_start, billing_period_end, billing_currency, billed_cost,
        effective_cost, list_cost, row_count, first_day, last_day, invoice_ids, ingested_at
    ) VALUES (
        :org, :run, :batch, :account, :source_file, :sha, :provider, :billing_account_id, :period_start,
        :period_end, :currency, :billed, :effective, :list, :rows, :first_day, :last_day,
        CAST(:invoices AS text[]), :ingested_at
    )
    """
)


def file_sha256(path: str) -> str | None:
    """The SHA-256 hex digest of the file's bytes, or None when it is not a readable regular file."""
    candidate = Path(path)
    if not candidate.is_file():
        return None
    digest = hashlib.sha256()
    with candidate.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def record_file_totals(
    connection: Connection,
    *,
    organization_id: uuid.UUID,
    run_id: uuid.UUID,
    batch_id: uuid.UUID,
    cloud_account_id: uuid.UUID | None,
    totals: dict[PeriodKey, PeriodTotal],
    ingested_at: datetime,
) -> int:
    """See the module docstring; returns the number of rows written."""
    hashes: dict[str, str | None] = {}
    rows = []
    for (source, provider, account, start, end, currency), total in sorted(totals.items(), key=str):
        if total.first_day is None or total.last_day is None:
            continue
        if source not in hashes:
            hashes[source] = file_sha256(source)
        rows.append(
            {
                "org": organization_id,
                "run": run_id,
                "batch": batch_id,
                "account": cloud_account_id,
                "source_file": source,
                "sha": hashes[source],
                "provider": provider,
                "billing_account_id": account,
                "period_start": start,
                "period_end": end,
                "currency": currency,
                "billed": total.billed_cost,
                "effective": total.effective_cost,
                "list": total.list_cost,
                "rows": total.rows,
                "first_day": total.first_day,
                "last_day": total.last_day,
                "invoices": sorted(total.invoice_ids),
                "ingested_at": ingested_at,
            }
        )
    if rows:
        connection.execute(_INSERT, rows)
    return len(rows)
