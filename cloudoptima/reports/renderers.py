"""The report formats and their renderers: ``render(document, fmt, stream)``.

Every renderer writes one ``ReportDocument`` to a binary stream the caller gives (a file for large reports)
and returns the number of bytes written; the numbers are the same in every format (exact Decimal in CSV and
JSON, typed cells with their exact values and ``SUM`` formulas in XLSX, text in PDF where money is rounded
half-even to the currency's minor unit for display, :mod:`cloudoptima.reports.money_format`). See each module
for its layout.

Streams and memory: the stream only needs ``write`` (and ``flush``): no ``seek``, no ``read``, so a socket or
a pipe will do; it is never closed (the caller owns it). CSV is written in chunks and XLSX in openpyxl's
write-only mode (rows spill to temporary files, the ZIP is streamed), so their memory does not grow with the
table; the PDF and JSON are built in memory and then written, so theirs grows with the document. Measured by
``benchmarks/reports_render.py --rows 50000`` (a 50,000-row table plus a 395-day trend), the peak RSS a render
adds to the process stays under 100 MB for every format (see ``benchmarks/README.md`` for the numbers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Literal, get_args

from cloudoptima.reports.document import ReportDocument
from cloudoptima.reports.pdf_renderer import render_pdf
from cloudoptima.reports.text_renderers import render_csv, render_json
from cloudoptima.reports.xlsx_renderer import render_xlsx

ReportFormat = Literal["pdf", "xlsx", "csv", "json"]
FORMATS: tuple[ReportFormat, ...] = get_args(ReportFormat)

Renderer = Callable[[ReportDocument, IO[bytes]], int]

RENDERERS: dict[ReportFormat, Renderer] = {
    "pdf": render_pdf,
    "xlsx": render_xlsx,
    "csv": render_csv,
    "json": render_json,
}

MEDIA_TYPES: dict[ReportFormat, str] = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "application/zip",  # one CSV per table and chart, see text_renderers
    "json": "application/json",
}

FILE_SUFFIXES: dict[ReportFormat, str] = {"pdf": ".pdf", "xlsx": ".xlsx", "csv": ".csv.zip", "json": ".json"}


def render(document: ReportDocument, fmt: str, stream: IO[bytes]) -> int:
    """Render ``document`` as ``fmt`` into ``stream``; returns the bytes written.

    Raises ``ValueError`` naming the format and the known ones when ``fmt`` is not one of :data:`FORMATS`.
    """
    if fmt not in RENDERERS:
        raise ValueError(f"format: unknown report format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return RENDERERS[fmt](document, stream)  # type: ignore[index]
