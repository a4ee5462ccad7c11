"""Collection step: the account's owned commitments (SDK inventory, #22) and their expiry notices.

Contract: :func:`collect_owned_commitments` asks a provider with the
:class:`~cloudoptima.clouds.owned_commitments.OwnedCommitmentsSource` capability for its commitments, replaces
what is stored of the account (:func:`cloudoptima.services.owned_commitments.store`) and, in the same
transaction, dispatches ``commitment.expiring`` for the organisation
(:func:`cloudoptima.services.event_notices.notify_commitments_expiring`, once per commitment and threshold).
It is best effort: a provider error (a denied ``ec2:DescribeReservedInstances`` /
``savingsplans:DescribeSavingsPlans`` / ``Microsoft.Capacity/reservations/read`` /
``compute.commitments.list`` included) stores nothing, keeps what an earlier read stored and is returned as
the reason; a connector without the capability is skipped. Every read of a capable connector is recorded
(:func:`cloudoptima.services.owned_commitments.record_read`): read, or ``unavailable: <permission>`` when
the error names the permission the credentials lack, else ``failed: <reason>`` — what ``GET
/v1/commitments`` shows, never a failed collection. Returns (commitments stored or None, reason or None).
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection

from cloudoptima.clouds.owned_commitments import OwnedCommitmentsSource
from cloudoptima.clouds.protocol import CloudProviderClient, CredentialsError, ProviderError
from cloudoptima.services.collection.context import CollectionContext
from cloudoptima.services.collection.results import AccountRef
from cloudoptima.services.event_notices import notify_commitments_expiring
from cloudoptima.services.owned_commitments import record_read, store

log = logging.getLogger(__name__)


def collect_owned_commitments(
    context: CollectionContext,
    ref: AccountRef,
    provider: CloudProviderClient,
    account_identifier: str,
    connection: Connection | None = None,
) -> tuple[int | None, str | None]:
    """See the module contract."""
    if not isinstance(provider, OwnedCommitmentsSource):
        return None, f"{type(provider).__name__} lists no owned commitments"
    now = context.now()
    try:
        items = provider.owned_commitments()
    except ProviderError as error:
        log.warning("owned commitments of %s not read: %s", account_identifier, error)
        permission = error.permission if isinstance(error, CredentialsError) else None
        with context.tenant(ref, connection) as session:
            record_read(
                session,
                ref.organization_id,
                provider.provider,
                account_identifier,
                now,
                permission=permission,
                reason=None if permission else str(error)[:500],
            )
        return None, f"reading the owned commitments failed: {error}"
    with context.tenant(ref, connection) as session:
        count = store(session, ref.organization_id, provider.provider, account_identifier, items, now)
        record_read(session, ref.organization_id, provider.provider, account_identifier, now)
        notify_commitments_expiring(
            session, ref.organization_id, now=now, publish=context.publish, public_url=context.public_url
        )
    return count, None
