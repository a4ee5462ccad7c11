"""``cost_daily`` rebuilt in SQL from ``cost_data`` (:func:`refresh_daily_rollup`), and the two SQL pieces every
rollup statement shares: the account scope predicate (:func:`account_scope`) and the tag-key projection
(:func:`tag_projection`)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, text


def tag_projection(tag_keys: tuple[str, ...], tags_sql: str, params: dict[str, Any]) -> str:
    """SQL of the configured tag keys' values of ``tags_sql`` as a JSON object (nulls stripped)."""
    pairs = []
    for index, key in enumerate(tag_keys):
        params[f"k{index}"] = key
        pairs.append(f"CAST(:k{index} AS text), {tags_sql} -> CAST(:k{index} AS text)")
    # jsonb_build_object over the configured keys (nulls stripped) is much cheaper than a per-row subquery.
    return f"jsonb_strip_nulls(jsonb_build_object({', '.join(pairs)}))" if pairs else "'{}'::jsonb"


def account_scope(alias: str, account: uuid.UUID | None) -> str:
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
    return refresh_rollup(connection, organization_id, start, end_exclusive, tag_keys, account=account)


def refresh_rollup(
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
        rollup_scope, data_scope = account_scope("", account[0]), account_scope("c.", account[0])
    tag_values = tag_projection(tag_keys, "c.tags", params)
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
