"""The :class:`CostLoader`: COPY prepared batches into ``cost_data`` inside the caller's transaction, replace
earlier loads' rows (by billing-period key or by day window), and bring ``cost_daily`` up to date on
:meth:`CostLoader.finish` (see the package contract)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, text

from cloudoptima.storage.cost_loader.batches import Key, PreparedBatch, prepare_batch
from cloudoptima.storage.cost_loader.daily_rollup import account_scope, refresh_daily_rollup, refresh_rollup
from cloudoptima.storage.cost_loader.partials import Partial
from cloudoptima.storage.cost_loader.rollup_delta import add_to_rollup
from cloudoptima.storage.cost_loader.tag_coverage import refresh_tag_coverage
from cloudoptima.storage.cost_loader.target import CostLoadError, LoadResult, LoadTarget
from cloudoptima.storage.partitions import ensure_cost_partitions, partition_name


@dataclass
class _Progress:
    keys: set[Key] = field(default_factory=set)
    months: set[date] = field(default_factory=set)
    first: datetime | None = None
    last: datetime | None = None
    partials: list[Partial] = field(default_factory=list)
    exact_partials: bool = True


class CostLoader:
    """COPY batches into ``cost_data``; :meth:`finish` ends the COPY and maintains ``cost_daily``."""

    def __init__(self, connection: Connection, target: LoadTarget) -> None:
        self._connection = connection
        self._target = target
        self._progress = _Progress()
        self._result = LoadResult()
        self._ensured: set[date] = set()
        self._locked = False
        self._cursor: Any = None
        self._manager: Any = None
        self._copy: Any = None
        self._copy_columns: tuple[str, ...] | None = None

    # -- batches ------------------------------------------------------------------------------------------

    def copy_batch(self, batch: pa.Table) -> int:
        """COPY one batch and end that COPY; returns the number of rows written."""
        rows = self.write(self.prepare(batch))
        self._end_copy()
        return rows

    def prepare(self, batch: pa.Table) -> PreparedBatch:
        """The CSV payload, keys, months and partial rollup of ``batch``; pure, safe to run in a thread."""
        return prepare_batch(self._target, batch)

    def write(self, prepared: PreparedBatch) -> int:
        """Send a prepared batch into the open COPY (opening one, or creating partitions, as needed)."""
        if prepared.rows == 0:
            return 0
        self._lock()
        try:
            new_months = prepared.months - self._ensured
            if new_months:
                self._end_copy()
                self._ensure_partitions(sorted(new_months))
            new_keys = prepared.keys - self._progress.keys
            if new_keys and self._target.replace_days is None:
                self._end_copy()
                self._replace_keys(new_keys)
            if self._copy is not None and self._copy_columns != prepared.columns:
                self._end_copy()
            if self._copy is None:
                self._begin_copy(prepared.columns)
            self._copy.write(prepared.payload)
        except BaseException as exc:
            self.abort(exc)
            raise
        progress = self._progress
        progress.keys |= prepared.keys
        progress.months |= prepared.months
        first, last = prepared.first, prepared.last
        if first is not None and last is not None:
            progress.first = first if progress.first is None else min(progress.first, first)
            progress.last = last if progress.last is None else max(progress.last, last)
        if prepared.partial is None:
            progress.exact_partials = False
        else:
            progress.partials.append(prepared.partial)
        self._result.rows_copied += prepared.rows
        return prepared.rows

    def abort(self, exc: BaseException | None = None) -> None:
        """End an open COPY with an error (the caller's transaction must then roll back)."""
        if self._copy is not None:
            manager, cursor = self._manager, self._cursor
            self._copy = self._cursor = self._manager = self._copy_columns = None
            error = exc or CostLoadError("load aborted")
            try:
                manager.__exit__(type(error), error, None)
            except Exception:  # noqa: S110 - the caller re-raises the original error; the rollback follows
                pass
            finally:
                cursor.close()

    def _begin_copy(self, columns: tuple[str, ...]) -> None:
        raw: Any = self._connection.connection.driver_connection
        if raw is None:
            raise CostLoadError("the connection has no live driver connection")
        cursor = raw.cursor()
        manager = cursor.copy(f"COPY cost_data ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)")
        copy = manager.__enter__()
        self._cursor, self._manager, self._copy, self._copy_columns = cursor, manager, copy, columns

    def _end_copy(self) -> None:
        if self._copy is not None:
            manager, cursor = self._manager, self._cursor
            self._copy = self._cursor = self._manager = self._copy_columns = None
            try:
                manager.__exit__(None, None, None)
            finally:
                cursor.close()

    def _lock(self) -> None:
        """Serialise loads of one organisation and cloud account (held until the transaction ends)."""
        if not self._locked:
            target = self._target
            self._connection.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                {"key": f"cloudoptima.cost_load:{target.organization_id}:{target.cloud_account_id}"},
            )
            self._locked = True

    def _ensure_partitions(self, wanted: list[date]) -> None:
        """Create missing monthly partitions; skips the DDL lock when every month already exists.

        ``ensure_cost_partitions`` holds a transaction-level advisory lock until this load commits, which
        would serialise concurrent loads; checking first keeps loads into existing months parallel.
        """
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

    def _replace_keys(self, keys: Iterable[Key]) -> None:
        """Delete rows of earlier loads for ``keys`` (before this load copies any row of them)."""
        providers, accounts, periods = (list(x) for x in zip(*sorted(keys, key=str), strict=True))
        target = self._target
        replaced = self._connection.execute(
            text(
                f"""
                WITH keys AS (
                    SELECT * FROM unnest(CAST(:providers AS text[]), CAST(:accounts AS text[]),
                                         CAST(:periods AS timestamptz[])) AS k(provider, account, period)
                ), gone AS (
                    DELETE FROM cost_data c USING keys k
                    WHERE {account_scope("c.", target.cloud_account_id)}
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
        self._result.rows_replaced += int(replaced[0])
        if replaced[1] is not None:
            progress = self._progress
            progress.first = replaced[1] if progress.first is None else min(progress.first, replaced[1])
            progress.last = replaced[2] if progress.last is None else max(progress.last, replaced[2])

    def finish(self) -> LoadResult:
        """End the COPY, then bring ``cost_daily`` up to date for every touched day (see the package docstring)."""
        self._end_copy()
        progress, target = self._progress, self._target
        if target.replace_days is not None:
            return self._finish_window(target.replace_days)
        first, last = progress.first, progress.last
        if first is None or last is None:
            return self._result
        self._lock()
        self._result.first_day, self._result.last_day = first.date(), last.date()
        end = last.date() + timedelta(days=1)
        rollup_rows: int | None = None
        if self._result.rows_replaced == 0 and progress.exact_partials:
            partials, progress.partials = progress.partials, []
            rollup_rows = add_to_rollup(self._connection, target, partials, first.date(), end)
        if rollup_rows is None:
            rollup_rows = refresh_rollup(
                self._connection,
                target.organization_id,
                first.date(),
                end,
                target.tag_keys,
                account=(target.cloud_account_id,),
            )
        self._result.rollup_rows = rollup_rows
        refresh_tag_coverage(
            self._connection, target.organization_id, first.date(), end, account=(target.cloud_account_id,)
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
        self._lock()
        replaced = self._connection.execute(
            text(
                f"""
                DELETE FROM cost_data
                WHERE {account_scope("", target.cloud_account_id)}
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
        refresh_tag_coverage(
            self._connection, target.organization_id, start, end, account=(target.cloud_account_id,)
        )
        return self._result
