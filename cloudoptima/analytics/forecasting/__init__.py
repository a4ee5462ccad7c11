"""Cost forecasting: the fast model (damped Holt-Winters + robust seasonal level), Prophet, seasonal naive.

Public API:
- :func:`forecast_costs` — daily cost history → ``ForecastResult`` (Decimal money, backtest metrics, flags).
- :func:`forecast_series` / :func:`forecast_matrix` — one series / many aligned series, float arrays.
- :func:`forecast_csv` — the ``cloudoptima forecast --csv`` behaviour; :class:`CsvInputError` for bad input.
Pure computation: no database, no network.
"""

from cloudoptima.analytics.forecasting.costs import forecast_costs
from cloudoptima.analytics.forecasting.csv_io import CsvInputError, forecast_csv, read_series_csv
from cloudoptima.analytics.forecasting.engine import (
    MatrixForecast,
    SeriesForecast,
    check_horizon,
    forecast_matrix,
    forecast_series,
)

__all__ = [
    "CsvInputError",
    "MatrixForecast",
    "SeriesForecast",
    "check_horizon",
    "forecast_costs",
    "forecast_csv",
    "forecast_matrix",
    "forecast_series",
    "read_series_csv",
]
