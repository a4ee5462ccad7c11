"""Load a generated sandbox estate into an organisation: accounts, FOCUS costs and inventory.

Costs go through the very same ingestion path as any billing export (``ingest_path`` per account folder);
the hourly utilisation of the last ``window_days`` goes into the utilisation history
(``storage.utilisation_history``) with each resource's read cursor at the end of the generated window, and the inventory into ``resources`` with the
summaries computed from that history over the same window a collection uses (``window_days``), so a later
collection appends to the history and recomputes the very same numbers.

Each account whose costs were loaded gets ``last_sync_at``, as a collection sets it: the load's ``now`` —
capped at the end of the generated days, so a later collection still fetches every day after the estate —
and never moved back by a re-load of an older estate (the console's "Last sync" and the collection plan
both read it).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Engine, func, select, update
from sqlalchemy.dialects.postgresql import insert

from cloudoptima.clouds.sandbox import Estate, generate_estate, load_estate, write_estate
from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.collection import UTILISATION_WINDOW_DAYS
from cloudoptima.services.ingestion import ProgressCallback, ingest_path
from cloudoptima.storage import utilisation_history
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


def _utilisation_table(estate_dir: Path) -> pa.Table:
    """``resource_id, metric, hour, value`` of every present sample of the estate."""
    table = pq.read_table(
        estate_dir / "utilisation.parquet", columns=["resource_id", "metric", "ts", "value"]
    )
    table = table.filter(pc.is_valid(table.column("value")))
    return pa.table(
        {
            "resource_id": table.column("resource_id").cast(pa.string()),
            "metric": table.column("metric").cast(pa.string()),
            "hour": table.column("ts"),
            "value": table.column("value"),
        }
    )


def load_sandbox(
    engine: Engine,
    cipher: CredentialCipher,
    organization_id: uuid.UUID,
    estate_dir: Path,
    *,
    on_batch: ProgressCallback | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    window_days: int = UTILISATION_WINDOW_DAYS,
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
    loaded: set[uuid.UUID] = set()
    for account in estate.accounts:
        folder = estate_dir / "focus" / str(account.provider) / account.account_id
        if not folder.exists():
            continue
        loaded.add(report.accounts[account.account_id])
        ingested = ingest_path(
            engine,
            folder,
            organization_id,
            cloud_account_id=report.accounts[account.account_id],
            on_batch=on_batch,
        )
        report.cost_rows += ingested.summary.rows_accepted
        report.billed_total += ingested.summary.total_billed_cost()
    samples = _utilisation_table(estate_dir)
    window_end = datetime.combine(estate.spec.end, time(), tzinfo=UTC)
    # Only the hours the summaries read (older ones would be dropped by the retention anyway).
    samples = samples.filter(
        pc.greater_equal(
            samples.column("hour"),
            pa.scalar(window_end - timedelta(days=window_days), samples.column("hour").type),
        )
    )
    seen = now()
    synced = min(seen, window_end)
    for account in estate.accounts:
        resources = [
            r for r in estate.resources if r.account_id == account.account_id and r.deleted_at is None
        ]
        ids = [r.resource_id for r in resources]
        cloud_account_id = report.accounts[account.account_id]
        with engine.begin() as connection:
            mine = samples.filter(pc.is_in(samples.column("resource_id"), pa.array(ids, pa.string())))
            utilisation_history.store_table(connection, organization_id, cloud_account_id, mine)
            utilisation_history.advance(connection, organization_id, cloud_account_id, ids, estate.spec.end)
            metrics = utilisation_history.summaries(
                connection,
                organization_id,
                cloud_account_id,
                window_end - timedelta(days=window_days),
                window_end,
                ids,
            )
            report.resources += upsert_resources(
                connection, organization_id, cloud_account_id, resources, metrics, seen, complete=True
            )
            if cloud_account_id in loaded:
                connection.execute(
                    update(CloudAccount)
                    .where(
                        CloudAccount.organization_id == organization_id,
                        CloudAccount.id == cloud_account_id,
                    )
                    .values(last_sync_at=func.greatest(CloudAccount.last_sync_at, synced))
                )
    return report
