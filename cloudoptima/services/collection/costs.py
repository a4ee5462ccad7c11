"""The cost step: fetch a day window of one account and replace exactly those days of its cost rows.

Loads of the same account are serialised with a transaction advisory lock; different accounts load
concurrently. A re-collection never replaces detailed rows with coarser ones, day by day: a day whose fetched
rows carry no resource id but which already holds resource-level rows of the account is kept (counted in
``kept_days``); the other days are replaced. An incomplete read raises :class:`IncompleteReadError`
(retryable) and writes nothing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Connection, select, text

from cloudoptima.clouds.protocol import CloudProviderClient
from cloudoptima.services.allocation.engine import reallocate_days
from cloudoptima.services.collection.context import CollectionContext
from cloudoptima.services.collection.results import AccountRef, CostStep, IncompleteReadError
from cloudoptima.services.cost_rows import cost_batch
from cloudoptima.services.ingestion import rollup_tag_keys
from cloudoptima.storage.cost_loader import CostLoader, LoadTarget
from cloudoptima.storage.models import CloudAccount, Organization


def load_costs(
    context: CollectionContext,
    ref: AccountRef,
    row: CloudAccount,
    provider: CloudProviderClient,
    start: date,
    end: date,
    tag_keys: tuple[str, ...] | None,
    connection: Connection | None = None,
) -> CostStep:
    """Fetch ``[start, end)`` and replace those days of this account (one transaction).

    ``tag_keys``: the organisation's rollup tag keys when already read (None reads them in the transaction).
    """
    read = provider.costs(start, end)
    if not read.complete:
        raise IncompleteReadError(f"costs {start}..{end}", read.failures)
    source = f"collection:{row.provider}:{row.account_identifier}"
    detailed = {item.day for item in read.items if item.resource_id}
    # Days that may keep stored detail: all of a coarse read; the coarse days of a mixed one; none of a
    # detailed one (which then reads nothing before loading: the cost table is not locked ahead of the
    # loader's partition DDL).
    coarse = None if not detailed else {item.day for item in read.items} - detailed
    with context.transaction(connection) as bound:
        bound.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
            {"key": f"cloudoptima.collect:{ref.cloud_account_id}"},
        )
        if tag_keys is None:
            tag_keys = tag_keys_of(bound, ref)
        kept: set[date] = set()
        if coarse is None or coarse:
            kept = detailed_days(bound, ref, start, end)
            kept = kept if coarse is None else kept & coarse
        copied = replaced = 0
        for run_start, run_end in runs_without(start, end, kept):
            loader = CostLoader(
                bound,
                LoadTarget(
                    organization_id=ref.organization_id,
                    batch_id=uuid.uuid4(),
                    cloud_account_id=ref.cloud_account_id,
                    tag_keys=tag_keys,
                    replace_days=(run_start, run_end),
                ),
            )
            items = [i for i in read.items if run_start <= i.day < run_end]
            loader.copy_batch(cost_batch(items, source))
            result = loader.finish()
            reallocate_days(bound, ref.organization_id, run_start, run_end)  # allocated views follow
            copied += result.rows_copied
            replaced += result.rows_replaced
    return CostStep(
        start=start,
        end=end,
        rows=copied,
        replaced=replaced,
        billed_total=sum((item.billed_cost for item in read.items if item.day not in kept), Decimal(0)),
        kept_days=len(kept),
    )


def runs_without(start: date, end: date, skipped: set[date]) -> list[tuple[date, date]]:
    """The maximal day ranges ``[a, b)`` inside ``[start, end)`` that contain no day of ``skipped``.

    With nothing skipped this is ``[(start, end)]`` — also for an empty window, so a window that fetched no
    rows still replaces (clears) its days.
    """
    if not skipped:
        return [(start, end)]
    runs: list[tuple[date, date]] = []
    cursor = start
    while cursor < end:
        if cursor in skipped:
            cursor += timedelta(days=1)
            continue
        stop = cursor
        while stop < end and stop not in skipped:
            stop += timedelta(days=1)
        runs.append((cursor, stop))
        cursor = stop
    return runs


def detailed_days(connection: Connection, ref: AccountRef, start: date, end: date) -> set[date]:
    """Days of ``[start, end)`` on which this account already has resource-level cost rows."""
    rows = connection.execute(
        text(
            "SELECT DISTINCT CAST(charge_period_start AT TIME ZONE 'UTC' AS date) FROM cost_data "
            # Written so only the account index fits (see storage.cost_loader.account_scope).
            "WHERE (organization_id = :org) IS TRUE AND cloud_account_id = :account "
            "AND charge_period_start >= :t0 AND charge_period_start < :t1 AND resource_id IS NOT NULL"
        ),
        {
            "org": ref.organization_id,
            "account": ref.cloud_account_id,
            "t0": datetime(start.year, start.month, start.day, tzinfo=UTC),
            "t1": datetime(end.year, end.month, end.day, tzinfo=UTC),
        },
    )
    return {r[0] for r in rows}


def tag_keys_of(connection: Connection, ref: AccountRef) -> tuple[str, ...]:
    """The rollup tag keys of the account's organisation (its settings)."""
    org_settings = connection.execute(
        select(Organization.settings).where(Organization.id == ref.organization_id)
    ).scalar_one()
    return rollup_tag_keys(org_settings or {})
