"""Inputs and results of the analysis workflows and activities (plain dataclasses; ids are UUID strings,
days ISO dates, money decimal strings)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class AnalyseOrganisationInput:
    """Analyse one organisation as of ``today`` (None: the activity's clock) over ``lookback_days``."""

    organization_id: str
    lookback_days: int = 90
    today: str | None = None
    policy_task_queue: str = "remediation"
    """Where ``PolicyTriggers`` runs (started once the analysis is done)."""


@dataclass(frozen=True)
class AnalyseAllInput:
    """A run over every organisation, or only ``organization_id`` when given."""

    lookback_days: int = 90
    today: str | None = None
    organization_id: str | None = None


@dataclass(frozen=True)
class OrganisationList:
    organization_ids: list[str]


@dataclass(frozen=True)
class AnomalyDigest:
    """One incident the run touched, as the WebSocket ``anomalies`` channel shows it (money as strings)."""

    id: str
    severity: str
    status: str
    start_date: str | None
    service_name: str | None
    region: str | None
    impact_amount: str | None
    deviation_percent: str | None
    root_cause: str | None
    root_cause_source: str


@dataclass(frozen=True)
class AnomalyStepResult:
    incidents: int
    created: int
    updated: int
    resolved: int
    touched: list[AnomalyDigest] = field(default_factory=list)
    """The incidents this run created or updated, largest impact first (at most ``MAX_DIGESTS``)."""


MAX_DIGESTS = 20


@dataclass(frozen=True)
class RecommendationStepResult:
    found: int
    created: int
    updated: int
    reactivated: int
    expired: int


@dataclass(frozen=True)
class BudgetAlert:
    budget_id: str
    name: str
    threshold: str
    type: str
    spend: str
    limit: str


@dataclass(frozen=True)
class BudgetStepResult:
    evaluated: int
    alerts: list[BudgetAlert] = field(default_factory=list)


@dataclass(frozen=True)
class PublishInput:
    organization_id: str
    anomalies: AnomalyStepResult | None = None
    recommendations: RecommendationStepResult | None = None
    budgets: BudgetStepResult | None = None


@dataclass(frozen=True)
class AnalyseOrganisationResult:
    organization_id: str
    anomalies: AnomalyStepResult
    recommendations: RecommendationStepResult
    budgets: BudgetStepResult
    events: int


@dataclass(frozen=True)
class ForecastInput:
    organization_id: str
    today: str | None = None
    history_days: int = 90
    days_ahead: int = 30


@dataclass(frozen=True)
class ForecastStepResult:
    currencies: list[str]
    totals: list[str]


@dataclass(frozen=True)
class FanOutResult:
    """A run over every organisation: which succeeded and which failed (with the reason)."""

    succeeded: list[str]
    failed: list[str]
