"""Adding a load's rows to ``cost_daily`` without reading ``cost_data`` again (:func:`add_to_rollup`): the partial
daily sums of the prepared batches, projected onto the tag keys by Postgres, COPYed straight into
``cost_daily`` or summed with the account's existing rollup rows of those days."""

from __future__ import annotations

import io
import uuid
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Connection, text

from cloudoptima.storage.cost_loader.daily_rollup import account_scope, tag_projection
from cloudoptima.storage.cost_loader.partials import ROLLUP_DIMENSIONS, Partial, combine_partials, regroup
from cloudoptima.storage.cost_loader.target import LoadTarget


def add_to_rollup(
    connection: Connection, target: LoadTarget, partials: list[Partial], start: date, end_exclusive: date
) -> int | None:
    """Sum ``partials`` into the target account's rollup rows of those days (None: sums may need > 38 digits).

    The tag projection is computed by Postgres once per distinct tags text (so it is exactly the
    ``jsonb`` the SQL rebuild produces); rows are regrouped by it in Arrow one day at a time (bounded
    memory) and COPYed, straight into ``cost_daily`` when the account has no rollup rows on those days,
    else through a temporary table summed with the existing rows.
    """
    combined = combine_partials(partials)
    partials.clear()
    if combined is None:
        return None
    tag_values = _project_tags(connection, target.tag_keys, combined.column("tags"))
    combined = combined.drop_columns(["tags"]).append_column("tag_values", tag_values)
    params: dict[str, Any] = {
        "org": target.organization_id,
        "account": target.cloud_account_id,
        "d0": start,
        "d1": end_exclusive,
    }
    existing = connection.execute(
        text(
            "SELECT EXISTS (SELECT 1 FROM cost_daily WHERE "
            f"{account_scope('', target.cloud_account_id)}"
            " AND usage_date >= :d0 AND usage_date < :d1)"
        ),
        params,
    ).scalar()
    dims = ", ".join(ROLLUP_DIMENSIONS)
    columns = f"usage_date, {dims}, tag_values, billed_cost, effective_cost, list_cost, row_count"
    if existing:
        destination = f"cost_daily_delta_{uuid.uuid4().hex}"
        connection.execute(
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
    raw: Any = connection.connection.driver_connection
    written = 0
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY {destination} ({', '.join(names)}) FROM STDIN WITH (FORMAT csv)") as copy,
    ):
        day_column = combined.column("usage_date")
        for day in pc.unique(day_column).to_pylist():
            grouped = regroup(combined.filter(pc.equal(day_column, pa.scalar(day, pa.date32()))))
            n = grouped.num_rows
            fixed = [pa.repeat(value, n).cast(pa.string()) for _, value in constants]
            rows = pa.table([*fixed, *grouped.columns], names=names)
            buffer = io.BytesIO()
            pacsv.write_csv(rows, buffer, pacsv.WriteOptions(include_header=False, batch_size=65536))
            copy.write(buffer.getbuffer())
            written += n
    if not existing:
        return written
    inserted = connection.execute(
        text(
            f"""
            WITH old AS (
                DELETE FROM cost_daily
                WHERE {account_scope("", target.cloud_account_id)}
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
    connection.execute(text(f"DROP TABLE {destination}"))
    return int(inserted.rowcount or 0)  # type: ignore[attr-defined]


def _project_tags(connection: Connection, tag_keys: tuple[str, ...], tags: pa.ChunkedArray) -> pa.Array:
    """The rollup ``tag_values`` text of every row: Postgres projects each distinct tags text once."""
    encoded = pc.dictionary_encode(tags.combine_chunks())
    params: dict[str, Any] = {"tags": encoded.dictionary.to_pylist()}
    projection = tag_projection(tag_keys, "CAST(t.tags AS jsonb)", params)
    rows = connection.execute(
        text(
            f"SELECT CAST(COALESCE({projection}, '{{}}'::jsonb) AS text) "
            "FROM unnest(CAST(:tags AS text[])) WITH ORDINALITY AS t(tags, n) ORDER BY t.n"
        ),
        params,
    ).scalars()
    projected = pa.array(list(rows), pa.string())
    # Rows without tags project to the empty object, as COALESCE(..., '{}') in the SQL rebuild.
    return pc.fill_null(pc.take(projected, encoded.indices), "{}")
