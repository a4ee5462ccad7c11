"""Edits of stored budgets (seed ``PUT``/``DELETE /budgets/{id}``), next to ``BudgetService.create``.

Contract: ``update_budget`` rewrites every field from a :class:`BudgetSpec` exactly as ``create`` stores it
and clears the alert state when the amount, period, dates, scope or thresholds change (old firings no
longer describe the new budget); ``delete_budget`` removes it. Another organisation's id is missing
(``LookupError``). The caller commits.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from cloudoptima.domain.budgets import BudgetSpec
from cloudoptima.storage.models import Budget
from cloudoptima.storage.tenancy import TenantRepository


class _Budgets(TenantRepository[Budget]):
    model = Budget


def _get(session: Session, organization_id: uuid.UUID, budget_id: uuid.UUID) -> tuple[_Budgets, Budget]:
    repo = _Budgets(session, organization_id)
    row = repo.get(budget_id)
    if row is None:
        raise LookupError(f"budget {budget_id} not found")
    return repo, row


def update_budget(
    session: Session, organization_id: uuid.UUID, budget_id: uuid.UUID, spec: BudgetSpec
) -> Budget:
    _, row = _get(session, organization_id, budget_id)
    before = (row.amount, row.period, row.start_date, row.end_date, row.scope_filters, row.alert_thresholds)
    row.name = spec.name
    row.amount = spec.amount
    row.currency = spec.currency.upper()
    row.period = spec.period.value
    row.start_date = spec.start_date
    row.end_date = spec.end_date
    row.scope_type = spec.scope.type.value
    row.scope_filters = spec.scope.model_dump(mode="json")
    row.alert_thresholds = [a.model_dump(mode="json") for a in spec.alerts]
    after = (row.amount, row.period, row.start_date, row.end_date, row.scope_filters, row.alert_thresholds)
    if before != after:
        row.alert_state = {}
        row.last_evaluation = None
    session.flush()
    return row


def delete_budget(session: Session, organization_id: uuid.UUID, budget_id: uuid.UUID) -> None:
    repo, row = _get(session, organization_id, budget_id)
    repo.delete(row)
