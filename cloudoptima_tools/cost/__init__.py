"""Cost tools: spend by dimension and period, period comparison with drivers, top spenders, forecast.

All amounts are ``Decimal`` in the billing currency (``currency`` in each output), of the caller's
organisation only, answered by the services the REST API uses (``services.cost_analytics.CostAnalytics``,
``services.cost_forecast``): the same numbers on every surface. Periods are ``[start_date, end_date)`` in UTC
days.

One module per tool (``by_dimension``, ``compare``, ``top_spenders``, ``forecast``), each with its input,
output, handler and ``SPEC``; ``common`` holds the period filters they share. ``TOOLS`` lists them in
catalog order.
"""

from __future__ import annotations

from typing import Any

from cloudoptima_tools.cost import by_dimension, compare, forecast, top_spenders
from cloudoptima_tools.cost.by_dimension import (
    CostByDimensionInput,
    CostByDimensionOutput,
    CostGroup,
    TimeBucket,
    cost_by_dimension,
)
from cloudoptima_tools.cost.common import Dimension, PeriodInput
from cloudoptima_tools.cost.compare import (
    ComparePeriodsInput,
    ComparePeriodsOutput,
    Driver,
    cost_compare_periods,
)
from cloudoptima_tools.cost.forecast import ForecastInput, ForecastOutput, ProviderForecast, cost_forecast
from cloudoptima_tools.cost.top_spenders import (
    Spender,
    TopSpendersInput,
    TopSpendersOutput,
    cost_top_spenders,
)
from cloudoptima_tools.spec import ToolSpec

TOOLS: list[ToolSpec[Any, Any]] = [by_dimension.SPEC, compare.SPEC, top_spenders.SPEC, forecast.SPEC]

__all__ = [
    "TOOLS",
    "ComparePeriodsInput",
    "ComparePeriodsOutput",
    "CostByDimensionInput",
    "CostByDimensionOutput",
    "CostGroup",
    "Dimension",
    "Driver",
    "ForecastInput",
    "ForecastOutput",
    "PeriodInput",
    "ProviderForecast",
    "Spender",
    "TimeBucket",
    "TopSpendersInput",
    "TopSpendersOutput",
    "cost_by_dimension",
    "cost_compare_periods",
    "cost_forecast",
    "cost_top_spenders",
]
