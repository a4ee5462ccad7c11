"""Maintenance that sweeps every organisation one by one (report artifacts, export runs…).

Contract: :func:`per_organisation` calls ``prune(organisation id)`` for each organisation in id order (each
call scopes its own queries to that organisation) and returns the counts of those that lost something.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.storage.models import Organization


def per_organisation(factory: sessionmaker[Session], prune: Callable[[uuid.UUID], int]) -> dict[str, int]:
    """``prune`` run for every organisation; the non-zero counts by organisation id (module contract)."""
    with factory() as session:
        organisations = session.scalars(select(Organization.id).order_by(Organization.id)).all()
    pruned: dict[str, int] = {}
    for organization_id in organisations:
        count = prune(organization_id)
        if count:
            pruned[str(organization_id)] = count
    return pruned


__all__ = ["per_organisation"]
