"""Inputs and results of the analysis workflows and activities (pydantic messages, see
``cloudoptima_workflows.message``; ids are UUID strings, days ISO dates, money ``Decimal`` (a decimal string on the wire))."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from cloudoptima_workflows.message import Message


class AnalyseOrganisationInput(Message):
    """Analyse one organisation as of ``today`` (None: the activity's clock) over ``lookback_days``."""

    organization_id: str
    lookback_days: int = 90
    today: str | None = None
    policy_task_queue: str = "remediation"
    """Where ``PolicyTriggers`` runs (started once the analysis is done)."""


class AnalyseAllInput(Message):
    """A run over every organisation, or only ``organization_id`` when given."""

    lookback_days: int = 90
    today: str | None = None
    organization_id: str | None = None


class OrganisationList(Message):
    organization_ids: list[str]


class AnomalyDigest(Message):
    """One incident the run touched, as the WebSocket ``anomalies`` channel shows it (money as strings there)."""

    id: str
    severity: str
    status: str
    start_date: str | None
    service_name: str | None
    region: str | None
    impact_amount: Decimal | None
    deviation_percent: Decimal | None
    root_cause: str | None
    root_cause_source: str


class AnomalyStepResult(Message):
    incidents: int
    created: int
    updated: int
    resolved: int
    touched: list[AnomalyDigest] = Field(default_factory=list)
    """The incidents this run created or updated, largest impact first (at most ``MAX_DIGESTS``)."""


MAX_DIGESTS = 20


class RecommendationStepResult(Message):
    found: int
    created: int
    updated: int
    reactivated: int
    expired: int


class BudgetAlert(Message):
    budget_id: str
    name: str
    threshold: Decimal
    type: str
    spend: Decimal
    limit: Decimal


class BudgetStepResult(Message):
    evaluated: int
    alerts: list[BudgetAlert] = Field(default_factory=list)


class PublishInput(Message):
    organization_id: str
    anomalies: AnomalyStepResult | None = None
    recommendations: RecommendationStepResult | None = None
    budgets: BudgetStepResult | None = None


class AnalyseOrganisationResult(Message):
    organization_id: str
    anomalies: AnomalyStepResult
    recommendations: RecommendationStepResult
    budgets: BudgetStepResult
    events: int


class ForecastInput(Message):
    organization_id: str
    today: str | None = None
    history_days: int = 90
    days_ahead: int = 30


class ForecastStepResult(Message):
    currencies: list[str]
    totals: list[str]


class FanOutResult(Message):
    """A run over every organisation: which succeeded and which failed (with the reason)."""

    succeeded: list[str]
    failed: list[str]
