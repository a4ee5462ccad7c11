"""Which daily costs a question is about: SQL conditions on ``cost_daily`` for a budget scope or a
forecast scope (provider, accounts, services, a budget's scope), shared by budgets and forecasts.

Contract: every function returns ``(condition, parameters)``; the condition is a SQL boolean expression on
``cost_daily``'s columns (never the organisation — callers always filter it) and the parameter names are
prefixed so two conditions can be ANDed. An empty scope is ``TRUE``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cloudoptima.domain.budgets import BudgetScope, ScopeType

TEAM_TAG = "team"


@dataclass(frozen=True)
class ForecastScope:
    """Costs of one provider, some accounts (sub- or billing account ids), some services and/or what a
    budget covers; every part that is set must hold (AND). The empty scope is the whole organisation."""

    provider: str | None = None
    accounts: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    budget: BudgetScope | None = None
    cloud_account_ids: tuple[str, ...] = ()
    """Connected cloud accounts (``cloud_accounts.id``): what a cloud's own per-account forecast covers."""

    def describe(self) -> dict[str, Any]:
        """The scope as JSON (for responses and cache keys); ``cloud_account_ids`` only when set."""
        described: dict[str, Any] = {
            "provider": self.provider,
            "accounts": list(self.accounts),
            "services": list(self.services),
            "budget": self.budget.model_dump(mode="json") if self.budget else None,
        }
        if self.cloud_account_ids:
            described["cloud_account_ids"] = list(self.cloud_account_ids)
        return described


def budget_scope_sql(scope: BudgetScope, prefix: str = "b") -> tuple[str, dict[str, Any]]:
    """Condition of a budget scope: accounts, services, one tag's values or the ``team`` tag's values.

    An ``allocation`` scope has no condition on ``cost_daily`` (its spend is read from the allocated rollup,
    :func:`cloudoptima.services.budget_allocation.allocation_daily_spend`): ValueError."""
    values = f"{prefix}_values"
    if scope.type is ScopeType.ALLOCATION:
        raise ValueError("an allocation scope is read from the allocated rollup, not from cost_daily")
    if scope.type is ScopeType.ACCOUNT:
        if not scope.values:
            return "TRUE", {}
        return f"(sub_account_id = ANY(:{values}) OR billing_account_id = ANY(:{values}))", {
            values: scope.values
        }
    if scope.type is ScopeType.SERVICE:
        return f"service_name = ANY(:{values})", {values: scope.values}
    key = TEAM_TAG if scope.type is ScopeType.TEAM else scope.tag_key
    return f"tag_values ->> :{prefix}_tag_key = ANY(:{values})", {
        values: scope.values,
        f"{prefix}_tag_key": key,
    }


def forecast_scope_sql(scope: ForecastScope) -> tuple[str, dict[str, Any]]:
    """Condition of a forecast scope (every set part ANDed)."""
    parts: list[str] = []
    params: dict[str, Any] = {}
    if scope.provider:
        parts.append("provider = :s_provider")
        params["s_provider"] = scope.provider
    if scope.accounts:
        parts.append("(sub_account_id = ANY(:s_accounts) OR billing_account_id = ANY(:s_accounts))")
        params["s_accounts"] = list(scope.accounts)
    if scope.cloud_account_ids:
        parts.append("cloud_account_id = ANY(CAST(:s_cloud_accounts AS uuid[]))")
        params["s_cloud_accounts"] = list(scope.cloud_account_ids)
    if scope.services:
        parts.append("service_name = ANY(:s_services)")
        params["s_services"] = list(scope.services)
    if scope.budget is not None:
        condition, extra = budget_scope_sql(scope.budget)
        parts.append(condition)
        params |= extra
    return (" AND ".join(parts) if parts else "TRUE"), params
