"""Charts of a report document drawn by matplotlib into PNG bytes (for the PDF).

Thread-safe and backend-explicit: each chart is a fresh :class:`matplotlib.figure.Figure` drawn on its own
:class:`~matplotlib.backends.backend_agg.FigureCanvasAgg`; pyplot (global state, a GUI backend guess) is never
imported, so charts can be drawn from several threads of a worker at once. Labels are drawn in the report's
font (:mod:`cloudoptima.reports.fonts`). Values are converted to float only here, for pixels.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any, cast

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

from cloudoptima.reports.document import BarChart, BurnDownChart, Chart, TrendChart
from cloudoptima.reports.fonts import report_font

_WIDTH_IN, _HEIGHT_IN, _DPI = 7.5, 3.2, 150


def _f(value: Decimal | None) -> float:
    return float("nan") if value is None else float(value)


def _trend(fig: Figure, chart: TrendChart, font: FontProperties, currency: str) -> None:
    ax = fig.add_subplot()
    days = cast(Any, [p.date for p in chart.points])  # matplotlib plots dates; its stubs say floats
    if any(p.actual is not None for p in chart.points):
        ax.plot(days, [_f(p.actual) for p in chart.points], color="#1f4e79", linewidth=1.4, label="Actual")
    if any(p.forecast is not None for p in chart.points):
        ax.plot(
            days, [_f(p.forecast) for p in chart.points], color="#c55a11", linestyle="--", label="Forecast"
        )
    if any(p.lower is not None and p.upper is not None for p in chart.points):
        ax.fill_between(
            days,
            [_f(p.lower) for p in chart.points],
            [_f(p.upper) for p in chart.points],
            color="#f4b183",
            alpha=0.4,
            label="Forecast interval",
            linewidth=0,
        )
    ax.set_ylabel(currency, fontproperties=font)
    ax.legend(prop=font, fontsize=8, loc="upper left")
    fig.autofmt_xdate()


def _bars(fig: Figure, chart: BarChart, font: FontProperties, currency: str) -> None:
    ax = fig.add_subplot()
    drawable = report_font().drawable
    labels = [drawable(item.label) for item in chart.items][::-1]
    ax.barh(range(len(labels)), [float(item.value) for item in chart.items][::-1], color="#2e75b6")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel(currency, fontproperties=font)


def _burn_down(fig: Figure, chart: BurnDownChart, font: FontProperties, currency: str) -> None:
    ax = fig.add_subplot()
    days = cast(Any, [p.date for p in chart.points])  # matplotlib plots dates; its stubs say floats
    ax.plot(
        days, [float(p.cumulative_actual) for p in chart.points], color="#1f4e79", label="Cumulative actual"
    )
    ax.axhline(float(chart.limit), color="#c00000", linestyle="--", label="Budget limit")
    ax.set_ylabel(currency, fontproperties=font)
    ax.legend(prop=font, fontsize=8, loc="upper left")
    fig.autofmt_xdate()


def chart_png(chart: Chart, currency: str) -> bytes:
    """One chart as PNG bytes (7.5 × 3.2 in at 150 dpi), titled with the chart's title."""
    rf = report_font()
    font = FontProperties(fname=str(rf.regular), size=8)
    fig = Figure(figsize=(_WIDTH_IN, _HEIGHT_IN), dpi=_DPI)
    FigureCanvasAgg(fig)
    if isinstance(chart, TrendChart):
        _trend(fig, chart, font, currency)
    elif isinstance(chart, BarChart):
        _bars(fig, chart, font, currency)
    else:
        _burn_down(fig, chart, font, currency)
    fig.suptitle(rf.drawable(chart.title), fontproperties=FontProperties(fname=str(rf.bold), size=10))
    for ax in fig.get_axes():
        for label in [*ax.get_xticklabels(), *ax.get_yticklabels()]:
            label.set_fontproperties(font)
        ax.grid(True, linewidth=0.3, alpha=0.6)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=_DPI)
    return out.getvalue()
