"""Maintenance that sweeps every organisation one by one (report artifacts, export runs…).

Contract: :func:`per_organisation` calls ``prune(organisation id)`` for each organisation in id order (each
call scopes its own queries to that organisation) and returns the counts of those that lost something.
:func:`in_batches` runs ``step`` in one tenant transaction after another until a step handles fewer than
``batch_size`` rows, and returns how many all steps handled.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.storage.models import Organization
from cloudoptima.storage.tenancy import tenant_session


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


def in_batches(
    factory: sessionmaker[Session],
    organization_id: uuid.UUID,
    batch_size: int,
    step: Callable[[Session], int],
) -> int:
    """``step`` (handles at most ``batch_size`` rows, returns how many) repeated, each in its own committed
    tenant transaction, until it handles fewer; the total (module contract)."""
    if batch_size < 1:
        raise ValueError("batch_size: must be at least 1")
    total = 0
    while True:
        with tenant_session(factory, organization_id) as session:
            done = step(session)
        total += done
        if done < batch_size:
            return total


__all__ = ["in_batches", "per_organisation"]
