"""RefreshPrices workflow: deterministic; one activity per provider, so one provider's failure neither stops
nor repeats the others. A failed provider is reported in the result (its activity records the failure and
keeps the last prices), not raised: the schedule runs again tomorrow."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from cloudoptima_workflows.prices.inputs import (
        ProviderRefreshResult,
        RefreshPricesInput,
        RefreshPricesResult,
        RefreshProviderInput,
    )
    from cloudoptima_workflows.prices.interface import PriceActivityInterface

ALL_PROVIDERS = ("aws", "azure", "gcp")


@workflow.defn(name="RefreshPrices")
class RefreshPricesWorkflow:
    @workflow.run
    async def run(self, params: RefreshPricesInput) -> RefreshPricesResult:
        results = []
        for provider in params.providers or ALL_PROVIDERS:
            result: ProviderRefreshResult = await workflow.execute_activity_method(
                PriceActivityInterface.refresh_provider,
                RefreshProviderInput(provider=provider),
                start_to_close_timeout=timedelta(minutes=30),
                retry_policy=RetryPolicy(maximum_attempts=3, backoff_coefficient=2.0),
            )
            if result.status == "failed":
                workflow.logger.warning("price refresh of %s failed: %s", provider, result.error)
            results.append(result)
        return RefreshPricesResult(providers=results)
