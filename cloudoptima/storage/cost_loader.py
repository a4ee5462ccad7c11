"""Bulk load of canonical cost batches into ``cost_data`` with ``COPY``, export replacement and rollups.

The loader works inside a transaction the caller owns (one per billing file), so a failure anywhere leaves
the database as it was. It expects ``pyarrow.Table`` batches whose columns are ``cost_data`` column names
(the ingest package's canonical schema): money as decimal *strings* (exact digits), datetimes as
``timestamp[us, UTC]``, JSON columns as JSON text.

Replacement: after the rows of a file are copied, rows of *earlier* loads (another ``batch_id``) for the
same organisation, cloud account, provider, billing account and billing period are deleted — a re-issued or
re-ingested export replaces the older one and never duplicates. Files of one invocation share a
``batch_id`` so the parts of a multi-file export do not replace each other.

Day-window replacement (``LoadTarget.replace_days = (start, end)``, used by collection): instead of the
billing-period keys, rows of earlier loads of the same organisation and cloud account whose
``charge_period_start`` falls in ``[start, end)`` are deleted — a re-fetched (restated) window replaces
exactly the days it covers, however the rows are keyed. The rollup is then rebuilt for the whole window and,
when the target names a cloud account, only for that account's rollup rows, so loads of different accounts
never touch the same ``cost_daily`` rows and can run concurrently.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Connection, text

from cloudoptima.storage.partitions import ensure_cost_partitions, months_between, partition_name

DEFAULT_ROLLUP_TAG_KEYS: tuple[str, ...] = (
    "team",
    "env",
    "environment",
    "cost-center",
    "cost_center",
    "costcenter",
    "project",
    "owner",
    "application",
)
_CONSTANT_COLUMNS = ("organization_id", "cloud_account_id", "import_id")
_KEY_COLUMNS = ("provider", "billing_account_id", "billing_period_start")


class CostLoadError(RuntimeError):
    """A batch does not have the shape ``cost_data`` needs (names the column)."""


@dataclass(frozen=True)
class LoadTarget:
    """Where rows go: organisation, optional connected account, the invocation's batch id, rollup tag keys."""

    organization_id: uuid.UUID
    batch_id: uuid.UUID
    cloud_account_id: uuid.UUID | None = None
    tag_keys: tuple[str, ...] = DEFAULT_ROLLUP_TAG_KEYS
    replace_days: tuple[date, date] | None = None
    """Day-window replacement ``[start, end)`` instead of billing-period keys (see the module docstring)."""


@dataclass
class LoadResult:
    rows_copied: int = 0
    rows_replaced: int = 0
    first_day: date | None = None
    last_day: date | None = None
    rollup_rows: int = 0


@dataclass
class _Progress:
    keys: set[tuple[str, str, datetime]] = field(default_factory=set)
    months: set[date] = field(default_factory=set)
    first: datetime | None = None
    last: datetime | None = None


class CostLoader:
    """COPY batches into ``cost_data``; :meth:`finish` replaces older exports and refreshes ``cost_daily``."""

    def __init__(self, connection: Connection, target: LoadTarget) -> None:
        self._connection = connection
        self._target = target
        self._progress = _Progress()
        self._result = LoadResult()
        self._ensured: set[date] = set()

    def copy_batch(self, batch: pa.Table) -> int:
        """COPY one batch; returns the number of rows written."""
        if batch.num_rows == 0:
            return 0
        for required in (*_KEY_COLUMNS, "charge_period_start", "billed_cost", "billing_currency"):
            if required not in batch.column_names:
                raise CostLoadError(f"batch has no column {required!r}")
        self._track(batch)
        self._ensure_partitions()
        # All-null columns are left out of the COPY (they default to NULL): less to write and to parse.
        batch = batch.select(
            [name for name in batch.column_names if batch.column(name).null_count < batch.num_rows]
        )
        payload = self._csv(batch)
        column_list = ", ".join((*_CONSTANT_COLUMNS, *batch.column_names))
        raw: Any = self._connection.connection.driver_connection
        if raw is None:
            raise CostLoadError("the connection has no live driver connection")
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY cost_data ({column_list}) FROM STDIN WITH (FORMAT csv)") as copy,
        ):
            copy.write(payload)
        rows = int(batch.num_rows)
        self._result.rows_copied += rows
        return rows

    def _ensure_partitions(self) -> None:
        """Create missing monthly partitions; skips the DDL lock when every month already exists.

        ``ensure_cost_partitions`` holds a transaction-level advisory lock until this load commits, which
        would serialise concurrent loads; checking first keeps loads into existing months parallel.
        """
        wanted = sorted(self._progress.months - self._ensured)
        if wanted and self._missing_partitions(wanted):
            # Same lock as ensure_cost_partitions; then ask pg_class with an MVCC snapshot, because after
            # waiting for another loader's commit, to_regclass can still answer from a stale catalog cache.
            self._connection.execute(
                text("SELECT pg_advisory_xact_lock(hashtext('cloudoptima.cost_partitions'))")
            )
            missing = self._missing_partitions(wanted)
            if missing:
                ensure_cost_partitions(self._connection, missing)
        self._ensured.update(wanted)

    def _missing_partitions(self, months: list[date]) -> list[date]:
        names = {partition_name(month): month for month in months}
        existing = set(
            self._connection.execute(
                text("SELECT relname FROM pg_class WHERE relname = ANY(CAST(:names AS text[]))"),
                {"names": list(names)},
            ).scalars()
        )
        return [month for name, month in names.items() if name not in existing]

    def _track(self, batch: pa.Table) -> None:
        starts = batch.column("charge_period_start")
        bounds = pc.min_max(starts).as_py()
        low, high = bounds["min"], bounds["max"]
        if low is None or high is None:
            raise CostLoadError("charge_period_start is null in a batch that reached the loader")
        progress = self._progress
        progress.first = low if progress.first is None else min(progress.first, low)
        progress.last = high if progress.last is None else max(progress.last, high)
        progress.months.update(months_between(low.date(), high.date() + timedelta(days=1)))
        keys = batch.select(list(_KEY_COLUMNS)).group_by(list(_KEY_COLUMNS)).aggregate([])
        for provider, account, period in zip(
            keys.column("provider").to_pylist(),
            keys.column("billing_account_id").to_pylist(),
            keys.column("billing_period_start").to_pylist(),
            strict=True,
        ):
            progress.keys.add((provider, account, period))

    def _csv(self, batch: pa.Table) -> bytes:
        n = batch.num_rows
        target = self._target
        constants = [
            pa.repeat(str(target.organization_id), n),
            pa.repeat(str(target.cloud_account_id) if target.cloud_account_id else None, n).cast(pa.string()),
            pa.repeat(str(target.batch_id), n),
        ]
        table = pa.table(constants + list(batch.columns), names=[*_CONSTANT_COLUMNS, *batch.column_names])
        buffer = io.BytesIO()
        pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False, batch_size=8192))
        return buffer.getvalue()

    def finish(self) -> LoadResult:
        """Delete rows of earlier loads for the same keys, then rebuild the rollup for every touched day."""
        progress, target = self._progress, self._target
        if target.replace_days is not None:
            return self._finish_window(target.replace_days)
        first, last = progress.first, progress.last
        if progress.keys:
            providers, accounts, periods = (
                list(x) for x in zip(*sorted(progress.keys, key=str), strict=True)
            )
            replaced = self._connection.execute(
                text(
                    """
                    WITH keys AS (
                        SELECT * FROM unnest(CAST(:providers AS text[]), CAST(:accounts AS text[]),
                                             CAST(:periods AS timestamptz[])) AS k(provider, account, period)
                    ), gone AS (
                        DELETE FROM cost_data c USING keys k
                        WHERE c.organization_id = :org
                          AND c.cloud_account_id IS NOT DISTINCT FROM :account
                          AND c.import_id IS DISTINCT FROM :batch
                          AND c.provider = k.provider
                          AND c.billing_account_id IS NOT DISTINCT FROM k.account
                          AND c.billing_period_start = k.period
                        RETURNING c.charge_period_start
                    )
                    SELECT count(*), min(charge_period_start), max(charge_period_start) FROM gone
                    """
                ),
                {
                    "providers": providers,
                    "accounts": accounts,
                    "periods": periods,
                    "org": target.organization_id,
                    "account": target.cloud_account_id,
                    "batch": target.batch_id,
                },
            ).one()
            self._result.rows_replaced = int(replaced[0])
            if replaced[1] is not None:
                first = min(first, replaced[1]) if first else replaced[1]
                last = max(last, replaced[2]) if last else replaced[2]
        if first is not None and last is not None:
            self._result.first_day, self._result.last_day = first.date(), last.date()
            self._result.rollup_rows = refresh_daily_rollup(
                self._connection,
                target.organization_id,
                first.date(),
                last.date() + timedelta(days=1),
                target.tag_keys,
            )
        return self._result

    def _finish_window(self, window: tuple[date, date]) -> LoadResult:
        start, end = window
        if start >= end:
            raise CostLoadError(f"empty replacement window {start}..{end}")
        progress, target = self._progress, self._target
        first, last = progress.first, progress.last
        if first is not None and last is not None and (first.date() < start or last.date() >= end):
            raise CostLoadError(
                f"rows from {first.date()} to {last.date()} fall outside the replacement window [{start}, {end})"
            )
        replaced = self._connection.execute(
            text(
                """
                DELETE FROM cost_data
                WHERE organization_id = :org
                  AND cloud_account_id IS NOT DISTINCT FROM :account
                  AND import_id IS DISTINCT FROM :batch
                  AND charge_period_start >= :t0 AND charge_period_start < :t1
                """
            ),
            {
                "org": target.organization_id,
                "account": target.cloud_account_id,
                "batch": target.batch_id,
                "t0": datetime(start.year, start.month, start.day, tzinfo=UTC),
                "t1": datetime(end.year, end.month, end.day, tzinfo=UTC),
            },
        )
        self._result.rows_replaced = int(replaced.rowcount or 0)  # type: ignore[attr-defined]
        self._result.first_day, self._result.last_day = start, end - timedelta(days=1)
        self._result.rollup_rows = refresh_daily_rollup(
            self._connection,
            target.organization_id,
            start,
            end,
            target.tag_keys,
            cloud_account_id=target.cloud_account_id,
        )
        return self._result


def refresh_daily_rollup(
    connection: Connection,
    organization_id: uuid.UUID,
    start: date,
    end_exclusive: date,
    tag_keys: tuple[str, ...],
    *,
    cloud_account_id: uuid.UUID | None = None,
) -> int:
    """Recompute ``cost_daily`` for ``[start, end_exclusive)`` of one organisation from ``cost_data``.

    Rows are attributed to the UTC day of ``charge_period_start``. With ``cloud_account_id``, only that
    account's rollup rows are rebuilt (from that account's cost rows). Returns the rollup rows written.
    """
    t0 = datetime(start.year, start.month, start.day, tzinfo=UTC)
    t1 = datetime(end_exclusive.year, end_exclusive.month, end_exclusive.day, tzinfo=UTC)
    params: dict[str, Any] = {"org": organization_id, "d0": start, "d1": end_exclusive, "t0": t0, "t1": t1}
    account_filter, data_filter = "", ""
    if cloud_account_id is not None:
        params["account"] = cloud_account_id
        account_filter = " AND cloud_account_id = :account"
        data_filter = " AND c.cloud_account_id = :account"
    pairs = []
    for index, key in enumerate(tag_keys):
        params[f"k{index}"] = key
        pairs.append(f"CAST(:k{index} AS text), c.tags -> CAST(:k{index} AS text)")
    # jsonb_build_object over the configured keys (nulls stripped) is much cheaper than a per-row subquery.
    tag_values = f"jsonb_strip_nulls(jsonb_build_object({', '.join(pairs)}))" if pairs else "'{}'::jsonb"
    connection.execute(
        text(
            "DELETE FROM cost_daily WHERE organization_id = :org AND usage_date >= :d0 AND usage_date < :d1"
            + account_filter
        ),
        params,
    )
    inserted = connection.execute(
        text(
            f"""
            INSERT INTO cost_daily (organization_id, usage_date, cloud_account_id, provider, billing_account_id,
                sub_account_id, service_name, service_category, region_id, charge_category, billing_currency,
                tag_values, billed_cost, effective_cost, list_cost, row_count)
            SELECT c.organization_id, (c.charge_period_start AT TIME ZONE 'UTC')::date, c.cloud_account_id,
                c.provider, c.billing_account_id, c.sub_account_id, c.service_name, c.service_category,
                c.region_id, c.charge_category, c.billing_currency, COALESCE({tag_values}, '{{}}'::jsonb),
                sum(c.billed_cost), COALESCE(sum(c.effective_cost), 0), COALESCE(sum(c.list_cost), 0), count(*)
            FROM cost_data c
            WHERE c.organization_id = :org AND c.charge_period_start >= :t0 AND c.charge_period_start < :t1
                {data_filter}
            GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12
            """
        ),
        params,
    )
    return int(inserted.rowcount or 0)  # type: ignore[attr-defined]
