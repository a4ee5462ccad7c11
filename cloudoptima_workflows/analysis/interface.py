"""The analysis activities as workflows call them: each one's registered name, argument and result.

Workflows reference these methods (``workflow.execute_activity_method(AnalysisActivityInterface.<method>,
…)``), so they import no I/O library. ``AnalysisActivities`` (``cloudoptima_workflows.analysis.activities``)
implements them under the same names (``tests/workflows/test_activity_interfaces.py`` keeps the two in step).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from temporalio import activity

from cloudoptima_workflows.analysis.inputs import (
    AnalyseAllInput,
    AnalyseOrganisationInput,
    AnomalyStepResult,
    BudgetStepResult,
    ForecastInput,
    ForecastStepResult,
    OrganisationList,
    PublishInput,
    RecommendationStepResult,
)

__all__ = ["AnalysisActivityInterface"]


class AnalysisActivityInterface(ABC):
    """The analysis activities (implemented by ``AnalysisActivities``)."""

    @activity.defn(name="analysis.list_organisations")
    @abstractmethod
    def list_organisations(self, params: AnalyseAllInput) -> OrganisationList:
        """Every organisation (system-wide: the scheduler's fan-out), or the one ``params`` names."""

    @activity.defn(name="analysis.anomalies")
    @abstractmethod
    def anomalies(self, params: AnalyseOrganisationInput) -> AnomalyStepResult:
        """Detect incidents over ``lookback_days`` up to today, per currency present."""

    @activity.defn(name="analysis.recommendations")
    @abstractmethod
    def recommendations(self, params: AnalyseOrganisationInput) -> RecommendationStepResult:
        """The ``analysis.recommendations`` activity."""

    @activity.defn(name="analysis.budgets")
    @abstractmethod
    def budgets(self, params: AnalyseOrganisationInput) -> BudgetStepResult:
        """Evaluate every budget of the organisation; returns the thresholds that fired now."""

    @activity.defn(name="analysis.publish")
    @abstractmethod
    def publish(self, params: PublishInput) -> int:
        """Publish what changed: anomalies, recommendations, fired budget alerts. Returns events sent."""

    @activity.defn(name="analysis.forecast")
    @abstractmethod
    def forecast(self, params: ForecastInput) -> ForecastStepResult:
        """The ``analysis.forecast`` activity."""
