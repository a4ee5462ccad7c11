"""Cloud accounts' display names by provider account id, for one organisation.

Contract: ``account_names(session, organization_id, identifiers)`` returns ``{account_identifier: account_name}``
for the identifiers given that have a named ``cloud_accounts`` row of that organisation (the others are left
out; when two providers share an identifier, the first by provider wins). Read-only; one query.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloudoptima.storage.models import CloudAccount


def account_names(
    session: Session, organization_id: uuid.UUID, identifiers: Iterable[str | None]
) -> dict[str, str]:
    """The names of the organisation's accounts among ``identifiers`` (see module contract)."""
    wanted = sorted({i for i in identifiers if i})
    if not wanted:
        return {}
    rows = session.execute(
        select(CloudAccount.account_identifier, CloudAccount.account_name)
        .where(
            CloudAccount.organization_id == organization_id,
            CloudAccount.account_identifier.in_(wanted),
            CloudAccount.account_name.is_not(None),
        )
        .order_by(CloudAccount.provider)
    ).all()
    names: dict[str, str] = {}
    for identifier, name in rows:
        names.setdefault(str(identifier), str(name))
    return names
