"""Budgets of an organisation: create, evaluate against ``cost_daily`` and the forecaster, persist alert state.

Contract:
- ``create(spec)`` stores a :class:`~cloudoptima.domain.budgets.BudgetSpec` (scope and thresholds as JSON).
- ``evaluate(budget_id, as_of)`` takes the period containing ``as_of`` (a UTC date; spend counts the days
  before it), sums the scoped ``cost_daily.billed_cost`` of the budget's currency, forecasts the rest of
  the period with ``forecast_costs`` from up to ``history_days`` of scoped daily spend (missing days inside
  the history are zero spend), fires thresholds once per period (``budgets.alert_state``; a new period
  resets it) and stores the evaluation in ``last_evaluation``. The caller commits.
- Scopes: ``account`` = sub account (or billing account) ids, all accounts when empty; ``service`` =
  service names; ``tag`` = values of one tag key; ``team`` = values of the ``team`` tag. Tag scopes read the
  rollup's tag columns (the organisation's rollup tag keys); ``allocation`` = values of an allocation
  dimension, read from its active version's allocated rollup (``cloudoptima.services.budget_allocation``),
  with the same days, currency and forecast as every other scope.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from cloudoptima.analytics.budgets import evaluate_budget, period_bounds
from cloudoptima.analytics.forecasting import forecast_costs
from cloudoptima.domain.analytics import ForecastModelName
from cloudoptima.domain.budgets import (
    AlertThreshold,
    BudgetEvaluation,
    BudgetPeriod,
    BudgetScope,
    BudgetSpec,
    ScopeType,
)
from cloudoptima.services.budget_allocation import allocation_daily_spend
from cloudoptima.services.cost_scope import budget_scope_sql
from cloudoptima.storage.models import Budget
from cloudoptima.storage.tenancy import TenantRepository


class _BudgetRepository(TenantRepository[Budget]):
    model = Budget


class BudgetService:
    """Budgets of one organisation over one session (the caller commits)."""

    def __init__(
        self,
        session: Session,
        organization_id: uuid.UUID,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        forecast_model: ForecastModelName = "auto",
        history_days: int = 90,
    ) -> None:
        self._session = session
        self._org = organization_id
        self._repo = _BudgetRepository(session, organization_id)
        self._now = now
        self._model: ForecastModelName = forecast_model
        self._history_days = history_days

    def create(self, spec: BudgetSpec) -> Budget:
        """Store a new budget."""
        row = Budget(
            name=spec.name,
            amount=spec.amount,
            currency=spec.currency.upper(),
            period=spec.period.value,
            start_date=spec.start_date,
            end_date=spec.end_date,
            scope_type=spec.scope.type.value,
            scope_filters=spec.scope.model_dump(mode="json"),
            alert_thresholds=[a.model_dump(mode="json") for a in spec.alerts],
            alert_state={},
        )
        return self._repo.add(row)

    def get(self, budget_id: uuid.UUID) -> Budget:
        """One budget; ``LookupError`` when absent (or of another organisation)."""
        row = self._repo.get(budget_id)
        if row is None:
            raise LookupError(f"budget {budget_id} not found")
        return row

    def list(self) -> Sequence[Budget]:
        """Every budget of the organisation, by name."""
        return self._session.scalars(self._repo.query().order_by(Budget.name)).all()

    def daily_spend(self, scope: BudgetScope, currency: str, start: date, end: date) -> dict[date, Decimal]:
        """Scoped spend per day of ``[start, end)`` (days without rows are absent)."""
        if scope.type is ScopeType.ALLOCATION:
            return allocation_daily_spend(self._session.connection(), self._org, scope, currency, start, end)
        where, params = budget_scope_sql(scope)
        rows = self._session.execute(
            text(
                "SELECT usage_date, sum(billed_cost) FROM cost_daily WHERE organization_id = :org "
                f"AND billing_currency = :currency AND usage_date >= :d0 AND usage_date < :d1 AND {where} "
                "GROUP BY 1 ORDER BY 1"
            ),
            {"org": self._org, "currency": currency, "d0": start, "d1": end, **params},
        ).all()
        return {row[0]: Decimal(row[1]) for row in rows}

    def _forecast(self, scope: BudgetScope, currency: str, as_of: date, period_end: date) -> Decimal | None:
        remaining = (period_end - as_of).days
        if remaining <= 0:
            return Decimal(0)
        history = self.daily_spend(scope, currency, as_of - timedelta(days=self._history_days), as_of)
        if not history:
            return None
        first = min(history)
        days = [first + timedelta(days=n) for n in range((as_of - first).days)]
        series = [(d, history.get(d, Decimal(0))) for d in days]
        result = forecast_costs(series, days_ahead=min(remaining, 365), model=self._model)
        return result.total

    @staticmethod
    def scope_of(row: Budget) -> BudgetScope:
        """The stored scope of ``row``."""
        return BudgetScope.model_validate(row.scope_filters or {"type": row.scope_type or "account"})

    def assess(self, row: Budget, day: date, as_of: date) -> BudgetEvaluation:
        """Evaluate ``row``'s period containing ``day`` with the spend of its days before ``as_of`` (which may be
        the period's end, for a finished period) as :meth:`evaluate` does, but store nothing (reports read it)."""
        scope = self.scope_of(row)
        thresholds = [AlertThreshold.model_validate(t) for t in row.alert_thresholds or []]
        start, end = period_bounds(BudgetPeriod(row.period), day, row.start_date, row.end_date)
        current = sum(self.daily_spend(scope, row.currency, start, as_of).values(), Decimal(0))
        return evaluate_budget(
            amount=row.amount,
            period_start=start,
            period_end=end,
            as_of=as_of,
            current_spend=current,
            forecast_remaining=self._forecast(scope, row.currency, as_of, end),
            thresholds=thresholds,
            alert_state=row.alert_state,
            now=self._now(),
        )

    def evaluate(self, budget_id: uuid.UUID, as_of: date | None = None) -> BudgetEvaluation:
        """Evaluate the budget's current period and persist the alert state (see module contract)."""
        row = self.get(budget_id)
        day = as_of or self._now().date()
        evaluation = self.assess(row, day, day)
        row.alert_state = evaluation.alert_state
        row.last_evaluated_at = self._now()
        row.last_evaluation = evaluation.model_dump(mode="json", exclude={"alert_state"})
        self._session.flush()
        return evaluation
