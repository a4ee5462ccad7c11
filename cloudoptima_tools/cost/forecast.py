"""``cost_forecast``: daily forecast with a prediction interval, beside the clouds' own forecasts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from cloudoptima.domain.analytics import ForecastModelName, ForecastPoint
from cloudoptima.domain.costs import CostQueryError
from cloudoptima.services import provider_forecasts
from cloudoptima.services.cost_forecast import forecast_organisation
from cloudoptima.services.cost_scope import ForecastScope
from cloudoptima_tools.context import ToolContext
from cloudoptima_tools.spec import (
    CloudScope,
    DataSource,
    ToolInputError,
    ToolSpec,
)


class ForecastInput(CloudScope):
    days_ahead: int = Field(default=30, ge=1, le=365, description="Days to forecast after today (1-365).")
    history_days: int = Field(default=90, ge=14, le=366, description="Days of history to fit on.")
    confidence_level: float = Field(default=0.95, gt=0.5, lt=1)
    model: ForecastModelName = Field(
        default="fast", description="auto compares models by backtest (slower); fast is a seasonal ETS."
    )
    currency: str | None = None
    include_daily: bool = Field(default=True, description="Return each forecast day (else totals only).")
    services: list[str] = Field(
        default_factory=list, description="Only these services (e.g. AmazonEC2); default: every service."
    )


class ProviderForecast(BaseModel):
    account: str
    account_name: str
    provider: str
    source: str
    currency: str
    start: date
    end: date = Field(description="End-exclusive.")
    provider_total: Decimal
    ours_total: Decimal | None
    difference_percent: float | None = Field(description="(ours - provider) / provider x 100.")


class ForecastOutput(BaseModel):
    currency: str
    model: str
    history_start: date
    history_end: date
    days_ahead: int
    confidence_level: float
    total: Decimal
    total_lower: Decimal
    total_upper: Decimal
    mape_percent: float | None = Field(description="Backtest mean absolute percentage error, when measured.")
    flags: list[str]
    points: list[ForecastPoint]
    provider_forecasts: list[ProviderForecast] = Field(
        default_factory=list,
        description="The clouds' own forecasts (AWS Cost Explorer, Azure Cost Management) of the accounts in "
        "scope, each beside ours over the same days; none for a service scope.",
    )
    data: DataSource = Field(default_factory=DataSource)


def cost_forecast(ctx: ToolContext, params: ForecastInput) -> ForecastOutput:
    today = ctx.now().date()
    scope = ForecastScope(
        provider=params.provider,
        accounts=(params.account,) if params.account else (),
        services=tuple(params.services),
    )
    with ctx.read_session() as session:
        try:
            found = forecast_organisation(
                session.connection(),
                ctx.organization_id,
                today=today,
                days_ahead=params.days_ahead,
                confidence_level=params.confidence_level,
                currency=params.currency,
                history_days=params.history_days,
                model=params.model,
                scope=scope,
            )
            beside = provider_forecasts.compare(
                session.connection(),
                ctx.organization_id,
                scope,
                today=today,
                confidence_level=params.confidence_level,
                model=params.model,
            )
        except (CostQueryError, ValueError) as exc:
            raise ToolInputError(str(exc)) from exc
    result = found.result
    if result is None:
        raise ToolInputError("no cost history in the selected scope to forecast from")
    currency = found.currency
    return ForecastOutput(
        currency=currency,
        model=result.model,
        history_start=result.history_start,
        history_end=result.history_end,
        days_ahead=result.days_ahead,
        confidence_level=result.confidence_level,
        total=result.total,
        total_lower=result.total_lower,
        total_upper=result.total_upper,
        mape_percent=result.accuracy.mape if result.accuracy else None,
        flags=[str(f) for f in result.flags],
        points=list(result.points) if params.include_daily else [],
        provider_forecasts=[ProviderForecast.model_validate(c, from_attributes=True) for c in beside],
    )


SPEC: ToolSpec[Any, Any] = ToolSpec(
    name="cost_forecast",
    domain="cost",
    title="Forecast spend",
    description=(
        "Daily cost forecast for the next days_ahead days (currency units per day) with a prediction "
        "interval at confidence_level, and the forecast total.\n"
        'Example: {"days_ahead": 30, "model": "fast"}'
    ),
    input_model=ForecastInput,
    output_model=ForecastOutput,
    handler=cost_forecast,
    permission="read:costs",
    cacheable=True,
    cloud_scoped=True,
    long_running=True,
    max_output_tokens=10_000,
    example={"days_ahead": 30},
)
