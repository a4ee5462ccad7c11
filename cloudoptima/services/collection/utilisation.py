"""The utilisation step: append hourly series of the account's live instances and databases to the
utilisation history, then write their summaries to ``resources.metrics`` (what the rules read) and drop
history months older than the retention.

A resource never read is backfilled from ``start``; one read before is read again from the last day it was
read (which may have been partial), so later collections only append. A chunk whose read reported a failure
does not advance its resources' cursors. A denied read writes nothing and moves no cursor.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, select, text

from cloudoptima.clouds.protocol import CloudProviderClient, CredentialsError
from cloudoptima.domain.inventory import Resource, ResourceKind, ResourceState
from cloudoptima.services import collection_problems
from cloudoptima.services.collection.context import CollectionContext, failure_labels
from cloudoptima.services.collection.results import AccountRef, Heartbeat, UtilisationStep
from cloudoptima.services.recommendations import resource_from_document
from cloudoptima.storage import utilisation_history
from cloudoptima.storage.models import ResourceDocument

UTILISATION_KINDS = (ResourceKind.COMPUTE_INSTANCE.value, ResourceKind.DATABASE.value)
UTILISATION_CHUNK = 50
UTILISATION_BACKFILL_DAYS = (
    30  # a first collection reads this far back (CloudWatch keeps hourly data 63 days)
)
UTILISATION_WINDOW_DAYS = 93  # summaries (what the rules read) cover this much of the stored history
UTILISATION_RETENTION_DAYS = 93  # whole months of history older than this are dropped


def utilisation_targets(
    context: CollectionContext, ref: AccountRef, connection: Connection | None = None
) -> list[Resource]:
    """The stored live instances and databases of the account."""
    with context.tenant(ref, connection) as session:
        docs = session.scalars(
            select(ResourceDocument).where(
                ResourceDocument.organization_id == ref.organization_id,
                ResourceDocument.cloud_account_id == ref.cloud_account_id,
                ResourceDocument.resource_type.in_(UTILISATION_KINDS),
                ResourceDocument.status != "deleted",
            )
        ).all()
        return [resource_from_document(doc) for doc in docs]


def collect_utilisation(
    context: CollectionContext,
    ref: AccountRef,
    provider: CloudProviderClient,
    start: date,
    end: date,
    heartbeat: Heartbeat | None,
    inventory: Sequence[Resource] | None,
    connection: Connection | None = None,
) -> UtilisationStep:
    """Append the hourly history of the live instances and databases, then refresh their summaries.

    ``start`` bounds the backfill of a resource with no history; one with history is read again from
    the day of its newest stored hour (completing a partial day) up to ``end``. Summaries cover the last
    ``context.utilisation_window_days`` of the stored history before ``end``. ``inventory``: the complete read
    just upserted (its live instances and databases are exactly the stored ones), so the targets need not
    be read back; None reads them from ``resources``. Resources whose read was denied (the call raised
    a permission denial — then the remaining chunks are not read — or listed a denied part) are
    reported in ``permission_problems``; nothing of theirs is written. ``heartbeat`` is called between chunks.
    """
    if inventory is None:
        targets = utilisation_targets(context, ref, connection)
    else:
        targets = [
            r for r in inventory if str(r.kind) in UTILISATION_KINDS and r.state is not ResourceState.DELETED
        ]
    with context.transaction(connection) as bound:
        known = utilisation_history.read_until(bound, ref.organization_id, ref.cloud_account_id)
    groups: dict[date, list[Resource]] = {}
    for resource in targets:
        cursor = known.get(resource.resource_id)
        # The last day read may have been partial (read before its end): read it again.
        since = max(start, cursor - timedelta(days=1)) if cursor is not None else start
        groups.setdefault(min(since, end), []).append(resource)
    failures: list[str] = []
    denied: dict[str, list[Resource]] = {}
    refused: str | None = None  # a permission the whole read was denied: the other chunks are not read
    series = samples = done = 0
    for since, members in sorted(groups.items(), key=lambda kv: kv[0]):
        for offset in range(0, len(members), UTILISATION_CHUNK):
            chunk = members[offset : offset + UTILISATION_CHUNK]
            read = None
            if refused is not None:
                denied[refused].extend(chunk)
            elif since < end:
                try:
                    read = provider.utilisation(chunk, since, end)
                except CredentialsError as exc:
                    refused = collection_problems.denied(exc, "utilisation", "utilisation").permission
                    denied.setdefault(refused, []).extend(chunk)
            if read is not None:
                for permission, resources in collection_problems.denied_in(chunk, read.failures).items():
                    denied.setdefault(permission, []).extend(resources)
                failures += failure_labels(read.failures)
                series += len(read.items)
                with context.transaction(connection) as bound:
                    samples += utilisation_history.store(
                        bound, ref.organization_id, ref.cloud_account_id, read.items
                    )
                    if not read.failures:
                        utilisation_history.advance(
                            bound,
                            ref.organization_id,
                            ref.cloud_account_id,
                            [r.resource_id for r in chunk],
                            end,
                        )
            done += len(chunk)
            if heartbeat is not None:
                heartbeat(f"{done}/{len(targets)}")
    window_end = datetime(end.year, end.month, end.day, tzinfo=UTC)
    with context.transaction(connection) as bound:
        summaries = utilisation_history.summaries(
            bound,
            ref.organization_id,
            ref.cloud_account_id,
            window_end - timedelta(days=context.utilisation_window_days),
            window_end,
            [r.resource_id for r in targets],
        )
        if summaries:
            bound.execute(
                text(
                    "UPDATE resources r SET metrics = v.metrics FROM ("
                    " SELECT unnest(CAST(:ids AS text[])) AS resource_id,"
                    " unnest(CAST(:metrics AS jsonb[])) AS metrics) v "
                    "WHERE r.organization_id = :org AND r.cloud_account_id = :account "
                    "AND r.resource_id = v.resource_id"
                ),
                {
                    "ids": list(summaries),
                    "metrics": [json.dumps(summary) for summary in summaries.values()],
                    "org": ref.organization_id,
                    "account": ref.cloud_account_id,
                },
            )
        prune_history(bound, window_end - timedelta(days=context.utilisation_retention_days))
    return UtilisationStep(
        resources=len(summaries),
        series=series,
        failures=failures,
        samples=samples,
        permission_problems=collection_problems.utilisation_problems(denied),
    )


def prune_history(connection: Connection, before: datetime) -> None:
    """Drop history months older than ``before``: checked without a lock; the drop (about once a month) is
    serialised, and a collection that finds another one dropping leaves it to that one."""
    if not utilisation_history.prunable(connection, before):
        return
    locked = connection.execute(
        text("SELECT pg_try_advisory_xact_lock(hashtext('cloudoptima.utilisation_prune'))")
    ).scalar()
    if locked:
        utilisation_history.prune(connection, before)
