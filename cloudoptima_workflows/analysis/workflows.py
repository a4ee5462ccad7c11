"""Analysis workflows: deterministic; all I/O is in the ``analysis.*`` activities.

- ``AnalyseOrganisation`` (processing queue): anomalies → recommendations (they skip what anomalies
  explain) → budget evaluation → events → ``PolicyTriggers`` (started on ``policy_task_queue`` and
  abandoned: the policies' event and threshold triggers are evaluated over what the analysis found).
  Started by ``CollectAll`` after a collection and hourly by ``AnalyseAll``; its id
  ``analyse-organisation-<org>`` keeps one analysis per organisation at a time. Histories from before the
  trigger step replay without it (``workflow.patched``).
- ``AnalyseAll``: one ``AnalyseOrganisation`` child per organisation (one already running is skipped).
- ``EvaluateBudgets``: budgets of every organisation and their alert events (hourly schedule).
- ``RefreshForecasts`` (ml queue): the stored cost forecast of every organisation (daily schedule).
A failing organisation is listed in the fan-out result and does not stop the others.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ChildWorkflowError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from cloudoptima_workflows.analysis.inputs import (
        AnalyseAllInput,
        AnalyseOrganisationInput,
        AnalyseOrganisationResult,
        AnomalyStepResult,
        BudgetStepResult,
        FanOutResult,
        ForecastInput,
        OrganisationList,
        PublishInput,
        RecommendationStepResult,
    )
    from cloudoptima_workflows.analysis.interface import AnalysisActivityInterface
    from cloudoptima_workflows.policies.inputs import PolicyTriggersInput, TriggerEvaluationInput
    from cloudoptima_workflows.policies.workflows import PolicyTriggersWorkflow

RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=5,
)
STEP_TIMEOUT = timedelta(minutes=15)
POLICY_TRIGGERS_PATCH = "analysis-policy-triggers"


async def _organisations(params: AnalyseAllInput) -> OrganisationList:
    result: OrganisationList = await workflow.execute_activity_method(
        AnalysisActivityInterface.list_organisations,
        params,
        start_to_close_timeout=timedelta(minutes=1),
        retry_policy=RETRY,
    )
    return result


def _reason(error: BaseException) -> str:
    cause: BaseException | None = error
    while isinstance(cause, ActivityError | ChildWorkflowError) and cause.__cause__ is not None:
        cause = cause.__cause__
    return str(cause)


@workflow.defn(name="AnalyseOrganisation")
class AnalyseOrganisationWorkflow:
    @workflow.run
    async def run(self, params: AnalyseOrganisationInput) -> AnalyseOrganisationResult:
        anomalies: AnomalyStepResult = await workflow.execute_activity_method(
            AnalysisActivityInterface.anomalies,
            params,
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=RETRY,
        )
        recommendations: RecommendationStepResult = await workflow.execute_activity_method(
            AnalysisActivityInterface.recommendations,
            params,
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=RETRY,
        )
        budgets: BudgetStepResult = await workflow.execute_activity_method(
            AnalysisActivityInterface.budgets,
            params,
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=RETRY,
        )
        events: int = await workflow.execute_activity_method(
            AnalysisActivityInterface.publish,
            PublishInput(
                organization_id=params.organization_id,
                anomalies=anomalies,
                recommendations=recommendations,
                budgets=budgets,
            ),
            start_to_close_timeout=timedelta(minutes=1),
            retry_policy=RETRY,
        )
        if workflow.patched(POLICY_TRIGGERS_PATCH):
            await workflow.start_child_workflow(
                PolicyTriggersWorkflow.run,
                PolicyTriggersInput(
                    evaluation=TriggerEvaluationInput(
                        organization_id=params.organization_id, today=params.today, source="analysis"
                    )
                ),
                id=f"policy-triggers-{params.organization_id}-{workflow.info().run_id}",
                task_queue=params.policy_task_queue,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            )
        return AnalyseOrganisationResult(
            organization_id=params.organization_id,
            anomalies=anomalies,
            recommendations=recommendations,
            budgets=budgets,
            events=events,
        )


@workflow.defn(name="AnalyseAll")
class AnalyseAllWorkflow:
    @workflow.run
    async def run(self, params: AnalyseAllInput) -> FanOutResult:
        organisations = await _organisations(params)
        succeeded, failed = [], []
        for organization_id in organisations.organization_ids:
            try:
                await workflow.execute_child_workflow(
                    AnalyseOrganisationWorkflow.run,
                    AnalyseOrganisationInput(
                        organization_id=organization_id,
                        lookback_days=params.lookback_days,
                        today=params.today,
                    ),
                    id=f"analyse-organisation-{organization_id}",
                )
            except WorkflowAlreadyStartedError:
                continue
            except ChildWorkflowError as error:
                failed.append(f"{organization_id}: {_reason(error)}")
                continue
            succeeded.append(organization_id)
        return FanOutResult(succeeded=succeeded, failed=failed)


@workflow.defn(name="EvaluateBudgets")
class EvaluateBudgetsWorkflow:
    @workflow.run
    async def run(self, params: AnalyseAllInput) -> FanOutResult:
        organisations = await _organisations(params)
        succeeded, failed = [], []
        for organization_id in organisations.organization_ids:
            single = AnalyseOrganisationInput(
                organization_id=organization_id, lookback_days=params.lookback_days, today=params.today
            )
            try:
                budgets: BudgetStepResult = await workflow.execute_activity_method(
                    AnalysisActivityInterface.budgets,
                    single,
                    start_to_close_timeout=STEP_TIMEOUT,
                    retry_policy=RETRY,
                )
                if budgets.alerts:
                    await workflow.execute_activity_method(
                        AnalysisActivityInterface.publish,
                        PublishInput(organization_id=organization_id, budgets=budgets),
                        start_to_close_timeout=timedelta(minutes=1),
                        retry_policy=RETRY,
                    )
            except ActivityError as error:
                failed.append(f"{organization_id}: {_reason(error)}")
                continue
            succeeded.append(organization_id)
        return FanOutResult(succeeded=succeeded, failed=failed)


@workflow.defn(name="RefreshForecasts")
class RefreshForecastsWorkflow:
    @workflow.run
    async def run(self, params: AnalyseAllInput) -> FanOutResult:
        organisations = await _organisations(params)
        succeeded, failed = [], []
        for organization_id in organisations.organization_ids:
            try:
                await workflow.execute_activity_method(
                    AnalysisActivityInterface.forecast,
                    ForecastInput(
                        organization_id=organization_id, today=params.today, history_days=params.lookback_days
                    ),
                    start_to_close_timeout=STEP_TIMEOUT,
                    retry_policy=RETRY,
                )
            except ActivityError as error:
                failed.append(f"{organization_id}: {_reason(error)}")
                continue
            succeeded.append(organization_id)
        return FanOutResult(succeeded=succeeded, failed=failed)
