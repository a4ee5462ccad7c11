"""The IAM step: upsert the account's principals into ``iam_principals``; principals missing from a complete
read are marked deleted. Denied parts of the read become permission problems."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, update
from sqlalchemy.dialects.postgresql import insert

from cloudoptima.clouds.protocol import CloudProviderClient
from cloudoptima.domain.inventory import Principal
from cloudoptima.services import collection_problems
from cloudoptima.services.collection.context import CollectionContext
from cloudoptima.services.collection.results import AccountRef, IamStep
from cloudoptima.storage.models import IamPrincipal

_PRINCIPAL_UPDATES = (
    "name",
    "kind",
    "status",
    "privileged",
    "active_credentials",
    "last_activity_at",
    "document",
    "last_seen",
)


def collect_iam(
    context: CollectionContext,
    ref: AccountRef,
    provider: CloudProviderClient,
    connection: Connection | None = None,
) -> IamStep:
    """Read and upsert the principals (one transaction)."""
    read = provider.iam()
    seen_at = context.now()
    rows = list(
        {principal.principal_id: _principal_row(ref, principal, seen_at) for principal in read.items}.values()
    )
    with context.tenant(ref, connection) as session:
        if rows:
            statement = insert(IamPrincipal)
            excluded = statement.excluded
            # RETURNING makes SQLAlchemy batch the rows into multi-row VALUES (see inventory_store);
            # one statement cannot touch a principal twice: a repeated one kept its last row above.
            session.execute(
                statement.on_conflict_do_update(
                    index_elements=["organization_id", "cloud_account_id", "principal_id"],
                    set_={name: getattr(excluded, name) for name in _PRINCIPAL_UPDATES},
                ).returning(IamPrincipal.id),
                rows,
            ).close()
        if read.complete:
            session.execute(
                update(IamPrincipal)
                .where(
                    IamPrincipal.organization_id == ref.organization_id,
                    IamPrincipal.cloud_account_id == ref.cloud_account_id,
                    IamPrincipal.principal_id.not_in([r["principal_id"] for r in rows]),
                    IamPrincipal.status != "deleted",
                )
                .values(status="deleted"),
                execution_options={"synchronize_session": False},
            )
    return IamStep(
        principals=len(rows),
        privileged=sum(1 for r in rows if r["privileged"]),
        complete=read.complete,
        permission_problems=collection_problems.from_failures("iam", read.failures),
    )


def _principal_row(ref: AccountRef, principal: Principal, seen_at: datetime) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "organization_id": ref.organization_id,
        "cloud_account_id": ref.cloud_account_id,
        "principal_id": principal.principal_id,
        "provider": str(principal.provider),
        "name": principal.name,
        "kind": str(principal.kind),
        "status": "active",
        "privileged": any(grant.privileged for grant in principal.grants),
        "active_credentials": sum(1 for credential in principal.credentials if credential.active),
        "last_activity_at": principal.last_activity_at,
        "document": principal.model_dump(mode="json"),
        "first_seen": seen_at,
        "last_seen": seen_at,
    }
