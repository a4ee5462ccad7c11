"""``cloudoptima forecast`` and ``cloudoptima anomalies``: the product's forecasting and anomaly engines
over any series in a CSV file (no platform needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, get_args

import typer

from cloudoptima_cli.common import console, fail


def forecast(
    csv_file: Annotated[Path, typer.Option("--csv", help="Input CSV with a date column and a value column.")],
    horizon: Annotated[int, typer.Option("--horizon", help="Periods ahead to forecast (≤ 365 days).")],
    out: Annotated[Path, typer.Option("--out", help="Output CSV: ds,yhat,yhat_lower,yhat_upper.")],
    date_col: Annotated[str, typer.Option("--date-col")] = "ds",
    value_col: Annotated[str, typer.Option("--value-col")] = "y",
    freq: Annotated[str, typer.Option("--freq", help="D, H or W.")] = "D",
    model: Annotated[str, typer.Option("--model", help="auto, prophet, fast, damped or snaive.")] = "auto",
    confidence_level: Annotated[float, typer.Option("--confidence-level")] = 0.95,
) -> None:
    """Forecast any series in a CSV file (the same engine the product uses for costs)."""
    from cloudoptima.analytics.forecasting import CsvInputError, forecast_csv
    from cloudoptima.domain.analytics import ForecastModelName

    if model not in get_args(ForecastModelName):
        fail(f"--model must be one of {', '.join(get_args(ForecastModelName))} (got {model!r})")
    try:
        result = forecast_csv(
            csv_file,
            out,
            horizon=horizon,
            date_col=date_col,
            value_col=value_col,
            freq=freq,
            model=model,  # type: ignore[arg-type]
            confidence_level=confidence_level,
        )
    except (CsvInputError, ValueError, OSError) as exc:
        fail(str(exc).splitlines()[0])
    flags = ", ".join(str(flag) for flag in result.flags)
    console.print(
        f"wrote {len(result.mean)} forecast rows to {out} (model: {result.model}{'; ' + flags if flags else ''})"
    )


def anomalies(
    csv_file: Annotated[
        Path, typer.Option("--csv", help="Input CSV with a timestamp column and a value column.")
    ],
    out: Annotated[
        Path, typer.Option("--out", help="Output CSV: timestamp,value,expected,score,is_anomaly,alert.")
    ],
    date_col: Annotated[str, typer.Option("--date-col")] = "timestamp",
    value_col: Annotated[str, typer.Option("--value-col")] = "value",
    freq: Annotated[
        str | None,
        typer.Option(
            "--freq",
            help="Force the grid: 1min…59min, 1h…23h, 1D, W or M (default: inferred from the timestamps).",
        ),
    ] = None,
    direction: Annotated[str, typer.Option("--direction", help="up, down or both.")] = "both",
    duplicates: Annotated[
        str, typer.Option("--duplicates", help="Several rows on one grid point: mean, sum or last.")
    ] = "mean",
) -> None:
    """Score every point of any regular series in a CSV file for anomalies and changes of level.

    Causal: the decision at each time uses only the points up to that time, exactly as a live alert would
    (no look-ahead). The grid is inferred from the timestamps; missing points are gaps (never scored, never
    zero); duplicate timestamps are merged (--duplicates). Daily and weekly cycles are found per series.
    """
    from cloudoptima.analytics.anomalies import detect_anomalies_csv
    from cloudoptima.analytics.forecasting import CsvInputError

    if direction not in ("up", "down", "both"):
        fail(f"--direction must be up, down or both (got {direction!r})")
    if duplicates not in ("mean", "sum", "last"):
        fail(f"--duplicates must be mean, sum or last (got {duplicates!r})")
    try:
        result = detect_anomalies_csv(
            csv_file,
            out,
            date_col=date_col,
            value_col=value_col,
            freq=freq,
            direction=direction,  # type: ignore[arg-type]
            duplicates=duplicates,  # type: ignore[arg-type]
        )
    except (CsvInputError, ValueError, OSError) as exc:
        fail(str(exc).splitlines()[0])
    changes = sum(1 for _, kind in result.alerts if kind == "change")
    console.print(
        f"wrote {len(result.score)} scores to {out} (grid {result.grid.label}; "
        f"{len(result.alerts) - changes} anomalies, {changes} changes of level)"
    )
