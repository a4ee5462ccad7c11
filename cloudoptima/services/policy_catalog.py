"""Listing and deleting an organisation's policies (next to ``PolicyService``, which creates and runs them).

Contract: ``list_policies`` returns the organisation's policies by name; ``delete_policy`` removes one and
its execution history (``policy_executions`` cascade); another organisation's id is missing
(``LookupError``). The caller commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from cloudoptima.storage.models import Policy
from cloudoptima.storage.tenancy import TenantRepository


class _Policies(TenantRepository[Policy]):
    model = Policy


def list_policies(session: Session, organization_id: uuid.UUID) -> Sequence[Policy]:
    repo = _Policies(session, organization_id)
    return session.scalars(repo.query().order_by(Policy.name, Policy.id)).all()


def delete_policy(session: Session, organization_id: uuid.UUID, policy_id: uuid.UUID) -> None:
    repo = _Policies(session, organization_id)
    row = repo.get(policy_id)
    if row is None:
        raise LookupError(f"policy {policy_id} not found")
    repo.delete(row)
