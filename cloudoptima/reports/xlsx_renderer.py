"""XLSX renderer (openpyxl, write-only mode so memory stays bounded by a row, not by the report).

Workbook layout:

- ``Summary``: the title block (title, organisation, period with its inclusive last day, generated at (UTC),
  currency) and the highlights as typed cells.
- One sheet per section (named after the section's title, made a valid, unique sheet name): each table as a
  bold title row, a bold header row of column titles, one row per table row, and — when the table has totals —
  a bold ``Total`` row whose summed cells are ``=SUM(...)`` formulas over the column's cells above (so the
  spreadsheet recomputes them); then each chart's data (a title row ``Chart data: <title>``, a header, rows).
- ``Charts``: one native chart per document chart referencing those data cells: a line chart for a trend
  (actual, forecast, lower, upper), a horizontal bar chart for top-N, a line chart for a burn-down
  (cumulative actual and the limit).

Cells are real types: money is a number with the currency number format ``#,##0.00 "USD"`` — thousands
separators and the currency's minor unit (``#,##0 "JPY"``, ``#,##0.000 "KWD"``;
:func:`~cloudoptima.reports.money_format.xlsx_money_format`) — so only the *display* is rounded: the stored number
is the document's exact Decimal (``1.68230869740`` stays ``1.6823086974``, shown ``1.68 USD``), percent a number with ``0.00" %"`` (percentage points,
the document's number unchanged), integers ``#,##0``, dates Excel dates ``yyyy-mm-dd``. Spreadsheet numbers are
IEEE doubles: openpyxl writes the double nearest the Decimal, which reads back as the same decimal for amounts of
up to 15 significant digits (every realistic amount; the CSV and JSON keep any precision).

Memory: the workbook is written in openpyxl's write-only mode: rows go to a temporary file per sheet as they
are appended and ``save`` streams the ZIP to the caller's stream, so memory stays bounded by a row and the
(small) chart definitions, not by the table (``benchmarks/reports_render.py`` measures it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import IO, Any, cast

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell as XlCell
from openpyxl.chart import BarChart as XlBarChart
from openpyxl.chart import LineChart, Reference
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from cloudoptima.reports.document import (
    BarChart,
    Cell,
    Chart,
    ColumnKind,
    ReportDocument,
    Table,
)
from cloudoptima.reports.money_format import xlsx_money_format
from cloudoptima.reports.text_renderers import CountingWriter, chart_header_and_rows

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_DATE_FORMAT = "yyyy-mm-dd"
_CHART_ROWS = 20  # rows of the Charts sheet each chart occupies


def money_format(currency: str) -> str:
    """The number format of money cells in ``currency`` (rounded to its minor unit for display only)."""
    return xlsx_money_format(currency)


def _number_format(kind: ColumnKind | None, currency: str) -> str | None:
    return {
        "money": money_format(currency),
        "percent": '0.00" %"',
        "integer": "#,##0",
        "date": _DATE_FORMAT,
    }.get(kind or "text")


def sheet_name(title: str, taken: set[str]) -> str:
    """A valid (≤ 31 characters, none of ``[]:*?/\\``), unique sheet name for ``title``; adds it to ``taken``."""
    base = re.sub(r"\s+", " ", re.sub(r"[\[\]:*?/\\]", " ", title)).strip().strip("'")[:31] or "Sheet"
    name, n = base, 2
    while name.lower() in {t.lower() for t in taken}:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name)
    return name


@dataclass
class _ChartData:
    chart: Chart
    sheet: WriteOnlyWorksheet
    header_row: int
    first_row: int
    last_row: int


class _Sheet:
    """A write-only sheet that knows its current row number."""

    def __init__(self, ws: WriteOnlyWorksheet, currency: str) -> None:
        self.ws = ws
        self.currency = currency
        self.row = 0

    def cell(self, value: Any, kind: ColumnKind | None = None, font: Font | None = None) -> XlCell:
        c = WriteOnlyCell(self.ws, value=value)
        fmt = _number_format(kind, self.currency)
        if fmt and value is not None and not (isinstance(value, str) and not value.startswith("=")):
            c.number_format = fmt
        if font is not None:
            c.font = font
        return c

    def append(self, cells: Sequence[XlCell | None]) -> int:
        self.ws.append(list(cells))
        self.row += 1
        return self.row

    def blank(self) -> None:
        self.append([])


def _write_table(sheet: _Sheet, table: Table) -> None:
    sheet.append([sheet.cell(table.title, font=_BOLD)])
    sheet.append([sheet.cell(c.title, font=_BOLD) for c in table.columns])
    first = sheet.row + 1
    kinds = [c.kind for c in table.columns]
    for row in table.rows:
        sheet.append([sheet.cell(v, k) for v, k in zip(row, kinds, strict=True)])
    last = sheet.row
    if table.totals:
        cells: list[XlCell | None] = []
        for i, (col, value) in enumerate(zip(table.columns, table.totals_row(), strict=True), start=1):
            if col.summed:
                letter = get_column_letter(i)
                formula = f"=SUM({letter}{first}:{letter}{last})" if last >= first else "=0"
                cells.append(sheet.cell(formula, col.kind, _BOLD))
            else:
                cells.append(sheet.cell(value, col.kind, _BOLD))
        sheet.append(cells)
    sheet.blank()


def _write_chart_data(sheet: _Sheet, chart: Chart) -> _ChartData:
    header, rows = chart_header_and_rows(chart)
    sheet.append([sheet.cell(f"Chart data: {chart.title}", font=_BOLD)])
    header_row = sheet.append([sheet.cell(h, font=_BOLD) for h in header])
    for row in rows:
        sheet.append([sheet.cell(v, _kind(v)) for v in row])
    data = _ChartData(chart, sheet.ws, header_row, header_row + 1, sheet.row)
    sheet.blank()
    return data


def _kind(value: Cell) -> ColumnKind | None:
    if isinstance(value, Decimal):
        return "money"
    if isinstance(value, date):
        return "date"
    return None


def _native_chart(data: _ChartData, currency: str) -> LineChart | XlBarChart:
    chart = data.chart
    values = Reference(
        data.sheet, min_col=2, max_col=_last_col(chart), min_row=data.header_row, max_row=data.last_row
    )
    categories = Reference(data.sheet, min_col=1, min_row=data.first_row, max_row=data.last_row)
    native: LineChart | XlBarChart
    if isinstance(chart, BarChart):
        native = XlBarChart()
        native.type = "bar"
        native.legend = None
    else:
        native = LineChart()
        native.x_axis.number_format = _DATE_FORMAT
    native.title = chart.title
    native.y_axis.title = currency
    native.add_data(values, titles_from_data=True)
    native.set_categories(categories)
    native.width, native.height = 24, 9
    return native


def _last_col(chart: Chart) -> int:
    header, _ = chart_header_and_rows(chart)
    return len(header)


def _widths(ws: WriteOnlyWorksheet, widths: dict[str, float]) -> None:
    """Column widths (set before the first row; the stubs omit write-only sheets' ``column_dimensions``)."""
    dimensions = cast(Any, ws).column_dimensions
    for letter, width in widths.items():
        dimensions[letter].width = width


def render_xlsx(document: ReportDocument, stream: IO[bytes]) -> int:
    """Write the document as an XLSX workbook to ``stream``; returns the bytes written."""
    workbook = Workbook(write_only=True)
    taken: set[str] = set()
    summary = _Sheet(workbook.create_sheet(sheet_name("Summary", taken)), document.currency)
    _widths(summary.ws, {"A": 28.0, "B": 40.0})
    summary.append([summary.cell(document.title, font=_TITLE)])
    summary.append([summary.cell("Organisation", font=_BOLD), summary.cell(document.organisation_name)])
    summary.append([summary.cell("Period", font=_BOLD), summary.cell(document.period_label())])
    summary.append([summary.cell("First day", font=_BOLD), summary.cell(document.start_date, "date")])
    summary.append([summary.cell("Last day", font=_BOLD), summary.cell(document.last_day, "date")])
    generated = document.generated_at.replace(tzinfo=None)
    generated_cell = summary.cell(generated)
    generated_cell.number_format = "yyyy-mm-dd hh:mm:ss"
    summary.append([summary.cell("Generated at (UTC)", font=_BOLD), generated_cell])
    summary.append([summary.cell("Currency", font=_BOLD), summary.cell(document.currency)])
    summary.blank()
    for item in document.highlights:
        summary.append([summary.cell(item.label, font=_BOLD), summary.cell(item.value, item.kind)])

    chart_data: list[_ChartData] = []
    for section in document.sections:
        sheet = _Sheet(workbook.create_sheet(sheet_name(section.title, taken)), document.currency)
        _widths(sheet.ws, {"A": 32.0} | dict.fromkeys("BCDEFGH", 18.0))
        sheet.append([sheet.cell(section.title, font=_TITLE)])
        sheet.blank()
        for table in section.tables:
            _write_table(sheet, table)
        for chart in section.charts:
            chart_data.append(_write_chart_data(sheet, chart))

    charts = workbook.create_sheet(sheet_name("Charts", taken))
    for i, data in enumerate(chart_data):
        charts.add_chart(_native_chart(data, document.currency), f"A{1 + i * _CHART_ROWS}")

    out = CountingWriter(stream)
    workbook.save(out)  # type: ignore[arg-type]
    return out.count
