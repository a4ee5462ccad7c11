"""Bulk load of canonical cost batches into ``cost_data`` with ``COPY``, export replacement and rollups.

The loader works inside a transaction the caller owns (one per billing file), so a failure anywhere leaves
the database as it was. It expects ``pyarrow.Table`` batches whose columns are ``cost_data`` column names
(the ingest package's canonical schema): money as decimal *strings* (exact digits), datetimes as
``timestamp[us, UTC]``, JSON columns as JSON text.

Two ways to load:

- ``copy_batch(batch)``: one COPY of one batch (``prepare`` + ``write``).
- Streaming: ``prepare(batch)`` is pure (no database, thread-safe) and does the CPU work: the CSV payload,
  the keys, months and days the batch touches, and its partial daily rollup. ``write(prepared)`` sends the
  payload into one COPY that stays open across consecutive batches (closed only to create a partition or to
  replace an older export), so a producer thread can prepare the next batch while the server ingests this
  one. ``finish()`` (or ``abort()`` on failure) ends the COPY.

Replacement: rows of *earlier* loads (another ``batch_id``) for the same organisation, cloud account,
provider, billing account and billing period are deleted — a re-issued or re-ingested export replaces the
older one and never duplicates. The delete runs when a key is first seen, before any row of that key is
copied, so it finds the older rows by index without reading this load's rows. Files of one invocation share
a ``batch_id`` so the parts of a multi-file export do not replace each other. A transaction-level advisory
lock per (organisation, cloud account) serialises loads that could replace each other's rows or merge into
the same rollup rows.

Rollup (``cost_daily``, one row per organisation, UTC day, account, provider, billing and sub account,
service, category, region, charge category, currency and projection of the configured tag keys):

- when a load replaced nothing, its rows are *added*: the partial aggregates of the prepared batches
  (exact decimal sums, grouped by the raw tags text) are merged in Python, COPYed to a temporary table,
  projected onto the tag keys in SQL and summed with the existing rollup rows of that account and those
  days. ``cost_data`` is not read again;
- when it replaced rows (or a sum needs more than 38 digits), the touched days of that account are rebuilt
  from ``cost_data`` (``refresh_daily_rollup``), which also re-projects them on the current tag keys.

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
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Connection, text

from cloudoptima.domain.organisation_settings import DEFAULT_ROLLUP_TAG_KEYS as DEFAULT_ROLLUP_TAG_KEYS
from cloudoptima.storage.partitions import ensure_cost_partitions, months_between, partition_name

_CONSTANT_COLUMNS = ("organization_id", "cloud_account_id", "import_id")
_KEY_COLUMNS = ("provider", "billing_account_id", "billing_period_start")
_ROLLUP_DIMENSIONS = (
    "provider",
    "billing_account_id",
    "sub_account_id",
    "service_name",
    "service_category",
    "region_id",
    "charge_category",
    "billing_currency",
)
_ROLLUP_MONEY = ("billed_cost", "effective_cost", "list_cost")
_ROLLUP_KEYS = ("usage_date", *_ROLLUP_DIMENSIONS, "tags")
_MAX_DIGITS = 38

Key = tuple[str, str | None, datetime]


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


@dataclass(frozen=True)
class _Partial:
    """Daily sums of one batch grouped by the rollup dimensions and the raw tags text."""

    table: pa.Table
    scale: int
    digits: int


@dataclass(frozen=True)
class PreparedBatch:
    """A batch ready to COPY (see ``CostLoader.prepare``); carries no database state."""

    rows: int
    columns: tuple[str, ...]
    payload: bytes
    first: datetime | None
    last: datetime | None
    months: frozenset[date]
    keys: frozenset[Key]
    files: tuple[tuple[str, int], ...]
    partial: _Partial | None


@dataclass
class _Progress:
    keys: set[Key] = field(default_factory=set)
    months: set[date] = field(default_factory=set)
    first: datetime | None = None
    last: datetime | None = None
    partials: list[_Partial] = field(default_factory=list)
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
        n = batch.num_rows
        if n == 0:
            return PreparedBatch(0, (), b"", None, None, frozenset(), frozenset(), (), None)
        for required in (*_KEY_COLUMNS, "charge_period_start", "billed_cost", "billing_currency"):
            if required not in batch.column_names:
                raise CostLoadError(f"batch has no column {required!r}")
        bounds = pc.min_max(batch.column("charge_period_start")).as_py()
        low, high = bounds["min"], bounds["max"]
        if low is None or high is None or batch.column("charge_period_start").null_count:
            raise CostLoadError("charge_period_start is null in a batch that reached the loader")
        groups = batch.select(list(_KEY_COLUMNS)).group_by(list(_KEY_COLUMNS)).aggregate([])
        keys = frozenset(
            zip(
                groups.column("provider").to_pylist(),
                groups.column("billing_account_id").to_pylist(),
                groups.column("billing_period_start").to_pylist(),
                strict=True,
            )
        )
        files: tuple[tuple[str, int], ...] = ()
        if "source_file" in batch.column_names:
            counted = batch.select(["source_file"]).group_by("source_file").aggregate([([], "count_all")])
            files = tuple(
                zip(
                    (str(name) for name in counted.column("source_file").to_pylist()),
                    counted.column("count_all").to_pylist(),
                    strict=True,
                )
            )
        partial = None if self._target.replace_days is not None else _partial_rollup(batch)
        return PreparedBatch(
            rows=n,
            columns=(*_CONSTANT_COLUMNS, *batch.column_names),
            payload=self._csv(batch),
            first=low,
            last=high,
            months=frozenset(months_between(low.date(), high.date() + timedelta(days=1))),
            keys=keys,
            files=files,
            partial=partial,
        )

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
                    WHERE {_account_scope("c.", target.cloud_account_id)}
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

    def _csv(self, batch: pa.Table) -> bytes:
        n = batch.num_rows
        target = self._target
        constants = [
            pa.repeat(str(target.organization_id), n),
            pa.repeat(str(target.cloud_account_id) if target.cloud_account_id else None, n).cast(pa.string()),
            pa.repeat(str(target.batch_id), n),
        ]
        columns = [_timestamp_text(column) for column in batch.columns]
        table = pa.table(constants + columns, names=[*_CONSTANT_COLUMNS, *batch.column_names])
        buffer = io.BytesIO()
        pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False, batch_size=8192))
        return buffer.getvalue()

    # -- finish -------------------------------------------------------------------------------------------

    def finish(self) -> LoadResult:
        """End the COPY, then bring ``cost_daily`` up to date for every touched day (see the module doc)."""
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
            rollup_rows = self._add_to_rollup(partials, first.date(), end)
        if rollup_rows is None:
            rollup_rows = _refresh(
                self._connection,
                target.organization_id,
                first.date(),
                end,
                target.tag_keys,
                account=(target.cloud_account_id,),
            )
        self._result.rollup_rows = rollup_rows
        return self._result

    def _add_to_rollup(self, partials: list[_Partial], start: date, end_exclusive: date) -> int | None:
        """Sum ``partials`` into this account's rollup rows of those days (None: sums may need > 38 digits).

        The tag projection is computed by Postgres once per distinct tags text (so it is exactly the
        ``jsonb`` the SQL rebuild produces); rows are regrouped by it in Arrow one day at a time (bounded
        memory) and COPYed, straight into ``cost_daily`` when the account has no rollup rows on those days,
        else through a temporary table summed with the existing rows.
        """
        combined = _combine_partials(partials)
        partials.clear()
        if combined is None:
            return None
        tag_values = self._project_tags(combined.column("tags"))
        combined = combined.drop_columns(["tags"]).append_column("tag_values", tag_values)
        target = self._target
        params: dict[str, Any] = {
            "org": target.organization_id,
            "account": target.cloud_account_id,
            "d0": start,
            "d1": end_exclusive,
        }
        existing = self._connection.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM cost_daily WHERE "
                f"{_account_scope('', target.cloud_account_id)}"
                " AND usage_date >= :d0 AND usage_date < :d1)"
            ),
            params,
        ).scalar()
        dims = ", ".join(_ROLLUP_DIMENSIONS)
        columns = f"usage_date, {dims}, tag_values, billed_cost, effective_cost, list_cost, row_count"
        if existing:
            destination = f"cost_daily_delta_{uuid.uuid4().hex}"
            self._connection.execute(
                text(
                    f"""
                    CREATE TEMPORARY TABLE {destination} (
                        usage_date date, provider text, billing_account_id text, sub_account_id text,
                        service_name text, service_category text, region_id text, charge_category text,
                        billing_currency text, tag_values jsonb, billed_cost numeric, effective_cost numeric,
                        list_cost numeric, row_count bigint
                    ) ON COMMIT DROP
                    """
                )
            )
            constants: list[tuple[str, str | None]] = []
        else:
            destination = "cost_daily"
            account = str(target.cloud_account_id) if target.cloud_account_id else None
            constants = [("organization_id", str(target.organization_id)), ("cloud_account_id", account)]
        names = [name for name, _ in constants] + [name.strip() for name in columns.split(",")]
        raw: Any = self._connection.connection.driver_connection
        written = 0
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {destination} ({', '.join(names)}) FROM STDIN WITH (FORMAT csv)") as copy,
        ):
            day_column = combined.column("usage_date")
            for day in pc.unique(day_column).to_pylist():
                grouped = _regroup(combined.filter(pc.equal(day_column, pa.scalar(day, pa.date32()))))
                n = grouped.num_rows
                fixed = [pa.repeat(value, n).cast(pa.string()) for _, value in constants]
                rows = pa.table([*fixed, *grouped.columns], names=names)
                buffer = io.BytesIO()
                pacsv.write_csv(rows, buffer, pacsv.WriteOptions(include_header=False, batch_size=65536))
                copy.write(buffer.getbuffer())
                written += n
        if not existing:
            return written
        inserted = self._connection.execute(
            text(
                f"""
                WITH old AS (
                    DELETE FROM cost_daily
                    WHERE {_account_scope("", target.cloud_account_id)}
                      AND usage_date >= :d0 AND usage_date < :d1
                    RETURNING {columns}
                ), both_ AS (
                    SELECT {columns} FROM old UNION ALL SELECT {columns} FROM {destination}
                )
                INSERT INTO cost_daily (organization_id, cloud_account_id, {columns})
                SELECT CAST(:org AS uuid), CAST(:account AS uuid), usage_date, {dims}, tag_values,
                    sum(billed_cost), sum(effective_cost), sum(list_cost), sum(row_count)
                FROM both_
                GROUP BY usage_date, {dims}, tag_values
                """
            ),
            params,
        )
        self._connection.execute(text(f"DROP TABLE {destination}"))
        return int(inserted.rowcount or 0)  # type: ignore[attr-defined]

    def _project_tags(self, tags: pa.ChunkedArray) -> pa.Array:
        """The rollup ``tag_values`` text of every row: Postgres projects each distinct tags text once."""
        encoded = pc.dictionary_encode(tags.combine_chunks())
        params: dict[str, Any] = {"tags": encoded.dictionary.to_pylist()}
        projection = _tag_projection(self._target.tag_keys, "CAST(t.tags AS jsonb)", params)
        rows = self._connection.execute(
            text(
                f"SELECT CAST(COALESCE({projection}, '{{}}'::jsonb) AS text) "
                "FROM unnest(CAST(:tags AS text[])) WITH ORDINALITY AS t(tags, n) ORDER BY t.n"
            ),
            params,
        ).scalars()
        projected = pa.array(list(rows), pa.string())
        # Rows without tags project to the empty object, as COALESCE(..., '{}') in the SQL rebuild.
        return pc.fill_null(pc.take(projected, encoded.indices), "{}")

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
                WHERE {_account_scope("", target.cloud_account_id)}
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


def _timestamp_text(column: pa.ChunkedArray) -> pa.ChunkedArray | pa.Array:
    """Timestamps as text, formatted once per distinct value (billing data repeats a few instants).

    Arrow's timestamp formatting is most of the cost of writing the CSV otherwise; other columns pass.
    """
    if not pa.types.is_timestamp(column.type):
        return column
    encoded = pc.dictionary_encode(column.combine_chunks())
    return pc.take(encoded.dictionary.cast(pa.string()), encoded.indices)


def _decimal_shape(values: pa.ChunkedArray | pa.Array) -> tuple[int, int]:
    """(scale, integer digits) of plain decimal text ``-?digits[.digits]``; (0, 1) when all null."""
    if values.null_count == len(values):
        return 0, 1
    dot = pc.find_substring(values, ".")
    length = pc.utf8_length(values)
    has_dot = pc.greater_equal(dot, 0)
    scale = pc.max(pc.if_else(has_dot, pc.subtract(pc.subtract(length, dot), 1), 0)).as_py() or 0
    sign = pc.if_else(pc.starts_with(values, "-"), 1, 0)
    digits = pc.max(pc.subtract(pc.if_else(has_dot, dot, length), sign)).as_py() or 1
    return int(scale), int(digits)


def _partial_rollup(batch: pa.Table) -> _Partial | None:
    """Exact daily sums of ``batch`` by rollup dimensions and raw tags (None when 38 digits may not do)."""
    n = batch.num_rows
    names = set(batch.column_names)
    columns: dict[str, Any] = {"usage_date": pc.cast(batch.column("charge_period_start"), pa.date32())}
    for name in (*_ROLLUP_DIMENSIONS, "tags"):
        columns[name] = batch.column(name) if name in names else pa.nulls(n, pa.string())
    shapes = [_decimal_shape(batch.column(name)) if name in names else (0, 1) for name in _ROLLUP_MONEY]
    scale = max(shape[0] for shape in shapes)
    digits = max(shape[1] for shape in shapes)
    if scale + digits + len(str(n)) + 1 > _MAX_DIGITS:
        return None
    money_type = pa.decimal128(_MAX_DIGITS, scale)
    for name in _ROLLUP_MONEY:
        values = batch.column(name) if name in names else pa.nulls(n, pa.string())
        columns[name] = values.cast(money_type)
    table = pa.table(columns)
    grouped = table.group_by(list(_ROLLUP_KEYS), use_threads=False).aggregate(
        [(name, "sum") for name in _ROLLUP_MONEY] + [([], "count_all")]
    )
    renamed = grouped.rename_columns(
        {**{f"{name}_sum": name for name in _ROLLUP_MONEY}, "count_all": "row_count"}
    )
    return _Partial(renamed, scale, digits)


def _combine_partials(partials: list[_Partial]) -> pa.Table | None:
    """All partials in one table with one money type; None when their sums may need more than 38 digits."""
    if not partials:
        return None
    scale = max(partial.scale for partial in partials)
    digits = max(partial.digits for partial in partials)
    total_rows = sum(pc.sum(partial.table.column("row_count")).as_py() or 0 for partial in partials)
    if scale + digits + len(str(total_rows)) + 1 > _MAX_DIGITS:
        return None
    money_type = pa.decimal128(_MAX_DIGITS, scale)
    for position, partial in enumerate(partials):
        table = partial.table
        for name in _ROLLUP_MONEY:
            if table.schema.field(name).type != money_type:
                index = table.schema.get_field_index(name)
                table = table.set_column(index, name, table.column(name).cast(money_type))
        partials[position] = _Partial(table, scale, digits)
    return pa.concat_tables([partial.table for partial in partials])


def _regroup(rows: pa.Table) -> pa.Table:
    """``rows`` summed per day, dimensions and projected ``tag_values``; money as decimal text."""
    keys = ["usage_date", *_ROLLUP_DIMENSIONS, "tag_values"]
    grouped = rows.group_by(keys, use_threads=False).aggregate(
        [(name, "sum") for name in (*_ROLLUP_MONEY, "row_count")]
    )
    columns: dict[str, Any] = {name: grouped.column(name) for name in keys}
    for name in _ROLLUP_MONEY:
        total = grouped.column(f"{name}_sum")
        # A group whose EffectiveCost/ListCost were all null sums to 0, as COALESCE(sum(...), 0) in SQL.
        columns[name] = pc.fill_null(total, pa.scalar(0, total.type)).cast(pa.string())
    columns["row_count"] = grouped.column("row_count_sum")
    return pa.table(columns)


def _tag_projection(tag_keys: tuple[str, ...], tags_sql: str, params: dict[str, Any]) -> str:
    """SQL of the configured tag keys' values of ``tags_sql`` as a JSON object (nulls stripped)."""
    pairs = []
    for index, key in enumerate(tag_keys):
        params[f"k{index}"] = key
        pairs.append(f"CAST(:k{index} AS text), {tags_sql} -> CAST(:k{index} AS text)")
    # jsonb_build_object over the configured keys (nulls stripped) is much cheaper than a per-row subquery.
    return f"jsonb_strip_nulls(jsonb_build_object({', '.join(pairs)}))" if pairs else "'{}'::jsonb"


def _account_scope(alias: str, account: uuid.UUID | None) -> str:
    """The predicate of one organisation's rows of one account (``:org``, ``:account``), or of its rows with no
    account (``account`` None); ``alias`` prefixes the columns (``"c."`` or ``""``).

    With an account, the organisation test is written ``(organization_id = :org) IS TRUE``: the same rows,
    but no index can use it, so the only index that fits is the account one (``(cloud_account_id, day)``).
    Otherwise, whenever the statistics lag (a table filled in a burst, days newer than the histogram, an
    organisation that grew since the last ANALYZE), every candidate looks like "one row" and the planner
    picks the smallest index on ``organization_id`` — filtering the whole organisation for each account
    (quadratic over a collection; measured in ``benchmarks/collect_accounts.py``). Never ``IS NOT DISTINCT
    FROM`` for the account either: no index can serve it.
    """
    if account is None:
        return f"{alias}organization_id = :org AND {alias}cloud_account_id IS NULL"
    return f"({alias}organization_id = :org) IS TRUE AND {alias}cloud_account_id = CAST(:account AS uuid)"


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
    account = () if cloud_account_id is None else (cloud_account_id,)
    return _refresh(connection, organization_id, start, end_exclusive, tag_keys, account=account)


def _refresh(
    connection: Connection,
    organization_id: uuid.UUID,
    start: date,
    end_exclusive: date,
    tag_keys: tuple[str, ...],
    *,
    account: tuple[uuid.UUID | None, ...],
) -> int:
    """``refresh_daily_rollup``; ``account = (id_or_None,)`` limits it to that account (None: no account)."""
    t0 = datetime(start.year, start.month, start.day, tzinfo=UTC)
    t1 = datetime(end_exclusive.year, end_exclusive.month, end_exclusive.day, tzinfo=UTC)
    params: dict[str, Any] = {"org": organization_id, "d0": start, "d1": end_exclusive, "t0": t0, "t1": t1}
    rollup_scope, data_scope = "organization_id = :org", "c.organization_id = :org"
    if account:
        params["account"] = account[0]
        rollup_scope, data_scope = _account_scope("", account[0]), _account_scope("c.", account[0])
    tag_values = _tag_projection(tag_keys, "c.tags", params)
    connection.execute(
        text(f"DELETE FROM cost_daily WHERE {rollup_scope} AND usage_date >= :d0 AND usage_date < :d1"),
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
            WHERE {data_scope} AND c.charge_period_start >= :t0 AND c.charge_period_start < :t1
            GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12
            """
        ),
        params,
    )
    return int(inserted.rowcount or 0)  # type: ignore[attr-defined]
