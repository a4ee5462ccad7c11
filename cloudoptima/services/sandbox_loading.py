"""Load a generated sandbox estate into an organisation: accounts, FOCUS costs and inventory.

Costs go through the very same ingestion path as any billing export (``ingest_path`` per account folder);
inventory goes into ``resources`` with utilisation summaries (avg/max/p95/p99 per metric).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from sqlalchemy import Engine, select
from sqlalchemy.dialects.postgresql import insert

from cloudoptima.analytics.utilisation import summarise_values
from cloudoptima.clouds.sandbox import Estate, generate_estate, load_estate, write_estate
from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.ingestion import ProgressCallback, ingest_path
from cloudoptima.storage.inventory_store import upsert_resources
from cloudoptima.storage.models import CloudAccount


@dataclass
class SandboxLoadReport:
    accounts: dict[str, uuid.UUID] = field(default_factory=dict)
    cost_rows: int = 0
    billed_total: Decimal = Decimal(0)
    resources: int = 0


def generate_to(out_dir: Path, seed: int, accounts: int, days: int, end: Any = None) -> Estate:
    """Generate an estate and write it to ``out_dir`` (FOCUS files, inventory, utilisation, manifest)."""
    kwargs: dict[str, Any] = {"seed": seed, "accounts": accounts, "days": days}
    if end is not None:
        kwargs["end"] = end
    estate = generate_estate(**kwargs)
    write_estate(estate, out_dir)
    return estate


def _utilisation_summaries(estate_dir: Path) -> dict[str, dict[str, dict[str, float]]]:
    table = pq.read_table(estate_dir / "utilisation.parquet", columns=["resource_id", "metric", "value"])
    summaries: dict[str, dict[str, dict[str, float]]] = {}
    if table.num_rows == 0:
        return summaries
    frame = table.to_pandas()
    for (resource_id, metric), values in frame.groupby(["resource_id", "metric"], sort=False)["value"]:
        summaries.setdefault(str(resource_id), {})[str(metric)] = summarise_values(values.to_numpy())
    return summaries


def load_sandbox(
    engine: Engine,
    cipher: CredentialCipher,
    organization_id: uuid.UUID,
    estate_dir: Path,
    *,
    on_batch: ProgressCallback | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> SandboxLoadReport:
    """Create one cloud account per sandbox account and load its costs and inventory (idempotent)."""
    estate = load_estate(estate_dir)
    report = SandboxLoadReport()
    with engine.begin() as connection:
        for account in estate.accounts:
            statement = insert(CloudAccount).values(
                id=uuid.uuid4(),
                organization_id=organization_id,
                provider=str(account.provider),
                account_identifier=account.account_id,
                account_name=account.name,
                credentials_encrypted=cipher.encrypt({"kind": "sandbox"}),
                settings={
                    "sandbox": {"estate_dir": str(estate_dir.resolve()), "account_id": account.account_id}
                },
                status="active",
                verification_status="verified",
            )
            connection.execute(
                statement.on_conflict_do_nothing(
                    index_elements=["organization_id", "provider", "account_identifier"]
                )
            )
            report.accounts[account.account_id] = connection.execute(
                select(CloudAccount.id).where(
                    CloudAccount.organization_id == organization_id,
                    CloudAccount.provider == str(account.provider),
                    CloudAccount.account_identifier == account.account_id,
                )
            ).scalar_one()
    for account in estate.accounts:
        folder = estate_dir / "focus" / str(account.provider) / account.account_id
        if not folder.exists():
            continue
        ingested = ingest_path(
            engine,
            folder,
            organization_id,
            cloud_account_id=report.accounts[account.account_id],
            on_batch=on_batch,
        )
        report.cost_rows += ingested.summary.rows_accepted
        report.billed_total += ingested.summary.total_billed_cost()
    metrics = _utilisation_summaries(estate_dir)
    seen = now()
    with engine.begin() as connection:
        for account in estate.accounts:
            resources = [
                r for r in estate.resources if r.account_id == account.account_id and r.deleted_at is None
            ]
            report.resources += upsert_resources(
                connection,
                organization_id,
                report.accounts[account.account_id],
                resources,
                metrics,
                seen,
                complete=True,
            )
    return report
