"""PDF renderer (fpdf2, A4 portrait) with charts drawn by matplotlib (:mod:`cloudoptima.reports.charts`).

Layout: a title block (title, organisation, period as its inclusive first and last day, generated at in UTC,
currency) and the highlights (money as ``1,234.50 USD``); then each section on a new page: its tables
(a bold header row repeated on every page the table runs onto; money, percent and integer columns
right-aligned; money rounded half-even to the currency's minor unit with thousands separators
(:func:`~cloudoptima.reports.money_format.display_money`: ``1,234.57``, ``1,235`` for JPY) with the currency in
the column title; the totals row, computed from the exact values and then rounded, in bold), then its charts as
PNG images. Only the display is rounded: the CSV and JSON keep every digit. Every page has a footer with the
organisation and ``page N / M``.

Text is set in DejaVu Sans (:mod:`cloudoptima.reports.fonts`, embedded as a subset with a Unicode map, so the
text can be extracted); characters the font lacks are drawn as ``?``. A label too wide for its column is cut
with ``…``.

Memory: fpdf2 builds the whole file in memory (its page content and then one output buffer) before it is
written to the caller's stream, so memory grows with the number of pages: about 45 table rows a page, and
``benchmarks/reports_render.py`` measures the peak (a 50,000-row table: see ``benchmarks/README.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO
from typing import IO

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import TTFFont

from cloudoptima.reports.charts import chart_png
from cloudoptima.reports.document import (
    Cell,
    ColumnKind,
    ReportDocument,
    Table,
    format_cell,
)
from cloudoptima.reports.fonts import ReportFont, report_font
from cloudoptima.reports.money_format import display_cell, display_money

_FAMILY = "ReportSans"
_ROW_H = 5.5
_WEIGHTS: dict[ColumnKind, float] = {"text": 3.0, "date": 1.7, "money": 2.2, "percent": 1.3, "integer": 1.7}
_RIGHT: frozenset[ColumnKind] = frozenset({"money", "percent", "integer"})
_CHART_W = 190.0
_CHART_H = _CHART_W * 3.2 / 7.5


class _Pdf(FPDF):
    def __init__(self, font: ReportFont, footer_text: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.report_font = font
        self.footer_text = footer_text
        self.add_font(_FAMILY, "", str(font.regular))
        self.add_font(_FAMILY, "B", str(font.bold))
        self.set_auto_page_break(auto=True, margin=15)
        self.alias_nb_pages()

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(_FAMILY, "", 7)
        self.set_text_color(110, 110, 110)
        self.cell(0, 5, self.shown(f"{self.footer_text} · page {self.page_no()} / {{nb}}"), align="R")
        self.set_text_color(0, 0, 0)

    def shown(self, value: str) -> str:
        return self.report_font.drawable(value)

    def fit(self, value: str, width: float) -> str:
        """``value`` cut with an ellipsis so it fits ``width`` mm (less the cell padding) in the current font."""
        return self.fit_measured(value, width)[0]

    def fit_measured(self, value: str, width: float) -> tuple[str, float]:
        """:meth:`fit` and the width in mm of the text it returns.

        Measured from the font's glyph widths in one pass (fpdf2's ``get_string_width`` per candidate length
        made a 5,000-row table take seconds)."""
        value = self.shown(value)
        font = self.current_font
        assert isinstance(font, TTFFont), "the report font is a TrueType font"
        widths = font.cw  # 1/1000 em per code point (a defaultdict: unknown code points get a default width)
        scale = self.font_size_pt * 0.001 / self.k
        room = width - 2 * self.c_margin
        full = sum(widths[ord(ch)] for ch in value) * scale
        if full <= room:
            return value, full
        ellipsis = widths[ord("…")] * scale
        room -= ellipsis
        used, cut = 0.0, 0
        for cut, ch in enumerate(value):  # noqa: B007 - cut is the length that fits
            step = widths[ord(ch)] * scale
            if used + step > room:
                break
            used += step
        return value[:cut] + "…", used + ellipsis


def _widths(pdf: _Pdf, kinds: Sequence[ColumnKind]) -> list[float]:
    total = sum(_WEIGHTS[k] for k in kinds)
    return [pdf.epw * _WEIGHTS[k] / total for k in kinds]


def _row(
    pdf: _Pdf,
    cells: Sequence[Cell],
    kinds: Sequence[ColumnKind],
    widths: Sequence[float],
    currency: str,
    *,
    bold: bool,
) -> None:
    """One table row at the current position, drawn as it would be by a ``cell`` per value (left or right
    aligned within the cell padding, vertically centred; a rule above a bold row) but with fpdf2's plain
    ``text`` primitive: ``cell`` costs about ten times more per call, which made a 50,000-row table take a
    minute. The caller handles page breaks."""
    pdf.set_font(_FAMILY, "B" if bold else "", 8)
    x, top = pdf.l_margin, pdf.y
    if bold:
        pdf.line(x, top, x + sum(widths), top)
    baseline = top + 0.5 * _ROW_H + 0.3 * pdf.font_size  # where fpdf2's cell puts it
    for value, kind, width in zip(cells, kinds, widths, strict=True):
        shown, used = pdf.fit_measured(display_cell(kind, value, currency), width)
        if shown:
            left = x + width - pdf.c_margin - used if kind in _RIGHT else x + pdf.c_margin
            pdf.text(left, baseline, shown)
        x += width
    pdf.set_xy(pdf.l_margin, top)
    pdf.ln(_ROW_H)


def _header(pdf: _Pdf, titles: Sequence[str], kinds: Sequence[ColumnKind], widths: Sequence[float]) -> None:
    pdf.set_font(_FAMILY, "B", 8)
    pdf.set_fill_color(226, 234, 243)
    for title, kind, width in zip(titles, kinds, widths, strict=True):
        pdf.cell(
            width,
            _ROW_H + 1,
            pdf.fit(title, width),
            border="B",
            align="R" if kind in _RIGHT else "L",
            fill=True,
            new_x=XPos.RIGHT,
            new_y=YPos.TOP,
        )
    pdf.ln(_ROW_H + 1)


def _table(pdf: _Pdf, table: Table, currency: str) -> None:
    kinds = [c.kind for c in table.columns]
    titles = [f"{c.title} ({currency})" if c.kind == "money" else c.title for c in table.columns]
    widths = _widths(pdf, kinds)
    if pdf.will_page_break(4 * _ROW_H + 8):
        pdf.add_page()
    pdf.set_font(_FAMILY, "B", 10)
    pdf.cell(0, 7, pdf.shown(table.title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    _header(pdf, titles, kinds, widths)
    for row in table.rows:
        if pdf.will_page_break(_ROW_H):
            pdf.add_page()
            _header(pdf, titles, kinds, widths)
        _row(pdf, row, kinds, widths, currency, bold=False)
    if table.totals:
        if pdf.will_page_break(_ROW_H):
            pdf.add_page()
            _header(pdf, titles, kinds, widths)
        _row(pdf, table.totals_row(), kinds, widths, currency, bold=True)
    pdf.ln(4)


def _title_block(pdf: _Pdf, document: ReportDocument) -> None:
    pdf.set_font(_FAMILY, "B", 20)
    pdf.multi_cell(0, 10, pdf.shown(document.title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    facts = [
        ("Organisation", document.organisation_name),
        ("Period", document.period_label()),
        ("Generated at", document.generated_at.strftime("%Y-%m-%d %H:%M UTC")),
        ("Currency", document.currency),
    ]
    for item in document.highlights:
        if item.kind == "money" and item.value is not None:
            facts.append((item.label, f"{display_money(item.value, document.currency)} {document.currency}"))
        else:
            facts.append((item.label, format_cell(item.kind, item.value)))
    for label, value in facts:
        pdf.set_font(_FAMILY, "B", 10)
        pdf.cell(100, 6.5, pdf.shown(label), new_x=XPos.RIGHT, new_y=YPos.TOP)
        pdf.set_font(_FAMILY, "", 10)
        pdf.cell(0, 6.5, pdf.shown(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def render_pdf(document: ReportDocument, stream: IO[bytes]) -> int:
    """Write the document as a PDF to ``stream``; returns the bytes written."""
    font = report_font()
    pdf = _Pdf(font, f"{document.organisation_name} · {document.title}")
    pdf.set_title(document.title)
    pdf.set_author(document.organisation_name)
    pdf.set_creator("CloudOptima")
    pdf.set_creation_date(document.generated_at)
    pdf.add_page()
    _title_block(pdf, document)
    for section in document.sections:
        pdf.add_page()
        pdf.set_font(_FAMILY, "B", 14)
        pdf.cell(0, 9, pdf.shown(section.title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        for table in section.tables:
            _table(pdf, table, document.currency)
        for chart in section.charts:
            if pdf.will_page_break(_CHART_H):
                pdf.add_page()
            pdf.image(BytesIO(chart_png(chart, document.currency)), w=_CHART_W, h=_CHART_H)
            pdf.ln(2)
    data = bytes(pdf.output())
    stream.write(data)
    return len(data)
