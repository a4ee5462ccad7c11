"""Analysis activities: one organisation's anomalies, recommendations, budgets, forecasts and events.

Each activity runs one kernel service in one tenant-scoped transaction (``tenant_session``), so a retry
re-runs a whole step; the services dedupe by fingerprint and keep alert state per period, so re-runs update
rows instead of adding them. Recommendations price with the sandbox list-price catalogue (the only
``PriceCatalog`` implementation so far).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from cloudoptima.services.anomalies import AnomalyService
from cloudoptima.services.applied_by_hand import detect_applied_by_hand
from cloudoptima.services.budgets import BudgetService
from cloudoptima.services.event_notices import (
    notify_anomalies_detected,
    notify_recommendations_created,
    notify_recommendations_overdue,
)
from cloudoptima.services.events import Publish
from cloudoptima.services.forecast_refresh import refresh_forecasts
from cloudoptima.services.inbox import notify_budget_alerts
from cloudoptima.services.price_catalog import price_catalog_for
from cloudoptima.services.recommendations import RecommendationService
from cloudoptima.storage.models import Anomaly, Organization, Recommendation
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_workflows.analysis.inputs import (
    MAX_DIGESTS,
    AnalyseAllInput,
    AnalyseOrganisationInput,
    AnomalyDigest,
    AnomalyStepResult,
    BudgetAlert,
    BudgetStepResult,
    ForecastInput,
    ForecastStepResult,
    OrganisationList,
    PublishInput,
    RecommendationStepResult,
)
from cloudoptima_workflows.analysis.interface import AnalysisActivityInterface

Explain = Callable[[Session, uuid.UUID, list[uuid.UUID]], int]
"""Writes an explanation onto each of these anomalies in the session (the root-cause agent, wired by the
worker's composition root); returns how many were explained. The session commits with the step."""

Narrate = Callable[[Session, uuid.UUID, list[uuid.UUID]], int]
"""Makes sure each of these recommendations has its stored narratives for its current evidence (the
narrator agent, wired by the worker; a recommendation whose evidence did not change is not rewritten);
returns how many it looked at. The session commits with the step."""

NARRATED_PER_RUN = 25
"""The analysis step keeps the narratives of this many active recommendations (highest priority first)."""


def _digest(row: Anomaly) -> AnomalyDigest:
    return AnomalyDigest(
        id=str(row.id),
        severity=row.severity,
        status=row.status,
        start_date=row.start_date.isoformat() if row.start_date else None,
        service_name=row.service_name,
        region=row.region,
        impact_amount=row.impact_amount,
        deviation_percent=row.deviation_percent,
        root_cause=row.root_cause,
        root_cause_source=row.root_cause_source,
    )


def _today(value: str | None, now: Callable[[], datetime]) -> date:
    return date.fromisoformat(value) if value else now().date()


class AnalysisActivities(AnalysisActivityInterface):
    """Activities bound to a session factory and an event publisher (wired in ``worker.main``)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        publish: Publish | None = None,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        explain: Explain | None = None,
        narrate: Narrate | None = None,
        console_url: str | None = None,
        public_url: str | None = None,
    ) -> None:
        self._sessions = sessions
        self._publish = publish
        self._now = now
        self._explain = explain
        self._narrate = narrate
        self._console_url = console_url
        self._public_url = public_url

    @activity.defn(name="analysis.list_organisations")
    def list_organisations(self, params: AnalyseAllInput) -> OrganisationList:
        """Every organisation (system-wide: the scheduler's fan-out), or the one ``params`` names."""
        query = select(Organization.id).order_by(Organization.id)
        if params.organization_id:
            query = query.where(Organization.id == uuid.UUID(params.organization_id))
        with self._sessions() as session:
            ids = session.scalars(query).all()
        return OrganisationList(organization_ids=[str(i) for i in ids])

    @activity.defn(name="analysis.anomalies")
    def anomalies(self, params: AnalyseOrganisationInput) -> AnomalyStepResult:
        """Detect incidents over ``lookback_days`` up to today, per currency present; each new incident is
        dispatched (``anomaly.detected``, after its explanation, in the same transaction) through the
        organisation's notification rules (``cloudoptima.services.event_notices``)."""
        org = uuid.UUID(params.organization_id)
        end = _today(params.today, self._now) + timedelta(days=1)
        start = end - timedelta(days=params.lookback_days)
        total = AnomalyStepResult(incidents=0, created=0, updated=0, resolved=0)
        with tenant_session(self._sessions, org) as session:
            currencies = session.scalars(
                text(
                    "SELECT DISTINCT billing_currency FROM cost_daily "
                    "WHERE organization_id = :org AND usage_date >= :d0 AND usage_date < :d1 ORDER BY 1"
                ),
                {"org": org, "d0": start, "d1": end},
            ).all()
            service = AnomalyService(session, org, now=self._now)
            run_started = self._now()
            created: dict[str, list[uuid.UUID]] = {}
            for currency in currencies:
                report = service.run(start, end, currency=str(currency))
                created[str(currency)] = report.created_ids
                total = AnomalyStepResult(
                    incidents=total.incidents + len(report.incidents),
                    created=total.created + report.created,
                    updated=total.updated + report.updated,
                    resolved=total.resolved + report.resolved,
                )
            if self._explain is not None:
                touched = session.scalars(
                    select(Anomaly.id).where(
                        Anomaly.organization_id == org,
                        Anomaly.last_seen_at >= run_started,
                        Anomaly.root_cause_source == "contributions",
                    )
                ).all()
                if touched:
                    if activity.in_activity():
                        activity.heartbeat(f"explaining {len(touched)} incidents")
                    self._explain(session, org, list(touched))
            for currency, ids in created.items():
                notify_anomalies_detected(
                    session,
                    org,
                    ids,
                    currency=currency,
                    now=self._now(),
                    publish=self._publish,
                    console_url=self._console_url,
                    public_url=self._public_url,
                )
            digests = [
                _digest(row)
                for row in session.scalars(
                    select(Anomaly)
                    .where(Anomaly.organization_id == org, Anomaly.last_seen_at >= run_started)
                    .order_by(Anomaly.impact_amount.desc().nulls_last(), Anomaly.id)
                    .limit(MAX_DIGESTS)
                )
            ]
        return total.model_copy(update={"touched": digests})

    @activity.defn(name="analysis.recommendations")
    def recommendations(self, params: AnalyseOrganisationInput) -> RecommendationStepResult:
        """Generate the organisation's recommendations; each new one is dispatched
        (``recommendation.created``, in the same transaction) through its notification rules, and so is each
        accepted one past its due date, once per due date (``recommendation.overdue``, to its owner)."""
        org = uuid.UUID(params.organization_id)
        as_of = (
            datetime.combine(date.fromisoformat(params.today), datetime.min.time(), UTC)
            if params.today
            else None
        )
        with tenant_session(self._sessions, org) as session:
            prices = price_catalog_for(session, org)
            # before the run: a recommendation whose change was made by hand would otherwise expire unmeasured
            detect_applied_by_hand(session, org, self._now())
            report = RecommendationService(session, org, prices, now=self._now).run(as_of)
            if self._narrate is not None:
                top = session.scalars(
                    select(Recommendation.id)
                    .where(Recommendation.organization_id == org, Recommendation.status == "active")
                    .order_by(Recommendation.priority.desc().nulls_last(), Recommendation.id)
                    .limit(NARRATED_PER_RUN)
                ).all()
                if top:
                    if activity.in_activity():
                        activity.heartbeat(f"narrating {len(top)} recommendations")
                    self._narrate(session, org, list(top))
            notify_recommendations_created(
                session,
                org,
                report.created_ids,
                now=self._now(),
                publish=self._publish,
                console_url=self._console_url,
                public_url=self._public_url,
            )
            notify_recommendations_overdue(
                session,
                org,
                now=self._now(),
                publish=self._publish,
                console_url=self._console_url,
                public_url=self._public_url,
            )
        return RecommendationStepResult(
            found=len(report.recommendations),
            created=report.created,
            updated=report.updated,
            reactivated=report.reactivated,
            expired=report.expired,
        )

    @activity.defn(name="analysis.budgets")
    def budgets(self, params: AnalyseOrganisationInput) -> BudgetStepResult:
        """Evaluate every budget of the organisation; returns the thresholds that fired now (each also dispatched,
        in the same transaction, through the organisation's notification rules: by default to the inbox of
        its admins)."""
        org = uuid.UUID(params.organization_id)
        today = _today(params.today, self._now)
        alerts: list[BudgetAlert] = []
        with tenant_session(self._sessions, org) as session:
            service = BudgetService(session, org, now=self._now)
            budgets = list(service.list())
            for budget in budgets:
                evaluation = service.evaluate(budget.id, today)
                if evaluation.fired:  # the admins' inbox keeps what the budget_alerts event only announces
                    notify_budget_alerts(
                        session,
                        org,
                        budget_id=budget.id,
                        budget_name=budget.name,
                        period_start=evaluation.period_start,
                        fired=evaluation.fired,
                        now=self._now(),
                        publish=self._publish,
                        currency=budget.currency,
                        console_url=self._console_url,
                        public_url=self._public_url,
                    )
                alerts += [
                    BudgetAlert(
                        budget_id=str(budget.id),
                        name=budget.name,
                        threshold=event.threshold,
                        type=str(event.type),
                        spend=event.spend,
                        limit=event.limit,
                    )
                    for event in evaluation.fired
                ]
        return BudgetStepResult(evaluated=len(budgets), alerts=alerts)

    @activity.defn(name="analysis.publish")
    def publish(self, params: PublishInput) -> int:
        """Publish what changed: anomalies, recommendations, fired budget alerts. Returns events sent."""
        if self._publish is None:
            return 0
        org, sent = uuid.UUID(params.organization_id), 0
        if params.anomalies is not None and (params.anomalies.created or params.anomalies.resolved):
            self._publish(org, "anomalies", params.anomalies.model_dump(mode="json"))
            sent += 1
        if params.recommendations is not None and (
            params.recommendations.created
            or params.recommendations.expired
            or params.recommendations.reactivated
        ):
            self._publish(org, "recommendations", params.recommendations.model_dump(mode="json"))
            sent += 1
        if params.budgets is not None and params.budgets.alerts:
            self._publish(
                org, "budget_alerts", {"alerts": [a.model_dump(mode="json") for a in params.budgets.alerts]}
            )
            sent += 1
        return sent

    @activity.defn(name="analysis.forecast")
    def forecast(self, params: ForecastInput) -> ForecastStepResult:
        org = uuid.UUID(params.organization_id)
        today = _today(params.today, self._now)
        with tenant_session(self._sessions, org) as session:
            refreshed = refresh_forecasts(
                session, org, today, history_days=params.history_days, days_ahead=params.days_ahead
            )
        if refreshed and self._publish is not None:
            self._publish(
                org,
                "forecasts",
                {
                    "forecasts": [
                        {"currency": f.currency, "total": str(f.total), "model": f.model} for f in refreshed
                    ]
                },
            )
        return ForecastStepResult(
            currencies=[f.currency for f in refreshed], totals=[str(f.total) for f in refreshed]
        )

    def processing(self) -> list[Callable[..., object]]:
        """Activities of the processing queue."""
        return [self.list_organisations, self.anomalies, self.recommendations, self.budgets, self.publish]

    def ml(self) -> list[Callable[..., object]]:
        """Activities of the ml queue."""
        return [self.list_organisations, self.forecast]
